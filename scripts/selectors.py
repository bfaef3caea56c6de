"""Reads of scripts and saved pages: a librarian sees their own scripts and
their library's, never another librarian's."""

from django.db.models import F, Q, QuerySet

from accounts.models import Librarian
from core.errors import ChatError
from scripts.models import SavedPage, Script

NOT_YOURS = "There is no such script among yours."


def scripts_for(*, librarian: Librarian) -> QuerySet[Script]:
    """The librarian's personal scripts, then their library's, each by title."""
    mine_or_ours = Q(owner=librarian) | Q(library_id=librarian.library_id)
    # Personal ones have no library: first, on either database.
    return Script.objects.filter(mine_or_ours).order_by(
        F("library_id").asc(nulls_first=True), "title", "pk"
    )


def personal_scripts_of(*, librarian: Librarian) -> QuerySet[Script]:
    return Script.objects.filter(owner=librarian).order_by("title", "pk")


def library_scripts_of(*, librarian: Librarian) -> QuerySet[Script]:
    return Script.objects.filter(library_id=librarian.library_id).order_by("title", "pk")


def saved_pages_for(*, librarian: Librarian) -> QuerySet[SavedPage]:
    """The saved pages of the librarian's library."""
    return SavedPage.objects.filter(library_id=librarian.library_id).order_by("title", "pk")


def personal_script_for(*, librarian: Librarian, script_id: int) -> Script:
    """One of the librarian's own scripts, or ``not_found`` (another
    librarian's and a library's are not theirs to edit)."""
    script = Script.objects.filter(pk=script_id, owner=librarian).first()
    if script is None:
        raise ChatError("not_found", NOT_YOURS)
    return script


def picker_payload(*, librarian: Librarian) -> dict[str, list[dict[str, object]]]:
    """What the reply box's Scripts list shows: the scripts (personal first) and
    the library's saved pages (docs/api.md does not list it: the console's own)."""
    return {
        "scripts": [
            {
                "id": s.pk,
                "kind": "personal" if s.owner_id else "library",
                "title": s.title,
                "shortcut": s.shortcut,
                "text": s.text,
            }
            for s in scripts_for(librarian=librarian)
        ],
        "pages": [
            {"id": p.pk, "title": p.title, "url": p.url}
            for p in saved_pages_for(librarian=librarian)
        ],
    }
