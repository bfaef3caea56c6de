"""Patron presence: which sessions have a patron tab open, and who is gone.

A patron socket is a :class:`~chat.models.PatronPresence` row refreshed by
heartbeat. Closing the window or losing the network is not End Session: when
the patron's last tab goes, the grace period starts (``patron.left``); a tab
that comes back within it finds the whole conversation (``patron.returned``);
after it the session ends as lost (:func:`sessions_lost_sweep`).
"""

import copy
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from chat import steps
from chat.models import ChatSession, PatronPresence
from chat.selectors import patron_beats, patron_snapshots
from chat.sessions import session_close
from core.errors import ChatError
from core.events import publish
from core.groups import librarian_group, queue_group
from core.presence import presence_refresh

logger = logging.getLogger(__name__)


def patron_sockets_open(
    opens: list[tuple[int, str, int]],
) -> list[tuple[ChatSession, dict[str, Any]] | None]:
    """Patron sockets opened, in one transaction: (session id, channel name,
    the last line the patron saw) each. For each, its session (read under
    the row lock) and its ``session.snapshot``, or None if the session is gone.

    The sockets that open at the same moment come here together
    (``chat/consumers.py``): a thousand reconnecting after a restart share
    the lookups and the transactions.
    """
    with transaction.atomic():
        sessions = sessions_patron_connected(
            sockets=[(pk, channel_name) for pk, channel_name, _ in opens], new_sockets=True
        )
        found = [(s, after) for s, (_, _, after) in zip(sessions, opens, strict=True) if s]
        snapshots = iter(patron_snapshots(found))
    return [(session, next(snapshots)) if session else None for session in sessions]


def patron_sockets_beat(
    sockets: list[tuple[ChatSession, str]],
) -> dict[int, tuple[str, int, int | None]]:
    """A heartbeat of these open sockets: their presence refreshed (one UPDATE)
    and their sessions' state, last patron-visible number and primary
    librarian read (one SELECT)."""
    patron_sockets_heartbeat(sockets=sockets)
    return patron_beats({session.pk for session, _ in sockets})


def sessions_patron_connected(
    *, sockets: Sequence[tuple[int, str]], new_sockets: bool = False
) -> list[ChatSession | None]:
    """Patron sockets opened: (session id, channel name) each, in one transaction.

    For each socket, its session as read under its row lock, with what the
    patron's view shows (queue, library, librarian), or None if there is no
    such session (any more). A thousand patrons reconnecting after a restart
    open in batches this way
    (``chat/consumers.py``), a constant number of statements a batch.
    ``new_sockets``: none of them ever had a presence row (channel names are
    never reused), so the rows are inserted without looking first.
    """
    now = timezone.now()
    ids = sorted({pk for pk, _ in sockets})
    with transaction.atomic(savepoint=False):
        # Tabs of one session open and close one at a time (see
        # _patron_gone_if_no_socket). In id order, so that two transactions
        # locking several sessions never wait on each other in a circle.
        list(
            ChatSession.objects.select_for_update(no_key=True)
            .filter(pk__in=ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        # Read after the lock, in a statement of its own: a locking read that
        # joined the librarian and waited for a pick-up got the session as the
        # pick-up left it (active, primary_id set) but the join as it was
        # before (no librarian) from PostgreSQL, and the patron's snapshot said
        # "active, with nobody". Holding the lock, no one changes the rows now.
        locked = {
            current.pk: current
            for current in ChatSession.objects.select_related("queue", "library", "primary")
            .filter(pk__in=ids)
            .order_by("pk")
        }
        opened = [(pk, channel) for pk, channel in sockets if pk in locked]
        if new_sockets:
            PatronPresence.objects.bulk_create(
                PatronPresence(channel_name=channel, session_id=pk, last_seen=now, closed=False)
                for pk, channel in opened
            )
        else:
            for pk, channel in opened:
                # The update finds a row only when a heartbeat recreates a swept one.
                if not PatronPresence.objects.filter(channel_name=channel).update(
                    session_id=pk, last_seen=now, closed=False
                ):
                    PatronPresence.objects.create(
                        channel_name=channel, session_id=pk, last_seen=now, closed=False
                    )
        back = [
            current
            for current in locked.values()
            if current.patron_gone_since is not None and current.state != ChatSession.State.CLOSED
        ]
        if back:
            ChatSession.objects.filter(pk__in=[current.pk for current in back]).update(
                patron_gone_since=None
            )
            for current in back:
                current.patron_gone_since = None
                _patron_presence_event(
                    current.pk, current.state, current.primary_id, current.queue_id, present=True
                )
    answers: list[ChatSession | None] = []
    handed: set[int] = set()
    for pk, _ in sockets:
        answer = locked.get(pk)
        if answer is not None and pk in handed:
            answer = copy.copy(answer)  # two tabs of a session: each socket its own
        handed.add(pk)
        answers.append(answer)
    return answers


def patron_sockets_heartbeat(*, sockets: Iterable[tuple[ChatSession, str]]) -> None:
    """Open patron sockets of this process are still there: one UPDATE refreshes them all.

    ``sockets`` are (session, channel name) pairs. A row that a sweep closed
    or removed meanwhile is opened again (and the librarian hears ``patron.returned``
    if the patron had been counted gone); one that can't be is logged and
    tried again at its next beat, without holding up the others.
    """

    def reopen(channel_name: str, session: ChatSession) -> None:
        try:
            sessions_patron_connected(sockets=[(session.pk, channel_name)])
        except Exception:
            logger.exception("presence of a patron socket of session %s not restored", session.pk)

    presence_refresh(PatronPresence, {channel: session for session, channel in sockets}, reopen)


def session_patron_disconnected(*, session: ChatSession, channel_name: str) -> None:
    """A patron socket closed (window closed, network lost: not End Session).

    When it was the patron's last socket, the grace period starts and
    ``patron.left`` is published: the session stays open for them to come
    back to until the queue's grace period runs out.
    """
    with transaction.atomic():
        steps.session_lock(session.pk)
        PatronPresence.objects.filter(channel_name=channel_name).update(
            closed=True, last_seen=timezone.now()
        )
        _patron_gone_if_no_socket(session.pk, since=timezone.now())


def _patron_gone_if_no_socket(session_id: int, *, since: datetime) -> None:
    """Mark the patron gone if no tab of theirs is open. The caller holds the
    session's row lock: a tab opening while the last one closes (a reload served
    by two processes) waits for this decision and then undoes it, instead of
    slipping between the look for open tabs and the mark and leaving an open
    tab's patron counted as gone (PostgreSQL; SQLite runs one write at a time)."""
    stale = since - timedelta(seconds=settings.PATRON_SOCKET_STALE_SECONDS)
    if PatronPresence.objects.filter(
        session_id=session_id, closed=False, last_seen__gte=stale
    ).exists():
        return  # another tab is still open
    went = (
        ChatSession.objects.filter(pk=session_id, patron_gone_since__isnull=True)
        .exclude(state=ChatSession.State.CLOSED)
        .update(patron_gone_since=since)
    )
    if went:
        _patron_presence_publish(session_id, present=False)


def _patron_presence_publish(session_id: int, *, present: bool) -> None:
    state, primary_id, queue_id, gone_since, grace = ChatSession.objects.values_list(
        "state", "primary_id", "queue_id", "patron_gone_since", "queue__patron_grace_seconds"
    ).get(pk=session_id)
    _patron_presence_event(
        session_id, state, primary_id, queue_id, present=present, gone_since=gone_since, grace=grace
    )


def _patron_presence_event(
    session_id: int,
    state: str,
    primary_id: int | None,
    queue_id: int,
    *,
    present: bool,
    gone_since: datetime | None = None,
    grace: int = 0,
) -> None:
    """Publish ``patron.returned`` or ``patron.left`` for a session in this state."""
    event: dict[str, object] = {
        "type": "patron.returned" if present else "patron.left",
        "session": session_id,
    }
    if not present and gone_since is not None:
        event["grace_until"] = (gone_since + timedelta(seconds=grace)).isoformat()
    groups = [queue_group(queue_id)] if state == ChatSession.State.WAITING else []
    if primary_id:
        groups.append(librarian_group(primary_id))
    publish(event, *groups)


def patron_sockets_sweep(*, now: datetime | None = None) -> list[int]:
    """Notice patrons whose sockets died with their server process: a socket
    row not refreshed for ``PATRON_SOCKET_STALE_SECONDS`` is closed, and a
    patron with no open tab left is counted gone (``patron.left``; the grace
    period starts). Run by the worker's schedule. Returns the sessions whose
    sockets it closed.

    Each row is closed only if it is still stale when the UPDATE runs: a
    heartbeat that lands meanwhile keeps it open.
    """
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.PATRON_SOCKET_STALE_SECONDS)
    stale_rows = PatronPresence.objects.filter(closed=False, last_seen__lt=stale)
    dead: dict[int, list[str]] = {}
    for channel_name, session_id in stale_rows.values_list("channel_name", "session_id"):
        dead.setdefault(session_id, []).append(channel_name)
    for session_id, channel_names in dead.items():
        with transaction.atomic():
            steps.session_lock(session_id)
            stale_rows.filter(channel_name__in=channel_names).update(closed=True)
            _patron_gone_if_no_socket(session_id, since=now)
    return sorted(dead)


def sessions_lost_sweep(*, now: datetime | None = None) -> list[int]:
    """End the sessions whose patron stayed away past the queue's grace period.

    Each is closed by the system with the line "The patron's connection was
    lost", its transcript is emailed if an address is known, and its
    librarian hears ``session.closed``; one that fails is logged and tried
    again next time, without holding up the others. Run by the worker's
    schedule. Returns their ids.
    """
    now = now or timezone.now()
    lost = []
    away = ChatSession.objects.filter(
        state__in=[ChatSession.State.WAITING, ChatSession.State.ACTIVE],
        patron_gone_since__isnull=False,
    ).select_related("queue")
    for session in away:
        gone_before = now - timedelta(seconds=session.queue.patron_grace_seconds)
        if session.patron_gone_since is None or session.patron_gone_since > gone_before:
            continue
        try:
            session_close(
                session=session, closed_by=ChatSession.ClosedBy.SYSTEM, gone_before=gone_before
            )
        except ChatError:
            continue  # ended meanwhile, or the patron came back
        except Exception:
            logger.exception("session %s could not be ended as lost", session.pk)
            continue
        lost.append(session.pk)
    return lost


def patron_presence_prune(*, now: datetime | None = None) -> int:
    """Remove the rows of patron sockets closed over an hour ago. Returns how many."""
    now = now or timezone.now()
    deleted, _ = PatronPresence.objects.filter(
        closed=True, last_seen__lt=now - timedelta(hours=1)
    ).delete()
    return deleted
