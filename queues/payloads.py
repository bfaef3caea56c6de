"""What sessions and consoles look like on the wire (docs/protocol.md)."""

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from accounts.models import Librarian
from accounts.services import librarian_settings_payload
from queues.models import ChatSession, Membership, TransferOffer
from transcripts.models import Message
from transcripts.payloads import message_payload

PREVIEW_CHARS = 160


def session_row(session: ChatSession) -> dict[str, Any]:
    """A row of the New and My Active lists. Needs ``queue`` and ``library`` loaded."""
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
        "primary": _librarian_ref(session.primary) if session.primary_id else None,
        "transfer": (
            {
                "from": session.requeued_by.display_name,
                "from_id": session.requeued_by_id,
                "note": session.requeue_note,
            }
            if session.requeued_by_id and session.state == ChatSession.State.WAITING
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
        "messages": [message_payload(m) for m in messages],
    }


def patron_session(session: ChatSession) -> dict[str, Any]:
    """The patron's own view of the session: nothing about staff beyond the librarian's name."""
    return {
        "state": session.state,
        "patron_name": session.patron_name,
        "queue": session.queue.name,
        "library": session.library.name,
        "librarian": session.primary.display_name if session.primary_id else None,
        "created_at": session.created_at.isoformat(),
        "closed_by": session.closed_by or None,
        "has_email": bool(session.patron_email),
        "transcript_sent": session.transcript_sent_at is not None,
        "last_seq": session.last_patron_seq,
    }


def console_snapshot(
    *,
    librarian: Librarian,
    memberships: Iterable[Membership],
    waiting: Iterable[ChatSession],
    active: Iterable[ChatSession],
    librarians: Iterable[Librarian],
    ims: list[dict[str, Any]],
    offers: Iterable[TransferOffer],
    server_time: str,
) -> dict[str, Any]:
    return {
        "type": "console.snapshot",
        "server_time": server_time,
        "me": _librarian_ref(librarian),
        "settings": librarian_settings_payload(librarian),
        "queues": [
            {"id": m.queue_id, "name": m.queue.name, "monitoring": m.is_monitoring}
            for m in memberships
        ],
        "waiting": [session_row(s) for s in waiting],
        "active": [session_detail(s, s.messages.all()) for s in active],
        "librarians": [librarian_row(lib) for lib in librarians],
        "ims": ims,
        "offers": [offer_payload(o) for o in offers],
    }


def librarian_row(librarian: Librarian) -> dict[str, Any]:
    """A row of the Librarians list. Needs ``selectors._with_shift_figures``."""
    monitored = [m.queue_id for m in librarian.monitored]  # type: ignore[attr-defined]
    return {
        **_librarian_ref(librarian),
        "queues": len(monitored),
        "monitoring": monitored,
        "active": librarian.active_count,  # type: ignore[attr-defined]
        "primary_queue": librarian.primary_queue.name if librarian.primary_queue else None,
        "library": librarian.library.name,
    }


def _librarian_ref(librarian: Librarian) -> dict[str, Any]:
    return {
        "id": librarian.pk,
        "display_name": librarian.display_name,
        "staff_id": librarian.staff_id,
    }


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
        "sender": _librarian_ref(offer.sender),
        "receiver": _librarian_ref(offer.receiver),
        "note": offer.note,
        "created_at": offer.created_at.isoformat(),
        "expires_at": offer.expires_at.isoformat(),
    }
