"""Shifts: which queues a librarian monitors, and whether their console is still there.

At the start of a shift a librarian picks which of their queues to monitor
and saves; they stay monitoring until they log off, or their consoles are
all gone past the grace period (``CONSOLE_GRACE_SECONDS``: a reload is no
departure). Who is on shift is read from the database, never from a
process's memory, so it holds with several server processes: each console
has a :class:`~shifts.models.ConsolePresence` row refreshed by heartbeat.
"""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from accounts.models import Librarian
from chat.roster import librarian_updated
from chat.sessions import librarian_sessions_end
from core.errors import ChatError
from core.events import publish
from core.groups import librarian_group
from core.presence import presence_refresh
from im.models import ImSession
from im.services import ims_end_for
from queues.models import Membership
from queues.selectors import monitored_queue_ids
from shifts.models import ConsolePresence

logger = logging.getLogger(__name__)


def monitoring_set(*, librarian: Librarian, queue_ids: Iterable[object]) -> list[Membership]:
    """The librarian saves which of their queues they monitor.

    Requires: every id is a queue the librarian belongs to.
    Changes: ``is_monitoring`` and ``monitoring_since`` of their memberships.
    Publishes ``monitoring.changed`` to every console of the librarian and
    ``librarian.updated`` to the monitors of the queues before and after.
    """
    try:
        wanted = {int(q) for q in queue_ids}  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ChatError("bad_frame", "Queues must be a list of queue ids.") from None
    memberships = list(Membership.objects.filter(librarian=librarian).select_related("queue"))
    unknown = wanted - {m.queue_id for m in memberships}
    if unknown:
        raise ChatError("not_member", "You can only monitor queues you are a member of.")
    before = {m.queue_id for m in memberships if m.is_monitoring}
    now = timezone.now()
    with transaction.atomic():
        Membership.objects.filter(
            librarian=librarian, queue_id__in=wanted, is_monitoring=False
        ).update(is_monitoring=True, monitoring_since=now)
        Membership.objects.filter(librarian=librarian).exclude(queue_id__in=wanted).update(
            is_monitoring=False, monitoring_since=None
        )
        publish(
            {"type": "monitoring.changed", "queues": sorted(wanted)}, librarian_group(librarian.pk)
        )
        librarian_updated(librarian.pk, also_queues=before)
    for m in memberships:
        m.is_monitoring = m.queue_id in wanted
    logger.info("librarian %s monitors %d queues", librarian.pk, len(wanted))
    return memberships


def librarian_log_off(*, librarian: Librarian) -> int:
    """The librarian logs off: they stop monitoring, and their active sessions end.

    Each session they hold ends as if they had clicked End Session (closing
    line, transcript email): a patron is never left talking to nobody. Their
    open IM sessions end too (the next IM is a new New IM Request).
    Publishes ``monitoring.changed``, ``im.ended`` for each IM session and
    ``session.closed`` for each session. Returns how many sessions were ended.
    """
    monitoring_set(librarian=librarian, queue_ids=[])
    ims_end_for(librarian_id=librarian.pk, reason=ImSession.EndReason.LOGGED_OFF)
    return librarian_sessions_end(librarian=librarian)


def console_opened(*, librarian: Librarian, channel_name: str) -> None:
    """A console socket opened (a reload within the grace period is no departure)."""
    ConsolePresence.objects.update_or_create(
        channel_name=channel_name,
        defaults={"librarian": librarian, "last_seen": timezone.now(), "closed": False},
    )


def consoles_heartbeat(*, consoles: Iterable[tuple[Librarian, str]]) -> None:
    """Open consoles of this process are still there: one UPDATE refreshes them all.

    ``consoles`` are (librarian, channel name) pairs; a row that a sweep
    removed meanwhile is put back.
    """
    presence_refresh(
        ConsolePresence,
        {channel: librarian for librarian, channel in consoles},
        lambda channel, librarian: console_opened(librarian=librarian, channel_name=channel),
    )


def console_closed(*, channel_name: str) -> None:
    """A console socket closed. The librarian stays on shift for the grace period."""
    ConsolePresence.objects.filter(channel_name=channel_name).update(
        closed=True, last_seen=timezone.now()
    )


def presence_sweep(*, now: datetime | None = None) -> list[int]:
    """End the shift of every monitoring librarian with no console seen within the grace period.

    Their monitoring stops (``monitoring.changed`` to their consoles,
    ``librarian.updated`` to their queues' monitors) and their open IM
    sessions end (``im.ended`` to both sides). Run by the worker's
    schedule; safe with several workers and web processes at once. Returns
    their ids.

    Whether a librarian is gone is decided by the UPDATE itself (no console
    row of theirs seen since the cut-off when it runs), not by the read that
    found them: a heartbeat that lands in between keeps the shift, so a
    process whose heartbeats were held up never has its librarians' shifts
    ended by another; and of two sweeps at once only one matches the rows.
    """
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.CONSOLE_GRACE_SECONDS)
    gone = list(
        Membership.objects.monitoring()
        .exclude(Exists(_seen_since(cutoff)))
        .order_by("librarian_id")
        .values_list("librarian_id", flat=True)
        .distinct()
    )
    ended = []
    for librarian_id in gone:
        with transaction.atomic():
            before = monitored_queue_ids(librarian_id)
            stopped = (
                Membership.objects.monitoring()
                .filter(librarian_id=librarian_id)
                .exclude(Exists(_seen_since(cutoff)))
                .update(is_monitoring=False, monitoring_since=None)
            )
            if not stopped:
                continue  # back meanwhile, or another worker's sweep got there first
            publish({"type": "monitoring.changed", "queues": []}, librarian_group(librarian_id))
            librarian_updated(librarian_id, also_queues=before)
            ims_end_for(librarian_id=librarian_id, reason=ImSession.EndReason.LEFT_SHIFT)
        ended.append(librarian_id)
        logger.info("librarian %s left (no console within the grace period)", librarian_id)
    return ended


def _seen_since(cutoff: datetime) -> "QuerySet[ConsolePresence]":
    """A console of the membership's librarian seen since ``cutoff`` (for ``Exists``)."""
    return ConsolePresence.objects.filter(librarian=OuterRef("librarian"), last_seen__gte=cutoff)


def console_presence_prune(*, now: datetime | None = None) -> int:
    """Remove the rows of consoles not seen within the grace period. Returns how many."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.CONSOLE_GRACE_SECONDS)
    deleted, _ = ConsolePresence.objects.filter(last_seen__lt=cutoff).delete()
    return deleted
