"""What a line looks like on the wire. Patron payloads come only from patron-visible lines."""

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
