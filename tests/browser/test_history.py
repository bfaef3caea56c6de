"""Chat History shows the Librarian Notes that the patron's page never has."""

from playwright.sync_api import expect

from tests.browser.conftest import People, log_lines, pick_up, say, screenshot
from tests.conftest import World

QUESTION = "How do I renew a book online?"
NOTE = "Patron's card expired in March: renewal needs a new card."


def test_history_shows_notes_the_patron_never_sees(world: World, people: People) -> None:
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    dana = people.patron_asks(name="Dana", question=QUESTION)
    alice.locator("#request-dialog").get_by_role("button", name="OK").click()
    pick_up(alice, "Dana")

    say(alice, "I can help. What is your card number?")
    expect(dana.locator("#log")).to_contain_text("What is your card number?")
    say(dana, "It is 2100 4455.")
    expect(alice.locator("#session-log")).to_contain_text("2100 4455")
    alice.get_by_label("Note", exact=True).check()
    expect(alice.locator("#composer-send")).to_have_text("Add Note")
    say(alice, NOTE)
    expect(alice.locator("#session-log .line-note")).to_contain_text(NOTE)
    alice.get_by_label("Note", exact=True).uncheck()
    say(alice, "Your card needs renewing first; the desk can do it today.")
    expect(dana.locator("#log")).to_contain_text("the desk can do it today")
    alice.get_by_role("button", name="End Session").click()
    expect(dana.locator("#ended-reason")).to_have_text("The librarian ended the chat.")
    expect(alice.locator("#session-readonly")).to_have_text("This chat session has ended.")

    # The patron's page never had the note, nor has it after a reload.
    assert NOTE not in dana.content()
    dana.reload()
    expect(dana.locator("#log")).to_contain_text("Librarian ended chat session")
    assert NOTE not in dana.content()
    assert "Librarian Note" not in dana.content()

    # Chat History lists the session; opening it shows every line, the note marked.
    alice.get_by_role("tab", name="Chat History").click()
    history = alice.locator("#history-root")
    row = history.locator("tbody tr", has_text="Dana")
    expect(row).to_contain_text(QUESTION)
    expect(row).to_contain_text("ended by librarian")
    # Filtering by text finds it.
    history.get_by_label("Text").fill("renew")
    history.get_by_role("button", name="Filter").click()
    expect(history.locator("[role=status]")).to_have_text("1 session.")
    row.get_by_role("link").click()
    expect(history.locator("h2")).to_contain_text("Dana")
    note = history.locator(".line-note")
    expect(note).to_have_count(1)
    expect(note.locator(".badge-note")).to_have_text("Librarian Note")
    expect(note.locator(".line-text")).to_have_text(NOTE)
    assert log_lines(alice, "#history-root") == [
        QUESTION,
        "Alice has joined the chat.",
        "I can help. What is your card number?",
        "It is 2100 4455.",
        NOTE,
        "Your card needs renewing first; the desk can do it today.",
        "Librarian ended chat session",
    ]
    screenshot(alice, "console-history")
