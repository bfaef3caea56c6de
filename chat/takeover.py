"""A supervisor's take-over of a live session: an accepted transfer to them, at once.

Beside :mod:`chat.transfers`, whose hand-over it shares; the watch it starts
from is :mod:`chat.team`'s.
"""

import logging

from django.db import transaction
from django.utils import timezone

from accounts.models import Librarian
from chat import steps, team
from chat.models import ChatSession, Hold, TransferOffer
from chat.transfers import handed_over, offers_withdraw
from core.errors import ChatError
from queues.models import Membership

logger = logging.getLogger(__name__)


def take_over(*, session_id: object, librarian: Librarian) -> ChatSession:
    """A supervisor takes a live session over: a transfer to them, at once.

    Requires: the watch permission and a membership of the session's queue
    (the line a primary writes is checked against it); an active session held
    by someone else. Changes: an accepted transfer offer from the primary to
    them, the session's primary; the primary's open offer is withdrawn; the
    Librarian Note and the patron's "Alice has passed your question to Sam."
    Publishes what an accepted transfer does (``transfer.accepted``).
    """
    if not team.can_watch(librarian):
        raise ChatError("not_allowed", "Only a supervisor can take over chat sessions.")
    session = team.watchable(session_id, librarian)
    if not Membership.objects.filter(librarian=librarian, queue_id=session.queue_id).exists():
        raise ChatError(
            "not_member",
            f"You are not a member of {session.queue.name}: a supervisor can take over only "
            "in queues they belong to.",
        )
    now = timezone.now()
    with transaction.atomic():
        steps.session_lock(session.pk)
        session.refresh_from_db()
        if session.state != ChatSession.State.ACTIVE:
            raise team.not_live(session)
        if session.primary_id == librarian.pk:
            raise ChatError("already_in", "You already have this session.")
        previous = session.primary
        assert previous is not None  # an active session has one  # noqa: S101
        offers_withdraw(session, why=f"{librarian.display_name} took the session over")
        if not ChatSession.objects.filter(
            pk=session.pk, state=ChatSession.State.ACTIVE, primary_id=previous.pk
        ).update(primary=librarian, handback_offered_at=None):
            raise ChatError("session_closed", "This chat session has ended.")
        offer = TransferOffer.objects.create(
            session=session,
            sender=previous,
            receiver=librarian,
            note="Taken over by a supervisor.",
            state=TransferOffer.State.ACCEPTED,
            expires_at=now,
            resolved_at=now,
        )
        handed_over(
            offer,
            librarian,
            note_text=f"{librarian.display_name} (supervisor) took the session over from "
            f"{previous.display_name}.",
            how=Hold.End.TAKEN_OVER,
        )
    logger.info("session %s taken over by %s from %s", session.pk, librarian.pk, previous.pk)
    return session
