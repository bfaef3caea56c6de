"""Small steps the services of a session share: its row lock, a Librarian
Note, the patron's lines about who has their question. Each runs inside the
caller's transaction."""

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Librarian
from chat.lines import line_store, note_line, system_line
from chat.models import ChatSession, Hold, Message
from core.errors import ChatError
from core.events import publish
from core.groups import librarian_group


def session_lock(session_id: int, *, held_by: Librarian | None = None) -> bool:
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


def note(session: ChatSession, text: str, author: Librarian | None = None) -> Message:
    """A Librarian Note in the session's Chat History."""
    message, _ = line_store(note_line(session, text, author))
    return message


def join_announce(session: ChatSession, librarian: Librarian) -> None:
    """The patron-visible line about who picked the request up (a queue may turn it off)."""
    with translation.override(session.language):
        announce(session, _("%(name)s has joined the chat.") % {"name": librarian.display_name})


def handover_announce(session: ChatSession, sender: Librarian, receiver: Librarian) -> None:
    """The patron-visible line of a transfer taken: who passed the question to
    whom, in the patron's words (never the offer's note, which is staff-only)."""
    with translation.override(session.language):
        text = _("%(sender)s has passed your question to %(receiver)s.") % {
            "sender": sender.display_name,
            "receiver": receiver.display_name,
        }
    announce(session, text)


def handback_announce(session: ChatSession, sender: Librarian, receiver: Librarian) -> None:
    """The patron-visible line of a hand-back taken: their own library has their question now."""
    with translation.override(session.language):
        text = _(
            "%(sender)s has passed your question to %(receiver)s, a librarian of your own "
            "library, %(library)s."
        ) % {
            "sender": sender.display_name,
            "receiver": receiver.display_name,
            "library": session.library.name,
        }
    announce(session, text)


def requeue_announce(session: ChatSession, sender: Librarian) -> None:
    """The patron-visible line of a session returned to its queue (never the sender's note)."""
    with translation.override(session.language):
        text = _("%(name)s has passed your question to the next available librarian.") % {
            "name": sender.display_name
        }
    announce(session, text)


def announce(session: ChatSession, text: str) -> None:
    # Written in the patron's language (the caller's override of it): the
    # stored line is what both sides read, now and in the transcript.
    # The queue's "tell the patron who joins" decides every line that names
    # who has the patron's question; the page's header says it either way.
    if session.queue.announce_join:
        line_store(system_line(session, text))


def close_refusal(session_id: int) -> ChatError:
    """Say why a close (or a return to the queue) matched no row."""
    state = ChatSession.objects.values_list("state", flat=True).get(pk=session_id)
    if state == ChatSession.State.CLOSED:
        return ChatError("session_closed", _("This chat session has already ended."))
    if state == ChatSession.State.WAITING:
        return ChatError("session_waiting", "Pick the request up before ending it.")
    return ChatError("not_primary", "Only the librarian chatting with this patron can end it.")


def hold_end(
    session: ChatSession, librarian_id: int, how: str, *, next_holder: Librarian | None = None
) -> Hold:
    """The librarian's hold of the session ended (``how``: a ``Hold.End``).

    Requires: the caller's transaction, after the move that ended it, with
    ``session.held_since`` still the start of that hold. Changes: the ``Hold``
    row; with ``next_holder`` (a transfer, a take-over), their hold starts now.
    Publishes ``hold.ended`` to the librarian: their console offers the wrap-up.
    """
    now = timezone.now()
    hold = Hold.objects.create(
        session=session,
        librarian_id=librarian_id,
        started_at=session.held_since,
        ended_at=now,
        ended_how=how,
    )
    if next_holder is not None:
        ChatSession.objects.filter(pk=session.pk).update(held_since=now)
        session.held_since = now
    publish(
        {
            "type": "hold.ended",
            "session": session.pk,
            "how": how,
            "patron_name": session.patron_name,
        },
        librarian_group(librarian_id),
    )
    return hold
