"""What a console's snapshot looks like on the wire (docs/protocol.md)."""

from collections.abc import Iterable
from typing import Any

from accounts.models import Librarian
from accounts.payloads import librarian_ref, librarian_settings_payload
from chat import routing
from chat.models import ChatSession, TransferOffer
from chat.payloads import offer_payload, session_detail, session_row
from chat.roster import librarian_row
from queues.models import Membership


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
    can_watch: bool = False,
) -> dict[str, Any]:
    return {
        "type": "console.snapshot",
        "server_time": server_time,
        "me": librarian_ref(librarian),
        "settings": librarian_settings_payload(librarian),
        # Whether a new request alerts: Available and below the maximum,
        # their own or each queue's busy_at (chat/load.py).
        "status": librarian.status,
        "max_sessions": librarian.max_sessions,
        # A supervisor: the Live Sessions tab, watching and taking over (chat/team.py).
        "can_watch": can_watch,
        "queues": [
            {
                "id": m.queue_id,
                "name": m.queue.name,
                "monitoring": m.is_monitoring,
                "busy_at": m.queue.busy_at,
            }
            for m in memberships
        ],
        "waiting": [
            session_row(s, rolled_over=routing.rolled_over_for(s, librarian)) for s in waiting
        ],
        "active": [session_detail(s, s.messages.all()) for s in active],
        "librarians": [librarian_row(lib) for lib in librarians],
        "ims": ims,
        "offers": [offer_payload(o) for o in offers],
    }


def session_now(session: ChatSession) -> dict[str, Any]:
    """Where a session stands now: its state, who holds it, how it ended.
    Needs ``primary`` loaded."""
    return {
        "state": session.state,
        "primary": librarian_ref(session.primary) if session.primary else None,
        "closed_by": session.closed_by or None,
    }


def console_outcomes(
    *, offers: Iterable[TransferOffer], sessions: Iterable[ChatSession]
) -> dict[str, Any]:
    """What became of offers and requests a console showed and heard no end of."""
    return {
        "type": "console.outcomes",
        "offers": [{**offer_payload(o), "now": session_now(o.session)} for o in offers],
        "sessions": [
            {
                "id": s.pk,
                "patron_name": s.patron_name,
                "queue": {"id": s.queue_id, "name": s.queue.name},
                **session_now(s),
            }
            for s in sessions
        ],
    }
