"""What IM sessions look like on the wire (docs/protocol.md)."""

from typing import Any

from accounts.payloads import librarian_ref
from chat.models import ChatSession
from im.models import ImMessage, ImSession


def im_about_payload(session: ChatSession | None) -> dict[str, Any] | None:
    """The patron session an IM session is tied to (its lines become its Librarian Notes)."""
    if session is None:
        return None
    return {"id": session.pk, "patron_name": session.patron_name}


def im_line_payload(message: ImMessage) -> dict[str, Any]:
    return {
        "seq": message.seq,
        "author": message.author_name,
        "author_id": message.author_id,
        "text": message.text,
        "created_at": message.created_at.isoformat(),
        "client_id": message.client_id,
        # The patron session this line is also a Librarian Note of (null: private).
        "noted_in": message.noted_in_id,
    }


def im_payload(im: ImSession, *, viewer_id: int, messages: bool = True) -> dict[str, Any]:
    """An IM session as one of its two librarians sees it.

    Needs both people and ``about_session`` loaded.
    """
    other = im.recipient if viewer_id == im.initiator_id else im.initiator
    read = im.initiator_read_seq if viewer_id == im.initiator_id else im.recipient_read_seq
    payload: dict[str, Any] = {
        "id": im.pk,
        "with": librarian_ref(other),
        "started_by_me": viewer_id == im.initiator_id,
        "created_at": im.created_at.isoformat(),
        "ended_at": im.ended_at.isoformat() if im.ended_at else None,
        "ended_by": librarian_ref(im.ended_by) if im.ended_by else None,
        "end_reason": im.end_reason or None,
        "about": im_about_payload(im.about_session),
        "last_seq": im.last_seq,
        "read_seq": read,
    }
    if messages:
        payload["messages"] = [im_line_payload(m) for m in im.messages.order_by("seq")]
    return payload
