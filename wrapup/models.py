"""The wrap-up of a chat: what its librarian records when their hold of it ends.

A librarian who held a session (a ``chat.Hold``) owes its wrap-up: a
resolution code from their library's list, the effort on the READ scale,
subject tags from their library's list and a private comment. They may
skip it (counted); a chat without a done wrap-up stays on their list to
finish later. All of it is staff-only. Every change goes through
:mod:`wrapup.services`.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from wrapup.read_scale import READ_LEVELS

COMMENT_MAX_CHARS = 2000


class ResolutionCode(models.Model):
    """One entry of a library's list of resolutions (QuestionPoint's five by default)."""

    class FollowUp(models.TextChoices):
        NONE = "", "No follow-up"
        ME = "me", "Follow-up by me"
        LIBRARY = "library", "Follow-up by the patron's library"

    library = models.ForeignKey(
        "accounts.Library", on_delete=models.CASCADE, related_name="resolution_codes"
    )
    label = models.CharField(max_length=80)
    follow_up = models.CharField(
        max_length=10,
        choices=FollowUp.choices,
        blank=True,
        help_text="A wrap-up with this code puts the chat on a follow-up list: the "
        "librarian's own, or the patron's library's.",
    )
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(
        default=True, help_text="Inactive codes stay on past wrap-ups but are no longer offered."
    )

    class Meta:
        ordering = ["library", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                "library", Lower("label"), name="one_resolution_label_per_library"
            )
        ]

    def __str__(self) -> str:
        return self.label


class SubjectTag(models.Model):
    """One subject of a library's list, offered with autocomplete in the wrap-up form."""

    library = models.ForeignKey(
        "accounts.Library", on_delete=models.CASCADE, related_name="subject_tags"
    )
    name = models.CharField(max_length=60)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["library", "name"]
        constraints = [
            models.UniqueConstraint("library", Lower("name"), name="one_subject_tag_per_library")
        ]

    def __str__(self) -> str:
        return self.name


class Wrapup(models.Model):
    """One librarian's wrap-up of one session (they may have held it more than once)."""

    class State(models.TextChoices):
        DONE = "done", "Done"
        SKIPPED = "skipped", "Skipped"

    session = models.ForeignKey(
        "chat.ChatSession", on_delete=models.CASCADE, related_name="wrapups"
    )
    librarian = models.ForeignKey(
        "accounts.Librarian", on_delete=models.PROTECT, related_name="wrapups"
    )
    state = models.CharField(max_length=10, choices=State.choices)
    resolution = models.ForeignKey(
        ResolutionCode, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    read_level = models.PositiveSmallIntegerField(
        "READ level",
        null=True,
        blank=True,
        choices=[(level, str(level)) for level in READ_LEVELS],
        validators=[MinValueValidator(1), MaxValueValidator(6)],
    )
    tags = models.ManyToManyField(SubjectTag, blank=True, related_name="+")
    comment = models.TextField(blank=True)
    # First skipped: stays when the wrap-up is finished later (skips are counted).
    skipped_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["session", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["session", "librarian"], name="one_wrapup_per_holder"),
            models.CheckConstraint(
                name="done_wrapup_has_resolution",
                condition=~Q(state="done")
                | (Q(resolution__isnull=False) & Q(done_at__isnull=False)),
            ),
            models.CheckConstraint(
                name="read_level_1_to_6",
                condition=Q(read_level__isnull=True) | Q(read_level__gte=1, read_level__lte=6),
            ),
        ]

    def __str__(self) -> str:
        return f"wrap-up of #{self.session_id} ({self.state})"
