"""Every change to wrap-ups and their lists.

A wrap-up belongs to a librarian who held the session (``chat.Hold``):
anyone else is refused. Codes and tags come only from the librarian's own
library's lists (set in the admin); anything else is refused by name. A
follow-up code's list entry is :mod:`questions.follow_ups`' (above this app).
"""

import logging
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import Librarian, Library
from chat.models import ChatSession, Hold
from core.errors import ChatError
from core.events import publish
from core.groups import librarian_group
from core.text import text_clean
from wrapup.models import COMMENT_MAX_CHARS, ResolutionCode, SubjectTag, Wrapup
from wrapup.read_scale import READ_LEVELS
from wrapup.receivers import DEFAULT_CODES
from wrapup.selectors import wrapups_due_count

logger = logging.getLogger(__name__)
MAX_TAGS = 10


def codes_default(*, library: Library) -> int:
    """Give a library with no resolution codes the five defaults; returns how many were made."""
    if ResolutionCode.objects.filter(library=library).exists():
        return 0
    ResolutionCode.objects.bulk_create(
        ResolutionCode(library=library, label=label, follow_up=follow_up, position=index)
        for index, (label, follow_up) in enumerate(DEFAULT_CODES)
    )
    return len(DEFAULT_CODES)


def _session_held(session_id: object, librarian: Librarian) -> ChatSession:
    """The session, if the librarian's hold of it has ended; else the refusal."""
    try:
        pk = int(str(session_id))
    except ValueError:
        raise ChatError("not_found", "There is no such chat session.") from None
    if not Hold.objects.filter(session_id=pk, librarian=librarian).exists():
        if ChatSession.objects.filter(pk=pk, primary=librarian, state="active").exists():
            raise ChatError("still_held", "Wrap this chat up when it has ended.")
        raise ChatError(
            "not_held", "You did not hold this chat session: only its librarian wraps it up."
        )
    return ChatSession.objects.get(pk=pk)


def _code(librarian: Librarian, code_id: object, current: Wrapup | None) -> ResolutionCode:
    if code_id in (None, ""):
        raise ChatError("invalid_code", "Choose a resolution.")
    codes = ResolutionCode.objects.filter(library_id=librarian.library_id)
    try:
        code = codes.get(pk=int(str(code_id)))
    except (ValueError, ResolutionCode.DoesNotExist):
        raise ChatError("invalid_code", "That resolution is not on your library's list.") from None
    # An inactive code stays only on the wrap-up that already has it.
    if not code.active and (current is None or current.resolution_id != code.pk):
        raise ChatError("invalid_code", f"The resolution {code.label} is no longer in use.")
    return code


def _tags(librarian: Librarian, names: Iterable[str]) -> list[SubjectTag]:
    wanted: dict[str, str] = {}
    for name in names:
        cleaned = " ".join(text_clean(str(name)).split())
        if cleaned:
            wanted.setdefault(cleaned.lower(), cleaned)
    if len(wanted) > MAX_TAGS:
        raise ChatError("invalid_tags", f"At most {MAX_TAGS} subject tags.")
    found = {
        tag.lowered: tag
        for tag in SubjectTag.objects.filter(library_id=librarian.library_id, active=True)
        .annotate(lowered=Lower("name"))
        .filter(lowered__in=list(wanted))
    }
    unknown = [wanted[key] for key in wanted if key not in found]
    if unknown:
        raise ChatError(
            "invalid_tags",
            f"Not on your library's list of subjects: {', '.join(unknown)}.",
        )
    return [found[key] for key in wanted]


def _read_level(value: object) -> int | None:
    if value in (None, ""):
        return None
    try:
        level = int(str(value))
    except ValueError:
        level = 0
    if level not in READ_LEVELS:
        raise ChatError("invalid_read_level", "The READ level is 1 to 6.")
    return level


def _comment(value: object) -> str:
    comment = text_clean(str(value or "")).replace("\r\n", "\n").strip()
    if len(comment) > COMMENT_MAX_CHARS:
        raise ChatError(
            "invalid_comment", f"The comment is at most {COMMENT_MAX_CHARS:,} characters."
        )
    return comment


def _changed(librarian: Librarian, wrapup: Wrapup) -> None:
    publish(
        {
            "type": "wrapup.changed",
            "session": wrapup.session_id,
            "state": wrapup.state,
            "due": wrapups_due_count(librarian=librarian),
        },
        librarian_group(librarian.pk),
    )


def _row(session: ChatSession, librarian: Librarian) -> Wrapup | None:
    return Wrapup.objects.select_for_update().filter(session=session, librarian=librarian).first()


def wrapup_save(
    *,
    session_id: object,
    librarian: Librarian,
    resolution: object,
    read_level: object = None,
    tags: Iterable[str] = (),
    comment: object = "",
) -> Wrapup:
    """Record (or correct) the librarian's wrap-up of a session they held.

    Requires: a ``Hold`` of theirs on it; ``resolution`` the id of an active
    code of their library; ``tags`` names on their library's subject list;
    ``read_level`` 1–6 or none; a comment of at most 2,000 characters.
    Changes: their ``Wrapup`` (done). Publishes ``wrapup.changed`` to them.
    """
    session = _session_held(session_id, librarian)
    before = Wrapup.objects.filter(session=session, librarian=librarian).first()
    code = _code(librarian, resolution, before)
    level = _read_level(read_level)
    chosen_tags = _tags(librarian, tags)
    text = _comment(comment)
    now = timezone.now()
    with transaction.atomic():
        wrapup = _row(session, librarian)
        if wrapup is None:
            wrapup = Wrapup(session=session, librarian=librarian)
        wrapup.state = Wrapup.State.DONE
        wrapup.resolution = code
        wrapup.read_level = level
        wrapup.comment = text
        wrapup.done_at = wrapup.done_at or now
        try:
            with transaction.atomic():
                wrapup.save()
        except IntegrityError:
            # Two saves at once (two tabs): the other made the row first; this one corrects it.
            wrapup = _row(session, librarian) or wrapup
            wrapup.state, wrapup.resolution, wrapup.read_level = Wrapup.State.DONE, code, level
            wrapup.comment, wrapup.done_at = text, wrapup.done_at or now
            wrapup.save()
        wrapup.tags.set(chosen_tags)
        _changed(librarian, wrapup)
    logger.info("session %s wrapped up by librarian %s", session.pk, librarian.pk)
    return wrapup


def wrapup_skip(*, session_id: object, librarian: Librarian) -> Wrapup:
    """Skip the wrap-up for now: counted, and the chat stays on the list to finish later.

    Requires: a ``Hold`` of theirs on it and no done wrap-up (that one stays).
    Changes: their ``Wrapup`` (skipped, ``skipped_at``). Publishes ``wrapup.changed``.
    """
    session = _session_held(session_id, librarian)
    with transaction.atomic():
        wrapup = _row(session, librarian)
        if wrapup is not None and wrapup.state == Wrapup.State.DONE:
            raise ChatError("already_done", "You have wrapped this chat up already.")
        if wrapup is None:
            wrapup, _ = Wrapup.objects.get_or_create(
                session=session,
                librarian=librarian,
                defaults={"state": Wrapup.State.SKIPPED, "skipped_at": timezone.now()},
            )
        _changed(librarian, wrapup)
    return wrapup
