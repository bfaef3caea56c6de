"""Reads about queues and who may monitor them: the membership rules, in one place."""

from django.db.models import Exists, OuterRef, QuerySet

from accounts.branding import Brand, brand_for_library
from accounts.models import Librarian
from queues.hours import queue_hours
from queues.models import Membership, Queue


def open_queues() -> QuerySet[Queue]:
    return Queue.objects.filter(is_open=True).prefetch_related("libraries")


def brand_for_queue(queue: Queue) -> Brand | None:
    """The brand of a queue's own pages (its chat form): its library's, when it
    serves one; a cooperative queue keeps the neutral look (None), since
    its form speaks for every library in it."""
    libraries = queue_hours(queue).libraries
    return brand_for_library(libraries[0]) if len(libraries) == 1 else None


def memberships_of(librarian: Librarian) -> QuerySet[Membership]:
    return librarian.memberships.select_related("queue").order_by("queue__name")


def queues_of(librarian: Librarian) -> QuerySet[Queue]:
    """The queues the librarian belongs to (monitoring or not), by name."""
    return Queue.objects.filter(memberships__librarian=librarian).order_by("name")


def monitored_queue_ids(librarian_id: int) -> list[int]:
    """The queues the librarian monitors now."""
    return list(
        Membership.objects.monitoring()
        .filter(librarian_id=librarian_id)
        .order_by("queue_id")
        .values_list("queue_id", flat=True)
    )


def monitored_queues(librarian_id: int) -> dict[int, bool]:
    """The queues the librarian monitors now, each with whether they are
    backup in it (queues/tiers.py)."""
    return dict(
        Membership.objects.monitoring()
        .filter(librarian_id=librarian_id)
        .order_by("queue_id")
        .values_list("queue_id", "is_backup")
    )


def monitors(librarian_id: int, queue_id: int) -> bool:
    """Whether the librarian monitors the queue now."""
    return (
        Membership.objects.monitoring()
        .filter(librarian_id=librarian_id, queue_id=queue_id)
        .exists()
    )


def others_on_shift(librarian: Librarian) -> QuerySet[Librarian]:
    """The others monitoring any queue this librarian monitors: the one rule
    for who is in the Librarians list (and whom one may IM)."""
    mine = Membership.objects.monitoring().filter(librarian=librarian).values("queue")
    shared = Membership.objects.monitoring().filter(librarian=OuterRef("pk"), queue__in=mine)
    return Librarian.objects.filter(Exists(shared)).exclude(pk=librarian.pk)


def shares_a_monitored_queue(a: Librarian, b_id: int) -> bool:
    """Whether ``b_id`` is in ``a``'s Librarians list (whom ``a`` may IM)."""
    return others_on_shift(a).filter(pk=b_id).exists()


def monitors_of(queue_id: int) -> QuerySet[Librarian]:
    """The librarians monitoring the queue now."""
    monitoring = Membership.objects.monitoring().filter(librarian=OuterRef("pk"), queue_id=queue_id)
    return Librarian.objects.filter(Exists(monitoring))


def librarians_sharing_queues(librarian: Librarian) -> QuerySet[Librarian]:
    """Librarians who belong to any queue the given librarian belongs to (history filter)."""
    queues = Membership.objects.filter(librarian=librarian).values("queue")
    return (
        Librarian.objects.filter(memberships__queue__in=queues).distinct().order_by("display_name")
    )
