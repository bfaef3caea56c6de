"""Instant messages between librarians: open, say a line, read, end.

Every write here runs in one transaction and publishes after commit to the
consoles of both librarians (all their tabs). IM lines have no path to a
patron: they are published only to ``librarian.<id>`` groups.
"""

import logging

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Librarian
from accounts.payloads import librarian_ref
from chat.lines import line_store, line_validate, note_line
from chat.models import ChatSession
from chat.selectors import session_for_librarian
from core.errors import ChatError
from core.events import publish
from core.groups import librarian_group
from im.models import ImMessage, ImSession
from im.payloads import im_line_payload, im_payload
from im.selectors import im_for
from queues.selectors import monitors, shares_a_monitored_queue

logger = logging.getLogger(__name__)


def im_open(
    *, initiator: Librarian, recipient_id: object, about_session_id: object = None
) -> tuple[ImSession, bool]:
    """Open an IM session with a colleague, or return the one already open.

    Requires: the recipient is another librarian in the initiator's
    Librarians list (they monitor a queue in common), unless an IM session
    between the two is already open (then it is returned, ``False``).
    ``about_session_id`` (from the Transfer dialog) links the IM session to
    a patron session the initiator holds: until the transfer is settled its
    lines are copied there as Librarian Notes; the recipient may then be
    anyone monitoring that session's queue.
    Publishes ``im.opened`` to both librarians' consoles for a new session.
    """
    try:
        recipient = Librarian.objects.get(pk=int(recipient_id))  # type: ignore[call-overload]
    except (Librarian.DoesNotExist, TypeError, ValueError):
        raise ChatError("not_found", "There is no such librarian.") from None
    if recipient.pk == initiator.pk:
        raise ChatError("im_self", "You can't send an IM to yourself.")
    about = _session_about(about_session_id, initiator) if about_session_id is not None else None
    existing = _open_between(initiator.pk, recipient.pk)
    if existing:
        if about is not None:
            ImSession.objects.filter(pk=existing.pk).update(
                about_session=about, about_round=about.transfer_round
            )
            existing.about_session, existing.about_round = about, about.transfer_round
        return existing, False
    monitors_session_queue = about is not None and monitors(recipient.pk, about.queue_id)
    if not (monitors_session_queue or shares_a_monitored_queue(initiator, recipient.pk)):
        raise ChatError(
            "not_available",
            f"{recipient.display_name} is not monitoring any of your queues: "
            "you can IM the librarians in your Librarians list.",
        )
    try:
        with transaction.atomic():
            im = ImSession.objects.create(
                initiator=initiator,
                recipient=recipient,
                about_session=about,
                about_round=about.transfer_round if about is not None else 0,
            )
            for viewer in (initiator, recipient):
                publish(
                    {"type": "im.opened", "im": im_payload(im, viewer_id=viewer.pk)},
                    librarian_group(viewer.pk),
                )
    except IntegrityError:
        # Both opened an IM to each other at the same moment: theirs is ours.
        existing = _open_between(initiator.pk, recipient.pk)
        if existing is None:
            raise
        return existing, False
    logger.info("IM %s opened by librarian %s", im.pk, initiator.pk)
    return im, True


def _session_about(session_id: object, librarian: Librarian) -> ChatSession:
    session = session_for_librarian(session_id=session_id, librarian=librarian)
    if session.state != ChatSession.State.ACTIVE or session.primary_id != librarian.pk:
        raise ChatError(
            "not_primary", "Only the librarian chatting with this patron can transfer it."
        )
    return session


def _open_between(a: int, b: int) -> ImSession | None:
    pair = Q(initiator_id=a, recipient_id=b) | Q(initiator_id=b, recipient_id=a)
    return (
        ImSession.objects.filter(pair, ended_at__isnull=True)
        .select_related("initiator", "recipient", "ended_by")
        .first()
    )


def im_post(
    *, im_id: object, librarian: Librarian, text: object, client_id: str | None
) -> tuple[ImMessage, bool]:
    """Say a line in an open IM session.

    Requires: the librarian takes part and the session is open; the same
    empty and 4,000-character limits as patron chat. A retry with a stored
    ``client_id`` returns the stored line and ``False``.
    Publishes ``im.message.created`` to both librarians' consoles.
    """
    text = line_validate(text)
    im = im_for(im_id=im_id, librarian=librarian)
    if client_id:
        existing = ImMessage.objects.filter(im=im, client_id=client_id).first()
        if existing:
            return existing, False
    try:
        with transaction.atomic():
            # The open check and the sequence number are one conditional UPDATE:
            # a line can't slip in after the other side ended the session.
            if not ImSession.objects.filter(pk=im.pk, ended_at__isnull=True).update(
                last_seq=F("last_seq") + 1
            ):
                raise ChatError("im_ended", "This IM session has ended.")
            seq = ImSession.objects.values_list("last_seq", flat=True).get(pk=im.pk)
            message = ImMessage.objects.create(
                im=im,
                seq=seq,
                author=librarian,
                author_name=librarian.display_name,
                text=text,
                client_id=client_id or None,
            )
            # The writer has read everything up to their own line.
            _mark_read(im, librarian.pk, seq)
            _copy_to_session(im.pk, librarian, text)
            publish(
                {"type": "im.message.created", "im": im.pk, "message": im_line_payload(message)},
                librarian_group(im.initiator_id),
                librarian_group(im.recipient_id),
            )
    except IntegrityError:
        existing = (
            ImMessage.objects.filter(im=im, client_id=client_id).first() if client_id else None
        )
        if existing is None:
            raise
        return existing, False
    return message, True


def _copy_to_session(im_id: int, author: Librarian, text: str) -> None:
    """While a transfer is arranged, an IM line is also a Librarian Note of that session.

    Arranged means: the IM was linked to the session from the Transfer
    dialog and no transfer of it has been settled since (its
    ``transfer_round`` is the one the link recorded); the note is stored
    only while the session is open. Otherwise the IM goes on, unlinked.
    """
    im = ImSession.objects.select_related("initiator", "recipient").get(pk=im_id)
    if im.about_session_id is None:
        return
    session = ChatSession.objects.get(pk=im.about_session_id)
    if session.transfer_round == im.about_round:
        other = im.recipient if author.pk == im.initiator_id else im.initiator
        try:
            line_store(
                note_line(
                    session,
                    f"IM to {other.display_name}: {text}",
                    author,
                    states=(ChatSession.State.WAITING, ChatSession.State.ACTIVE),
                )
            )
            return
        except ChatError:
            pass  # the patron session ended meanwhile
    ImSession.objects.filter(pk=im_id).update(about_session=None)


def im_read(*, im_id: object, librarian: Librarian, seq: int) -> None:
    """The librarian has read the IM session up to ``seq``.

    Publishes ``im.read`` to the librarian's consoles (the unread count
    clears in every tab).
    """
    im = im_for(im_id=im_id, librarian=librarian)
    read_seq = min(seq, im.last_seq)
    with transaction.atomic():
        if _mark_read(im, librarian.pk, read_seq):
            publish(
                {"type": "im.read", "im": im.pk, "read_seq": read_seq},
                librarian_group(librarian.pk),
            )


def _mark_read(im: ImSession, librarian_id: int, seq: int) -> int:
    field = "initiator_read_seq" if librarian_id == im.initiator_id else "recipient_read_seq"
    # Only forward: a late "read up to 3" never undoes "read up to 5".
    return ImSession.objects.filter(pk=im.pk, **{f"{field}__lt": seq}).update(**{field: seq})


def im_end(*, im_id: object, librarian: Librarian) -> ImSession:
    """Either librarian ends the IM session.

    Publishes ``im.ended`` to both librarians' consoles; it leaves My Active
    IM Sessions on both sides. Ending twice is ``im_ended``.
    """
    im = im_for(im_id=im_id, librarian=librarian)
    with transaction.atomic():
        # Lock the row before reading the clock: a line being stored at this
        # moment holds the same row and commits first, so no line is ever
        # timed after the end (PostgreSQL; SQLite serialises the writes).
        ImSession.objects.select_for_update().values("pk").get(pk=im.pk)
        if not ImSession.objects.filter(pk=im.pk, ended_at__isnull=True).update(
            ended_at=timezone.now(), ended_by=librarian
        ):
            raise ChatError("im_ended", "This IM session has already ended.")
        publish(
            {"type": "im.ended", "im": im.pk, "ended_by": librarian_ref(librarian)},
            librarian_group(im.initiator_id),
            librarian_group(im.recipient_id),
        )
    im.refresh_from_db()
    logger.info("IM %s ended by librarian %s", im.pk, librarian.pk)
    return im
