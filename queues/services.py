"""The one owner of a chat session's life: waiting → active → closed.

Every change of a session's state, primary librarian, patron presence and of
a librarian's monitoring goes through a function here. Each decides races in
the database (a conditional UPDATE that matches one row or none), changes
the rows inside one transaction and publishes its events after commit.
A move that is not allowed raises :class:`~reference_chat.errors.ChatError`.
"""

import copy
import logging
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import Librarian, Library
from queues.models import (
    ChatSession,
    ConsolePresence,
    Membership,
    PatronPresence,
    Queue,
    TransferOffer,
)
from queues.payloads import librarian_row, offer_payload, session_detail, session_row
from queues.selectors import librarian_on_shift, session_for_librarian
from reference_chat.errors import ChatError
from reference_chat.events import publish
from transcripts.email import transcript_send
from transcripts.models import ImSession, Message
from transcripts.payloads import message_payload
from transcripts.services import line_store, line_validate, message_post_by_librarian

logger = logging.getLogger(__name__)

PATRON_ENDED = "Patron ended chat session"
LIBRARIAN_ENDED = "Librarian ended chat session"
CONNECTION_LOST = "The patron's connection was lost: chat session ended"


def queue_group(queue_id: int) -> str:
    return f"queue.{queue_id}"


def librarian_group(librarian_id: int) -> str:
    return f"librarian.{librarian_id}"


def session_enqueue(
    *,
    queue: Queue,
    library: Library,
    patron_name: str,
    patron_email: str,
    question: object,
) -> ChatSession:
    """A patron asks: a new waiting session whose first line is the question.

    Requires: an open queue that serves ``library``; an email if the queue
    requires one. Changes: a new session and its line 1.
    Publishes ``session.created`` to the queue's monitors.
    """
    if not queue.is_open:
        raise ChatError("queue_closed", "This chat service is closed right now.")
    if not queue.libraries.filter(pk=library.pk).exists():
        raise ChatError("invalid_library", "That library does not take questions here.")
    patron_name = " ".join(patron_name.split())[:80]
    if not patron_name:
        raise ChatError("invalid_name", "Please give a screen name.")
    patron_email = patron_email.strip()
    if queue.email_required and not patron_email:
        raise ChatError("email_required", "This service needs your email address.")
    if patron_email:
        _email_validate(patron_email)
    question = line_validate(question)
    with transaction.atomic():
        session = ChatSession.objects.create(
            queue=queue,
            library=library,
            patron_name=patron_name,
            patron_email=patron_email,
            question=question,
        )
        line_store(
            session=session,
            kind=Message.Kind.PATRON,
            text=question,
            author_name=patron_name,
        )
        publish({"type": "session.created", "session": session_row(session)}, queue_group(queue.pk))
    logger.info("session %s enqueued in queue %s", session.pk, queue.pk)
    return session


def session_accept(*, session_id: object, librarian: Librarian) -> ChatSession:
    """A librarian picks up a waiting request and becomes its primary librarian.

    Requires: the librarian belongs to the session's queue.
    Changes: state waiting → active, ``primary``, ``accepted_at``; a system line.
    Publishes ``session.accepted`` to the queue's monitors (it leaves every
    New list), to the patron, and with the whole session to the librarian's
    consoles. Two librarians at once: exactly one wins, the other gets
    ``already_taken`` naming who did.
    """
    session = session_for_librarian(session_id=session_id, librarian=librarian)
    with transaction.atomic():
        # The pick-up race is decided here: only one UPDATE can still match
        # state=waiting; the loser matches no row and changes nothing.
        won = ChatSession.objects.filter(pk=session.pk, state=ChatSession.State.WAITING).update(
            state=ChatSession.State.ACTIVE, primary=librarian, accepted_at=timezone.now()
        )
        if not won:
            raise _accept_refusal(session.pk, librarian)
        session.refresh_from_db()
        if session.requeued_by_id:
            _note(
                session,
                f"{librarian.display_name} picked the session up from the queue.",
                librarian,
            )
        _announce_join(session, librarian)
        accepted = {
            "type": "session.accepted",
            "session": session.pk,
            "queue": session.queue_id,
            "librarian": {"id": librarian.pk, "display_name": librarian.display_name},
        }
        publish(accepted, queue_group(session.queue_id), session.patron_group())
        detail = session_detail(session, session.messages.order_by("seq"))
        publish({**accepted, "detail": detail}, librarian_group(librarian.pk))
        _librarian_updated(librarian.pk)
    logger.info("session %s accepted by librarian %s", session.pk, librarian.pk)
    return session


def _announce_join(session: ChatSession, librarian: Librarian) -> None:
    """The one patron-visible line about who took the session (a queue may turn it off)."""
    if session.queue.announce_join:
        line_store(
            session=session,
            kind=Message.Kind.SYSTEM,
            text=f"{librarian.display_name} has joined the chat.",
        )


def _note(session: ChatSession, text: str, author: Librarian | None = None) -> Message:
    """A Librarian Note in the session's Chat History (staff only, by the one visibility rule)."""
    message, _ = line_store(
        session=session,
        kind=Message.Kind.NOTE,
        text=text[: settings.CHAT_MAX_LINE_CHARS],
        author=author,
        author_name=author.display_name if author else "",
    )
    return message


def _accept_refusal(session_id: int, librarian: Librarian) -> ChatError:
    session = ChatSession.objects.select_related("primary").get(pk=session_id)
    if session.state == ChatSession.State.ACTIVE and session.primary is not None:
        if session.primary.pk == librarian.pk:
            return ChatError("already_yours", "You already have this session.")
        return ChatError(
            "already_taken", f"{session.primary.display_name} already picked up this request."
        )
    return ChatError("session_closed", "The patron ended this request before it was picked up.")


def session_end_by_patron(*, session: ChatSession) -> ChatSession:
    """The patron clicks End Session (while waiting or chatting).

    Publishes ``session.closed``; emails the transcript if an address is known.
    """
    return _session_close(session=session, closed_by=ChatSession.ClosedBy.PATRON)


def session_end_by_librarian(*, session_id: object, librarian: Librarian) -> ChatSession:
    """The primary librarian clicks End Session.

    Requires: the librarian is the session's primary and it is active.
    Publishes ``session.closed``; emails the transcript if an address is known.
    """
    session = session_for_librarian(session_id=session_id, librarian=librarian)
    return _session_close(
        session=session, closed_by=ChatSession.ClosedBy.LIBRARIAN, librarian=librarian
    )


def _session_close(
    *,
    session: ChatSession,
    closed_by: str,
    librarian: Librarian | None = None,
    gone_before: datetime | None = None,
) -> ChatSession:
    rows = ChatSession.objects.filter(
        pk=session.pk, state__in=[ChatSession.State.WAITING, ChatSession.State.ACTIVE]
    )
    if librarian is not None:
        rows = rows.filter(primary=librarian, state=ChatSession.State.ACTIVE)
    if closed_by == ChatSession.ClosedBy.SYSTEM:
        # Lost only if the patron is still away, and has been since ``gone_before``:
        # one who came back keeps it, and one who came back and dropped again
        # after the sweep read the row gets a whole new grace period.
        rows = rows.filter(patron_gone_since__isnull=False)
        if gone_before is not None:
            rows = rows.filter(patron_gone_since__lte=gone_before)
    with transaction.atomic():
        # Closing twice (a double click, both sides at once) matches no row the
        # second time: exactly one closing line is ever written.
        if not rows.update(
            state=ChatSession.State.CLOSED, closed_at=timezone.now(), closed_by=closed_by
        ):
            raise _close_refusal(session.pk)
        was_waiting = session.state == ChatSession.State.WAITING
        session.refresh_from_db()
        text = {
            ChatSession.ClosedBy.PATRON: PATRON_ENDED,
            ChatSession.ClosedBy.LIBRARIAN: LIBRARIAN_ENDED,
            ChatSession.ClosedBy.SYSTEM: CONNECTION_LOST,
        }[closed_by]
        line_store(session=session, kind=Message.Kind.SYSTEM, text=text)
        closed = {
            "type": "session.closed",
            "session": session.pk,
            "queue": session.queue_id,
            "closed_by": closed_by,
            "has_email": bool(session.patron_email),
        }
        groups = [session.patron_group(), queue_group(session.queue_id)]
        if session.primary_id:
            groups.append(librarian_group(session.primary_id))
        publish(closed, *groups)
        open_offers = TransferOffer.objects.filter(session=session, state=TransferOffer.State.OPEN)
        for offer in open_offers.select_related("sender", "receiver", "session"):
            _offer_close(
                offer,
                TransferOffer.State.CANCELLED,
                rows=TransferOffer.objects.all(),
                note=f"The transfer request to {offer.receiver.display_name} was withdrawn: "
                "the session ended.",
                reason="The session ended.",
            )
        if session.primary_id:
            _librarian_updated(session.primary_id)
        if session.patron_email:
            transaction.on_commit(lambda: _transcript_send_quietly(session.pk))
    logger.info(
        "session %s closed by %s (was %s)",
        session.pk,
        closed_by,
        "waiting" if was_waiting else "active",
    )
    return session


def _close_refusal(session_id: int) -> ChatError:
    state = ChatSession.objects.values_list("state", flat=True).get(pk=session_id)
    if state == ChatSession.State.CLOSED:
        return ChatError("session_closed", "This chat session has already ended.")
    if state == ChatSession.State.WAITING:
        return ChatError("session_waiting", "Pick the request up before ending it.")
    return ChatError("not_primary", "Only the librarian chatting with this patron can end it.")


def session_patron_connected(
    *, session: ChatSession, channel_name: str, new_socket: bool = False
) -> ChatSession:
    """A patron socket opened (``new_socket``: one that never had a presence row).

    Returns the session as read under its row lock, with what the patron's
    view shows (queue, library, librarian), so the socket's snapshot needs
    no second read of it. Publishes ``patron.returned`` when the patron had gone.
    """
    [current] = sessions_patron_connected(
        sockets=[(session.pk, channel_name)], new_sockets=new_socket
    )
    if current is None:
        raise ChatSession.DoesNotExist("the session is gone")
    return current


def sessions_patron_connected(
    *, sockets: Sequence[tuple[int, str]], new_sockets: bool = False
) -> list[ChatSession | None]:
    """Patron sockets opened: (session id, channel name) each, in one transaction.

    For each socket, its session as :func:`session_patron_connected` returns
    it, or None if there is no such session (any more). A thousand patrons
    reconnecting after a restart open in batches this way
    (``queues/consumers.py``), a constant number of statements a batch.
    ``new_sockets``: none of them ever had a presence row (channel names are
    never reused), so the rows are inserted without looking first.
    """
    now = timezone.now()
    ids = sorted({pk for pk, _ in sockets})
    with transaction.atomic(savepoint=False):
        # Tabs of one session open and close one at a time (see
        # _patron_gone_if_no_socket): the lock is also the read. In id order,
        # so that two transactions locking several sessions never wait on each
        # other in a circle.
        locked = {
            current.pk: current
            for current in ChatSession.objects.select_related("queue", "library", "primary")
            .select_for_update(no_key=True, of=("self",))
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
        current = locked.get(pk)
        if current is not None and pk in handed:
            current = copy.copy(current)  # two tabs of a session: each socket its own
        handed.add(pk)
        answers.append(current)
    return answers


def session_patron_heartbeat(*, session: ChatSession, channel_name: str) -> None:
    """An open patron socket is still there (refreshes its presence row)."""
    if not PatronPresence.objects.filter(channel_name=channel_name, closed=False).update(
        last_seen=timezone.now()
    ):
        session_patron_connected(session=session, channel_name=channel_name)


def patron_sockets_heartbeat(*, sockets: Iterable[tuple[ChatSession, str]]) -> None:
    """Open patron sockets of this process are still there: one UPDATE refreshes them all.

    ``sockets`` are (session, channel name) pairs. As for
    :func:`session_patron_heartbeat`, a row that a sweep closed or removed
    meanwhile is opened again (and the librarian hears ``patron.returned``
    if the patron had been counted gone); one that can't be is logged and
    tried again at its next beat, without holding up the others.
    """

    def reopen(channel_name: str, session: ChatSession) -> None:
        try:
            session_patron_connected(session=session, channel_name=channel_name)
        except Exception:
            logger.exception("presence of a patron socket of session %s not restored", session.pk)

    _presence_refresh(PatronPresence, {channel: session for session, channel in sockets}, reopen)


def _presence_refresh(
    model: type[PatronPresence] | type[ConsolePresence],
    owners: dict[str, Any],
    reopen: Callable[[str, Any], None],
) -> None:
    """Refresh the open presence rows of these channels in one UPDATE; ``reopen``
    each channel whose row a sweep closed or removed (rarely any)."""
    if not owners:
        return
    rows = model.objects.filter(channel_name__in=list(owners), closed=False)
    if rows.update(last_seen=timezone.now()) == len(owners):
        return  # channel names are unique: every row was there
    there = set(rows.values_list("channel_name", flat=True))
    for channel_name, owner in owners.items():
        if channel_name not in there:
            reopen(channel_name, owner)


def session_patron_disconnected(*, session: ChatSession, channel_name: str) -> None:
    """A patron socket closed (window closed, network lost: not End Session).

    When it was the patron's last socket, the grace period starts and
    ``patron.left`` is published: the session stays open for them to come
    back to until the queue's grace period runs out.
    """
    with transaction.atomic():
        _session_lock(session.pk)
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


def patron_sweep(*, now: datetime | None = None, alive: Collection[str] = ()) -> list[int]:
    """Notice patrons whose sockets died with their server process, and end
    sessions whose patron stayed away past the queue's grace period.

    A session ended this way is closed by the system with the line "The
    patron's connection was lost", its transcript is emailed if an address
    is known, and its librarian hears ``session.closed``. Returns their ids.
    Sockets named in ``alive`` (open in the calling process) are never
    counted dead, however late their last heartbeat was written.
    """
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.PATRON_SOCKET_STALE_SECONDS)
    # ``alive``: channel names of sockets the calling process has open now,
    # left out here rather than in SQL: a process holds thousands, and a
    # NOT IN of thousands every sweep cost the database thread more than
    # the stale rows it finds (usually none).
    stale_rows = PatronPresence.objects.filter(closed=False, last_seen__lt=stale)
    dead: dict[int, list[str]] = {}
    for channel_name, session_id in stale_rows.values_list("channel_name", "session_id"):
        if channel_name not in alive:
            dead.setdefault(session_id, []).append(channel_name)
    for session_id, channel_names in dead.items():
        with transaction.atomic():
            _session_lock(session_id)
            stale_rows.filter(channel_name__in=channel_names).update(closed=True)
            _patron_gone_if_no_socket(session_id, since=now)
    lost = []
    open_sessions = ChatSession.objects.filter(
        state__in=[ChatSession.State.WAITING, ChatSession.State.ACTIVE],
        patron_gone_since__isnull=False,
    ).select_related("queue")
    for session in open_sessions:
        gone_before = now - timedelta(seconds=session.queue.patron_grace_seconds)
        if session.patron_gone_since > gone_before:
            continue
        try:
            _session_close(
                session=session, closed_by=ChatSession.ClosedBy.SYSTEM, gone_before=gone_before
            )
        except ChatError:
            continue  # ended meanwhile, or the patron came back
        lost.append(session.pk)
    PatronPresence.objects.filter(closed=True, last_seen__lt=now - timedelta(hours=1)).delete()
    return lost


def session_transcript_request(*, session: ChatSession, email: str) -> ChatSession:
    """A patron without a known address asks for the transcript at the end.

    Requires: the session is closed and no transcript was sent yet.
    Changes: ``patron_email``; sends the transcript email now.
    """
    email = email.strip()
    _email_validate(email)
    with transaction.atomic():
        rows = ChatSession.objects.filter(
            pk=session.pk, state=ChatSession.State.CLOSED, transcript_sent_at__isnull=True
        )
        if not rows.update(patron_email=email):
            # The state as stored: the caller's object may predate the close
            # (the patron's socket loads it once, when the page opens).
            state = ChatSession.objects.values_list("state", flat=True).get(pk=session.pk)
            if state != ChatSession.State.CLOSED:
                raise ChatError("session_open", "The transcript is sent when the chat ends.")
            raise ChatError("transcript_sent", "The transcript of this chat was already sent.")
    transcript_send(session_id=session.pk)
    session.refresh_from_db()
    return session


def _transcript_send_quietly(session_id: int) -> None:
    try:
        transcript_send(session_id=session_id)
    except Exception:
        # The session is closed and stored either way; a mail server that is
        # down must not turn End Session into an error.
        logger.exception("transcript email for session %s failed", session_id)


def _email_validate(email: str) -> None:
    try:
        validate_email(email)
    except ValidationError:
        raise ChatError("invalid_email", "That doesn't look like an email address.") from None


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
        _librarian_updated(librarian.pk, also_queues=before)
    for m in memberships:
        m.is_monitoring = m.queue_id in wanted
    logger.info("librarian %s monitors %d queues", librarian.pk, len(wanted))
    return memberships


def librarian_log_off(*, librarian: Librarian) -> int:
    """The librarian logs off: they stop monitoring, and their active sessions end.

    Each session they hold ends as if they had clicked End Session (closing
    line, transcript email): a patron is never left talking to nobody.
    Publishes ``monitoring.changed`` and ``session.closed`` for each session.
    Returns how many sessions were ended.
    """
    monitoring_set(librarian=librarian, queue_ids=[])
    ended = 0
    for session in ChatSession.objects.filter(primary=librarian, state=ChatSession.State.ACTIVE):
        try:
            _session_close(
                session=session, closed_by=ChatSession.ClosedBy.LIBRARIAN, librarian=librarian
            )
        except ChatError:
            continue  # the patron ended it in the meantime
        ended += 1
    return ended


def _librarian_updated(librarian_id: int, *, also_queues: Iterable[int] = ()) -> None:
    """Tell the consoles that may list this librarian about their new figures.

    Publishes ``librarian.updated`` (a Librarians list row, with the queues
    they monitor now) to the groups of those queues and of ``also_queues``
    (the ones they monitored before): every console that listed them, or
    should now. Each console decides by the queues it monitors itself.
    """
    librarian = librarian_on_shift(librarian_id)
    row = librarian_row(librarian)
    queues = set(row["monitoring"]) | set(also_queues)
    groups = [queue_group(q) for q in sorted(queues)]
    publish({"type": "librarian.updated", "librarian": row}, *groups)


# --- Console presence -------------------------------------------------------
# Who is on shift comes from the database, so it holds with several server
# processes: each console has a ConsolePresence row refreshed by heartbeat.


def console_opened(*, librarian: Librarian, channel_name: str) -> None:
    """A console socket opened (a reload within the grace period is no departure)."""
    ConsolePresence.objects.update_or_create(
        channel_name=channel_name,
        defaults={"librarian": librarian, "last_seen": timezone.now(), "closed": False},
    )


def console_heartbeat(*, librarian: Librarian, channel_name: str) -> None:
    """An open console is still there. Recreates the row if a sweep removed it."""
    if not ConsolePresence.objects.filter(channel_name=channel_name, closed=False).update(
        last_seen=timezone.now()
    ):
        console_opened(librarian=librarian, channel_name=channel_name)


def consoles_heartbeat(*, consoles: Iterable[tuple[Librarian, str]]) -> None:
    """Open consoles of this process are still there: one UPDATE refreshes them all.

    ``consoles`` are (librarian, channel name) pairs. As for
    :func:`console_heartbeat`, a row that a sweep removed is put back.
    """
    _presence_refresh(
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
    ``librarian.updated`` to their queues' monitors) and stale presence rows
    are removed. Safe to run in every process at once: the conditional
    update lets only one sweep act on each librarian. Returns their ids.
    """
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.CONSOLE_GRACE_SECONDS)
    seen = ConsolePresence.objects.filter(librarian=OuterRef("pk"), last_seen__gte=cutoff)
    gone = list(
        Librarian.objects.filter(memberships__is_monitoring=True)
        .exclude(Exists(seen))
        .distinct()
        .values_list("pk", flat=True)
    )
    ended = []
    for librarian_id in gone:
        with transaction.atomic():
            before = set(
                Membership.objects.monitoring()
                .filter(librarian_id=librarian_id)
                .values_list("queue_id", flat=True)
            )
            stopped = Membership.objects.filter(
                librarian_id=librarian_id, is_monitoring=True
            ).update(is_monitoring=False, monitoring_since=None)
            if not stopped:
                continue  # another process's sweep got there first
            publish({"type": "monitoring.changed", "queues": []}, librarian_group(librarian_id))
            _librarian_updated(librarian_id, also_queues=before)
        ended.append(librarian_id)
        logger.info("librarian %s left (no console within the grace period)", librarian_id)
    ConsolePresence.objects.filter(last_seen__lt=cutoff).delete()
    return ended


# --- Transfers --------------------------------------------------------------
# The handshake is enforced: the session stays with the sender until the
# receiver takes it. Every step is a conditional UPDATE on the offer (and,
# for OK, on the session), so a late OK, a double click, a cancel racing an
# OK or a third person can change nothing.


def session_note_add(
    *, session_id: object, librarian: Librarian, text: object, client_id: str | None = None
) -> tuple[Message, bool]:
    """The primary librarian writes a Librarian Note into an active session.

    Publishes ``message.created`` (a note) to the librarians in the session,
    never to the patron. Idempotent by ``client_id`` like any line.
    """
    session = session_for_librarian(session_id=session_id, librarian=librarian)
    return message_post_by_librarian(
        session=session, librarian=librarian, text=text, client_id=client_id, note=True
    )


def transfer_offer(
    *, session_id: object, sender: Librarian, receiver_id: object, note: str = ""
) -> TransferOffer:
    """Offer the session to a colleague monitoring its queue.

    Requires: the sender is the primary of the active session; the receiver
    monitors the session's queue; no other offer for the session is open.
    Changes: a new open offer (expiring after the queue's offer lifetime) and
    a Librarian Note. Publishes ``transfer.offered`` to both librarians.
    """
    session = _session_held_by(session_id, sender)
    try:
        receiver = Librarian.objects.get(pk=int(receiver_id))  # type: ignore[call-overload]
    except (Librarian.DoesNotExist, TypeError, ValueError):
        raise ChatError("not_found", "There is no such librarian.") from None
    if receiver.pk == sender.pk:
        raise ChatError("transfer_self", "You already have this session.")
    if not Membership.objects.monitoring().filter(librarian=receiver, queue=session.queue).exists():
        raise ChatError(
            "not_available",
            f"{receiver.display_name} is not monitoring {session.queue.name}: "
            "transfer to a librarian monitoring it, or to the queue.",
        )
    note = _offer_note(note)
    now = timezone.now()
    try:
        with transaction.atomic():
            if not _session_lock(session.pk, held_by=sender):
                raise _held_refusal(session.pk)
            offer = TransferOffer.objects.create(
                session=session,
                sender=sender,
                receiver=receiver,
                note=note,
                expires_at=now + timedelta(seconds=session.queue.transfer_offer_seconds),
            )
            _note(
                session,
                f"Transfer request to {receiver.display_name}" + (f": {note}" if note else "."),
                sender,
            )
            publish(
                {"type": "transfer.offered", "offer": offer_payload(offer)},
                librarian_group(sender.pk),
                librarian_group(receiver.pk),
            )
    except IntegrityError:
        raise ChatError(
            "offer_open", "This session already has an open transfer offer: cancel it first."
        ) from None
    logger.info("session %s offered by %s to %s", session.pk, sender.pk, receiver.pk)
    return offer


def _offer_note(note: object) -> str:
    if not isinstance(note, str):
        raise ChatError("bad_frame", '"note" must be text.')
    note = " ".join(note.split())
    if len(note) > 500:
        raise ChatError("invalid_line", "A transfer note can be at most 500 characters.")
    return note


def _session_held_by(session_id: object, librarian: Librarian) -> ChatSession:
    session = session_for_librarian(session_id=session_id, librarian=librarian)
    if session.state == ChatSession.State.CLOSED:
        raise ChatError("session_closed", "This chat session has ended.")
    if session.state != ChatSession.State.ACTIVE or session.primary_id != librarian.pk:
        raise ChatError(
            "not_primary", "Only the librarian chatting with this patron can transfer it."
        )
    return session


def transfer_accept(*, offer_id: object, librarian: Librarian) -> ChatSession:
    """The receiver clicks OK: they become the session's primary librarian.

    Requires: the offer is open, for this librarian, not past its expiry, and
    the session is still active with the sender as primary.
    Changes: the offer (accepted), the session's ``primary``; a Librarian
    Note and, if the queue says so, the patron's "Bob has joined the chat".
    Publishes ``transfer.accepted`` to both librarians (with the whole
    session for the receiver), ``session.accepted`` to the patron.
    """
    offer = _offer_for(offer_id, librarian)
    now = timezone.now()
    with transaction.atomic():
        _session_lock(offer.session_id)
        taken = TransferOffer.objects.filter(
            pk=offer.pk, receiver=librarian, state=TransferOffer.State.OPEN, expires_at__gt=now
        ).update(state=TransferOffer.State.ACCEPTED, resolved_at=now)
        if not taken:
            raise _offer_refusal(offer.pk, librarian)
        moved = ChatSession.objects.filter(
            pk=offer.session_id, state=ChatSession.State.ACTIVE, primary_id=offer.sender_id
        ).update(primary=librarian)
        if not moved:
            # The patron left, or the session changed hands some other way:
            # raising rolls the offer back too, so nothing of this OK sticks.
            raise ChatError("session_closed", "The patron's session ended before you took it.")
        session = ChatSession.objects.select_related("queue", "library", "primary").get(
            pk=offer.session_id
        )
        offer.refresh_from_db()
        taken_line = _note(
            session,
            f"{librarian.display_name} accepted the transfer and took the session.",
            librarian,
        )
        _announce_join(session, librarian)
        _unlink_ims(session)
        publish(
            {"type": "transfer.accepted", "offer": offer_payload(offer),
             "line": message_payload(taken_line)},
            librarian_group(offer.sender_id),
        )  # fmt: skip
        detail = session_detail(session, session.messages.order_by("seq"))
        publish(
            {"type": "transfer.accepted", "offer": offer_payload(offer), "detail": detail},
            librarian_group(librarian.pk),
        )
        publish(
            {"type": "session.accepted", "session": session.pk, "queue": session.queue_id,
             "librarian": {"id": librarian.pk, "display_name": librarian.display_name}},
            session.patron_group(),
        )  # fmt: skip
        _librarian_updated(offer.sender_id)
        _librarian_updated(librarian.pk)
    logger.info("session %s transferred from %s to %s", session.pk, offer.sender_id, librarian.pk)
    return session


def transfer_decline(*, offer_id: object, librarian: Librarian) -> TransferOffer:
    """The receiver declines. The sender keeps the session and is told.

    Publishes ``transfer.declined`` to both librarians.
    """
    offer = _offer_for(offer_id, librarian)
    if offer.receiver_id != librarian.pk:
        raise ChatError("not_yours", "This transfer offer is not for you.")
    return _offer_close(
        offer,
        TransferOffer.State.DECLINED,
        # Like OK, a Decline after the offer's time ran out is offer_expired.
        rows=TransferOffer.objects.filter(receiver=librarian, expires_at__gt=timezone.now()),
        note=f"{librarian.display_name} declined the transfer.",
        author=librarian,
        refusal_for=librarian,
    )


def transfer_cancel(*, offer_id: object, librarian: Librarian) -> TransferOffer:
    """The sender withdraws an open offer. Publishes ``transfer.cancelled`` to both."""
    offer = _offer_for(offer_id, librarian)
    if offer.sender_id != librarian.pk:
        raise ChatError("not_yours", "Only the librarian who offered the session can cancel it.")
    return _offer_close(
        offer,
        TransferOffer.State.CANCELLED,
        rows=TransferOffer.objects.filter(sender=librarian),
        note=f"{librarian.display_name} cancelled the transfer request.",
        author=librarian,
        refusal_for=librarian,
        reason=f"{librarian.display_name} cancelled it.",
    )


def transfer_expire_due(*, now: datetime | None = None) -> list[int]:
    """Expire every open offer past its time; each sender keeps the session and is told.

    Run by every process's sweep; the conditional update lets one act per offer.
    Publishes ``transfer.expired`` to both librarians. Returns the offer ids.
    """
    now = now or timezone.now()
    expired = []
    due = TransferOffer.objects.filter(state=TransferOffer.State.OPEN, expires_at__lte=now)
    for offer in due.select_related("sender", "receiver", "session"):
        try:
            _offer_close(
                offer,
                TransferOffer.State.EXPIRED,
                rows=TransferOffer.objects.filter(expires_at__lte=now),
                note=f"The transfer request to {offer.receiver.display_name} expired without "
                "an answer.",
            )
        except ChatError:
            continue  # accepted, declined or cancelled at the last moment
        expired.append(offer.pk)
    return expired


def transfer_to_queue(*, session_id: object, sender: Librarian, note: str = "") -> ChatSession:
    """Return the session to its queue: it waits under New again, marked "(Transfer)".

    Requires: the sender is the primary of the active session and no offer is open.
    Changes: state active → waiting, no primary, ``waiting_since``, the
    sender's note; a Librarian Note. Publishes ``session.requeued`` to the
    sender's consoles and ``session.created`` (the marked row) to the
    queue's monitors. The patron hears nothing until someone joins.
    """
    session = _session_held_by(session_id, sender)
    note = _offer_note(note)
    now = timezone.now()
    with transaction.atomic():
        if not _session_lock(session.pk, held_by=sender):
            raise _held_refusal(session.pk)
        if TransferOffer.objects.filter(session=session, state=TransferOffer.State.OPEN).exists():
            raise ChatError(
                "offer_open", "This session already has an open transfer offer: cancel it first."
            )
        if not ChatSession.objects.filter(
            pk=session.pk, state=ChatSession.State.ACTIVE, primary=sender
        ).update(
            state=ChatSession.State.WAITING,
            primary=None,
            waiting_since=now,
            requeued_by=sender,
            requeue_note=note,
        ):
            raise _close_refusal(session.pk)
        session.refresh_from_db()
        _note(
            session,
            f"{sender.display_name} returned the session to {session.queue.name}"
            + (f": {note}" if note else "."),
            sender,
        )
        _unlink_ims(session)
        publish(
            {"type": "session.requeued", "session": session.pk, "queue": session.queue_id},
            librarian_group(sender.pk),
        )
        publish(
            {"type": "session.created", "session": session_row(session)},
            queue_group(session.queue_id),
        )
        _librarian_updated(sender.pk)
    logger.info("session %s returned to queue %s by %s", session.pk, session.queue_id, sender.pk)
    return session


def _offer_for(offer_id: object, librarian: Librarian) -> TransferOffer:
    """An offer the librarian sent or received; ``not_found`` for anyone else."""
    try:
        return TransferOffer.objects.select_related("sender", "receiver", "session").get(
            Q(sender=librarian) | Q(receiver=librarian),
            pk=int(offer_id),  # type: ignore[call-overload]
        )
    except (TransferOffer.DoesNotExist, TypeError, ValueError):
        raise ChatError("not_found", "There is no such transfer offer of yours.") from None


def _offer_close(
    offer: TransferOffer,
    state: str,
    *,
    rows: "QuerySet[TransferOffer]",
    note: str,
    author: Librarian | None = None,
    refusal_for: Librarian | None = None,
    reason: str = "",
) -> TransferOffer:
    """End an open offer without a transfer: record it, note it, tell both librarians."""
    with transaction.atomic():
        _session_lock(offer.session_id)
        if not rows.filter(pk=offer.pk, state=TransferOffer.State.OPEN).update(
            state=state, resolved_at=timezone.now()
        ):
            raise _offer_refusal(offer.pk, refusal_for)
        offer.refresh_from_db()
        _note(offer.session, note, author)
        _unlink_ims(offer.session)
        event = {"type": f"transfer.{state}", "offer": offer_payload(offer)}
        if reason:
            event["reason"] = reason
        publish(event, librarian_group(offer.sender_id), librarian_group(offer.receiver_id))
    return offer


def _session_lock(session_id: int, *, held_by: Librarian | None = None) -> bool:
    """Lock the session's row before touching its offers; with ``held_by``, only
    if that librarian still holds it (active, primary). Returns whether it matched.

    Closing a session locks the session, then withdraws its open offers; every
    step of an offer takes the two rows in the same order, so an OK, Decline,
    Cancel or expiry racing End Session waits its turn instead of deadlocking,
    and an offer or a return to the queue re-checks who holds the session
    after the End Session or the other tab's move it waited for (PostgreSQL;
    SQLite runs one write transaction at a time anyway).
    """
    rows = ChatSession.objects.select_for_update(no_key=True).filter(pk=session_id)
    if held_by is not None:
        rows = rows.filter(state=ChatSession.State.ACTIVE, primary=held_by)
    return bool(list(rows.values("pk")))


def _held_refusal(session_id: int) -> ChatError:
    state = ChatSession.objects.values_list("state", flat=True).get(pk=session_id)
    if state == ChatSession.State.CLOSED:
        return ChatError("session_closed", "This chat session has ended.")
    return ChatError("not_primary", "Only the librarian chatting with this patron can transfer it.")


def _offer_refusal(offer_id: int, librarian: Librarian | None) -> ChatError:
    offer = TransferOffer.objects.select_related("sender", "receiver", "session").get(pk=offer_id)
    if librarian is not None and librarian.pk not in (offer.sender_id, offer.receiver_id):
        return ChatError("not_found", "There is no such transfer offer of yours.")
    if (
        offer.state == TransferOffer.State.CANCELLED
        and offer.session.state == ChatSession.State.CLOSED
        and librarian is not None
        and librarian.pk == offer.receiver_id
    ):
        # Withdrawn because the session ended: that is what the receiver needs to hear.
        return ChatError("session_closed", "The patron's session ended before you took it.")
    if offer.state == TransferOffer.State.OPEN:
        if librarian is not None and offer.receiver_id != librarian.pk:
            return ChatError("not_yours", "This transfer offer is not for you.")
        return ChatError("offer_expired", "This transfer offer has expired.")
    return ChatError(f"offer_{offer.state}", {
        TransferOffer.State.ACCEPTED: f"{offer.receiver.display_name} already took this session.",
        TransferOffer.State.DECLINED: f"{offer.receiver.display_name} declined this transfer.",
        TransferOffer.State.EXPIRED: "This transfer offer has expired.",
        TransferOffer.State.CANCELLED: "This transfer offer was cancelled.",
    }[offer.state])  # fmt: skip


def _unlink_ims(session: ChatSession) -> None:
    """The transfer is settled: later IM lines are no longer about this session."""
    ImSession.objects.filter(about_session=session).update(about_session=None)
