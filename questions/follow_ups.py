"""A chat's wrap-up, and the follow-up it may put on a list; closing a follow-up.

:mod:`wrapup` (below this app) records the wrap-up; a code that asks for a
follow-up ("Follow-up by me", "Follow-up by patron's library") puts the
chat on a follow-up list here, in the same transaction: a :class:`Question`
of origin ``follow_up``, beside the questions patrons left, on the same
lists and answered the same way (by email, through the worker).
"""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Librarian
from chat.models import ChatSession
from core.errors import ChatError
from questions.models import Question
from questions.selectors import question_for_librarian
from questions.services import answer_promise, question_publish
from wrapup.models import ResolutionCode, Wrapup
from wrapup.services import wrapup_save

logger = logging.getLogger(__name__)


def wrapup_submit(
    *,
    session_id: object,
    librarian: Librarian,
    resolution: object,
    read_level: object = None,
    tags: tuple[str, ...] | list[str] = (),
    comment: object = "",
) -> Wrapup:
    """The librarian's wrap-up of a chat they held, and its follow-up if its code asks.

    Requires what :func:`wrapup.services.wrapup_save` requires. Changes: the
    wrap-up; with a follow-up code, the chat's follow-up (once per chat: a
    second wrap-up, or the other librarian's, finds it there). Publishes
    ``wrapup.changed``, and ``question.created`` for a new follow-up.
    """
    with transaction.atomic():
        wrapup = wrapup_save(
            session_id=session_id,
            librarian=librarian,
            resolution=resolution,
            read_level=read_level,
            tags=tags,
            comment=comment,
        )
        assert wrapup.resolution is not None  # a done wrap-up has one  # noqa: S101
        if wrapup.resolution.follow_up:
            _follow_up_open(wrapup.session, librarian, wrapup.resolution.follow_up)
    return wrapup


def _follow_up_open(session: ChatSession, librarian: Librarian, kind: str) -> Question | None:
    if Question.objects.filter(session=session).exists():
        return None  # on a list already (or left as a question)
    mine = kind == ResolutionCode.FollowUp.ME
    now = timezone.now()
    try:
        with transaction.atomic():
            question = Question.objects.create(
                queue=session.queue,
                # The patron's own library's list, whoever answered the chat.
                library=session.library,
                patron_name=session.patron_name,
                patron_email=session.patron_email,
                question=session.question,
                session=session,
                origin=Question.Origin.FOLLOW_UP,
                raised_by=librarian,
                language=session.language,
                answer_promise=answer_promise(session.queue, session.library),
                state=Question.State.TAKEN if mine else Question.State.NEW,
                taken_by=librarian if mine else None,
                taken_at=now if mine else None,
            )
    except IntegrityError:
        return None  # the other holder's wrap-up put it there at the same moment
    question_publish("question.created", question)
    logger.info("session %s put on a follow-up list as question %s", session.pk, question.pk)
    return question


def question_close(*, question_id: object, librarian: Librarian) -> Question:
    """Close a follow-up that needs no answer by email (or can't have one).

    Requires: an open one, or one the librarian claimed. Changes: state →
    closed, ``closed_by``, ``closed_at``. Publishes ``question.changed``.
    """
    question = question_for_librarian(question_id=question_id, librarian=librarian)
    rows = Question.objects.filter(
        pk=question.pk, state=Question.State.NEW
    ) | Question.objects.filter(pk=question.pk, state=Question.State.TAKEN, taken_by=librarian)
    with transaction.atomic():
        if not rows.update(
            state=Question.State.CLOSED, closed_by=librarian, closed_at=timezone.now()
        ):
            raise _close_refusal(question.pk)
        question_publish("question.changed", question)
    logger.info("question %s closed by librarian %s", question.pk, librarian.pk)
    return question_for_librarian(question_id=question.pk, librarian=librarian)


def _close_refusal(question_id: int) -> ChatError:
    question = Question.objects.select_related("taken_by").get(pk=question_id)
    if question.state == Question.State.CLOSED:
        return ChatError("closed", "This follow-up was closed already.")
    if question.state == Question.State.ANSWERED:
        return ChatError("already_answered", "This question was already answered.")
    name = question.taken_by.display_name if question.taken_by else "Someone else"
    return ChatError("not_yours", f"{name} claimed this follow-up: only they can close it.")
