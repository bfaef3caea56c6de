"""The life of a chat session: waiting → active → closed.

Every change of a session's state, primary librarian and closing fields goes
through a function here or in :mod:`chat.transfers`. Each decides races in
the database (a conditional UPDATE that matches one row or none), changes
the rows inside one transaction and publishes its events after commit. A
move that is not allowed raises :class:`~core.errors.ChatError`.
"""

import logging
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import Librarian, Library
from chat import load, routing, steps, team
from chat.lines import line_store, line_validate, patron_line, system_line
from chat.models import ChatSession, Hold
from chat.payloads import session_detail, transcript_offered
from chat.roster import librarian_updated
from chat.selectors import block_standing, session_for_librarian, session_lines
from chat.transfers import offers_withdraw
from core.errors import ChatError
from core.events import publish
from core.groups import librarian_group, patron_group, queue_group
from core.i18n import language_supported
from core.limits import limit_take
from core.text import text_clean, text_storable
from queues.hours import queue_hours
from queues.models import Queue

logger = logging.getLogger(__name__)

# The closing lines, in English here: each is stored translated into the
# session's language (the patron reads them, and the transcript has them).
PATRON_ENDED = gettext_noop("Patron ended chat session")
LIBRARIAN_ENDED = gettext_noop("Librarian ended chat session")
CONNECTION_LOST = gettext_noop("The patron's connection was lost: chat session ended")
LEFT_QUESTION = gettext_noop("Patron left a question to be answered by email: chat session ended")


def session_enqueue(
    *,
    queue: Queue,
    library: Library,
    patron_name: str,
    patron_email: str,
    question: object,
    address_hash: str = "",
    language: str = "",
) -> ChatSession:
    """A patron asks: a new waiting session whose first line is the question.

    Requires: an open queue that serves ``library``; an email if the queue
    requires one; no block standing on the patron's address (its keyed
    hash, ``core.clients.address_hash``). Changes: a new session (in the
    patron's ``language``, a supported code; else the default) and its
    line 1; when each group of the queue's members sees it (its tiers,
    :mod:`chat.routing`). Publishes ``session.created`` to the monitors its
    first tier names.
    """
    if address_hash and block_standing(address_hash=address_hash) is not None:
        # No details: not who, not why, not until when.
        raise ChatError(
            "blocked",
            _(
                "You can't start a new chat from this connection right now. "
                "Please contact the library another way."
            ),
        )
    if not queue.is_open:
        raise ChatError("queue_closed", _("This chat service is closed right now."))
    if library.pk not in {served.pk for served in queue_hours(queue).libraries}:
        raise ChatError("invalid_library", _("That library does not take questions here."))
    patron_name = " ".join(text_clean(patron_name).split())[:80]
    if not patron_name:
        raise ChatError("invalid_name", _("Please give a screen name."))
    patron_email = patron_email.strip()
    if queue.email_required and not patron_email:
        raise ChatError("email_required", _("This service needs your email address."))
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
            patron_address_hash=address_hash,
            language=language_supported(language) or settings.LANGUAGE_CODE,
            **routing.reach_values(queue),
        )
        # The times were the database's: read them back.
        session.refresh_from_db(fields=[*routing.REACH_FIELDS.values(), "announced_until"])
        line_store(patron_line(session=session, text=question, client_id=None))
        routing.request_publish(session, routing.first_groups(queue))
    logger.info("session %s enqueued in queue %s", session.pk, queue.pk)
    return session


def session_accept(*, session_id: object, librarian: Librarian) -> ChatSession:
    """A librarian picks up a waiting request and becomes its primary librarian.

    Requires: the librarian belongs to the session's queue, and the request
    has reached their tier by the database's clock (else ``not_yet``, "This
    request reaches you in N s"), and they are below their maximum of
    active chats (else ``at_maximum``: :mod:`chat.load`).
    Changes: state waiting → active, ``primary``, ``accepted_at``; a system line.
    Publishes ``session.accepted`` to the queue's monitors (it leaves every
    New list), to the patron, and with the whole session to the librarian's
    consoles. Two librarians at once: exactly one wins, the other gets
    ``already_taken`` naming who did.
    """
    session = session_for_librarian(session_id=session_id, librarian=librarian)
    group = routing.member_group(librarian, session)
    with transaction.atomic():
        # At their maximum: refused before anything changes (a request no
        # longer waiting says so instead).
        refusal = load.load_refusal(librarian, session.queue)
        if refusal is not None:
            if ChatSession.objects.filter(pk=session.pk, state=ChatSession.State.WAITING).exists():
                raise refusal
            raise _accept_refusal(session.pk, librarian)
        now = timezone.now()
        # The pick-up race is decided here: only one UPDATE can still match
        # state=waiting, and only once the librarian's tier is reached; the
        # loser matches no row and changes nothing.
        won = (
            ChatSession.objects.filter(pk=session.pk, state=ChatSession.State.WAITING)
            .filter(routing.reached(group))
            .update(
                state=ChatSession.State.ACTIVE,
                primary=librarian,
                accepted_at=now,
                first_accepted_at=Coalesce(F("first_accepted_at"), Value(now)),
                held_since=now,
            )
        )
        if not won:
            raise routing.not_yet_refusal(session.pk, group) or _accept_refusal(
                session.pk, librarian
            )
        session.refresh_from_db()
        if session.requeued_by_id:
            steps.note(
                session,
                f"{librarian.display_name} picked the session up from the queue.",
                librarian,
            )
        steps.join_announce(session, librarian)
        accepted = {
            "type": "session.accepted",
            "session": session.pk,
            "queue": session.queue_id,
            "librarian": {"id": librarian.pk, "display_name": librarian.display_name},
        }
        publish(accepted, queue_group(session.queue_id), patron_group(session.pk))
        detail = session_detail(session, session_lines(session))
        publish({**accepted, "detail": detail}, librarian_group(librarian.pk))
        librarian_updated(librarian.pk)
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
    return session_close(session=session, closed_by=ChatSession.ClosedBy.PATRON)


def session_end_by_librarian(*, session_id: object, librarian: Librarian) -> ChatSession:
    """The primary librarian clicks End Session.

    Requires: the librarian is the session's primary and it is active.
    Publishes ``session.closed``; emails the transcript if an address is known.
    """
    session = session_for_librarian(session_id=session_id, librarian=librarian)
    return session_close(
        session=session, closed_by=ChatSession.ClosedBy.LIBRARIAN, librarian=librarian
    )


def session_close(
    *,
    session: ChatSession,
    closed_by: str,
    librarian: Librarian | None = None,
    gone_before: datetime | None = None,
    transcript: bool = True,
    left_question: bool = False,
) -> ChatSession:
    """Close a waiting or active session: the one way any session ends.

    ``closed_by`` says who (patron, librarian, or the system for a patron
    lost past the grace period); with ``librarian``, only if they hold it;
    for the system, only if the patron is still away and has been since
    ``gone_before``. Changes: state, ``closed_at``, ``closed_by``; the
    closing line; the session's open transfer offers are withdrawn.
    Publishes ``session.closed`` to the patron, the queue's monitors and the
    librarian; the transcript is due if an address is known (the worker
    emails it), unless ``transcript`` is false (a blocked patron's).
    With ``left_question`` (the patron left their question for an answer by
    email, ``questions.services.question_leave``): only while still waiting,
    with its own closing line and no transcript (the question's emails say it all).
    """
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
    if left_question:
        # A librarian who picked the request up a moment ago wins: the
        # patron finds them in the chat instead.
        rows = rows.filter(state=ChatSession.State.WAITING)
        transcript = False
    now = timezone.now()
    with transaction.atomic():
        # Closing twice (a double click, both sides at once) matches no row the
        # second time: exactly one closing line is ever written. A known
        # address makes the transcript due: the worker sends it
        # (transcripts/delivery.py), never this call.
        if not rows.update(
            state=ChatSession.State.CLOSED,
            closed_at=now,
            closed_by=closed_by,
            # Only an open session can be blocked from: its address goes now.
            patron_address_hash="",
            transcript_due_at=(
                Case(When(~Q(patron_email=""), then=Value(now)), default=None)
                if transcript
                else None
            ),
        ):
            raise steps.close_refusal(session.pk)
        was_waiting = session.state == ChatSession.State.WAITING
        session.refresh_from_db()
        closing = (
            LEFT_QUESTION
            if left_question
            else {
                ChatSession.ClosedBy.PATRON: PATRON_ENDED,
                ChatSession.ClosedBy.LIBRARIAN: LIBRARIAN_ENDED,
                ChatSession.ClosedBy.SYSTEM: CONNECTION_LOST,
            }[ChatSession.ClosedBy(closed_by)]
        )
        with translation.override(session.language):
            line_store(system_line(session, _(closing)))
        closed = {
            "type": "session.closed",
            "session": session.pk,
            "queue": session.queue_id,
            "closed_by": closed_by,
            # The transcript is on its way; or else the page may offer to email it.
            "has_email": bool(session.patron_email) and transcript,
            "transcript_offered": transcript_offered(session) and transcript,
            # The patron left the question for an answer by email (questions/).
            **({"left_question": True} if left_question else {}),
        }
        groups = [patron_group(session.pk), queue_group(session.queue_id)]
        if session.primary_id:
            groups.append(librarian_group(session.primary_id))
            # Only an active session has a primary: their hold ends with it.
            steps.hold_end(session, session.primary_id, Hold.End.CLOSED)
        # Everyone else in it too (chat/team.py): their panes show it ended.
        groups += [librarian_group(pk) for pk in team.team_end(session, closed=True)]
        publish(closed, *groups)
        offers_withdraw(session)
        if session.primary_id:
            librarian_updated(session.primary_id)
    logger.info(
        "session %s closed by %s (was %s)",
        session.pk,
        closed_by,
        "waiting" if was_waiting else "active",
    )
    return session


def session_transcript_request(
    *, session: ChatSession, email: str, address_hash: str = ""
) -> ChatSession:
    """A patron who gave no address when asking asks for the transcript at the end.

    The form must not relay mail: it sends only the transcript of a chat a
    librarian answered (never a question nobody read, which is all the
    sender's own words), once per session, at most
    ``TRANSCRIPT_LIMIT_PER_HOUR`` per client address, and never for a
    session that ended with a block.
    Requires: the session is closed, was answered and not blocked; no
    address was given when asking or since. Changes: ``patron_email``; the
    transcript is due (the worker emails it).
    """
    email = email.strip()
    _email_validate(email)
    with transaction.atomic():
        # One UPDATE decides: a second request (another tab, a retry, a new
        # address after the first) matches no row, since the address is set.
        rows = ChatSession.objects.filter(
            pk=session.pk,
            state=ChatSession.State.CLOSED,
            accepted_at__isnull=False,
            blocked_at__isnull=True,
            patron_email="",
            transcript_sent_at__isnull=True,
            transcript_due_at__isnull=True,
        )
        if not rows.exists():
            raise _transcript_refusal(session.pk)
        if not limit_take(
            scope="transcript",
            key=address_hash or f"session-{session.pk}",
            limit=settings.TRANSCRIPT_LIMIT_PER_HOUR,
            window=3600,
        ):
            raise ChatError(
                "too_many_transcripts",
                _(
                    "Too many transcripts were asked for from this connection. "
                    "Please try again in an hour."
                ),
            )
        if not rows.update(patron_email=email, transcript_due_at=timezone.now()):
            raise _transcript_refusal(session.pk)
    logger.info("transcript of session %s asked for", session.pk)
    session.refresh_from_db()
    return session


def _transcript_refusal(session_id: int) -> ChatError:
    # The session as stored: the caller's object may predate the close (the
    # patron's socket loads it once, when the page opens).
    session = ChatSession.objects.get(pk=session_id)
    if session.state != ChatSession.State.CLOSED:
        return ChatError("session_open", _("The transcript is sent when the chat ends."))
    if session.patron_email or session.transcript_sent_at or session.transcript_due_at:
        return ChatError("transcript_sent", _("The transcript of this chat was already sent."))
    if session.blocked_at is not None:
        return ChatError("no_transcript", _("There is no transcript to email for this chat."))
    return ChatError(
        "no_transcript",
        _("No librarian answered this chat, so there is no transcript to email."),
    )


def _email_validate(email: str) -> None:
    # An address is refused, not cleaned: a changed address is someone else's.
    try:
        if not text_storable(email):
            raise ValidationError("unstorable")
        validate_email(email)
    except ValidationError:
        raise ChatError("invalid_email", _("That doesn't look like an email address.")) from None


def session_language_set(*, session: ChatSession, language: str) -> ChatSession:
    """The patron chose another language on the chat page.

    Requires: a supported language (anything else changes nothing). Changes:
    the session's ``language``, which its later system lines and its
    transcript email use (lines already stored stay as they were). Publishes
    nothing: only the patron's own page shows it.
    """
    language = language_supported(language) or ""
    if language and language != session.language:
        ChatSession.objects.filter(pk=session.pk).update(language=language)
        session.language = language
    return session


def librarian_sessions_end(*, librarian: Librarian) -> int:
    """End every session the librarian holds, as if they clicked End Session
    in each (closing line, transcript email): a patron is never left talking
    to nobody when their librarian logs off. Returns how many were ended."""
    ended = 0
    for session in ChatSession.objects.filter(primary=librarian, state=ChatSession.State.ACTIVE):
        try:
            session_close(
                session=session, closed_by=ChatSession.ClosedBy.LIBRARIAN, librarian=librarian
            )
        except ChatError:
            continue  # the patron ended it in the meantime
        ended += 1
    return ended
