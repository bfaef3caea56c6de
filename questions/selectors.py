"""Reads about follow-up questions, scoped to who is asking."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from accounts.models import Librarian, Library
from core.errors import ChatError
from questions.models import Question, QuestionPolicy
from queues.models import Membership, Queue


def questions_visible_to(librarian: Librarian) -> QuerySet[Question]:
    """All a librarian may read: the questions of the queues they belong to,
    and the follow-ups of chats with their own library's patrons (whichever
    queue, whoever answered: that library's list)."""
    member = Membership.objects.filter(librarian=librarian, queue=OuterRef("queue"))
    return Question.objects.filter(
        Exists(member) | Q(library_id=librarian.library_id, origin=Question.Origin.FOLLOW_UP)
    ).select_related("queue", "library", "taken_by", "answered_by", "raised_by", "closed_by")


def question_for_librarian(*, question_id: object, librarian: Librarian) -> Question:
    """The question if the librarian may read it; ``not_found`` otherwise (no hint it exists)."""
    try:
        return questions_visible_to(librarian).get(pk=int(question_id))  # type: ignore[call-overload]
    except (Question.DoesNotExist, TypeError, ValueError, OverflowError):
        raise ChatError("not_found", "There is no such question in your queues.") from None


# The follow-up lists: "" every question of my queues and my library.
LISTS = {"": "All my queues", "mine": "Mine", "library": "My library's"}


def question_list(*, librarian: Librarian, state: str = "", scope: str = "") -> QuerySet[Question]:
    """A follow-up list: open ones first (open, then claimed), oldest first; then
    answered and closed. ``scope`` "mine": those the librarian claimed;
    "library": their library's (in a cooperative, its own patrons', whoever
    answered the chat); otherwise every one they may read."""
    questions = questions_visible_to(librarian)
    if scope == "mine":
        questions = questions.filter(taken_by=librarian)
    elif scope == "library":
        questions = questions.filter(library_id=librarian.library_id)
    if state in Question.State.values:
        questions = questions.filter(state=state)
    order = Case(
        When(state=Question.State.NEW, then=Value(0)),
        When(state=Question.State.TAKEN, then=Value(1)),
        default=Value(2),
    )
    return questions.order_by(order, "created_at")


def question_for_patron(*, token: str) -> Question | None:
    if not token or len(token) > 64:
        return None
    return Question.objects.select_related("queue", "library").filter(token=token).first()


def policy_of(queue: Queue) -> QuestionPolicy:
    """The queue's follow-up question policy, or the defaults (unsaved)."""
    policy = QuestionPolicy.objects.filter(queue=queue).first()
    return policy or QuestionPolicy(
        queue=queue,
        offer_after_seconds=settings.QUESTION_OFFER_SECONDS,
        answer_working_days=settings.QUESTION_ANSWER_WORKING_DAYS,
    )


def working_days_after(start: date, days: int) -> date:
    """The date ``days`` working days (Monday to Friday) after ``start``."""
    day = start
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def answer_expected_by(policy: QuestionPolicy, library: Library) -> date:
    """The date by which the patron may expect the answer: working days from
    today in the library's own time zone."""
    today = timezone.localdate(timezone=ZoneInfo(library.time_zone))
    return working_days_after(today, policy.answer_working_days)
