"""Who sees a waiting request, from when: the roll-over, decided by the database's clock.

When a request starts waiting, each group of the queue's members (its own
library's, the cooperative's other librarians, backup: ``queues/tiers.py``)
gets the time it sees the request, ``Now()`` plus its tier's seconds, in
the database's own clock: ``reaches_home_at``, ``reaches_cooperative_at``,
``reaches_backup_at`` (null: the queue's tiers never name the group).
Every read of the New list and every pick-up compares that time with the
database's ``Now()`` again, so the rule holds across processes, restarts
and web servers whose clocks drift. ``announced_until`` is the latest of
those times already published to the consoles: the first tier's at once,
then :func:`rollover_due` (the worker's schedule, a few times a second)
publishes each later tier's once, when its time comes.

``session.created`` carries ``to``, the groups it is for; each console
forwards it only if its librarian is in one of them (``console/consumers.py``).
"""

import logging
import math
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import DateTimeField, Exists, ExpressionWrapper, F, OuterRef, Q
from django.db.models.functions import Now

from accounts.models import Librarian
from chat.models import ChatSession
from chat.payloads import session_row
from core.errors import ChatError
from core.events import publish
from core.groups import queue_group
from queues.hours import queue_tiers
from queues.models import Membership, Queue
from queues.tiers import BACKUP, COOPERATIVE, GROUPS, HOME, group_of, reach_seconds

logger = logging.getLogger(__name__)

REACH_FIELDS = {
    HOME: "reaches_home_at",
    COOPERATIVE: "reaches_cooperative_at",
    BACKUP: "reaches_backup_at",
}


def reach_values(queue: Queue, *, at_once: bool = False) -> dict[str, Any]:
    """The session fields of a request that starts waiting now: when each
    group sees it, by the database's clock. ``at_once`` (a session returned
    to the queue: its patron has waited already): every group the tiers
    name sees it now."""
    values: dict[str, Any] = {"announced_until": Now()}
    for group, seconds in reach_seconds(queue_tiers(queue)).items():
        field = REACH_FIELDS[group]
        if seconds is None:
            values[field] = None
        elif seconds == 0 or at_once:
            values[field] = Now()
        else:
            values[field] = ExpressionWrapper(
                Now() + timedelta(seconds=seconds), output_field=DateTimeField()
            )
    return values


def first_groups(queue: Queue, *, at_once: bool = False) -> list[str]:
    """The groups that see a request the moment it starts waiting."""
    seconds = reach_seconds(queue_tiers(queue))
    return [g for g in GROUPS if seconds[g] is not None and (at_once or seconds[g] == 0)]


def request_publish(session: ChatSession, groups: list[str], *, rolled_over: bool = False) -> None:
    """``session.created`` to the queue's consoles, for the members in ``groups``.
    Needs the row's ``queue``, ``library``, ``primary`` and ``requeued_by``."""
    if not groups:
        return
    publish(
        {
            "type": "session.created",
            "session": session_row(session, rolled_over=rolled_over),
            "to": sorted(groups),
        },
        queue_group(session.queue_id),
    )


def member_group(librarian: Librarian, session: ChatSession) -> str:
    """The librarian's group for this request (their membership of its queue)."""
    is_backup = Membership.objects.filter(
        librarian=librarian, queue_id=session.queue_id, is_backup=True
    ).exists()
    return group_of(
        is_backup=is_backup,
        librarian_library_id=librarian.library_id,
        patron_library_id=session.library_id,
    )


def reached(group: str) -> Q:
    """Requests the group sees now, by the database's clock."""
    return Q(**{f"{REACH_FIELDS[group]}__lte": Now()})


def reached_by(librarian: Librarian) -> Q:
    """Requests of the queues the librarian monitors that reached them now."""
    monitored = Membership.objects.monitoring().filter(librarian=librarian, queue=OuterRef("queue"))
    as_backup = Exists(monitored.filter(is_backup=True))
    as_member = Exists(monitored.filter(is_backup=False))
    home = Q(library_id=librarian.library_id)
    return (
        (Q(as_backup) & reached(BACKUP))
        | (Q(as_member) & home & reached(HOME))
        | (Q(as_member) & ~home & reached(COOPERATIVE))
    )


def rolled_over(session: ChatSession, group: str) -> bool:
    """Whether the request reached the group through a later tier than its first."""
    times = [t for t in (getattr(session, f) for f in REACH_FIELDS.values()) if t is not None]
    mine = getattr(session, REACH_FIELDS[group])
    return bool(times) and mine is not None and mine > min(times)


def rolled_over_for(session: ChatSession, librarian: Librarian) -> bool:
    """:func:`rolled_over` for the librarian, of a session read with ``as_backup``
    (``chat.selectors.waiting_sessions_for``)."""
    group = group_of(
        is_backup=bool(getattr(session, "as_backup", False)),
        librarian_library_id=librarian.library_id,
        patron_library_id=session.library_id,
    )
    return rolled_over(session, group)


def not_yet_refusal(session_id: int, group: str) -> ChatError | None:
    """Why a waiting request is not the librarian's to pick up yet (None: it is)."""
    field = REACH_FIELDS[group]
    row = (
        ChatSession.objects.filter(pk=session_id, state=ChatSession.State.WAITING)
        .annotate(db_now=Now())
        .values_list(field, "db_now")
        .first()
    )
    if row is None:
        return None
    reaches, now = row
    if reaches is None:
        return ChatError(
            "not_routed", "This request goes to other librarians of the queue, not to you."
        )
    if reaches <= now:
        return None
    seconds = max(1, math.ceil((reaches - now).total_seconds()))
    return ChatError("not_yet", f"This request reaches you in {seconds} s.")


def rollover_due() -> int:
    """Publish each waiting request to the tiers whose time came since it was
    last published: once per tier, whichever worker runs it (a conditional
    UPDATE of ``announced_until`` decides). Returns how many were published."""
    later = Q()
    for field in REACH_FIELDS.values():
        later |= Q(**{f"{field}__gt": F("announced_until"), f"{field}__lte": Now()})
    due = (
        ChatSession.objects.filter(later, state=ChatSession.State.WAITING)
        .exclude(announced_until=None)
        .annotate(db_now=Now())
        .select_related("queue", "library", "primary", "requeued_by")
        .order_by("waiting_since")
    )
    published = 0
    for session in due:
        mark: datetime = session.announced_until  # type: ignore[assignment]
        now: datetime = session.db_now
        groups = {
            group: at
            for group, field in REACH_FIELDS.items()
            if (at := getattr(session, field)) is not None and mark < at <= now
        }
        if not groups:
            continue
        until = max(groups.values())
        with transaction.atomic():
            # "Still before ``until``", not "still ``mark``": SQLite keeps
            # these as text, ``NOW()``'s with milliseconds and a parameter's
            # with microseconds, so the same instant may not compare equal.
            if not ChatSession.objects.filter(
                pk=session.pk, state=ChatSession.State.WAITING, announced_until__lt=until
            ).update(announced_until=until):
                continue  # picked up, ended, or published by another worker meanwhile
            request_publish(session, list(groups), rolled_over=True)
        published += 1
        logger.info("session %s rolled over to %s", session.pk, ", ".join(sorted(groups)))
    return published
