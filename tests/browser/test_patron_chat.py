"""A patron asks, a librarian picks up, they chat, the patron ends, the transcript is emailed."""

import re

from playwright.sync_api import expect

from tests.browser.conftest import (
    People,
    Server,
    expect_announced,
    log_lines,
    pick_up,
    say,
    screenshot,
)
from tests.conftest import World

QUESTION = "Do you have large-print copies of Middlemarch?"


def test_patron_asks_librarian_picks_up_and_the_transcript_has_every_line(
    world: World, people: People, server: Server
) -> None:
    alice = people.console(world.alice, monitor=["Ask Riverside"])

    dana = people.patron_asks(name="Dana", email="dana@example.org", question=QUESTION)
    expect(dana.locator("#waiting-panel")).to_contain_text("Waiting for a librarian")
    expect(dana.locator("#waited")).to_have_text(re.compile(r"^[1-9]\d* s$"))  # counts up
    screenshot(dana, "patron-waiting")

    # Alice gets the New Patron Request popup, and it is announced.
    popup = alice.locator("#request-dialog")
    expect(popup).to_be_visible()
    expect(popup).to_contain_text("Dana")
    expect(popup).to_contain_text("dana@example.org")
    expect(popup).to_contain_text(QUESTION)
    expect_announced(alice, f"New request from Dana in Ask Riverside: {QUESTION}")
    popup.get_by_role("button", name="OK").click()
    expect(popup).to_be_hidden()
    new_row = alice.locator("#new-list li")
    expect(new_row).to_contain_text("Dana")
    expect(new_row).to_contain_text("dana@example.org · Riverside Public Library")

    pick_up(alice, "Dana")
    expect(alice.locator("#new-list li")).to_have_count(0)
    expect(alice.locator("#active-list")).to_contain_text("Dana")
    expect(alice.locator("#patron-info")).to_contain_text(QUESTION)
    expect(alice.locator("#policy")).to_contain_text("Library cards are free")
    expect(dana.locator("#chat-with")).to_have_text(
        "You are chatting with Alice (Riverside Public Library)."
    )
    expect(dana.locator("#waiting-panel")).to_be_hidden()

    say(alice, "Hello Dana, let me look that up.")
    expect(dana.locator("#log")).to_contain_text("Hello Dana, let me look that up.")
    say(dana, "Thank you! The Riverside branch, please.")
    expect(alice.locator("#session-log")).to_contain_text("The Riverside branch, please.")
    # A Librarian Note, which the transcript must leave out.
    alice.get_by_label("Note", exact=True).check()
    say(alice, "Checked the catalogue: two copies at Riverside.")
    expect(alice.locator("#session-log .line-note")).to_contain_text("two copies at Riverside")
    alice.get_by_label("Note", exact=True).uncheck()
    say(alice, "We have two copies on the shelf at Riverside.")
    expect(dana.locator("#log")).to_contain_text("two copies on the shelf")
    say(dana, "Wonderful, I'll come by today.")
    expect(alice.locator("#session-log")).to_contain_text("I'll come by today.")
    screenshot(dana, "patron-chatting")
    screenshot(alice, "console-patron-chat")

    dana.get_by_role("button", name="End Session").click()
    expect(dana.locator("#ended-panel")).to_be_visible()
    expect(dana.locator("#ended-reason")).to_have_text("You ended the chat.")
    expect(dana.locator("#transcript-status")).to_contain_text("on its way to your email")
    expect(dana.locator("#ended-title")).to_be_focused()
    expect(dana.locator("#log")).to_contain_text("Patron ended chat session")
    expect(alice.locator("#session-readonly")).to_have_text("The patron ended this chat session.")
    expect(alice.locator("#session-log")).to_contain_text("Patron ended chat session")
    expect_announced(alice, "Dana ended the chat session.")

    patron_lines = log_lines(dana, "#log")
    assert patron_lines == [
        QUESTION,
        "Alice has joined the chat.",
        "Hello Dana, let me look that up.",
        "Thank you! The Riverside branch, please.",
        "We have two copies on the shelf at Riverside.",
        "Wonderful, I'll come by today.",
        "Patron ended chat session",
    ]
    assert log_lines(alice, "#session-log") == [
        *patron_lines[:4],
        "Checked the catalogue: two copies at Riverside.",
        *patron_lines[4:],
    ]

    [message] = server.outbox()
    assert message["To"] == "dana@example.org"
    assert message["Subject"] == "Your chat with Riverside Public Library: transcript"
    body = message.get_content()
    for line in patron_lines:
        assert line in body
    assert "two copies at Riverside" not in body
    assert "Dana: Thank you! The Riverside branch, please." in body
    assert "Alice: Hello Dana, let me look that up." in body
