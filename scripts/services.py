"""Every change of a script: a librarian's own, from the console's Settings
(create, update, delete), and the check the admin's form makes of a
library's (``library_script_validate``).

A shortcut is taken once: among one librarian's scripts and among one
library's (unique constraints), and a personal shortcut may not repeat one
of the librarian's library's scripts. That last rule spans two kinds of row,
so each write that could break it holds the library's row first
(``select_for_update``): a librarian saving "/hours" and a supervisor saving
a library "/hours" at the same moment go one after the other, and the second
is refused. A race the constraints settle (two tabs saving the same personal
shortcut) is refused the same way.

Nothing is published: the reply box reads the scripts when its list opens.
"""

from typing import TypedDict

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Librarian, Library
from core.errors import ChatError
from scripts.models import Script
from scripts.rules import script_text_clean, shortcut_clean, title_clean
from scripts.selectors import NOT_YOURS


class ScriptFields(TypedDict):
    title: str
    text: str
    shortcut: str


def script_fields_clean(*, title: object, text: object, shortcut: object) -> ScriptFields:
    """The fields as stored, or the first refusal (``invalid_title``,
    ``invalid_text``, ``invalid_shortcut``)."""
    return {
        "title": title_clean(title),
        "text": script_text_clean(text),
        "shortcut": shortcut_clean(shortcut),
    }


def _library_hold(library_id: int) -> None:
    # The race named above: personal and library shortcuts of one library
    # are checked and written one writer at a time.
    list(Library.objects.select_for_update().filter(pk=library_id).values_list("pk"))


def _taken(shortcut: str, title: str, whose: str) -> ChatError:
    return ChatError(
        "shortcut_taken", f"The shortcut /{shortcut} is taken: {whose} “{title}” has it."
    )


def _personal_shortcut_free(*, librarian: Librarian, shortcut: str, script_id: int | None) -> None:
    if not shortcut:
        return
    mine = (
        Script.objects.filter(owner=librarian, shortcut=shortcut).exclude(pk=script_id or 0).first()
    )
    if mine is not None:
        raise _taken(shortcut, mine.title, "your script")
    library = Script.objects.filter(library_id=librarian.library_id, shortcut=shortcut).first()
    if library is not None:
        raise _taken(shortcut, library.title, "your library's script")


def _library_shortcut_free(*, library: Library, shortcut: str, script_id: int | None) -> None:
    if not shortcut:
        return
    others = Script.objects.filter(library=library, shortcut=shortcut)
    other = others.exclude(pk=script_id or 0).first()
    if other is not None:
        raise _taken(shortcut, other.title, "the library's script")
    personal = (
        Script.objects.filter(owner__library=library, shortcut=shortcut)
        .select_related("owner")
        .first()
    )
    if personal is not None and personal.owner is not None:
        raise _taken(shortcut, personal.title, f"{personal.owner.display_name}'s personal script")


def _shortcut_refused(fields: ScriptFields) -> ChatError:
    # A unique constraint caught what the check above could not see yet (two
    # saves of one librarian at the same moment).
    return ChatError(
        "shortcut_taken", f"The shortcut /{fields['shortcut']} is taken: pick another."
    )


def script_create(
    *, librarian: Librarian, title: object, text: object, shortcut: object = ""
) -> Script:
    """A librarian adds a personal script.

    Requires: a title (at most 100 characters), a text (not empty, at most
    4,000), a shortcut that is one word and free (not among the librarian's
    scripts nor their library's). Changes: a new personal script. Publishes
    nothing.
    """
    fields = script_fields_clean(title=title, text=text, shortcut=shortcut)
    with transaction.atomic():
        _library_hold(librarian.library_id)
        _personal_shortcut_free(librarian=librarian, shortcut=fields["shortcut"], script_id=None)
        try:
            with transaction.atomic():
                return Script.objects.create(owner=librarian, **fields)
        except IntegrityError:
            raise _shortcut_refused(fields) from None


def script_update(
    *, librarian: Librarian, script_id: int, title: object, text: object, shortcut: object = ""
) -> Script:
    """A librarian edits one of their personal scripts.

    Requires: the script is theirs (``not_found`` for another librarian's or
    a library's), and the fields as for :func:`script_create`. Changes: the
    script's title, text and shortcut. Publishes nothing.
    """
    fields = script_fields_clean(title=title, text=text, shortcut=shortcut)
    with transaction.atomic():
        _library_hold(librarian.library_id)
        _personal_shortcut_free(
            librarian=librarian, shortcut=fields["shortcut"], script_id=script_id
        )
        try:
            with transaction.atomic():
                # Only the owner's row: another's, or one deleted meanwhile, matches none.
                changed = Script.objects.filter(pk=script_id, owner=librarian).update(
                    **fields, updated_at=timezone.now()
                )
        except IntegrityError:
            raise _shortcut_refused(fields) from None
        if not changed:
            raise ChatError("not_found", NOT_YOURS)
    return Script.objects.get(pk=script_id)


def script_delete(*, librarian: Librarian, script_id: int) -> None:
    """A librarian deletes one of their personal scripts.

    Requires: the script is theirs (``not_found`` otherwise, and for one
    already deleted). Changes: the script is gone. Publishes nothing.
    """
    deleted, _ = Script.objects.filter(pk=script_id, owner=librarian).delete()
    if not deleted:
        raise ChatError("not_found", NOT_YOURS)


def library_script_validate(
    *, library: Library, title: object, text: object, shortcut: object, script_id: int | None
) -> ScriptFields:
    """The admin's check of a library script before it saves it.

    Requires: the fields as for :func:`script_create`, and a shortcut that no
    other script of the library nor any personal script of its librarians
    has. Changes: nothing, but holds the library's row until the admin's
    transaction (the save) ends. Publishes nothing.
    """
    fields = script_fields_clean(title=title, text=text, shortcut=shortcut)
    with transaction.atomic():  # the lock lasts as long as the caller's transaction
        _library_hold(library.pk)
        _library_shortcut_free(library=library, shortcut=fields["shortcut"], script_id=script_id)
    return fields
