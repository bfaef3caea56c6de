"""Follow-up questions: asked while nobody can chat, answered later by email.

Nobody monitors Ask Riverside: Dana's chat form turns into "Leave a
question"; she is told when to expect the answer, on the page and by email.
Alice takes it in the console's Questions, writes a Librarian Note for Bob
(never sent) and answers by email. The emails go through the worker's task
queue, as transcripts do: sent once, never twice.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from chat.models import ChatSession, PatronBlock
from chat.sessions import LEFT_QUESTION
from core.clients import address_hash
from questions import delivery
from questions.models import Question, QuestionEmail, QuestionPolicy
from questions.services import question_take
from tests.helpers import at_once, lines_of, logged_in, refused
from tests.talk import patron_says, worker_runs_queue

pytestmark = pytest.mark.django_db(transaction=True)

QUESTION = "Do you have the 1920 county atlas in the local history room?"


def emails_delivered() -> list[int]:
    """The worker's question email job, then its task queue."""
    queued = delivery.question_emails_enqueue_due()
    worker_runs_queue()
    return queued


def leave(client, library, **fields):
    data = {"patron_name": "Dana", "patron_email": "dana@example.org", "library": library.pk}
    return client.post("/ask/riverside/question/", {**data, "question": QUESTION, **fields})


def test_a_question_asked_while_nobody_is_on_is_answered_by_email(
    client, riverside, riverside_library, alice, bob, mailoutbox
):
    QuestionPolicy.objects.create(queue=riverside, answer_within="within one working day")
    # Nobody monitors Ask Riverside: the chat form becomes "Leave a question".
    page = client.get("/ask/riverside/", follow=True)
    assert page.redirect_chain == [("/ask/riverside/question/", 302)]
    text = page.content.decode()
    assert "No librarian is available right now." in text
    assert "Leave a question" in text and 'name="patron_email"' in text

    # The email is required here: without it nothing is stored, nothing is lost.
    refused_page = leave(client, riverside_library, patron_email="")
    assert refused_page.status_code == 200
    assert "This field is required." in refused_page.content.decode()
    assert QUESTION in refused_page.content.decode()
    assert not Question.objects.exists()

    sent = leave(client, riverside_library)
    question = Question.objects.get()
    assert sent["Location"] == f"/question/{question.token}/"
    confirmation = client.get(sent["Location"]).content.decode()
    assert "A librarian will answer by email within one working day." in confirmation
    assert QUESTION in confirmation
    assert not ChatSession.objects.exists()

    # The worker sends the confirmation: once, however often its job runs.
    assert mailoutbox == []
    emails_delivered()
    emails_delivered()
    [confirmation_email] = mailoutbox
    assert confirmation_email.to == ["dana@example.org"]
    assert "within one working day" in confirmation_email.body
    assert QUESTION in confirmation_email.body

    # Alice sees it under Questions, takes it; Bob sees who took it.
    alice_console, bob_console = logged_in(alice), logged_in(bob)
    listed = alice_console.get("/console/questions/").content.decode()
    assert QUESTION[:40] in listed and "Open" in listed
    alice_console.post(f"/console/questions/{question.pk}/take/")
    assert "Claimed by Alice" in bob_console.get("/console/questions/").content.decode()
    # Bob can't take or answer it now, and is told who has it.
    bobs = bob_console.post(f"/console/questions/{question.pk}/answer/", {"answer": "Yes."})
    assert bobs.status_code == 409
    assert "Alice took this question: only they can answer it." in bobs.content.decode()

    # A Librarian Note for colleagues, then the answer by email.
    alice_console.post(
        f"/console/questions/{question.pk}/note/", {"text": "Checked the catalogue: shelf 4."}
    )
    answered = alice_console.post(
        f"/console/questions/{question.pk}/answer/?fragment=1",
        {"answer": "Yes: ask at the desk of the local history room."},
    )
    assert answered.status_code == 200
    assert "Answered by Alice" in answered.content.decode()
    assert "Checked the catalogue" in answered.content.decode()
    question.refresh_from_db()
    assert question.state == Question.State.ANSWERED
    assert question.answer == "Yes: ask at the desk of the local history room."

    emails_delivered()
    emails_delivered()
    assert len(mailoutbox) == 2
    answer = mailoutbox[1]
    assert answer.to == ["dana@example.org"]
    assert "Yes: ask at the desk of the local history room." in answer.body
    assert QUESTION in answer.body
    assert "Alice of Riverside Public Library has answered your question." in answer.body
    # The Librarian Note never reaches the patron.
    assert all("Checked the catalogue" not in m.body for m in mailoutbox)
    assert QuestionEmail.objects.filter(sent_at__isnull=False).count() == 2
    # Answered once.
    again = alice_console.post(f"/console/questions/{question.pk}/answer/", {"answer": "More."})
    assert "This question was already answered." in again.content.decode()


def test_a_waiting_patron_leaves_the_question_with_what_they_wrote(
    client, ask, riverside, mailoutbox
):
    session = ask(email="dana@example.org", question="Can I renew a book twice?")
    patron_says(session, "It is the one on Roman history.")
    form = client.get(f"/chat/{session.token}/question/").content.decode()
    assert "Can I renew a book twice?\n\nIt is the one on Roman history." in form
    assert 'value="dana@example.org"' in form
    offer = client.get(f"/chat/{session.token}/question/offer/").json()
    assert offer == {"offer_after_seconds": 180, "url": f"/chat/{session.token}/question/"}

    sent = client.post(
        f"/chat/{session.token}/question/",
        {
            "patron_email": "dana@example.org",
            "question": "Can I renew a book twice?\n\nIt is the one on Roman history.",
        },
    )
    question = Question.objects.get()
    assert sent["Location"] == f"/question/{question.token}/"
    assert question.session == session
    assert question.patron_name == "Dana"
    assert question.question.endswith("It is the one on Roman history.")
    session.refresh_from_db()
    # The session ends as "left a question", with no transcript of its own.
    assert session.state == ChatSession.State.CLOSED
    assert lines_of(session)[-1] == (3, "system", LEFT_QUESTION)
    assert session.transcript_due_at is None
    # Back on the form: the confirmation, never a second question.
    assert client.get(f"/chat/{session.token}/question/")["Location"] == sent["Location"]
    emails_delivered()
    [confirmation] = mailoutbox
    assert "It is the one on Roman history." in confirmation.body


def test_a_patron_whose_chat_was_just_picked_up_goes_back_to_it(client, chat, alice):
    session = chat(alice)
    response = client.post(
        f"/chat/{session.token}/question/", {"patron_email": "d@example.org", "question": "Hi"}
    )
    assert response["Location"] == f"/chat/{session.token}/"
    assert not Question.objects.exists()
    assert ChatSession.objects.get(pk=session.pk).state == ChatSession.State.ACTIVE


def test_two_librarians_taking_the_same_question_at_once_one_wins(
    client, riverside_library, alice, bob
):
    leave(client, riverside_library)
    question = Question.objects.get()
    outcomes = at_once(
        alice=lambda: question_take(question_id=question.pk, librarian=alice),
        bob=lambda: question_take(question_id=question.pk, librarian=bob),
    )
    won = [name for name, outcome in outcomes.items() if isinstance(outcome, Question)]
    assert len(won) == 1
    [lost] = {"alice", "bob"} - set(won)
    winner = won[0].capitalize()
    assert outcomes[lost].code == "already_taken"
    assert outcomes[lost].message == f"{winner} already took this question."
    taker = Question.objects.get().taken_by
    assert taker is not None and taker.display_name == winner


def test_a_librarian_of_another_queue_never_sees_the_question(client, riverside_library, dave):
    leave(client, riverside_library)
    question = Question.objects.get()
    console = logged_in(dave)
    assert QUESTION[:30] not in console.get("/console/questions/").content.decode()
    assert console.get(f"/console/questions/{question.pk}/").status_code == 404
    assert console.post(f"/console/questions/{question.pk}/take/").status_code == 404
    with refused("not_found"):
        question_take(question_id=question.pk, librarian=dave)


def test_the_form_has_the_chat_forms_limits_and_blocks(client, riverside_library, settings, alice):
    settings.ASK_LIMIT_PER_HOUR = 1
    assert leave(client, riverside_library).status_code == 302
    over = leave(client, riverside_library, question="Another one")
    assert over.status_code == 429
    assert "Too many questions have come from your connection" in over.content.decode()
    assert "Another one" in over.content.decode()

    settings.ASK_LIMIT_PER_HOUR = 0
    PatronBlock.objects.create(
        address_hash=address_hash("127.0.0.1"),
        blocked_by=alice,
        reason="abuse",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    blocked = leave(client, riverside_library, question="Third")
    assert "send a question from this connection right now." in blocked.content.decode()
    assert Question.objects.count() == 1
    assert mail.outbox == []


def test_the_answer_is_promised_in_working_days_over_a_weekend():
    from datetime import date

    from questions.selectors import working_days_after

    friday = date(2026, 12, 4)
    assert working_days_after(friday, 1) == date(2026, 12, 7)  # Monday
    assert working_days_after(friday, 2) == date(2026, 12, 8)  # Tuesday
    assert working_days_after(date(2026, 12, 1), 2) == date(2026, 12, 3)  # Tuesday → Thursday
