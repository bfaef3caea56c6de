"""What sessions, lines and transfer offers look like on the wire (docs/protocol.md).

Staff see every line numbered by ``seq``; a patron sees only patron-visible
lines, numbered by ``patron_seq``, and of the session only
:func:`patron_session`.
"""

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from accounts.payloads import librarian_ref
from chat.models import ChatSession, Message, Participant, TransferOffer

PREVIEW_CHARS = 160


def message_payload(message: Message) -> dict[str, Any]:
    payload = {
        "seq": message.seq,
        "kind": message.kind,
        "note": message.visibility == Message.Visibility.STAFF,
        "author": message.author_name,
        "text": message.text,
        "created_at": message.created_at.isoformat(),
        "client_id": message.client_id,
    }
    if message.url:
        payload["url"] = message.url  # a pushed page's address (chat/pages.py); its title is text
    return payload


def patron_message_payload(message: Message) -> dict[str, Any]:
    """A line as the patron receives it: numbered by ``patron_seq``, nothing staff-only."""
    if message.visibility != Message.Visibility.PATRON:
        raise ValueError("a Librarian Note has no patron payload")
    payload = {
        "seq": message.patron_seq,
        "kind": message.kind,
        "author": message.author_name,
        "text": message.text,
        "created_at": message.created_at.isoformat(),
        "client_id": message.client_id,
    }
    if message.url:
        payload["url"] = message.url  # a pushed page's address (chat/pages.py); its title is text
    return payload


def session_row(session: ChatSession, *, rolled_over: bool = False) -> dict[str, Any]:
    """A row of the New and My Active lists. Needs ``queue`` and ``library`` loaded.
    ``rolled_over``: the request reached the reader through a later tier
    than its first (chat/routing.py)."""
    question = " ".join(session.question.split())
    return {
        "id": session.pk,
        "state": session.state,
        "patron_name": session.patron_name,
        "patron_email": session.patron_email or None,
        "question_preview": question[:PREVIEW_CHARS]
        + ("…" if len(question) > PREVIEW_CHARS else ""),
        "queue": {"id": session.queue_id, "name": session.queue.name},
        "library": {"id": session.library_id, "name": session.library.name},
        "rolled_over": rolled_over,
        # After this many seconds of waiting New marks it "waiting too long" (null: never).
        "too_long_after": session.queue.waiting_alert_seconds or None,
        "created_at": session.created_at.isoformat(),
        "waiting_since": session.waiting_since.isoformat(),
        "patron_present": session.patron_present,
        # Until when a patron who is away may come back (null while present).
        "grace_until": (
            (
                session.patron_gone_since + timedelta(seconds=session.queue.patron_grace_seconds)
            ).isoformat()
            if session.patron_gone_since
            else None
        ),
        "primary": librarian_ref(session.primary) if session.primary else None,
        "transfer": (
            {
                "from": session.requeued_by.display_name,
                "from_id": session.requeued_by_id,
                "note": session.requeue_note,
            }
            if session.requeued_by is not None and session.state == ChatSession.State.WAITING
            else None
        ),
    }


def session_detail(session: ChatSession, messages: Iterable[Message]) -> dict[str, Any]:
    """Everything the Patron Chat pane shows: the row, the question, the policy and every line."""
    return {
        **session_row(session),
        "question": session.question,
        "policy": session.library.policy,
        "accepted_at": session.accepted_at.isoformat() if session.accepted_at else None,
        "closed_at": session.closed_at.isoformat() if session.closed_at else None,
        "closed_by": session.closed_by or None,
        "last_seq": session.last_seq,
        # Held by a librarian of another library than the patron's (it rolled
        # over): the holder may hand it back (chat/handback.py).
        "held_away": session.primary is not None
        and session.primary.library_id != session.library_id,
        # Who else is in it now: joined librarians, supervisors watching (chat/team.py).
        "team": team_payload(_participants(session)),
        "messages": [message_payload(m) for m in messages],
    }


def _participants(session: ChatSession) -> Iterable[Participant]:
    """The session's participations now: prefetched (a snapshot's), or one query."""
    if "participants" in getattr(session, "_prefetched_objects_cache", {}):
        return session.participants.all()
    return session.participants.filter(ended_at__isnull=True).select_related("librarian")


def team_payload(participants: Iterable[Participant]) -> list[dict[str, Any]]:
    """Who is in a session beside its primary now (``participants``: its rows,
    ended ones left out here), with their role and since when."""
    return [
        {**librarian_ref(p.librarian), "role": p.role, "since": p.started_at.isoformat()}
        for p in sorted(participants, key=lambda p: p.started_at)
        if p.ended_at is None
    ]


def patron_session(session: ChatSession) -> dict[str, Any]:
    """The patron's own view of the session: nothing about staff beyond the librarian's name."""
    return {
        "state": session.state,
        "patron_name": session.patron_name,
        "queue": session.queue.name,
        "library": session.library.name,
        "librarian": session.primary.display_name if session.primary else None,
        # Waiting again after a librarian passed the question back to the queue.
        "requeued": session.state == ChatSession.State.WAITING and session.accepted_at is not None,
        "created_at": session.created_at.isoformat(),
        "closed_by": session.closed_by or None,
        "has_email": bool(session.patron_email),
        "transcript_sent": session.transcript_sent_at is not None,
        "transcript_offered": transcript_offered(session),
        "last_seq": session.last_patron_seq,
    }


def transcript_offered(session: ChatSession) -> bool:
    """Whether the patron's page may offer to email the transcript of this
    ended session (:func:`session_transcript_request` would take it)."""
    return (
        session.state == ChatSession.State.CLOSED
        and session.accepted_at is not None
        and session.blocked_at is None
        and not session.patron_email
        and session.transcript_sent_at is None
    )


def offer_payload(offer: TransferOffer) -> dict[str, Any]:
    """A transfer offer as both librarians see it (the New Transferred Chat Session box)."""
    session = offer.session
    return {
        "id": offer.pk,
        "state": offer.state,
        "session": {
            "id": session.pk,
            "patron_name": session.patron_name,
            "question": session.question,
            "queue": {"id": session.queue_id, "name": session.queue.name},
            "library": {"id": session.library_id, "name": session.library.name},
        },
        "kind": offer.kind,
        "sender": librarian_ref(offer.sender),
        "receiver": librarian_ref(offer.receiver),
        "note": offer.note,
        "created_at": offer.created_at.isoformat(),
        "expires_at": offer.expires_at.isoformat(),
    }
