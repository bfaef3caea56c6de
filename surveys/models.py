"""The patron's rating: a short survey after the chat, set per queue, answered once.

A queue's :class:`Survey` says whether its patrons are asked and which of
the three questions (did you get the help, a 1–5 rating, a comment), in
which words; a queue without one asks the default. A :class:`SurveyAnswer`
is one patron's answer for one session: written once by
:func:`surveys.services.survey_answer_submit`, read by staff, edited by
nobody (the admin shows it read-only).
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

COMMENT_MAX_CHARS = 2000
RATING_MIN, RATING_MAX = 1, 5
CUSTOM_WORDING = (
    "Empty: the default wording, in the patron's language. Custom wording is shown as written."
)


class Survey(models.Model):
    """A queue's survey: whether to ask, which questions, in which words."""

    queue = models.OneToOneField("queues.Queue", on_delete=models.CASCADE, related_name="survey")
    enabled = models.BooleanField(
        "ask the patron",
        default=True,
        help_text="After a chat a librarian answered, the patron is offered the survey "
        "(never required).",
    )
    ask_helped = models.BooleanField("ask whether they got help", default=True)
    helped_question = models.CharField(
        "wording", max_length=200, blank=True, help_text="Yes / Partly / No. " + CUSTOM_WORDING
    )
    ask_rating = models.BooleanField("ask for a 1–5 rating", default=True)
    rating_question = models.CharField(
        "wording",
        max_length=200,
        blank=True,
        help_text="1 = poor, 5 = excellent. " + CUSTOM_WORDING,
    )
    ask_comment = models.BooleanField("ask for a comment", default=True)
    comment_question = models.CharField(
        "wording", max_length=200, blank=True, help_text=CUSTOM_WORDING
    )

    class Meta:
        verbose_name = "patron survey"
        verbose_name_plural = "patron surveys"

    def __str__(self) -> str:
        return f"survey of {self.queue}"

    def clean(self) -> None:
        if self.enabled and not (self.ask_helped or self.ask_rating or self.ask_comment):
            raise ValidationError(
                "Ask at least one question, or untick “ask the patron” to ask none."
            )

    @property
    def asks(self) -> bool:
        return self.enabled and (self.ask_helped or self.ask_rating or self.ask_comment)

    # The wording in the language active now: the default translated, a
    # library's own as written.
    def helped_text(self) -> str:
        return self.helped_question or gettext("Did you get the help you needed?")

    def rating_text(self) -> str:
        return self.rating_question or gettext("How would you rate this chat?")

    def comment_text(self) -> str:
        return self.comment_question or gettext("Anything you would like to tell us?")


class SurveyAnswer(models.Model):
    """One patron's answer to the survey of one session (never edited)."""

    class Helped(models.TextChoices):
        YES = "yes", _("Yes")
        PARTLY = "partly", _("Partly")
        NO = "no", _("No")

    # One per session: the unique column decides a double click (services).
    session = models.OneToOneField(
        "chat.ChatSession", on_delete=models.CASCADE, related_name="survey_answer"
    )
    helped = models.CharField(
        "got the help they needed", max_length=8, choices=Helped.choices, blank=True
    )
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    language = models.CharField("the patron's language", max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "patron's rating"
        verbose_name_plural = "patrons' ratings"
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True)
                | Q(rating__gte=RATING_MIN, rating__lte=RATING_MAX),
                name="survey_rating_1_to_5",
            ),
            models.CheckConstraint(
                condition=Q(helped__in=["", "yes", "partly", "no"]), name="survey_helped_known"
            ),
            # Every question is optional, but an answer answers something.
            models.CheckConstraint(
                condition=~Q(helped="", rating__isnull=True, comment=""),
                name="survey_answer_not_empty",
            ),
        ]

    def __str__(self) -> str:
        return f"rating of session {self.session_id}"

    def summary(self) -> str:
        """ "Partly · 4/5 · comment": what staff read in Chat History."""
        parts = []
        if self.helped:
            parts.append(str(self.get_helped_display()))
        if self.rating is not None:
            parts.append(f"{self.rating}/{RATING_MAX}")
        if self.comment:
            parts.append(self.comment)
        return " · ".join(parts)
