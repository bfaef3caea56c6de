"""The Note toggle: a Librarian Note is one line, and note mode can't be missed.

Alice ticks Note and writes a note for colleagues. The composer says so in
words, colour and its button while the toggle is on, and goes back to
writing to the patron once the note is added: her next reply reaches Dana
instead of silently becoming a second note.
"""

from playwright.sync_api import expect

from tests.browser.conftest import People, expect_announced, log_lines, pick_up, say
from tests.conftest import World


def test_after_a_note_the_next_reply_goes_to_the_patron(world: World, people: People) -> None:
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    dana = people.patron_asks(name="Dana", question="Where are the maps?")
    alice.locator("#request-dialog").get_by_role("button", name="OK").click()
    pick_up(alice, "Dana")
    note_box = alice.get_by_label("Note", exact=True)
    mode = alice.locator("#composer-mode")
    send = alice.locator("#composer-send")
    expect(mode).to_be_hidden()

    # Note on: the band above the box, the box's name and the button say so.
    note_box.check()
    expect(mode).to_be_visible()
    expect(mode).to_contain_text("Note mode: you are writing a Librarian Note.")
    expect(alice.locator("#composer-text")).to_have_accessible_name("Librarian Note")
    expect(send).to_have_text("Add Note")
    expect_announced(alice, "Note mode: the next line is a Librarian Note")

    # The note is added, and the composer is back to the patron.
    say(alice, "Asked about maps last week too.")
    expect(alice.locator("#session-log .line-note")).to_contain_text("maps last week")
    expect(note_box).not_to_be_checked()
    expect(mode).to_be_hidden()
    expect(send).to_have_text("Send")
    expect(alice.locator("#composer-text")).to_have_accessible_name("Message to the patron")
    expect_announced(alice, "Note added. Back to replying to Dana.")

    say(alice, "The maps are on the second floor.")
    expect(dana.locator("#log")).to_contain_text("The maps are on the second floor.")
    assert "maps last week" not in " ".join(log_lines(dana, "#log"))
    notes = alice.locator("#session-log .line-note").all_inner_texts()
    assert len(notes) == 1, notes
