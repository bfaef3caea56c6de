"""Instant messages between librarians: open, say a line, read, end.

Every write here runs in one transaction and publishes after commit to the
consoles of both librarians (all their tabs). IM lines have no path to a
patron: they are published only to ``librarian.<id>`` groups.
"""

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accounts.models import Librarian
from queues.models import ChatSession, Membership
from queues.selectors import session_for_librarian, shares_a_monitored_queue
from reference_chat.errors import ChatError
from reference_chat.events import publish
from transcripts.models import ImMessage, ImSession, Message
from transcripts.services import line_store, line_validate

logger = logging.getLogger(__name__)


def _group(librarian_id: int) -> str:
    return f"librarian.{librarian_id}"


def _person(librarian: Librarian) -> dict[str, Any]:
    return {
        "id": librarian.pk,
        "display_name": librarian.display_name,
        "staff_id": librarian.staff_id,
    }


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
        "with": _person(other),
        "started_by_me": viewer_id == im.initiator_id,
        "created_at": im.created_at.isoformat(),
        "ended_at": im.ended_at.isoformat() if im.ended_at else None,
        "ended_by": _person(im.ended_by) if im.ended_by else None,
        "last_seq": im.last_seq,
        "read_seq": read,
    }
    if messages:
        payload["messages"] = [im_line_payload(m) for m in im.messages.order_by("seq")]
    return payload


def ims_of(librarian: Librarian) -> QuerySet[ImSession]:
    return ImSession.objects.filter(Q(initiator=librarian) | Q(recipient=librarian)).select_related(
        "initiator", "recipient", "ended_by"
    )


def im_for(*, im_id: object, librarian: Librarian) -> ImSession:
    """An IM session the librarian takes part in; ``not_found`` otherwise."""
    try:
        return ims_of(librarian).get(pk=int(im_id))  # type: ignore[call-overload]
    except (ImSession.DoesNotExist, TypeError, ValueError):
        raise ChatError("not_found", "There is no such IM session of yours.") from None


def open_ims_snapshot(librarian: Librarian) -> list[dict[str, Any]]:
    """My Active IM Sessions with their lines, for the console snapshot."""
    ims = (
        ims_of(librarian)
        .filter(ended_at__isnull=True)
        .prefetch_related("messages")
        .order_by("created_at")
    )
    return [
        {**im_payload(im, viewer_id=librarian.pk, messages=False),
         "messages": [im_line_payload(m) for m in im.messages.all()]}
        for im in ims
    ]  # fmt: skip


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
            ImSession.objects.filter(pk=existing.pk).update(about_session=about)
            existing.about_session = about
        return existing, False
    monitors_session_queue = (
        about is not None
        and Membership.objects.monitoring()
        .filter(librarian=recipient, queue_id=about.queue_id)
        .exists()
    )
    if not (monitors_session_queue or shares_a_monitored_queue(initiator, recipient.pk)):
        raise ChatError(
            "not_available",
            f"{recipient.display_name} is not monitoring any of your queues: "
            "you can IM the librarians in your Librarians list.",
        )
    try:
        with transaction.atomic():
            im = ImSession.objects.create(
                initiator=initiator, recipient=recipient, about_session=about
            )
            for viewer in (initiator, recipient):
                publish(
                    {"type": "im.opened", "im": im_payload(im, viewer_id=viewer.pk)},
                    _group(viewer.pk),
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
                _group(im.initiator_id),
                _group(im.recipient_id),
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
    """While a transfer is arranged, an IM line is also a Librarian Note of that session."""
    about_id = ImSession.objects.values_list("about_session_id", flat=True).get(pk=im_id)
    if about_id is None:
        return
    im = ImSession.objects.select_related("initiator", "recipient").get(pk=im_id)
    other = im.recipient if author.pk == im.initiator_id else im.initiator
    session = ChatSession.objects.get(pk=about_id)
    try:
        line_store(
            session=session,
            kind=Message.Kind.NOTE,
            text=f"IM to {other.display_name}: {text}"[:4000],
            author=author,
            author_name=author.display_name,
            states=(ChatSession.State.WAITING, ChatSession.State.ACTIVE),
        )
    except ChatError:
        # The patron session ended meanwhile: the IM goes on, unlinked.
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
            publish({"type": "im.read", "im": im.pk, "read_seq": read_seq}, _group(librarian.pk))


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
            {"type": "im.ended", "im": im.pk, "ended_by": _person(librarian)},
            _group(im.initiator_id),
            _group(im.recipient_id),
        )
    im.refresh_from_db()
    logger.info("IM %s ended by librarian %s", im.pk, librarian.pk)
    return im
