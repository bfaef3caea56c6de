"""What IM sessions look like on the wire (docs/protocol.md)."""

from typing import Any

from accounts.payloads import librarian_ref
from im.models import ImMessage, ImSession


def im_line_payload(message: ImMessage) -> dict[str, Any]:
    return {
        "seq": message.seq,
        "author": message.author_name,
        "author_id": message.author_id,
        "text": message.text,
        "created_at": message.created_at.isoformat(),
        "client_id": message.client_id,
    }


def im_payload(im: ImSession, *, viewer_id: int, messages: bool = True) -> dict[str, Any]:
    """An IM session as one of its two librarians sees it. Needs both people loaded."""
    other = im.recipient if viewer_id == im.initiator_id else im.initiator
    read = im.initiator_read_seq if viewer_id == im.initiator_id else im.recipient_read_seq
    payload: dict[str, Any] = {
        "id": im.pk,
        "with": librarian_ref(other),
        "started_by_me": viewer_id == im.initiator_id,
        "created_at": im.created_at.isoformat(),
        "ended_at": im.ended_at.isoformat() if im.ended_at else None,
        "ended_by": librarian_ref(im.ended_by) if im.ended_by else None,
        "last_seq": im.last_seq,
        "read_seq": read,
    }
    if messages:
        payload["messages"] = [im_line_payload(m) for m in im.messages.order_by("seq")]
    return payload
