"""How busy a librarian is: their status, their load, and the one rule for both.

A librarian sets Available, Busy or Away (``Librarian.status``). Each holds
at most ``Librarian.max_sessions`` active chats, or, when that is empty, the
``busy_at`` of the queue a request comes from. A librarian who can **take
a chat** in a queue is available and below their maximum there: only they
get the New Patron Request popup (the console decides, from its snapshot),
are offered transfers, and count for the public status. At their maximum
they are shown as Busy and a pick-up is refused, whichever process or
console it comes from: the pick-up counts under a lock of the librarian's
row (:func:`load_refusal`).
"""

from dataclasses import dataclass

from django.db import transaction

from accounts.models import Librarian
from chat.models import ChatSession
from chat.roster import librarian_updated, shown_status, with_active_count
from core.errors import ChatError
from core.events import publish
from core.groups import librarian_group
from queues.models import Queue

AVAILABLE = Librarian.Status.AVAILABLE
BUSY = Librarian.Status.BUSY
AWAY = Librarian.Status.AWAY


def chats(count: int) -> str:
    return f"{count} chat" if count == 1 else f"{count} chats"


def session_limit(max_sessions: int | None, busy_at: int) -> int:
    """The most active chats a librarian holds in a queue of this ``busy_at``."""
    return max_sessions or busy_at


@dataclass(frozen=True)
class Load:
    status: str  # as set: available | busy | away
    active: int  # active chats held, in any queue
    limit: int  # the maximum, where it is asked about

    @classmethod
    def in_queue(cls, librarian: Librarian, queue: Queue) -> "Load":
        """A librarian read with ``chat.roster.with_active_count``, against
        their maximum in ``queue``."""
        return cls(
            status=librarian.status,
            active=librarian.active_count,  # type: ignore[attr-defined]
            limit=session_limit(librarian.max_sessions, queue.busy_at),
        )

    @property
    def shown(self) -> str:
        """The status colleagues see: Busy at the maximum, whatever was set."""
        return shown_status(self.status, self.active, self.limit)

    @property
    def can_take(self) -> bool:
        return self.status == AVAILABLE and self.active < self.limit

    def reason(self, name: str) -> str | None:
        """Why a transfer can't be offered to them (None: it can)."""
        if self.status == AWAY:
            return f"{name} is away."
        if self.active >= self.limit:
            return f"{name} is at their maximum of {chats(self.limit)}."
        if self.status == BUSY:
            return f"{name} is busy."
        return None


def active_count(librarian_id: int) -> int:
    return ChatSession.objects.filter(
        primary_id=librarian_id, state=ChatSession.State.ACTIVE
    ).count()


def load_refusal(librarian: Librarian, queue: Queue) -> ChatError | None:
    """Why the librarian may not take one more chat of ``queue`` now (None: they may).

    Call inside the transaction that takes it: the librarian's row is locked
    first (PostgreSQL; SQLite's writers are one at a time anyway), so two
    pick-ups of theirs at once, on two consoles, count each other.
    """
    max_sessions = (
        Librarian.objects.select_for_update()
        .values_list("max_sessions", flat=True)
        .get(pk=librarian.pk)
    )
    limit = session_limit(max_sessions, queue.busy_at)
    if active_count(librarian.pk) >= limit:
        return ChatError(
            "at_maximum",
            f"You are at your maximum of {chats(limit)}: end one before you pick up another.",
        )
    return None


def load_of(librarian: Librarian, queue: Queue) -> Load:
    """The librarian's status and load, read now, against their maximum in ``queue``."""
    return Load.in_queue(with_active_count(Librarian.objects.filter(pk=librarian.pk)).get(), queue)


def librarian_status_set(*, librarian: Librarian, status: object) -> Librarian:
    """The librarian sets Available, Busy or Away in the console.

    Changes: ``status``. Publishes ``status.changed`` to every console of
    theirs and ``librarian.updated`` to the consoles that list them.
    """
    if status not in Librarian.Status.values:
        raise ChatError("invalid_status", 'The status is one of "available", "busy" or "away".')
    with transaction.atomic():
        Librarian.objects.filter(pk=librarian.pk).update(status=status)
        librarian.status = str(status)
        publish({"type": "status.changed", "status": status}, librarian_group(librarian.pk))
        librarian_updated(librarian.pk)
    return librarian
