"""What the patron's page says about who has their question, in the patron's words.

The header follows the session through every change a patron lives through
(picked up, passed to another librarian, passed back to the queue, ended by
either side, ended as lost), live and after a reload, and the log says what
happened; nothing of a transfer's note ever shows.
"""

from playwright.sync_api import Page, expect

from chat.models import ChatSession
from tests.browser.conftest import People, log_lines, pick_up, say
from tests.conftest import World

QUESTION = "Can I renew a book that is overdue?"
LIBRARY = "Riverside Public Library"
# The notes of the transfers: staff-only, never on the patron's page.
OFFER_NOTE = "Offer note: she owes fines at Hillcrest"
QUEUE_NOTE = "Queue note: needs the circulation desk"


def _header(page: Page) -> str:
    return page.locator("#chat-with").inner_text()


def _transfer(librarian: Page, *, to: str, note: str) -> None:
    """The Transfer dialog: pick ``to`` (a librarian's button, or "queue"), write the note, send."""
    librarian.get_by_role("button", name="Transfer").click()
    dialog = librarian.locator("#transfer-dialog")
    expect(dialog).to_be_visible()
    if to == "queue":
        dialog.locator("#transfer-queue-target").click()
    else:
        dialog.locator("#transfer-targets").get_by_role("button", name=to).click()
    dialog.get_by_label("Note for the receiver").fill(note)
    dialog.get_by_role("button", name="Transfer", exact=True).click()


def test_the_header_says_who_has_the_question_through_transfers_and_the_end(
    world: World, people: People
) -> None:
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    bob = people.console(world.bob, monitor=["Ask Riverside"])
    dana = people.patron_asks(name="Dana", question=QUESTION)
    expect(dana.locator("#chat-with")).to_have_text(LIBRARY)
    for librarian in (alice, bob):
        librarian.locator("#request-dialog").get_by_role("button", name="OK").click()

    # Picked up.
    pick_up(alice, "Dana")
    expect(dana.locator("#chat-with")).to_have_text(f"You are chatting with Alice ({LIBRARY}).")
    expect(dana.locator("#chat-with")).to_have_attribute("aria-live", "polite")
    say(alice, "Hello Dana, a colleague handles renewals.")
    expect(dana.locator("#log")).to_contain_text("a colleague handles renewals")

    # Passed to a librarian: the patron is told who passed it to whom.
    _transfer(alice, to="Bob (RPL-117)", note=OFFER_NOTE)
    bob.locator("#offer-dialog").get_by_role("button", name="OK").click()
    alice.locator("#transfer-dialog").get_by_role("button", name="Close").click()
    expect(dana.locator("#chat-with")).to_have_text(f"You are chatting with Bob ({LIBRARY}).")
    expect(dana.locator("#log")).to_contain_text("Alice has passed your question to Bob.")
    say(bob, "Bob here: renewals need your card number.")
    expect(dana.locator("#log")).to_contain_text("renewals need your card number")

    # Passed back to the queue: waiting for the next librarian, live and after a reload.
    _transfer(bob, to="queue", note=QUEUE_NOTE)
    expect(dana.locator("#chat-with")).to_have_text("You are waiting for the next librarian.")
    expect(dana.locator("#waiting-panel")).to_be_visible()
    expect(dana.locator("#waiting-title")).to_have_text("Waiting for the next librarian…")
    expect(dana.locator("#log")).to_contain_text(
        "Bob has passed your question to the next available librarian."
    )
    dana.reload()
    expect(dana.locator("#chat-with")).to_have_text("You are waiting for the next librarian.")
    expect(dana.locator("#waiting-panel")).to_be_visible()

    # The next librarian picks it up from New.
    alice.locator("#request-dialog").get_by_role("button", name="OK").click()
    alice.locator("#new-list").get_by_role("button", name="Pick up Dana").click()
    expect(alice.locator("#composer")).to_be_visible()
    expect(dana.locator("#chat-with")).to_have_text(f"You are chatting with Alice ({LIBRARY}).")
    expect(dana.locator("#waiting-panel")).to_be_hidden()

    # Ended by the librarian.
    alice.locator("#end-session").click()
    expect(dana.locator("#chat-with")).to_have_text("This chat has ended.")
    expect(dana.locator("#ended-reason")).to_have_text("The librarian ended the chat.")
    assert log_lines(dana, "#log") == [
        QUESTION,
        "Alice has joined the chat.",
        "Hello Dana, a colleague handles renewals.",
        "Alice has passed your question to Bob.",
        "Bob here: renewals need your card number.",
        "Bob has passed your question to the next available librarian.",
        "Alice has joined the chat.",
        "Librarian ended chat session",
    ]
    dana.reload()
    expect(dana.locator("#chat-with")).to_have_text("This chat has ended.")
    page = dana.content()
    assert OFFER_NOTE not in page
    assert QUEUE_NOTE not in page
    assert "fines" not in page and "circulation" not in page


def test_the_header_says_the_chat_ended_when_the_patron_ends_it(
    world: World, people: People
) -> None:
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    dana = people.patron_asks(name="Dana", question=QUESTION)
    alice.locator("#request-dialog").get_by_role("button", name="OK").click()
    pick_up(alice, "Dana")
    expect(dana.locator("#chat-with")).to_have_text(f"You are chatting with Alice ({LIBRARY}).")

    dana.get_by_role("button", name="End Session").click()
    expect(dana.locator("#chat-with")).to_have_text("This chat has ended.")
    expect(dana.locator("#ended-reason")).to_have_text("You ended the chat.")
    assert "Alice" not in _header(dana)


def test_the_header_says_the_chat_ended_when_it_was_lost_while_away(
    world: World, people: People
) -> None:
    # The worker sweeps every second; the patron may be away 1 s instead of 10 min.
    world.riverside.patron_grace_seconds = 1
    world.riverside.save()
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    dana = people.patron_asks(name="Dana", question=QUESTION)
    alice.locator("#request-dialog").get_by_role("button", name="OK").click()
    pick_up(alice, "Dana")
    expect(dana.locator("#chat-with")).to_have_text(f"You are chatting with Alice ({LIBRARY}).")

    # Dana's network goes for longer than the grace period: the session ends as lost.
    dana.context.set_offline(True)
    expect(dana.locator("#connection")).to_have_text("Reconnecting…")
    expect(alice.locator("#session-readonly")).to_be_visible()
    assert ChatSession.objects.get().closed_by == ChatSession.ClosedBy.SYSTEM

    # Back online, the page learns it from the snapshot.
    dana.context.set_offline(False)
    expect(dana.locator("#chat-with")).to_have_text("This chat has ended.")
    expect(dana.locator("#ended-reason")).to_have_text(
        "The chat ended because the connection was lost for too long."
    )
    expect(dana.locator("#log")).to_contain_text("chat session ended")
