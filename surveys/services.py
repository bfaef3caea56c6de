"""Writes of the patron's rating: the one answer of a session's survey."""

import logging

from django.db import IntegrityError, transaction
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from chat.models import ChatSession
from core.errors import ChatError
from core.text import text_clean
from surveys.models import COMMENT_MAX_CHARS, RATING_MAX, RATING_MIN, SurveyAnswer
from surveys.selectors import survey_of, survey_offered

logger = logging.getLogger(__name__)


def rating_parse(text: str) -> int | None:
    """A rating as posted ("" for none) as a number, or the refusal."""
    text = text.strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 2:
        raise _rating_refused()
    return int(text)


def _rating_refused() -> ChatError:
    return ChatError("invalid_rating", _("Choose a rating from 1 to 5."))


def survey_answer_submit(
    *,
    session: ChatSession,
    helped: str = "",
    rating: int | None = None,
    comment: str = "",
    language: str,
) -> tuple[SurveyAnswer, bool]:
    """The patron answers the survey of their chat.

    Requires: the session closed after a librarian answered it, and its
    queue's survey asks; ``helped`` one of yes, partly, no or blank; ``rating``
    1 to 5 or None; ``comment`` at most 2,000 characters (after the cleaning
    every typed text gets); at least one of them given. Only what the survey
    asks is kept: an answer to a question it doesn't ask is dropped.
    Changes: stores the answer, once. A second answer (a double click, another
    tab) stores nothing and returns the first with ``False``: the session's
    unique answer decides it in the database, so two at the same instant
    store one.
    Publishes: nothing; staff read it in Chat History.
    """
    survey = survey_of(session.queue)
    # Read again: a page read before the chat ended holds a stale state. A
    # closed session stays closed, so nothing can change it after this read.
    current = ChatSession.objects.filter(pk=session.pk).only("state", "accepted_at").first()
    if current is None or not survey_offered(current, survey):
        raise _not_offered(current)
    first = SurveyAnswer.objects.filter(session_id=session.pk).first()
    if first is not None:
        # Answered before (another tab, a reload): the first stands, whatever this one says.
        return first, False
    helped = helped.strip() if survey.ask_helped else ""
    if helped not in SurveyAnswer.Helped.values and helped != "":
        raise ChatError("invalid_answer", _("Choose Yes, Partly or No."))
    rating = rating if survey.ask_rating else None
    if rating is not None and not RATING_MIN <= rating <= RATING_MAX:
        raise _rating_refused()
    comment = text_clean(comment.replace("\r\n", "\n")).strip() if survey.ask_comment else ""
    if len(comment) > COMMENT_MAX_CHARS:
        raise ChatError(
            "comment_too_long",
            _("A comment can be at most %(limit)s characters; this one has %(length)s.")
            % {
                "limit": number_format(COMMENT_MAX_CHARS, force_grouping=True),
                "length": number_format(len(comment), force_grouping=True),
            },
        )
    if not helped and rating is None and not comment:
        raise ChatError(
            "empty_answer", _("Please answer at least one question before you send the survey.")
        )
    try:
        with transaction.atomic():
            answer = SurveyAnswer.objects.create(
                session_id=session.pk,
                helped=helped,
                rating=rating,
                comment=comment,
                language=language,
            )
    except IntegrityError:
        # The race of a double click: the other answer's insert won the
        # unique session (the checks above rule out every other constraint).
        first = SurveyAnswer.objects.filter(session_id=session.pk).first()
        if first is None:
            raise
        logger.info("survey of session %s answered again: the first answer kept", session.pk)
        return first, False
    # The session and nothing of what the patron wrote.
    logger.info("survey of session %s answered", session.pk)
    return answer, True


def _not_offered(session: ChatSession | None) -> ChatError:
    if session is None:
        return ChatError("not_found", _("There is no chat session with this token."))
    if session.state != ChatSession.State.CLOSED:
        return ChatError("session_open", _("The survey opens when the chat ends."))
    if session.accepted_at is None:
        return ChatError(
            "no_survey", _("No librarian answered this chat, so there is no survey for it.")
        )
    return ChatError("no_survey", _("This chat has no survey."))
