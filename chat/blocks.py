"""A librarian blocks an abusive patron: the session ends, their address can't start another.

The address is kept only as its keyed hash (``core.clients.address_hash``,
recorded when the session was asked for) and only until the block expires
(``PATRON_BLOCK_HOURS``); a supervisor may lift it sooner in the admin.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from accounts.models import Librarian
from chat import steps
from chat.models import ChatSession, PatronBlock
from chat.selectors import session_for_librarian
from chat.sessions import session_close
from core.errors import ChatError

logger = logging.getLogger(__name__)

REASON_MAX_CHARS = 500


def patron_block(*, session_id: object, librarian: Librarian, reason: str) -> PatronBlock | None:
    """End the session and keep its patron's address from a new chat until the block expires.

    Requires: the librarian holds the session (primary, active); a reason.
    Changes: a :class:`PatronBlock` (none if the session's address was never
    recorded); a Librarian Note saying who blocked until when and why; the
    session closed as by End Session, with no transcript sent or offered.
    Publishes ``session.closed`` (the patron reads only "The librarian ended
    the chat.").
    """
    reason = " ".join(reason.split())
    if not reason:
        raise ChatError("invalid_reason", "Please say why you are blocking this patron.")
    if len(reason) > REASON_MAX_CHARS:
        raise ChatError(
            "invalid_reason", f"The reason can be at most {REASON_MAX_CHARS} characters."
        )
    session = session_for_librarian(session_id=session_id, librarian=librarian)
    until = timezone.now() + timedelta(hours=settings.PATRON_BLOCK_HOURS)
    with transaction.atomic():
        # Only the librarian holding the session may block from it: the
        # session's row decides, as End Session's own UPDATE does below.
        if not steps.session_lock(session.pk, held_by=librarian):
            raise steps.close_refusal(session.pk)
        block = None
        if session.patron_address_hash:
            block = PatronBlock.objects.create(
                address_hash=session.patron_address_hash,
                session=session,
                blocked_by=librarian,
                reason=reason,
                expires_at=until,
            )
        steps.note(
            session,
            f"{librarian.display_name} blocked this patron from new chats until "
            f"{timezone.localtime(until):%Y-%m-%d %H:%M}: {reason}",
            librarian,
        )
        ChatSession.objects.filter(pk=session.pk).update(blocked_at=timezone.now())
        session_close(
            session=session,
            closed_by=ChatSession.ClosedBy.LIBRARIAN,
            librarian=librarian,
            transcript=False,
        )
    logger.info("session %s ended with a block by librarian %s", session.pk, librarian.pk)
    return block


def patron_block_lift(*, block: PatronBlock, by: AbstractBaseUser) -> bool:
    """A supervisor lifts a block early (the admin). Returns whether it was standing."""
    lifted = PatronBlock.objects.filter(pk=block.pk, lifted_at__isnull=True).update(
        lifted_at=timezone.now(), lifted_by=by, address_hash=""
    )
    if lifted:
        logger.info("block %s lifted by user %s", block.pk, by.pk)
    return bool(lifted)


def patron_blocks_prune(*, now: datetime | None = None) -> int:
    """Blank the address hash of blocks that expired (the worker's schedule):
    a block keeps it only while it stands. Returns how many were blanked."""
    now = now or timezone.now()
    return (
        PatronBlock.objects.filter(expires_at__lte=now)
        .exclude(address_hash="")
        .update(address_hash="")
    )
