"""Follow-ups from a chat's wrap-up, on the same lists as the questions patrons leave.

The County Libraries Cooperative: Carol (Hillcrest) answers Dana, a patron
of Riverside. Her wrap-up "Follow-up by patron's library" puts the chat on
Riverside's list, open, even though Hillcrest answered it; Alice claims it
and answers by email, the chat's patron-visible lines below her answer and
no Librarian Note. "Follow-up by me" puts it on Carol's own list, claimed by
her. A chat without an address can only be closed.
"""

import pytest

from accounts.models import Librarian
from chat import sessions
from chat.models import ChatSession
from questions import delivery
from questions.follow_ups import question_close, wrapup_submit
from questions.models import Question
from questions.selectors import question_list
from questions.services import question_answer, question_take
from shifts import services as shifts
from tests.helpers import logged_in, refused
from tests.talk import librarian_notes, librarian_says, patron_says, worker_runs_queue
from wrapup.models import ResolutionCode

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_maximum")]

NOTE = "Checked with Riverside's genealogy desk: they hold the microfilm."


def code(librarian: Librarian, label: str) -> int:
    return ResolutionCode.objects.get(library_id=librarian.library_id, label=label).pk


@pytest.fixture
def carols_chat(chat, carol, alice, cooperative, riverside_library) -> ChatSession:
    """Dana of Riverside asked the cooperative; Carol of Hillcrest answered, and it ended."""
    shifts.monitoring_set(librarian=carol, queue_ids=[cooperative.pk])
    session = chat(
        carol,
        queue=cooperative,
        library=riverside_library,
        email="dana@example.org",
        question="Do you have the 1920 census on microfilm?",
    )
    patron_says(session, "For Riverside County, please.")
    librarian_says(session, carol, "Let me ask Riverside's local history room.")
    librarian_notes(session_id=session.pk, librarian=carol, text=NOTE)
    sessions.session_end_by_patron(session=session)
    return session


def ids(questions) -> list[int]:
    return [q.pk for q in questions]


def test_follow_up_by_the_patrons_library_goes_to_their_library_whoever_answered(
    carols_chat, alice, bob, carol, mailoutbox
):
    wrapup_submit(
        session_id=carols_chat.pk,
        librarian=carol,
        resolution=code(carol, "Follow-up by patron's library"),
    )
    follow_up = Question.objects.get(session=carols_chat)
    assert (follow_up.origin, follow_up.state, follow_up.library.name) == (
        "follow_up",
        "new",
        "Riverside Public Library",
    )
    assert follow_up.raised_by == carol and follow_up.patron_email == "dana@example.org"
    # On Riverside's list (Alice's and Bob's "My library's"), not on Hillcrest's.
    assert ids(question_list(librarian=alice, scope="library")) == [follow_up.pk]
    assert ids(question_list(librarian=bob, scope="library")) == [follow_up.pk]
    assert ids(question_list(librarian=carol, scope="library")) == []
    assert ids(question_list(librarian=alice, scope="mine")) == []

    # Alice claims it; Bob can't take it from her.
    question_take(question_id=follow_up.pk, librarian=alice)
    assert ids(question_list(librarian=alice, scope="mine")) == [follow_up.pk]
    with refused("already_taken") as refusal:
        question_take(question_id=follow_up.pk, librarian=bob)
    assert refusal.message == "Alice already took this question."

    # She answers by email, through the worker: the chat below, no note.
    question_answer(
        question_id=follow_up.pk,
        librarian=alice,
        text="Yes: reel 14 in the local history room. Ask for it at the desk.",
    )
    delivery.question_emails_enqueue_due()
    worker_runs_queue()
    [answer] = [m for m in mailoutbox if "the answer" in m.subject]
    assert answer.to == ["dana@example.org"]
    body = answer.body
    assert "Yes: reel 14 in the local history room." in body
    assert body.index("reel 14") < body.index("For Riverside County, please.")
    assert "Carol: Let me ask Riverside's local history room." in body
    assert "Dana: For Riverside County, please." in body
    assert NOTE not in body and "genealogy desk" not in body
    follow_up.refresh_from_db()
    assert follow_up.state == "answered"


def test_follow_up_by_me_is_on_my_own_list_claimed(carols_chat, alice, carol):
    wrapup_submit(
        session_id=carols_chat.pk, librarian=carol, resolution=code(carol, "Follow-up by me")
    )
    follow_up = Question.objects.get(session=carols_chat)
    assert (follow_up.state, follow_up.taken_by) == ("taken", carol)
    assert ids(question_list(librarian=carol, scope="mine")) == [follow_up.pk]
    # Still the patron's library's follow-up: Riverside sees who has it.
    assert ids(question_list(librarian=alice, scope="library")) == [follow_up.pk]
    # A second wrap-up (a correction) puts nothing twice on a list.
    wrapup_submit(
        session_id=carols_chat.pk,
        librarian=carol,
        resolution=code(carol, "Follow-up by patron's library"),
    )
    assert Question.objects.filter(session=carols_chat).count() == 1


def test_a_code_without_follow_up_puts_nothing_on_a_list(carols_chat, carol):
    wrapup_submit(session_id=carols_chat.pk, librarian=carol, resolution=code(carol, "Answered"))
    assert not Question.objects.exists()


def test_a_follow_up_without_an_address_is_closed_not_answered(chat, alice, bob):
    session = chat(alice)  # Dana gave no email
    sessions.session_end_by_librarian(session_id=session.pk, librarian=alice)
    wrapup_submit(session_id=session.pk, librarian=alice, resolution=code(alice, "Follow-up by me"))
    follow_up = Question.objects.get(session=session)
    with refused("no_email") as refusal:
        question_answer(question_id=follow_up.pk, librarian=alice, text="Found it.")
    assert "left no email address" in refusal.message
    with refused("not_yours"):
        question_close(question_id=follow_up.pk, librarian=bob)
    closed = question_close(question_id=follow_up.pk, librarian=alice)
    assert (closed.state, closed.closed_by) == ("closed", alice)
    with refused("closed"):
        question_close(question_id=follow_up.pk, librarian=alice)


def test_the_console_lists_mine_and_my_librarys(carols_chat, alice, carol):
    wrapup_submit(
        session_id=carols_chat.pk,
        librarian=carol,
        resolution=code(carol, "Follow-up by patron's library"),
    )
    alices = logged_in(alice)
    listed = alices.get("/console/questions/?list=library&fragment=1").content.decode()
    assert "Do you have the 1920 census on microfilm?" in listed
    assert "Follow-up of a chat (Carol)" in listed and "Open" in listed
    assert 'aria-current="page">My library' in listed
    mine = alices.get("/console/questions/?list=mine&fragment=1").content.decode()
    assert "No questions claimed by you." in mine
    # The chat's history shows the follow-up and Carol's wrap-up.
    history = alices.get(f"/console/history/{carols_chat.pk}/?fragment=1").content.decode()
    assert "Follow-up by patron&#x27;s library" in history
    assert "Follow-up of a chat · Open" in history
