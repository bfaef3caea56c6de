"""The patron's rating in Chat History: the fact "Patron's rating" of a session,
and the list's "Rating" filter (transcripts/extras.py)."""

from django import forms
from django.db.models import QuerySet

from chat.models import ChatSession
from surveys.models import RATING_MAX, RATING_MIN, SurveyAnswer
from transcripts.extras import HistoryFact, HistoryFilter, history_fact_add, history_filter_add

# One select: "Got help" and "Rating" grouped, or whether there is an answer at all.
RATING_CHOICES = [
    ("", "Any rating"),
    ("answered", "Answered the survey"),
    ("none", "No answer"),
    (
        "Got the help they needed",
        [(f"helped-{value}", str(label)) for value, label in SurveyAnswer.Helped.choices],
    ),
    (
        "Rated",
        [(f"rating-{n}", f"{n}/{RATING_MAX}") for n in range(RATING_MAX, RATING_MIN - 1, -1)],
    ),
]

# Every value the filter takes (the API's ``rating`` parameter too).
RATING_VALUES = [
    choice
    for key, label in RATING_CHOICES
    for choice in ([value for value, _ in label] if isinstance(label, list) else [key])
    if choice
]


def rating_fact(session: ChatSession) -> str | None:
    """ "Partly · 4/5 · comment"; "no answer" for a chat that was offered the
    survey (closed after a librarian answered it); nothing for the others."""
    answer = SurveyAnswer.objects.filter(session=session).first()
    if answer is not None:
        return answer.summary()
    if session.state == ChatSession.State.CLOSED and session.accepted_at is not None:
        return "no answer"
    return None


def rating_field() -> forms.Field:
    return forms.ChoiceField(label="Rating", choices=RATING_CHOICES, required=False)


def rating_filter(sessions: QuerySet[ChatSession], value: str) -> QuerySet[ChatSession]:
    if value == "answered":
        return sessions.filter(survey_answer__isnull=False)
    if value == "none":
        return sessions.filter(survey_answer__isnull=True)
    kind, _, given = value.partition("-")
    if kind == "helped":
        return sessions.filter(survey_answer__helped=given)
    return sessions.filter(survey_answer__rating=int(given))


def history_rating_register() -> None:
    history_fact_add(HistoryFact(label="Patron's rating", value=rating_fact))
    history_filter_add(HistoryFilter(name="rating", field=rating_field, apply=rating_filter))
