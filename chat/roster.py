"""Who holds how much: the figures of the Librarians list, and the event that keeps them live.

The Librarians list's row of a librarian (the queues they monitor, the
sessions they hold now) is read here, beside the sessions it counts, so that
every service that changes a librarian's figures (a pick-up, a close, a
transfer, a change of monitoring) publishes ``librarian.updated`` the same way.
"""

from collections.abc import Iterable
from typing import Any

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounts.models import Librarian
from accounts.payloads import librarian_ref
from chat.models import ChatSession
from core.events import publish
from core.groups import queue_group
from queues.models import Membership


def with_shift_figures(librarians: QuerySet[Librarian]) -> QuerySet[Librarian]:
    """Annotate what the Librarians list shows: monitored queues and active sessions."""
    active = (
        ChatSession.objects.filter(primary=OuterRef("pk"), state=ChatSession.State.ACTIVE)
        .order_by()
        .values("primary")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        librarians.select_related("library", "primary_queue")
        .annotate(active_count=Coalesce(Subquery(active), 0))
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.monitoring().order_by("queue_id"),
                to_attr="monitored",
            )
        )
    )


def librarian_row(librarian: Librarian) -> dict[str, Any]:
    """A row of the Librarians list. Needs :func:`with_shift_figures`."""
    monitored = [m.queue_id for m in librarian.monitored]  # type: ignore[attr-defined]
    return {
        **librarian_ref(librarian),
        "queues": len(monitored),
        "monitoring": monitored,
        "active": librarian.active_count,  # type: ignore[attr-defined]
        "primary_queue": librarian.primary_queue.name if librarian.primary_queue else None,
        "library": librarian.library.name,
    }


def librarian_updated(librarian_id: int, *, also_queues: Iterable[int] = ()) -> None:
    """Tell the consoles that may list this librarian about their new figures.

    Publishes ``librarian.updated`` (a Librarians list row, with the queues
    they monitor now) to the groups of those queues and of ``also_queues``
    (the ones they monitored before): every console that listed them, or
    should now. Each console decides by the queues it monitors itself.
    """
    librarian = with_shift_figures(Librarian.objects.filter(pk=librarian_id)).get()
    row = librarian_row(librarian)
    queues = set(row["monitoring"]) | set(also_queues)
    publish({"type": "librarian.updated", "librarian": row}, *map(queue_group, sorted(queues)))
