"""Follow-up questions in the browser: the wait view's place in the queue and
"Leave my question", and the console's Questions list, axe clean.

Alice is on Ask Riverside. Dana waits, sees where she is and who is on,
and after the queue's time leaves her question for an answer by email.
Alice takes it in Questions while Bob, who has the tab open, sees who took
it; she answers, and the answer goes out by email (the worker).
"""

import pytest
from playwright.sync_api import Route, expect

from questions.models import Question, QuestionPolicy
from tests.browser.conftest import People, Server, screenshot
from tests.browser.test_accessibility import Axe
from tests.conftest import World


@pytest.fixture
def axe(axe_source: str) -> Axe:
    return Axe(axe_source)


def test_a_waiting_patron_sees_the_queue_and_leaves_the_question(
    world: World, people: People, server: Server, axe: Axe
) -> None:
    QuestionPolicy.objects.create(queue=world.riverside, offer_after_seconds=3)
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    dana = people.patron_asks(question="Is the 1920 county atlas in the local history room?")
    status = dana.locator("#wait-status")
    expect(status).to_have_text("You are next in the queue. 1 librarian is on.")
    expect(dana.locator("#leave-offer")).to_be_hidden()
    # Erin asks after her: she is second.
    erin = people.patron_asks(name="Erin", question="Are you open on Sunday?")
    expect(erin.locator("#wait-status")).to_have_text(
        "You are number 2 in the queue. 1 librarian is on."
    )
    say_while_waiting = dana.locator("#message")
    say_while_waiting.fill("It is for my family history.")
    say_while_waiting.press("Enter")
    expect(dana.locator("#log")).to_contain_text("family history")

    # After the queue's time, the wait view offers to leave the question.
    offer = dana.locator("#leave-offer")
    expect(offer).to_be_visible()
    expect(offer).to_contain_text("Still waiting? You can leave your question")
    axe.check(dana, "patron page, waiting, offered to leave the question")
    screenshot(dana, "patron-waiting-leave-offer")
    leave = dana.get_by_role("link", name="Leave my question")
    leave.focus()
    dana.keyboard.press("Enter")
    dana.wait_for_url("**/question/")
    question = dana.get_by_label("Your question")
    expect(question).to_have_value(
        "Is the 1920 county atlas in the local history room?\n\nIt is for my family history."
    )
    dana.get_by_role("button", name="Send my question").click()  # no email yet
    expect(dana.locator(".field-invalid")).to_be_visible()
    axe.check(dana, "leave my question, with errors")
    dana.get_by_label("Email").fill("dana@example.org")
    dana.get_by_role("button", name="Send my question").click()
    expect(dana.get_by_role("heading", name="Your question was received")).to_be_visible()
    expect(dana.locator("#answer-promise")).to_contain_text(
        "A librarian will answer by email within 2 working days"
    )
    axe.check(dana, "question received")
    # Her request leaves Alice's New list; Erin moves up.
    expect(alice.locator("#new-list")).not_to_contain_text("Dana")
    expect(erin.locator("#wait-status")).to_have_text(
        "You are next in the queue. 1 librarian is on.", timeout=20_000
    )
    [confirmation] = server.outbox(count=1)
    assert confirmation["To"] == "dana@example.org"
    assert "within 2 working days" in confirmation.get_content()
    axe.assert_clean()


def test_nobody_on_the_wait_view_offers_to_leave_at_once(world: World, people: People) -> None:
    bob = people.console(world.bob, monitor=["Ask Riverside"])
    dana = people.patron_asks()
    expect(dana.locator("#wait-status")).to_have_text(
        "You are next in the queue. 1 librarian is on."
    )
    bob.get_by_role("button", name="Log out").click()
    expect(dana.locator("#wait-status")).to_have_text(
        "You are next in the queue. No librarian is on right now.", timeout=20_000
    )
    expect(dana.locator("#leave-offer")).to_contain_text("Nobody can answer right now.")


def test_the_console_questions_list_take_and_answer(
    world: World, people: People, server: Server, axe: Axe
) -> None:
    # Nobody is on: Dana's chat form is a "Leave a question" form.
    dana = people.page()
    dana.goto("/ask/riverside/")
    expect(dana.get_by_role("heading", name="Leave a question")).to_be_visible()
    axe.check(dana, "leave a question (queue unstaffed)")
    dana.get_by_label("Your name").fill("Dana")
    dana.get_by_label("Email").fill("dana@example.org")
    dana.get_by_label("Your question").fill("Do you keep old phone books?")
    dana.get_by_role("button", name="Send my question").click()
    expect(dana.get_by_role("heading", name="Your question was received")).to_be_visible()
    question = Question.objects.get()

    alice = people.console(world.alice)
    bob = people.console(world.bob)  # Bob is not on shift: he sees Questions all the same
    bob.get_by_role("tab", name="Questions").click()
    bob_row = bob.locator(f"tr[data-question='{question.pk}']")
    expect(bob_row).to_contain_text("Open")

    tab = alice.get_by_role("tab", name="Questions")
    tab.focus()
    alice.keyboard.press("Enter")
    row = alice.locator(f"tr[data-question='{question.pk}']")
    expect(row).to_contain_text("Do you keep old phone books?")
    axe.check(alice, "console Questions list")
    row.get_by_role("link").click()
    expect(alice.get_by_role("heading", name="Question from Dana")).to_be_focused()
    alice.get_by_role("button", name="Take this question").click()
    expect(alice.locator("#question-state")).to_contain_text("Claimed by you")
    # Bob's list, open, says who took it.
    expect(bob_row).to_contain_text("Claimed by Alice")

    alice.get_by_label("Librarian Note (never sent to the patron)").fill("Asked the archive.")
    alice.get_by_role("button", name="Add note").click()
    expect(alice.locator(".question-notes")).to_contain_text("Asked the archive.")
    alice.get_by_label("Answer (sent to the patron by email)").fill(
        "Yes, from 1950 on, in the reading room."
    )
    axe.check(alice, "console question, taken")
    screenshot(alice, "console-question")
    alice.get_by_role("button", name="Send answer").click()
    expect(alice.locator("#question-state")).to_contain_text("Answered by Alice")
    expect(bob_row).to_contain_text("Answered by Alice")
    axe.check(alice, "console question, answered")

    mail = server.outbox(count=2)
    answer = next(m for m in mail if "the answer" in m["Subject"])
    assert "Yes, from 1950 on, in the reading room." in answer.get_content()
    assert "Asked the archive." not in answer.get_content()
    axe.assert_clean()


def test_what_is_typed_while_a_take_is_on_its_way_is_kept(world: World, people: People) -> None:
    # Nobody is on: Eli leaves a question.
    eli = people.page()
    eli.goto("/ask/riverside/")
    eli.get_by_label("Email").fill("eli@example.org")
    eli.get_by_label("Your question").fill("Do you lend telescopes?")
    eli.get_by_role("button", name="Send my question").click()
    expect(eli.get_by_role("heading", name="Your question was received")).to_be_visible()
    question = Question.objects.get()
    alice = people.console(world.alice)
    alice.get_by_role("tab", name="Questions").click()
    alice.locator(f"tr[data-question='{question.pk}']").get_by_role("link").click()
    expect(alice.get_by_role("heading", name="Question from a patron")).to_be_focused()

    # A slow server: the Take's answer comes a second later, while Alice
    # already types a note. The new page of the question keeps what she typed.
    def slow(route: Route) -> None:
        alice.wait_for_timeout(1000)
        route.continue_()

    alice.route(f"**/console/questions/{question.pk}/take/**", slow)
    alice.get_by_role("button", name="Take this question").click()
    note = alice.get_by_label("Librarian Note (never sent to the patron)")
    note.fill("Ask the astronomy club first.")
    expect(alice.locator("#question-state")).to_contain_text("Claimed by you")
    expect(note).to_have_value("Ask the astronomy club first.")
    alice.get_by_role("button", name="Add note").click()
    expect(alice.locator(".question-notes")).to_contain_text("Ask the astronomy club first.")
    expect(note).to_have_value("")
