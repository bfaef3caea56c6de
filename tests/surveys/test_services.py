"""The patron's rating: answered once, after a chat a librarian answered,
never required, and a second answer keeps the first (surveys/services.py)."""

import logging

import pytest

from chat import sessions
from surveys.models import Survey, SurveyAnswer
from surveys.services import rating_parse, survey_answer_submit
from tests.helpers import at_once, refused

pytestmark = pytest.mark.django_db

COMMENT = "Alice found the large-print copy in minutes."


def answer(session, **given):
    return survey_answer_submit(session=session, language="en", **given)


def test_dana_answers_once_and_the_answer_is_kept(ended):
    session = ended()
    stored, first = answer(session, helped="partly", rating=4, comment=COMMENT)
    assert first
    assert (stored.helped, stored.rating, stored.comment, stored.language) == (
        "partly", 4, COMMENT, "en",
    )  # fmt: skip
    assert stored.summary() == f"Partly · 4/5 · {COMMENT}"
    assert SurveyAnswer.objects.get(session=session).pk == stored.pk


def test_a_second_answer_keeps_the_first_and_says_so(ended):
    session = ended()
    kept, _ = answer(session, helped="yes", rating=5)
    again, first = answer(session, helped="no", rating=1, comment="Changed my mind.")
    assert not first
    assert again.pk == kept.pk
    assert SurveyAnswer.objects.get(session=session).rating == 5
    assert SurveyAnswer.objects.count() == 1
    # Even an answer that would be refused: the first stands, and that is the news.
    _, first = answer(session)
    assert not first


@pytest.mark.django_db(transaction=True)
def test_a_double_click_stores_one_answer(world, ended):
    session = ended()
    outcomes = at_once(
        click=lambda: answer(session, helped="yes", rating=5),
        double_click=lambda: answer(session, helped="yes", rating=4),
    )
    results = list(outcomes.values())
    assert all(isinstance(result, tuple) for result in results), results
    assert sorted(first for _, first in results) == [False, True]
    [stored] = SurveyAnswer.objects.filter(session=session)
    assert {answer.pk for answer, _ in results} == {stored.pk}


def test_each_question_is_optional(ended):
    assert answer(ended(), helped="no")[0].rating is None
    assert answer(ended(), rating=3)[0].helped == ""
    assert answer(ended(), comment="Thanks!")[0].comment == "Thanks!"


def test_an_answer_with_nothing_at_all_is_refused(ended):
    session = ended()
    with refused("empty_answer") as refusal:
        answer(session, comment="   \n ")
    assert refusal.message == "Please answer at least one question before you send the survey."
    assert not SurveyAnswer.objects.exists()


def test_no_survey_before_the_chat_ends(world, ask, chat):
    waiting = ask()
    with refused("session_open"):
        answer(waiting, rating=5)
    active = chat(world.alice)
    with refused("session_open") as refusal:
        answer(active, rating=5)
    assert refusal.message == "The survey opens when the chat ends."
    assert not SurveyAnswer.objects.exists()


def test_no_survey_for_a_chat_no_librarian_answered(ask):
    session = sessions.session_end_by_patron(session=ask())
    with refused("no_survey") as refusal:
        answer(session, rating=5)
    assert "No librarian answered this chat" in refusal.message


def test_a_page_read_before_the_end_is_read_again(world, chat):
    # The object the view holds says active; the database says closed.
    session = chat(world.alice)
    sessions.session_end_by_librarian(session_id=session.pk, librarian=world.alice)
    assert answer(session, rating=4)[1]


@pytest.mark.parametrize("rating", [0, 6, -1, 100])
def test_a_rating_outside_1_to_5_is_refused(ended, rating):
    with refused("invalid_rating") as refusal:
        answer(ended(), rating=rating)
    assert refusal.message == "Choose a rating from 1 to 5."


@pytest.mark.parametrize("text", ["x", "4.5", "٣", "1e1", "five", "\x004", "123"])
def test_a_rating_that_is_not_a_number_from_1_to_5_is_refused(text):
    with refused("invalid_rating"):
        rating_parse(text)


def test_a_posted_rating_is_read_as_a_number():
    assert rating_parse("") is None
    assert rating_parse(" 4 ") == 4


@pytest.mark.parametrize("helped", ["maybe", "YES", "yes\x00", "1"])
def test_a_helped_value_outside_yes_partly_no_is_refused(ended, helped):
    with refused("invalid_answer") as refusal:
        answer(ended(), helped=helped)
    assert refusal.message == "Choose Yes, Partly or No."


def test_a_comment_over_2000_characters_is_refused(ended):
    session = ended()
    assert answer(session, comment="a" * 2000)[1]
    with refused("comment_too_long") as refusal:
        answer(ended(), comment="a" * 2001)
    assert refusal.message == "A comment can be at most 2,000 characters; this one has 2,001."


def test_a_nul_in_a_comment_is_dropped_and_a_comment_of_nothing_else_is_empty(ended):
    # The one cleaning of typed text (core/text.py): PostgreSQL can't store U+0000.
    assert answer(ended(), comment="Thank\x00 you")[0].comment == "Thank you"
    with refused("empty_answer"):
        answer(ended(), comment="\x00\x00")


def test_a_queue_that_asks_nothing_has_no_survey(world, ended):
    Survey.objects.create(queue=world.riverside, enabled=False)
    with refused("no_survey") as refusal:
        answer(ended(), rating=5)
    assert refusal.message == "This chat has no survey."


def test_only_the_questions_the_queue_asks_are_kept(world, ended):
    Survey.objects.create(queue=world.riverside, ask_comment=False)
    stored, _ = answer(ended(), helped="yes", comment="Not asked for.")
    assert (stored.helped, stored.comment) == ("yes", "")
    with refused("empty_answer"):
        answer(ended(), comment="Only what is not asked.")


def test_the_log_names_the_session_and_never_the_comment_or_the_token(ended, caplog):
    session = ended()
    with caplog.at_level(logging.DEBUG):
        answer(session, rating=2, comment=COMMENT)
        answer(session, rating=3, comment="Second thoughts")
    said = "\n".join(record.getMessage() for record in caplog.records)
    assert f"survey of session {session.pk} answered" in said
    assert COMMENT not in said and "Second thoughts" not in said
    assert session.token not in said
