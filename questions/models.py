"""Follow-ups: questions to answer later by email, on the console's lists.

A follow-up is asked on the "Leave a question" form of a closed or unstaffed
queue, left by a waiting patron from their chat (the session ends as "left a
question"), or put on the list by a librarian's wrap-up of a chat ("Follow-up
by me": theirs at once; "Follow-up by patron's library": open for the
patron's own library, whoever answered). A librarian claims an open one (one
of them: a conditional UPDATE), answers it by email from the console (the
chat's patron-visible transcript below the answer), or closes it, and may add
Librarian Notes, which are never sent. Every change goes through
:mod:`questions.services` and :mod:`questions.follow_ups`; the emails
through :mod:`questions.delivery`.
"""

import secrets

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


def new_question_token() -> str:
    # 192 bits, as a chat's token: the patron's only key to the confirmation page.
    return secrets.token_urlsafe(24)


class QuestionPolicy(models.Model):
    """A queue's rules for follow-up questions (a queue without one uses the defaults)."""

    queue = models.OneToOneField(
        "queues.Queue", on_delete=models.CASCADE, related_name="question_policy"
    )
    offer_after_seconds = models.PositiveIntegerField(
        "offer to leave a question after (seconds)",
        default=180,
        help_text="A waiting patron is offered to leave the question for an answer by email "
        "after this long (at once when no librarian is on).",
    )
    answer_within = models.CharField(
        "answer within (text)",
        max_length=200,
        blank=True,
        help_text='What the patron is told, e.g. "within one working day". Empty: the working '
        "days below, with the date.",
    )
    answer_working_days = models.PositiveSmallIntegerField(
        "answer within (working days)", default=2
    )

    class Meta:
        verbose_name = "follow-up question policy"
        verbose_name_plural = "follow-up question policies"

    def __str__(self) -> str:
        return f"follow-up questions of {self.queue}"


class Question(models.Model):
    """One follow-up: open → claimed (by one librarian) → answered, or closed."""

    class State(models.TextChoices):
        NEW = "new", _("Open")
        TAKEN = "taken", _("Claimed")
        ANSWERED = "answered", _("Answered")
        CLOSED = "closed", pgettext_lazy("follow-up state", "Closed")

    class Origin(models.TextChoices):
        ASKED = "asked", "Asked on the form"
        LEFT = "left", "Left from a waiting chat"
        FOLLOW_UP = "follow_up", "Follow-up of a chat"

    token = models.CharField(max_length=64, unique=True, default=new_question_token, editable=False)
    queue = models.ForeignKey("queues.Queue", on_delete=models.PROTECT, related_name="questions")
    library = models.ForeignKey(
        "accounts.Library", on_delete=models.PROTECT, related_name="questions"
    )
    patron_name = models.CharField("name", max_length=80, blank=True)
    # Empty only for a follow-up of a chat whose patron gave no address.
    patron_email = models.EmailField("email", blank=True)
    question = models.TextField()
    # The chat the patron left it from (None: asked on the form).
    session = models.OneToOneField(
        "chat.ChatSession",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_up",
        editable=False,
    )
    origin = models.CharField(
        max_length=10, choices=Origin.choices, default=Origin.ASKED, editable=False
    )
    # Who put a chat's follow-up on the list (its wrap-up).
    raised_by = models.ForeignKey(
        "accounts.Librarian", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The patron's language when asking: the emails are written in it.
    language = models.CharField(max_length=16, blank=True, editable=False)
    # What the patron was told about when to expect the answer, as told.
    answer_promise = models.CharField(max_length=300, blank=True, editable=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.NEW)
    taken_by = models.ForeignKey(
        "accounts.Librarian", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    taken_at = models.DateTimeField(null=True, blank=True)
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        "accounts.Librarian", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        "accounts.Librarian", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["queue", "state"], name="question_queue_state"),
            models.Index(fields=["library", "state"], name="question_library_state"),
        ]
        constraints = [
            models.CheckConstraint(
                name="taken_question_has_taker",
                condition=Q(state="new") | Q(taken_by__isnull=False),
            ),
            models.CheckConstraint(
                name="answered_question_has_answer",
                condition=~Q(state="answered") | (Q(answered_at__isnull=False) & ~Q(answer="")),
            ),
            models.CheckConstraint(
                name="closed_question_has_closer",
                condition=~Q(state="closed") | Q(closed_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"question #{self.pk} ({self.state})"


class QuestionNote(models.Model):
    """A Librarian Note on a question: for colleagues, never sent to the patron."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        "accounts.Librarian", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    author_name = models.CharField(max_length=100)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["question", "created_at", "pk"]

    def __str__(self) -> str:
        return f"note on question #{self.question_id}"


class QuestionEmail(models.Model):
    """One email owed to the patron of a question: its confirmation, or its answer.

    Delivered by the worker (:mod:`questions.delivery`) as transcripts are:
    due from ``due_at``, claimed by moving it on, ``sent_at`` once the mail
    server said yes; at most one of each kind per question.
    """

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", "Confirmation"
        ANSWER = "answer", "Answer"

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="emails")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    due_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [
            # The worker's look for emails to send.
            models.Index(
                fields=["due_at"], name="question_email_due", condition=Q(due_at__isnull=False)
            )
        ]
        constraints = [
            models.UniqueConstraint(fields=["question", "kind"], name="one_question_email_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.kind} email of question #{self.question_id}"
