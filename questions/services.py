"""Every change of a follow-up question: asked, left from a chat, taken,
answered, noted. Each decides races in the database (a conditional UPDATE
that matches one row or none) and raises :class:`~core.errors.ChatError`
for a move that is not allowed. The emails are owed, not sent, here: a
:class:`~questions.models.QuestionEmail` row due now, which the worker
sends (:mod:`questions.delivery`).
"""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, ngettext, pgettext
from django.utils.translation import gettext as _

from accounts.models import Librarian, Library
from chat.models import ChatSession, Message
from chat.selectors import block_standing
from chat.sessions import session_close
from core.errors import ChatError
from core.events import publish
from core.groups import librarian_group
from core.limits import limit_take
from core.text import text_clean, text_storable
from questions.models import Question, QuestionEmail, QuestionNote
from questions.selectors import answer_expected_by, policy_of, question_for_librarian
from queues.models import Membership, Queue

logger = logging.getLogger(__name__)

NOTE_MAX_CHARS = 4000
# A question left from a chat carries what the patron wrote while waiting,
# and an answer may be long: each is at most this long.
QUESTION_MAX_CHARS = 16000


def question_text_validate(text: object, *, limit: int | None = None) -> str:
    """The question as it will be stored, or ``invalid_question``."""
    limit = limit or settings.CHAT_MAX_LINE_CHARS
    cleaned = text_clean(text).strip() if isinstance(text, str) else ""
    if not cleaned:
        raise ChatError("invalid_question", _("Please write your question."))
    if len(cleaned) > limit:
        raise ChatError(
            "invalid_question",
            _("A question can be at most %(limit)s characters.") % {"limit": f"{limit:,}"},
        )
    return cleaned


def question_ask(
    *,
    queue: Queue,
    library: Library,
    patron_name: str,
    patron_email: str,
    question: object,
    address_hash: str = "",
) -> Question:
    """A patron leaves a question on the "Leave a question" form of a closed queue.

    Requires: no block standing on the patron's address; the chat form's
    limit per address per hour (``ASK_LIMIT_PER_HOUR``, counted with chat
    requests); a library the queue serves; an email address (always
    required here: it is where the answer goes). Changes: a new question
    and its confirmation email, due now. Publishes ``question.created`` to
    the queue's monitors.
    """
    _patron_checks(address_hash)
    if not queue.libraries.filter(pk=library.pk).exists():
        raise ChatError("invalid_library", _("That library does not take questions here."))
    text = question_text_validate(question)
    with transaction.atomic():
        created = _question_create(
            queue=queue,
            library=library,
            patron_name=patron_name,
            patron_email=patron_email,
            text=text,
        )
    logger.info("question %s asked in queue %s", created.pk, queue.pk)
    return created


def question_leave(
    *, session: ChatSession, patron_email: str, question: object, address_hash: str = ""
) -> Question:
    """A waiting patron chooses "Leave my question": the chat becomes a follow-up question.

    Requires: the session still waiting (a librarian who picked it up
    meanwhile wins, and the patron is told); an email address. Changes: a
    new question (the text the patron confirmed: their question and what
    they wrote while waiting), its confirmation email due now; the session
    closed as "left a question" (its own closing line, no transcript).
    Publishes ``session.closed`` (with ``left_question``) and ``question.created``.
    """
    _patron_checks(address_hash, limited=False)
    text = question_text_validate(question, limit=QUESTION_MAX_CHARS)
    with transaction.atomic():
        try:
            session_close(
                session=session, closed_by=ChatSession.ClosedBy.PATRON, left_question=True
            )
        except ChatError as refusal:
            if ChatSession.objects.filter(pk=session.pk, state=ChatSession.State.ACTIVE).exists():
                raise ChatError(
                    "session_taken",
                    _("A librarian has just picked up your chat. You can ask them now."),
                ) from None
            raise refusal
        created = _question_create(
            queue=session.queue,
            library=session.library,
            patron_name=session.patron_name,
            patron_email=patron_email,
            text=text,
            session=session,
        )
    logger.info("session %s left as question %s", session.pk, created.pk)
    return created


def question_take(*, question_id: object, librarian: Librarian) -> Question:
    """A librarian of the question's queue takes it: theirs to answer.

    Requires: the question is new. Two librarians at once: exactly one wins,
    the other gets ``already_taken`` naming who did. Changes: state new →
    taken, ``taken_by``, ``taken_at``. Publishes ``question.changed``.
    """
    question = question_for_librarian(question_id=question_id, librarian=librarian)
    with transaction.atomic():
        # The race is decided here: only one UPDATE can still match state=new.
        won = Question.objects.filter(pk=question.pk, state=Question.State.NEW).update(
            state=Question.State.TAKEN, taken_by=librarian, taken_at=timezone.now()
        )
        if not won:
            raise _take_refusal(question.pk, librarian)
        _changed(question)
    logger.info("question %s taken by librarian %s", question.pk, librarian.pk)
    return question_for_librarian(question_id=question.pk, librarian=librarian)


def question_answer(*, question_id: object, librarian: Librarian, text: object) -> Question:
    """The librarian who took the question answers it by email.

    Requires: the question is taken by this librarian (answered once); an
    answer. Changes: state taken → answered, ``answer``, ``answered_by``,
    ``answered_at``; the answer email due now. Publishes ``question.changed``.
    """
    question = question_for_librarian(question_id=question_id, librarian=librarian)
    answer = text_clean(text).strip() if isinstance(text, str) else ""
    if not answer:
        raise ChatError("invalid_answer", "Please write an answer.")
    if len(answer) > QUESTION_MAX_CHARS:
        raise ChatError("invalid_answer", "That answer is too long for one email.")
    if not question.patron_email:
        raise ChatError(
            "no_email", "The patron left no email address: close this follow-up when it is done."
        )
    now = timezone.now()
    with transaction.atomic():
        # Answered once: a double click, or a second tab, matches no row.
        if not Question.objects.filter(
            pk=question.pk, state=Question.State.TAKEN, taken_by=librarian
        ).update(
            state=Question.State.ANSWERED, answer=answer, answered_by=librarian, answered_at=now
        ):
            raise _answer_refusal(question.pk, librarian)
        QuestionEmail.objects.create(question=question, kind=QuestionEmail.Kind.ANSWER, due_at=now)
        _changed(question)
    logger.info("question %s answered by librarian %s", question.pk, librarian.pk)
    return question_for_librarian(question_id=question.pk, librarian=librarian)


def question_note(*, question_id: object, librarian: Librarian, text: object) -> QuestionNote:
    """A Librarian Note on a question, for colleagues: never sent to the patron.

    Requires: the librarian belongs to the question's queue; a note.
    Changes: a new :class:`QuestionNote`.
    """
    question = question_for_librarian(question_id=question_id, librarian=librarian)
    note = text_clean(text).strip() if isinstance(text, str) else ""
    if not note:
        raise ChatError("invalid_note", "Please write a note.")
    if len(note) > NOTE_MAX_CHARS:
        raise ChatError("invalid_note", f"A note can be at most {NOTE_MAX_CHARS} characters.")
    return QuestionNote.objects.create(
        question=question, author=librarian, author_name=librarian.display_name, text=note
    )


def _patron_checks(address_hash: str, *, limited: bool = True) -> None:
    if address_hash and block_standing(address_hash=address_hash) is not None:
        # No details: not who, not why, not until when (as the chat form).
        raise ChatError(
            "blocked",
            _(
                "You can't send a question from this connection right now. "
                "Please contact the library another way."
            ),
        )
    if limited and not limit_take(
        scope="ask",
        key=address_hash or "no-address",
        limit=settings.ASK_LIMIT_PER_HOUR,
        window=3600,
    ):
        raise ChatError(
            "too_many_requests",
            _(
                "Too many questions have come from your connection in the last hour. "
                "Please try again later."
            ),
        )


def _question_create(
    *,
    queue: Queue,
    library: Library,
    patron_name: str,
    patron_email: str,
    text: str,
    session: ChatSession | None = None,
) -> Question:
    email = (patron_email or "").strip()
    if not email:
        raise ChatError(
            "email_required", _("Please give your email address: the answer goes there.")
        )
    try:
        if not text_storable(email):
            raise ValidationError("unstorable")
        validate_email(email)
    except ValidationError:
        raise ChatError("invalid_email", _("That doesn't look like an email address.")) from None
    question = Question.objects.create(
        queue=queue,
        library=library,
        patron_name=" ".join(text_clean(patron_name or "").split())[:80],
        patron_email=email,
        question=text,
        session=session,
        origin=Question.Origin.LEFT if session is not None else Question.Origin.ASKED,
        language=get_language() or settings.LANGUAGE_CODE,
        answer_promise=answer_promise(queue, library),
    )
    QuestionEmail.objects.create(
        question=question, kind=QuestionEmail.Kind.CONFIRMATION, due_at=timezone.now()
    )
    question_publish("question.created", question)
    return question


def answer_promise(queue: Queue, library: Library) -> str:
    """When the patron may expect the answer, in their words (and language)."""
    policy = policy_of(queue)
    if policy.answer_within:
        # The library's own words, as typed (never translated).
        return _("A librarian will answer by email %(within)s.") % {"within": policy.answer_within}
    days = policy.answer_working_days
    return ngettext(
        "A librarian will answer by email within %(days)s working day, by %(date)s.",
        "A librarian will answer by email within %(days)s working days, by %(date)s.",
        days,
    ) % {
        "days": days,
        "date": date_format(
            answer_expected_by(policy, library),
            # Translators: a PHP-style date format (Django's "date" filter) for the
            # day an answer is expected by ("Monday, December 7").
            pgettext("answer expected by", "l, F j"),
        ),
    }


def waiting_lines(session: ChatSession) -> list[str]:
    """What the patron wrote while waiting, after the question (nothing staff-only)."""
    return list(
        Message.objects.patron_visible()
        .filter(session=session, kind=Message.Kind.PATRON)
        .order_by("patron_seq")
        .values_list("text", flat=True)
    )


def _changed(question: Question) -> None:
    question_publish("question.changed", question)


def question_publish(kind: str, question: Question) -> None:
    # To every console of the queue's librarians, on shift or not: the
    # Questions list is theirs whether or not they monitor the queue now.
    event = {"type": kind, "question": question.pk, "queue": question.queue_id}
    members = set(
        Membership.objects.filter(queue_id=question.queue_id).values_list("librarian_id", flat=True)
    )
    if question.origin == Question.Origin.FOLLOW_UP:
        # A chat's follow-up, to its patron's library's librarians too: it is on their list.
        members |= set(
            Librarian.objects.filter(library_id=question.library_id).values_list("pk", flat=True)
        )
    publish(event, *[librarian_group(pk) for pk in sorted(members)])


def _take_refusal(question_id: int, librarian: Librarian) -> ChatError:
    question = Question.objects.select_related("taken_by").get(pk=question_id)
    if question.taken_by is not None and question.taken_by.pk == librarian.pk:
        return ChatError("already_yours", "You already took this question.")
    name = question.taken_by.display_name if question.taken_by else "Someone"
    return ChatError("already_taken", f"{name} already took this question.")


def _answer_refusal(question_id: int, librarian: Librarian) -> ChatError:
    question = Question.objects.select_related("taken_by").get(pk=question_id)
    if question.state == Question.State.ANSWERED:
        return ChatError("already_answered", "This question was already answered.")
    if question.state == Question.State.CLOSED:
        return ChatError("closed", "This follow-up was closed.")
    if question.state == Question.State.NEW:
        return ChatError("not_taken", "Take the question before answering it.")
    name = question.taken_by.display_name if question.taken_by else "someone else"
    return ChatError("not_yours", f"{name} took this question: only they can answer it.")
