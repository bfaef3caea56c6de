"""Transfers: the handshake that hands a patron session from one librarian to another.

The session stays with the sender until the receiver takes it (OK in the New
Transferred Chat Session box); a decline, a cancel or no answer in time
leaves it with the sender, who is told. Every step is a conditional UPDATE
on the offer (and, for OK, on the session), so a late OK, a double click, a
cancel racing an OK or a third person can change nothing. Each step writes a
Librarian Note, and each settled transfer moves the session's
``transfer_round`` on.
"""

import contextlib
import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accounts.models import Librarian
from chat import load, routing, steps, team
from chat.models import ChatSession, Hold, TransferOffer
from chat.payloads import message_payload, offer_payload, session_detail
from chat.roster import librarian_updated
from chat.selectors import session_for_librarian, session_lines
from core.errors import ChatError
from core.events import publish
from core.groups import librarian_group
from core.text import text_clean
from queues.models import Membership
from queues.selectors import monitors

logger = logging.getLogger(__name__)


def transfer_offer(
    *,
    session_id: object,
    sender: Librarian,
    receiver_id: object,
    note: str = "",
    join: bool = False,
) -> TransferOffer:
    """Offer the session to a colleague monitoring its queue, or with
    ``join`` invite them to join it (the sender keeps it: ``chat.team``).

    Requires: the sender is the primary of the active session; the receiver
    monitors the session's queue and can take a chat there (not away or
    busy, below their maximum: :mod:`chat.load`), and for ``join`` is not in
    the session yet; no other offer for the session is open.
    Changes: a new open offer (expiring after the queue's offer lifetime) and
    a Librarian Note. Publishes ``transfer.offered`` to both librarians.
    """
    session = _session_held_by(session_id, sender)
    try:
        receiver = Librarian.objects.get(pk=int(receiver_id))  # type: ignore[call-overload]
    except (Librarian.DoesNotExist, TypeError, ValueError):
        raise ChatError("not_found", "There is no such librarian.") from None
    if receiver.pk == sender.pk:
        raise ChatError("transfer_self", "You already have this session.")
    if not monitors(receiver.pk, session.queue_id):
        raise ChatError(
            "not_available",
            f"{receiver.display_name} is not monitoring {session.queue.name}: "
            "transfer to a librarian monitoring it, or to the queue.",
        )
    unavailable = load.load_of(receiver, session.queue).reason(receiver.display_name)
    if unavailable:
        raise ChatError(
            "receiver_unavailable",
            f"{unavailable} Transfer to another librarian, or to the queue.",
        )
    if join and receiver.pk in team.team_ids_of(session.pk):
        raise ChatError("already_in", f"{receiver.display_name} is already in this session.")
    note = _offer_note(note)
    now = timezone.now()
    kind = TransferOffer.Kind.JOIN if join else TransferOffer.Kind.TRANSFER
    try:
        with transaction.atomic():
            if not steps.session_lock(session.pk, held_by=sender):
                raise _held_refusal(session.pk)
            offer = TransferOffer.objects.create(
                session=session,
                sender=sender,
                receiver=receiver,
                kind=kind,
                note=note,
                expires_at=now + timedelta(seconds=session.queue.transfer_offer_seconds),
            )
            steps.note(
                session,
                ("Invitation to join sent to " if join else "Transfer request to ")
                + receiver.display_name
                + (f": {note}" if note else "."),
                sender,
            )
            publish(
                {"type": "transfer.offered", "offer": offer_payload(offer)},
                librarian_group(sender.pk),
                librarian_group(receiver.pk),
            )
    except IntegrityError:
        raise ChatError(
            "offer_open", "This session already has an open transfer offer: cancel it first."
        ) from None
    logger.info("session %s offered by %s to %s", session.pk, sender.pk, receiver.pk)
    return offer


def _offer_note(note: object) -> str:
    if not isinstance(note, str):
        raise ChatError("bad_frame", '"note" must be text.')
    note = " ".join(text_clean(note).split())
    if len(note) > 500:
        raise ChatError("invalid_line", "A transfer note can be at most 500 characters.")
    return note


def _session_held_by(session_id: object, librarian: Librarian) -> ChatSession:
    session = session_for_librarian(session_id=session_id, librarian=librarian)
    if session.state == ChatSession.State.CLOSED:
        raise ChatError("session_closed", "This chat session has ended.")
    if session.state != ChatSession.State.ACTIVE or session.primary_id != librarian.pk:
        raise ChatError(
            "not_primary", "Only the librarian chatting with this patron can transfer it."
        )
    return session


def transfer_accept(*, offer_id: object, librarian: Librarian) -> ChatSession:
    """The receiver clicks OK: they become the session's primary librarian
    (or, for an invitation to join, one more librarian in it: ``chat.team.join_accept``).

    Requires: the offer is open, for this librarian, not past its expiry, and
    the session is still active with the sender as primary.
    Changes: the offer (accepted), the session's ``primary``; a Librarian
    Note and, if the queue says so, the patron's "Alice has passed your
    question to Bob."
    Publishes ``transfer.accepted`` to both librarians (with the whole
    session for the receiver), ``session.accepted`` to the patron and
    ``session.team`` to everyone else in the session.
    """
    offer = _offer_for(offer_id, librarian)
    now = timezone.now()
    with transaction.atomic():
        steps.session_lock(offer.session_id)
        # Under the session's lock: a membership removed or an account
        # deactivated meanwhile withdrew the offer first, or waits for this.
        _receiver_check(librarian, offer.session)
        taken = TransferOffer.objects.filter(
            pk=offer.pk, receiver=librarian, state=TransferOffer.State.OPEN, expires_at__gt=now
        ).update(state=TransferOffer.State.ACCEPTED, resolved_at=now)
        if not taken:
            raise _offer_refusal(offer.pk, librarian)
        if offer.kind == TransferOffer.Kind.JOIN:
            session = team.join_accept(offer, librarian)
            round_settled(session.pk)
            return session
        moved = ChatSession.objects.filter(
            pk=offer.session_id, state=ChatSession.State.ACTIVE, primary_id=offer.sender_id
        ).update(primary=librarian, handback_offered_at=None)
        if not moved:
            # The patron left, or the session changed hands some other way:
            # raising rolls the offer back too, so nothing of this OK sticks.
            raise ChatError("session_closed", "The patron's session ended before you took it.")
        session = handed_over(
            offer,
            librarian,
            note_text=f"{librarian.display_name} accepted the transfer and took the session.",
        )
    logger.info("session %s transferred from %s to %s", session.pk, offer.sender_id, librarian.pk)
    return session


def handed_over(
    offer: TransferOffer,
    librarian: Librarian,
    *,
    note_text: str,
    how: str = Hold.End.TRANSFERRED,
) -> ChatSession:
    """The session is the receiver's now (its primary moved, under its lock):
    note it, tell the patron, settle the round, tell both librarians and
    everyone else in the session."""
    session = ChatSession.objects.select_related("queue", "library", "primary").get(
        pk=offer.session_id
    )
    offer.refresh_from_db()
    steps.hold_end(
        session,
        offer.sender_id,
        how,
        next_holder=librarian,
    )
    team.became_primary(session, librarian)
    taken_line = steps.note(session, note_text, librarian)
    if librarian.library_id == session.library_id != offer.sender.library_id:
        steps.handback_announce(session, offer.sender, librarian)  # back home
    else:
        steps.handover_announce(session, offer.sender, librarian)
    round_settled(session.pk)
    publish(
        {"type": "transfer.accepted", "offer": offer_payload(offer),
         "line": message_payload(taken_line)},
        librarian_group(offer.sender_id),
    )  # fmt: skip
    detail = session_detail(session, session_lines(session))
    publish(
        {"type": "transfer.accepted", "offer": offer_payload(offer), "detail": detail},
        librarian_group(librarian.pk),
    )
    publish(
        {"type": "session.accepted", "session": session.pk, "queue": session.queue_id,
         "librarian": {"id": librarian.pk, "display_name": librarian.display_name}},
        session.patron_group(),
    )  # fmt: skip
    team.team_publish(session)
    librarian_updated(offer.sender_id)
    librarian_updated(librarian.pk)
    return session


def _receiver_check(librarian: Librarian, session: ChatSession) -> None:
    """The receiver may still take the session: an active account, a member of its queue."""
    if not Librarian.objects.filter(pk=librarian.pk, user__is_active=True).exists():
        raise ChatError("not_member", "Your account is no longer active.")
    if not Membership.objects.filter(librarian=librarian, queue_id=session.queue_id).exists():
        raise ChatError(
            "not_member",
            f"You are no longer a member of {session.queue.name}: you can't take this session.",
        )


def transfer_decline(*, offer_id: object, librarian: Librarian) -> TransferOffer:
    """The receiver declines. The sender keeps the session and is told.

    Publishes ``transfer.declined`` to both librarians.
    """
    offer = _offer_for(offer_id, librarian)
    if offer.receiver_id != librarian.pk:
        raise ChatError("not_yours", "This transfer offer is not for you.")
    return _offer_close(
        offer,
        TransferOffer.State.DECLINED,
        # Like OK, a Decline after the offer's time ran out is offer_expired.
        rows=TransferOffer.objects.filter(receiver=librarian, expires_at__gt=timezone.now()),
        note_text=f"{librarian.display_name} declined the {_what(offer, short=True)}.",
        author=librarian,
        refusal_for=librarian,
    )


def transfer_cancel(*, offer_id: object, librarian: Librarian) -> TransferOffer:
    """The sender withdraws an open offer. Publishes ``transfer.cancelled`` to both."""
    offer = _offer_for(offer_id, librarian)
    if offer.sender_id != librarian.pk:
        raise ChatError("not_yours", "Only the librarian who offered the session can cancel it.")
    return _offer_close(
        offer,
        TransferOffer.State.CANCELLED,
        rows=TransferOffer.objects.filter(sender=librarian),
        note_text=f"{librarian.display_name} cancelled the {_what(offer)}.",
        author=librarian,
        refusal_for=librarian,
        reason=f"{librarian.display_name} cancelled it.",
    )


def transfer_expire_due(*, now: datetime | None = None) -> list[int]:
    """Expire every open offer past its time; each sender keeps the session and is told.

    Run by every process's sweep; the conditional update lets one act per offer.
    Publishes ``transfer.expired`` to both librarians. Returns the offer ids.
    """
    now = now or timezone.now()
    expired = []
    due = TransferOffer.objects.filter(state=TransferOffer.State.OPEN, expires_at__lte=now)
    for offer in due.select_related("sender", "receiver", "session"):
        try:
            _offer_close(
                offer,
                TransferOffer.State.EXPIRED,
                rows=TransferOffer.objects.filter(expires_at__lte=now),
                note_text=f"The {_what(offer)} to {offer.receiver.display_name} expired without "
                "an answer.",
            )
        except ChatError:
            continue  # accepted, declined or cancelled at the last moment
        expired.append(offer.pk)
    return expired


def transfer_to_queue(*, session_id: object, sender: Librarian, note: str = "") -> ChatSession:
    """Return the session to its queue: it waits under New again, marked "(Transfer)".

    Requires: the sender is the primary of the active session and no offer is open.
    Changes: state active → waiting, no primary, ``waiting_since``, the
    sender's note; a Librarian Note and, if the queue says so, the patron's
    "Alice has passed your question to the next available librarian."
    Publishes ``session.requeued`` to the sender's consoles and (without
    the note) to the patron, and ``session.created`` (the marked row) to
    the queue's monitors.
    """
    session = _session_held_by(session_id, sender)
    note = _offer_note(note)
    now = timezone.now()
    with transaction.atomic():
        if not steps.session_lock(session.pk, held_by=sender):
            raise _held_refusal(session.pk)
        if TransferOffer.objects.filter(session=session, state=TransferOffer.State.OPEN).exists():
            raise ChatError(
                "offer_open", "This session already has an open transfer offer: cancel it first."
            )
        if not ChatSession.objects.filter(
            pk=session.pk, state=ChatSession.State.ACTIVE, primary=sender
        ).update(
            state=ChatSession.State.WAITING,
            primary=None,
            waiting_since=now,
            requeued_by=sender,
            requeue_note=note,
            # Its patron has waited already: every tier sees it at once.
            **routing.reach_values(session.queue, at_once=True),
        ):
            raise steps.close_refusal(session.pk)
        session.refresh_from_db()
        steps.hold_end(session, sender.pk, Hold.End.REQUEUED)
        team.team_end(session, closed=False)
        steps.note(
            session,
            f"{sender.display_name} returned the session to {session.queue.name}"
            + (f": {note}" if note else "."),
            sender,
        )
        steps.requeue_announce(session, sender)
        round_settled(session.pk)
        publish(
            {"type": "session.requeued", "session": session.pk, "queue": session.queue_id},
            librarian_group(sender.pk),
        )
        publish({"type": "session.requeued"}, session.patron_group())
        routing.request_publish(session, routing.first_groups(session.queue, at_once=True))
        librarian_updated(sender.pk)
    logger.info("session %s returned to queue %s by %s", session.pk, session.queue_id, sender.pk)
    return session


def _offer_for(offer_id: object, librarian: Librarian) -> TransferOffer:
    """An offer the librarian sent or received; ``not_found`` for anyone else."""
    try:
        return TransferOffer.objects.select_related("sender", "receiver", "session").get(
            Q(sender=librarian) | Q(receiver=librarian),
            pk=int(offer_id),  # type: ignore[call-overload]
        )
    except (TransferOffer.DoesNotExist, TypeError, ValueError):
        raise ChatError("not_found", "There is no such transfer offer of yours.") from None


def _offer_close(
    offer: TransferOffer,
    state: str,
    *,
    rows: "QuerySet[TransferOffer]",
    note_text: str,
    author: Librarian | None = None,
    refusal_for: Librarian | None = None,
    reason: str = "",
) -> TransferOffer:
    """End an open offer without a transfer: record it, note it, tell both librarians."""
    with transaction.atomic():
        steps.session_lock(offer.session_id)
        if not rows.filter(pk=offer.pk, state=TransferOffer.State.OPEN).update(
            state=state, resolved_at=timezone.now()
        ):
            raise _offer_refusal(offer.pk, refusal_for)
        offer.refresh_from_db()
        steps.note(offer.session, note_text, author)
        round_settled(offer.session_id)
        event = {"type": f"transfer.{state}", "offer": offer_payload(offer)}
        if reason:
            event["reason"] = reason
        publish(event, librarian_group(offer.sender_id), librarian_group(offer.receiver_id))
    return offer


def _what(offer: TransferOffer, *, short: bool = False) -> str:
    """What the Librarian Notes call the offer."""
    if offer.kind == TransferOffer.Kind.JOIN:
        return "invitation to join"
    return "transfer" if short else "transfer request"


def _held_refusal(session_id: int) -> ChatError:
    state = ChatSession.objects.values_list("state", flat=True).get(pk=session_id)
    if state == ChatSession.State.CLOSED:
        return ChatError("session_closed", "This chat session has ended.")
    return ChatError("not_primary", "Only the librarian chatting with this patron can transfer it.")


def _offer_refusal(offer_id: int, librarian: Librarian | None) -> ChatError:
    offer = TransferOffer.objects.select_related("sender", "receiver", "session").get(pk=offer_id)
    if librarian is not None and librarian.pk not in (offer.sender_id, offer.receiver_id):
        return ChatError("not_found", "There is no such transfer offer of yours.")
    if (
        offer.state == TransferOffer.State.CANCELLED
        and offer.session.state == ChatSession.State.CLOSED
        and librarian is not None
        and librarian.pk == offer.receiver_id
    ):
        # Withdrawn because the session ended: that is what the receiver needs to hear.
        return ChatError("session_closed", "The patron's session ended before you took it.")
    if offer.state == TransferOffer.State.OPEN:
        if librarian is not None and offer.receiver_id != librarian.pk:
            return ChatError("not_yours", "This transfer offer is not for you.")
        return ChatError("offer_expired", "This transfer offer has expired.")
    return ChatError(f"offer_{offer.state}", {
        TransferOffer.State.ACCEPTED: f"{offer.receiver.display_name} already took this session.",
        TransferOffer.State.DECLINED: f"{offer.receiver.display_name} declined this transfer.",
        TransferOffer.State.EXPIRED: "This transfer offer has expired.",
        TransferOffer.State.CANCELLED: "This transfer offer was cancelled.",
    }[TransferOffer.State(offer.state)])  # fmt: skip


def offers_withdraw(session: ChatSession, *, why: str = "the session ended") -> None:
    """The session ended (or went back to its queue): each of its open offers
    is withdrawn. The caller holds the session's row lock (in the transaction
    that closed it)."""
    open_offers = TransferOffer.objects.filter(session=session, state=TransferOffer.State.OPEN)
    for offer in open_offers.select_related("sender", "receiver", "session"):
        offer_withdraw(offer, why=why)


def offer_withdraw(offer: TransferOffer, *, why: str) -> None:
    """An open offer is cancelled by no one's click (``why`` says what
    happened), noted, and both librarians hear ``transfer.cancelled`` with
    the reason. Nothing happens to an offer answered meanwhile."""
    # An offer answered, expired or withdrawn at the same moment stays as it is.
    with contextlib.suppress(ChatError):
        _offer_close(
            offer,
            TransferOffer.State.CANCELLED,
            rows=TransferOffer.objects.all(),
            note_text=f"The {_what(offer)} to {offer.receiver.display_name} was withdrawn: {why}.",
            reason=f"{why[:1].upper()}{why[1:]}.",
        )


def round_settled(session_id: int) -> None:
    """A transfer of the session was settled: its round moves on."""
    ChatSession.objects.filter(pk=session_id).update(transfer_round=F("transfer_round") + 1)
