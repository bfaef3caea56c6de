"""The one owner of a chat session's life: waiting → active → closed.

Every change of a session's state, primary librarian, patron presence and of
a librarian's monitoring goes through a function here. Each decides races in
the database (a conditional UPDATE that matches one row or none), changes
the rows inside one transaction and publishes its events after commit.
A move that is not allowed raises :class:`~reference_chat.errors.ChatError`.
"""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from accounts.models import Librarian, Library
from queues.models import ChatSession, ConsolePresence, Membership, Queue
from queues.payloads import librarian_row, session_detail, session_row
from queues.selectors import librarian_on_shift, session_for_librarian
from reference_chat.errors import ChatError
from reference_chat.events import publish
from transcripts.email import transcript_send
from transcripts.models import Message
from transcripts.services import line_store, line_validate

logger = logging.getLogger(__name__)

PATRON_ENDED = "Patron ended chat session"
LIBRARIAN_ENDED = "Librarian ended chat session"


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
        line_store(
            session=session,
            kind=Message.Kind.SYSTEM,
            text=f"{librarian.display_name} has joined the chat.",
        )
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
    *, session: ChatSession, closed_by: str, librarian: Librarian | None = None
) -> ChatSession:
    rows = ChatSession.objects.filter(
        pk=session.pk, state__in=[ChatSession.State.WAITING, ChatSession.State.ACTIVE]
    )
    if librarian is not None:
        rows = rows.filter(primary=librarian, state=ChatSession.State.ACTIVE)
    with transaction.atomic():
        # Closing twice (a double click, both sides at once) matches no row the
        # second time: exactly one closing line is ever written.
        if not rows.update(
            state=ChatSession.State.CLOSED, closed_at=timezone.now(), closed_by=closed_by
        ):
            raise _close_refusal(session.pk)
        was_waiting = session.state == ChatSession.State.WAITING
        session.refresh_from_db()
        text = PATRON_ENDED if closed_by == ChatSession.ClosedBy.PATRON else LIBRARIAN_ENDED
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


def session_patron_connected(*, session: ChatSession) -> None:
    """A patron socket opened. Publishes ``patron.returned`` when the patron was gone."""
    _patron_sockets_change(session=session, delta=1)


def session_patron_disconnected(*, session: ChatSession) -> None:
    """A patron socket closed (window closed, network lost: not End Session).

    Publishes ``patron.left`` when it was the patron's last socket.
    """
    _patron_sockets_change(session=session, delta=-1)


def _patron_sockets_change(*, session: ChatSession, delta: int) -> None:
    with transaction.atomic():
        rows = ChatSession.objects.filter(pk=session.pk)
        if delta < 0:
            rows = rows.filter(patron_sockets__gt=0)
        if not rows.update(patron_sockets=F("patron_sockets") + delta):
            return
        state, sockets, primary_id, queue_id = ChatSession.objects.values_list(
            "state", "patron_sockets", "primary_id", "queue_id"
        ).get(pk=session.pk)
        if state == ChatSession.State.CLOSED:
            return
        became_present = delta > 0 and sockets == 1
        became_absent = delta < 0 and sockets == 0
        if not (became_present or became_absent):
            return
        event = {
            "type": "patron.returned" if became_present else "patron.left",
            "session": session.pk,
        }
        groups = [queue_group(queue_id)] if state == ChatSession.State.WAITING else []
        if primary_id:
            groups.append(librarian_group(primary_id))
        publish(event, *groups)


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
