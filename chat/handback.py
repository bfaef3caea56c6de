"""Hand-back: a request answered by the cooperative or backup goes home when its library is back.

A session whose primary librarian is not of the patron's library (it rolled
over, ``chat/routing.py``) may be offered to a librarian of that library who
monitors its queue and can take a chat (``chat/load.py``), through the same
transfer handshake as any transfer (``chat/transfers.py``): the holder's
**Hand back** button, or, when the queue sets ``handback_after_seconds``,
the worker's automatic offer once the session has been held that long.
The patron is told in their words when it is taken
(``steps.handback_announce``).
"""

import logging
from datetime import timedelta

from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from accounts.models import Librarian
from chat.load import Load
from chat.models import ChatSession, TransferOffer
from chat.roster import with_active_count
from chat.selectors import session_for_librarian
from chat.transfers import transfer_offer
from core.errors import ChatError
from queues.models import Membership

logger = logging.getLogger(__name__)


def is_away_from_home(session: ChatSession) -> bool:
    """The session is held by a librarian of another library than the patron's."""
    return session.primary is not None and session.primary.library_id != session.library_id


def home_librarian_for(session: ChatSession) -> Librarian | None:
    """The librarian of the patron's library to hand the session back to: one
    monitoring its queue who can take a chat, the least loaded first."""
    monitoring = Membership.objects.monitoring().filter(
        librarian=OuterRef("pk"), queue_id=session.queue_id
    )
    candidates = with_active_count(
        Librarian.objects.filter(Exists(monitoring), library_id=session.library_id).exclude(
            pk__in=[session.primary_id] if session.primary_id else []
        )
    ).order_by("active_count", "display_name")
    return next((lib for lib in candidates if Load.in_queue(lib, session.queue).can_take), None)


def hand_back(*, session_id: object, sender: Librarian, automatic: bool = False) -> TransferOffer:
    """Offer the session to a librarian of the patron's own library.

    Requires: the sender holds the session and is not of the patron's
    library; someone of it monitors the queue and can take a chat. Changes
    and publishes what :func:`chat.transfers.transfer_offer` does, with a
    note that says it is a hand-back.
    """
    session = session_for_librarian(session_id=session_id, librarian=sender)
    if session.library_id == sender.library_id:
        raise ChatError("already_home", "This patron is of your own library already.")
    receiver = home_librarian_for(session)
    if receiver is None:
        raise ChatError(
            "no_home_librarian",
            f"Nobody of {session.library.name} who can take a chat monitors "
            f"{session.queue.name} now.",
        )
    return _offer_home(session, sender, receiver, automatic=automatic)


def _offer_home(
    session: ChatSession, sender: Librarian, receiver: Librarian, *, automatic: bool
) -> TransferOffer:
    why = "automatically, after a while" if automatic else "their library is back"
    note = f"Hand-back to {session.library.name} ({why})."
    return transfer_offer(session_id=session.pk, sender=sender, receiver_id=receiver.pk, note=note)


def handback_due() -> int:
    """The worker's automatic hand-back: each session held by another
    library's librarian past its queue's ``handback_after_seconds`` (0: never),
    with no offer open, is offered home once per holder (``handback_offered_at``
    claims it with a conditional UPDATE). Returns how many were offered."""
    now = timezone.now()
    offered = 0
    due = (
        ChatSession.objects.filter(
            state=ChatSession.State.ACTIVE,
            queue__handback_after_seconds__gt=0,
            handback_offered_at__isnull=True,
        )
        .exclude(primary__library_id=F("library_id"))
        .select_related("queue", "library", "primary")
    )
    for session in due:
        if session.accepted_at is None or session.primary is None:
            continue
        if session.accepted_at > now - timedelta(seconds=session.queue.handback_after_seconds):
            continue
        if TransferOffer.objects.filter(session=session, state=TransferOffer.State.OPEN).exists():
            continue
        receiver = home_librarian_for(session)
        if receiver is None:
            continue  # nobody home yet: looked at again next time
        if not ChatSession.objects.filter(
            pk=session.pk, primary=session.primary, handback_offered_at__isnull=True
        ).update(handback_offered_at=now):
            continue
        try:
            _offer_home(session, session.primary, receiver, automatic=True)
        except ChatError as refusal:
            logger.info("session %s not handed back: %s", session.pk, refusal.code)
            continue
        offered += 1
    return offered
