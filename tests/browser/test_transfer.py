"""Transfers between librarians: the seed's steps, a Decline, and an offer nobody answers."""

from playwright.sync_api import Page, expect

from chat.models import ChatSession
from tests.browser.conftest import (
    People,
    expect_announced,
    log_lines,
    pick_up,
    say,
    screenshot,
)
from tests.conftest import World

QUESTION = "I need 1900s census records for Riverside County."


def _chatting(people: People, world: World) -> tuple[Page, Page, Page]:
    """Alice holds Dana's session with Dana on the chat page; Bob monitors the queue."""
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    bob = people.console(world.bob, monitor=["Ask Riverside"])
    dana = people.patron_asks(name="Dana", question=QUESTION)
    for librarian in (alice, bob):
        librarian.locator("#request-dialog").get_by_role("button", name="OK").click()
    pick_up(alice, "Dana")
    say(alice, "Let me find a colleague who knows the census.")
    expect(dana.locator("#log")).to_contain_text("a colleague who knows the census")
    return alice, bob, dana


def _offer_to_bob(alice: Page, note: str = "") -> None:
    alice.get_by_role("button", name="Transfer").click()
    dialog = alice.locator("#transfer-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("#transfer-targets").get_by_role("button", name="Bob (RPL-117)").click()
    if note:
        dialog.get_by_label("Note for the receiver").fill(note)
    dialog.get_by_role("button", name="Transfer", exact=True).click()
    expect(dialog.locator("#transfer-status")).to_contain_text(
        "Transfer offered to Bob: waiting for an answer"
    )
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()


def test_transfer_asked_by_im_and_accepted(world: World, people: People) -> None:
    alice, bob, dana = _chatting(people, world)

    # Transfer: the dialog lists who monitors the queue, with their Active count.
    alice.get_by_role("button", name="Transfer").click()
    dialog = alice.locator("#transfer-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#transfer-patron")).to_have_text(
        "Dana · Riverside Public Library · Ask Riverside"
    )
    target = dialog.locator("#transfer-targets").get_by_role("button", name="Bob (RPL-117)")
    expect(target).to_contain_text("Active: 0")
    expect(dialog.locator("#transfer-queue-target")).to_have_text(
        "Return to Ask Riverside (Transfer)"
    )

    # Ask first by IM; Bob's reply shows in the dialog.
    target.click()
    expect(target).to_have_attribute("aria-pressed", "true")
    expect(dialog.get_by_label("IM to the chosen librarian")).to_be_focused()
    dialog.get_by_label("IM to the chosen librarian").fill("Can you take a census question?")
    dialog.get_by_role("button", name="Send IM").click()
    expect(dialog.locator("#transfer-im-log")).to_contain_text("Can you take a census question?")

    expect(bob.locator("#im-dialog")).to_be_visible()
    dana_id = ChatSession.objects.get(patron_name="Dana").pk
    expect_announced(bob, f"New IM Request from Alice (RPL-104) about Dana (chat #{dana_id}).")
    bob.locator("#im-dialog").get_by_role("button", name="OK").click()
    expect(bob.locator("#im-log")).to_contain_text("Can you take a census question?")
    bob.locator("#im-text").fill("Yes, send them over.")
    bob.locator("#im-text").press("Enter")
    expect(dialog.locator("#transfer-im-log")).to_contain_text("Yes, send them over.")

    dialog.get_by_label("Note for the receiver").fill("Wants 1900s census records")
    screenshot(alice, "console-transfer-dialog")
    dialog.get_by_role("button", name="Transfer", exact=True).click()
    expect(dialog.locator("#transfer-status")).to_contain_text(
        "Transfer offered to Bob: waiting for an answer"
    )
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    expect(alice.locator("#session-offer")).to_contain_text("Transfer offered to Bob")

    # Bob's New Transferred Chat Session box: patron, question, note; announced.
    offer = bob.locator("#offer-dialog")
    expect(offer).to_be_visible()
    expect(offer).to_contain_text("Alice (RPL-104) wants to transfer a patron to you.")
    expect(offer).to_contain_text("Dana")
    expect(offer).to_contain_text(QUESTION)
    expect(offer).to_contain_text("Wants 1900s census records")
    expect(offer.locator("#offer-countdown")).to_contain_text("s left to answer.")
    expect_announced(bob, "New Transferred Chat Session from Alice: Dana.")
    screenshot(bob, "console-transfer-offer")
    offer.get_by_role("button", name="OK").click()
    expect(offer).to_be_hidden()

    # Bob has the session in Patron Chat, under My Active; Alice's turns read-only.
    expect(bob.get_by_role("tab", name="Patron Chat")).to_have_attribute("aria-selected", "true")
    expect(bob.locator("#session-title")).to_have_text("Dana")
    expect(bob.locator("#active-list")).to_contain_text("Dana")
    expect(alice.locator("#session-readonly")).to_have_text(
        "Bob took this session. It is read-only for you now."
    )
    expect(alice.locator("#composer")).to_be_hidden()
    expect_announced(alice, "Bob took Dana's session.")

    # The patron is told who passed the question to whom, and talks to Bob.
    expect(dana.locator("#log")).to_contain_text("Alice has passed your question to Bob.")
    expect(dana.locator("#chat-with")).to_have_text(
        "You are chatting with Bob (Riverside Public Library)."
    )
    say(bob, "Hello Dana, I can help with the census.")
    expect(dana.locator("#log")).to_contain_text("I can help with the census.")
    say(dana, "Great, thanks Bob.")
    expect(bob.locator("#session-log")).to_contain_text("Great, thanks Bob.")
    # Bob sees the IMs and the transfer request as Librarian Notes; Dana never does.
    bob_notes = bob.locator("#session-log .line-note").all_inner_texts()
    assert any("Can you take a census question?" in n for n in bob_notes), bob_notes
    assert any("Wants 1900s census records" in n for n in bob_notes), bob_notes
    assert log_lines(dana, "#log") == [
        QUESTION,
        "Alice has joined the chat.",
        "Let me find a colleague who knows the census.",
        "Alice has passed your question to Bob.",
        "Hello Dana, I can help with the census.",
        "Great, thanks Bob.",
    ]
    session = ChatSession.objects.get()
    assert session.primary_id == world.bob.pk


def test_transfer_declined_stays_with_the_sender(world: World, people: People) -> None:
    alice, bob, dana = _chatting(people, world)
    _offer_to_bob(alice, note="Census question")

    offer = bob.locator("#offer-dialog")
    expect(offer).to_be_visible()
    expect_announced(bob, "New Transferred Chat Session from Alice: Dana.")
    offer.get_by_role("button", name="Decline").click()
    expect(offer).to_be_hidden()

    declined = "Bob declined the transfer. Dana's session stays with you."
    expect(alice.locator("#toast")).to_have_text(declined)
    expect_announced(alice, declined)
    expect(alice.locator("#session-offer")).to_have_text("")
    expect(alice.locator("#composer")).to_be_visible()
    expect(bob.locator("#active-list li")).to_have_count(0)
    say(alice, "I'll keep looking myself.")
    expect(dana.locator("#log")).to_contain_text("I'll keep looking myself.")
    assert "Bob" not in dana.locator("#log").inner_text()
    assert ChatSession.objects.get().primary_id == world.alice.pk


def test_transfer_nobody_answers_expires(world: World, people: People) -> None:
    # The server sweeps every second; the offer lives 5 s instead of 60.
    world.riverside.transfer_offer_seconds = 5
    world.riverside.save()
    alice, bob, dana = _chatting(people, world)
    _offer_to_bob(alice)

    offer = bob.locator("#offer-dialog")
    expect(offer).to_be_visible()
    expect_announced(bob, "New Transferred Chat Session from Alice: Dana.")
    # Bob doesn't answer: the box goes away by itself and Alice keeps Dana.
    expect(offer).to_be_hidden()
    expect(bob.locator("#toast")).to_have_text("Alice's transfer of Dana is no longer open.")
    expired = "Bob did not answer in time. Dana's session stays with you."
    expect(alice.locator("#toast")).to_have_text(expired)
    expect_announced(alice, expired)
    expect(alice.locator("#session-offer")).to_have_text("")
    expect(alice.locator("#composer")).to_be_visible()
    say(alice, "Still here, Dana.")
    expect(dana.locator("#log")).to_contain_text("Still here, Dana.")
    assert ChatSession.objects.get().primary_id == world.alice.pk
