"""What a line looks like on the wire.

Staff see every line numbered by ``seq``; a patron sees only patron-visible
lines, numbered by ``patron_seq``.
"""

from typing import Any

from transcripts.models import Message


def message_payload(message: Message) -> dict[str, Any]:
    return {
        "seq": message.seq,
        "kind": message.kind,
        "note": message.visibility == Message.Visibility.STAFF,
        "author": message.author_name,
        "text": message.text,
        "created_at": message.created_at.isoformat(),
        "client_id": message.client_id,
    }


def patron_message_payload(message: Message) -> dict[str, Any]:
    """A line as the patron receives it: numbered by ``patron_seq``, nothing staff-only."""
    if message.visibility != Message.Visibility.PATRON:
        raise ValueError("a Librarian Note has no patron payload")
    return {
        "seq": message.patron_seq,
        "kind": message.kind,
        "author": message.author_name,
        "text": message.text,
        "created_at": message.created_at.isoformat(),
        "client_id": message.client_id,
    }
