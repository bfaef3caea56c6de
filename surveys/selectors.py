"""Reads of the patron's rating: a queue's survey, a session's answer, whether it is offered."""

from chat.models import ChatSession
from queues.models import Queue
from surveys.models import Survey, SurveyAnswer


def survey_of(queue: Queue) -> Survey:
    """The queue's survey, or the default one (not stored) for a queue without its own."""
    return Survey.objects.filter(queue=queue).first() or Survey(queue=queue)


def answer_of(session: ChatSession) -> SurveyAnswer | None:
    return SurveyAnswer.objects.filter(session=session).first()


def survey_offered(session: ChatSession, survey: Survey) -> bool:
    """Only after the chat, and only a chat a librarian answered: the rating
    is of the help the patron got (``accepted_at`` is set by the first pick-up)."""
    return (
        survey.asks
        and session.state == ChatSession.State.CLOSED
        and session.accepted_at is not None
    )
