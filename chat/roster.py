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


def with_active_count(librarians: QuerySet[Librarian]) -> QuerySet[Librarian]:
    """Annotate ``active_count``: the active sessions each librarian holds, in any queue."""
    active = (
        ChatSession.objects.filter(primary=OuterRef("pk"), state=ChatSession.State.ACTIVE)
        .order_by()
        .values("primary")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return librarians.annotate(active_count=Coalesce(Subquery(active), 0))


def with_shift_figures(librarians: QuerySet[Librarian]) -> QuerySet[Librarian]:
    """Annotate what the Librarians list shows: monitored queues and active sessions."""
    # Their maximum where it is lowest, of the queues they monitor (their own
    # maximum, when set, is the same everywhere): where they show as Busy.
    lowest_busy_at = (
        Membership.objects.monitoring()
        .filter(librarian=OuterRef("pk"))
        .order_by("queue__busy_at")
        .values("queue__busy_at")[:1]
    )
    return (
        with_active_count(librarians)
        .select_related("library", "primary_queue")
        .annotate(lowest_busy_at=Subquery(lowest_busy_at))
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
    active: int = librarian.active_count  # type: ignore[attr-defined]
    limit = librarian.max_sessions or librarian.lowest_busy_at  # type: ignore[attr-defined]
    return {
        **librarian_ref(librarian),
        "queues": len(monitored),
        "monitoring": monitored,
        "active": active,
        # Their maximum (null: monitoring nothing, and no maximum of their own)
        # and the status colleagues see: Busy at it (chat/load.py).
        "max_sessions": limit,
        "status": shown_status(librarian.status, active, limit),
        "primary_queue": librarian.primary_queue.name if librarian.primary_queue else None,
        "library": librarian.library.name,
    }


def shown_status(status: str, active: int, limit: int | None) -> str:
    """The status colleagues see: as set, but Busy at their maximum (chat/load.py)."""
    if status == Librarian.Status.AWAY:
        return status
    at_maximum = limit is not None and active >= limit
    return Librarian.Status.BUSY if at_maximum else status


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
