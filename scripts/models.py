"""Scripts (canned messages) and a library's saved pages.

A script is either a library's (``library``, managed in the admin by
supervisors) or one librarian's own (``owner``, managed in the console's
Settings): exactly one of the two, which a check constraint says too. Its
shortcut is stored lowercased; the database keeps it unique among one
librarian's scripts and among one library's. That a personal shortcut may
not repeat one of the librarian's library's scripts spans two kinds of row,
so the services and the admin's form check it, holding the library's row
(``scripts.services.shortcut_check``).
"""

from django.db import models
from django.db.models.functions import Length, Lower
from django.db.models.lookups import LessThanOrEqual

from accounts.models import Librarian, Library
from scripts.rules import (
    SCRIPT_MAX_CHARS,
    SHORTCUT_MAX_CHARS,
    TITLE_MAX_CHARS,
    validate_page_address,
    validate_shortcut,
)


class Script(models.Model):
    """A canned message: a title, its text (placeholders {patron}, {librarian},
    {library} filled in when it is inserted) and an optional shortcut."""

    library = models.ForeignKey(
        Library,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="scripts",
        help_text="A library script: every librarian of this library has it.",
    )
    owner = models.ForeignKey(
        Librarian,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="scripts",
        help_text="A personal script: only this librarian has it (they manage it in Settings).",
    )
    title = models.CharField(max_length=TITLE_MAX_CHARS)
    text = models.TextField(
        help_text=f"At most {SCRIPT_MAX_CHARS:,} characters. {{patron}}, {{librarian}} and "
        "{library} become the patron's screen name, the librarian's name and the "
        "session's library when the script is inserted."
    )
    shortcut = models.CharField(
        max_length=SHORTCUT_MAX_CHARS,
        blank=True,
        validators=[validate_shortcut],
        help_text='Optional: one short word (letters, digits, - and _), such as "hours": '
        "/hours in the reply box finds it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(library__isnull=False, owner__isnull=True)
                    | models.Q(library__isnull=True, owner__isnull=False)
                ),
                name="script_library_or_owner",
                violation_error_message="A script is a library's or one librarian's, not both.",
            ),
            models.CheckConstraint(
                condition=~models.Q(title="") & ~models.Q(text=""),
                name="script_title_text_not_empty",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("text"), SCRIPT_MAX_CHARS),
                name="script_text_max_chars",
            ),
            models.CheckConstraint(
                condition=models.Q(shortcut=Lower("shortcut")),
                name="script_shortcut_lowercase",
            ),
            models.UniqueConstraint(
                fields=["owner", "shortcut"],
                condition=models.Q(owner__isnull=False) & ~models.Q(shortcut=""),
                name="script_personal_shortcut_unique",
                violation_error_message="You already have a script with this shortcut.",
            ),
            models.UniqueConstraint(
                fields=["library", "shortcut"],
                condition=models.Q(library__isnull=False) & ~models.Q(shortcut=""),
                name="script_library_shortcut_unique",
                violation_error_message="This library already has a script with this shortcut.",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_personal(self) -> bool:
        return self.owner_id is not None


class SavedPage(models.Model):
    """One of a library's saved pages: a librarian inserts a link to it into a reply."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="saved_pages")
    title = models.CharField(max_length=TITLE_MAX_CHARS)
    url = models.URLField(
        "address",
        max_length=500,
        validators=[validate_page_address],
        help_text="An http or https address (https:// is assumed when none is typed).",
    )

    class Meta:
        ordering = ["title", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(url__startswith="http://")
                | models.Q(url__startswith="https://"),
                name="saved_page_http_address",
            ),
            models.CheckConstraint(condition=~models.Q(title=""), name="saved_page_title"),
        ]

    def __str__(self) -> str:
        return self.title
