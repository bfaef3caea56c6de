"""Instant messages between librarians: open, tie to a patron session, say a line, read, end.

Every write here runs in one transaction and publishes after commit to the
consoles of both librarians (all their tabs). IM lines have no path to a
patron: they are published only to ``librarian.<id>`` groups.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
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
from im.payloads import im_about_payload, im_line_payload, im_payload
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
    ``about_session_id`` (the session selected in My Active, or the one the
    Transfer dialog is about) ties the IM session to a patron session the
    initiator is chatting in (:func:`im_about_set`); the recipient may then
    be anyone monitoring that session's queue.
    Publishes ``im.opened`` to both librarians' consoles for a new session,
    ``im.about.changed`` for an open one tied to another session.
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
        if about is not None and existing.about_session_id != about.pk:
            with transaction.atomic():
                _tie(existing, about)
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
                initiator=initiator, recipient=recipient, about_session=about
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


def im_about_set(*, im_id: object, librarian: Librarian, session_id: object) -> ImSession:
    """Either librarian ties the open IM session to a patron session, or unties it (``None``).

    Requires: the librarian takes part, the IM session is open, and the patron
    session is one they are chatting in (active, they are its primary).
    Changes: ``about_session``: from the next line on, lines said here are
    also Librarian Notes of that session; untied, they stay private.
    Publishes ``im.about.changed`` to both librarians' consoles.
    """
    im = im_for(im_id=im_id, librarian=librarian)
    about = _session_about(session_id, librarian) if session_id is not None else None
    with transaction.atomic():
        if not _tie(im, about):
            raise ChatError("im_ended", "This IM session has ended.")
    return im


def _tie(im: ImSession, about: ChatSession | None) -> bool:
    """Tie (or untie) the IM session while it is open, in the caller's transaction,
    and say so to both. Returns whether it was still open."""
    if not ImSession.objects.filter(pk=im.pk, ended_at__isnull=True).update(about_session=about):
        return False
    im.about_session = about
    publish(
        {"type": "im.about.changed", "im": im.pk, "about": im_about_payload(about)},
        librarian_group(im.initiator_id),
        librarian_group(im.recipient_id),
    )
    return True


def _session_about(session_id: object, librarian: Librarian) -> ChatSession:
    session = session_for_librarian(session_id=session_id, librarian=librarian)
    if session.state != ChatSession.State.ACTIVE or session.primary_id != librarian.pk:
        raise ChatError(
            "not_primary",
            "An IM can be about a patron session you are chatting in, and this one is not.",
        )
    return session


def _open_between(a: int, b: int) -> ImSession | None:
    pair = Q(initiator_id=a, recipient_id=b) | Q(initiator_id=b, recipient_id=a)
    return (
        ImSession.objects.filter(pair, ended_at__isnull=True)
        .select_related("initiator", "recipient", "ended_by", "about_session")
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
                last_seq=F("last_seq") + 1, last_line_at=timezone.now()
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
                noted_in=_copy_to_session(im.pk, librarian, text),
            )
            # The writer has read everything up to their own line.
            _mark_read(im, librarian.pk, seq)
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


def _copy_to_session(im_id: int, author: Librarian, text: str) -> ChatSession | None:
    """A line of an IM session tied to a patron session is also a Librarian Note of it.

    Stored as it is said, in the same transaction, so the notes keep the IM's
    order among the session's own lines. A session that has closed takes no
    note: the IM is untied (``im.about.changed``) and the line stays private.
    Returns the session the note went to, or ``None``.
    """
    im = ImSession.objects.select_related("initiator", "recipient", "about_session").get(pk=im_id)
    session = im.about_session
    if session is None:
        return None
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
    except ChatError:
        _tie(im, None)  # the patron session ended meanwhile
        return None
    return session


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
    if not _end(im, by_id=librarian.pk, reason=ImSession.EndReason.ENDED):
        raise ChatError("im_ended", "This IM session has already ended.")
    im.refresh_from_db()
    logger.info("IM %s ended by librarian %s", im.pk, librarian.pk)
    return im


def ims_end_for(*, librarian_id: int, reason: str) -> list[int]:
    """The librarian logged off or left the shift: every open IM session of theirs ends.

    So the next IM between the same two people is a new IM session, with
    its New IM Request box. ``reason`` is ``logged_off`` or ``left_shift``.
    Publishes ``im.ended`` for each to both librarians' consoles. Returns their ids.
    """
    open_ims = ImSession.objects.filter(
        Q(initiator_id=librarian_id) | Q(recipient_id=librarian_id), ended_at__isnull=True
    ).order_by("pk")
    ended = [im.pk for im in open_ims if _end(im, by_id=librarian_id, reason=reason)]
    if ended:
        logger.info("IMs %s ended: librarian %s %s", ended, librarian_id, reason)
    return ended


def im_idle_sweep(*, now: datetime | None = None) -> list[int]:
    """End every open IM session with no line for ``IM_IDLE_MINUTES``. Returns their ids.

    Run by the worker's schedule; safe with several workers: each end is a
    conditional UPDATE that still requires the session open and idle, so a
    line said meanwhile keeps it open, and of two sweeps only one ends it.
    Publishes ``im.ended`` (``ended_by`` null, reason ``idle``) for each.
    """
    cutoff = (now or timezone.now()) - timedelta(minutes=settings.IM_IDLE_MINUTES)
    idle = ImSession.objects.filter(ended_at__isnull=True, last_line_at__lt=cutoff).order_by("pk")
    ended = [
        im.pk
        for im in idle
        if _end(im, by_id=None, reason=ImSession.EndReason.IDLE, idle_before=cutoff)
    ]
    if ended:
        logger.info("IMs %s ended: idle for %s minutes", ended, settings.IM_IDLE_MINUTES)
    return ended


def _end(
    im: ImSession, *, by_id: int | None, reason: str, idle_before: datetime | None = None
) -> bool:
    """End the IM session if it is still open (and still idle, for the sweep); say so to both."""
    with transaction.atomic():
        # Lock the row before reading the clock: a line being stored at this
        # moment holds the same row and commits first, so no line is ever
        # timed after the end (PostgreSQL; SQLite serialises the writes).
        ImSession.objects.select_for_update().values("pk").get(pk=im.pk)
        still = ImSession.objects.filter(pk=im.pk, ended_at__isnull=True)
        if idle_before is not None:
            still = still.filter(last_line_at__lt=idle_before)
        if not still.update(ended_at=timezone.now(), ended_by_id=by_id, end_reason=reason):
            return False
        ended_by = Librarian.objects.get(pk=by_id) if by_id is not None else None
        publish(
            {
                "type": "im.ended",
                "im": im.pk,
                "ended_by": librarian_ref(ended_by) if ended_by else None,
                "reason": str(reason),
                "idle_minutes": settings.IM_IDLE_MINUTES,
            },
            librarian_group(im.initiator_id),
            librarian_group(im.recipient_id),
        )
    return True
