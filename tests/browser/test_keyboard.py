"""The whole librarian flow by keyboard alone: Alice never touches a mouse.

Patrons and colleagues use their pages however they like; every step of
Alice's is a key press, from logging in to reading the Chat History.
"""

from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import People, Server, expect_announced, log_lines
from tests.conftest import World

PASSWORD = "keyboard-only-2026"
QUESTION = "Can I book a study room for Saturday?"


def _tab_to(page: Page, target: Locator, *, back: bool = False, limit: int = 40) -> None:
    """Press Tab (Shift+Tab with ``back``) until ``target`` has focus."""
    key = "Shift+Tab" if back else "Tab"
    for _ in range(limit):
        if target.evaluate("(node) => node === document.activeElement"):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{target} not reached with {key} in {limit} presses")


def _type(page: Page, text: str) -> None:
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def test_librarian_flow_by_keyboard_alone(world: World, people: People, server: Server) -> None:
    # The server checks passwords with the production hasher, not the tests' fast one.
    user = world.alice.user
    user.password = make_password(PASSWORD, hasher=PBKDF2PasswordHasher())
    user.save()
    bob = people.console(world.bob, monitor=["Ask Riverside"])

    # Log in.
    alice = people.page()
    alice.goto("/login/")
    _tab_to(alice, alice.get_by_label("Username"))
    alice.keyboard.type("alice")
    alice.keyboard.press("Tab")
    alice.keyboard.type(PASSWORD)
    alice.keyboard.press("Enter")
    alice.wait_for_url("**/console/")
    expect(alice.locator("#connection")).to_have_text("Connected")

    # Monitor Ask Riverside.
    _tab_to(alice, alice.get_by_label("Ask Riverside"))
    alice.keyboard.press("Space")
    _tab_to(alice, alice.locator("#monitoring-form").get_by_role("button", name="Save"))
    alice.keyboard.press("Enter")
    expect(alice.locator("#monitoring-status")).to_have_text("Monitoring 1 of 2.")

    # A request: the popup is announced and leaves focus where it was;
    # Alt+Shift+N goes to its OK, which leads to the request under New.
    dana = people.patron_asks(name="Dana", question=QUESTION)
    bob.locator("#request-dialog").get_by_role("button", name="OK").click()
    expect_announced(alice, f"New request from Dana in Ask Riverside: {QUESTION}")
    expect(alice.locator("#request-dialog-ok")).not_to_be_focused()
    alice.keyboard.press("Alt+Shift+N")
    expect(alice.locator("#request-dialog-ok")).to_be_focused()
    alice.keyboard.press("Enter")
    request = alice.locator("#new-list").get_by_role("button", name="Pick up Dana")
    expect(request).to_be_focused()
    alice.keyboard.press("Enter")
    expect(alice.locator("#session-title")).to_have_text("Dana")
    expect(alice.locator("#composer-text")).to_be_focused()

    # Chat, and a Librarian Note (Tab to the Note box, Space, back, type).
    _type(alice, "Hello Dana, which branch?")
    expect(dana.locator("#log")).to_contain_text("Hello Dana, which branch?")
    dana.locator("#message").fill("Riverside, please.")
    dana.locator("#message").press("Enter")
    expect(alice.locator("#session-log")).to_contain_text("Riverside, please.")
    alice.keyboard.press("Tab")
    expect(alice.get_by_label("Note", exact=True)).to_be_focused()
    alice.keyboard.press("Space")
    alice.keyboard.press("Shift+Tab")
    expect(alice.locator("#composer-text")).to_be_focused()
    _type(alice, "Room 2 is free on Saturday.")
    expect(alice.locator("#session-log .line-note")).to_contain_text("Room 2 is free")
    expect(alice.get_by_label("Note", exact=True)).not_to_be_checked()  # a note is one line

    # An IM from Bob: announced; Alt+Shift+N goes to OK, which opens the IM tab on it.
    bob.get_by_role("tab", name="IM").click()
    bob.locator("#im-librarians").get_by_role("button", name="Alice (RPL-104)").click()
    expect_announced(alice, "New IM Request from Bob (RPL-117).")
    expect(alice.locator("#composer-text")).to_be_focused()
    alice.keyboard.press("Alt+Shift+N")
    expect(alice.locator("#im-dialog-ok")).to_be_focused()
    alice.keyboard.press("Enter")
    expect(alice.locator("#im-text")).to_be_focused()
    bob.locator("#im-text").fill("Could you take the next request?")
    bob.locator("#im-text").press("Enter")
    expect(alice.locator("#im-log")).to_contain_text("Could you take the next request?")
    _type(alice, "Yes, after this one.")
    expect(bob.locator("#im-log")).to_contain_text("Yes, after this one.")

    # Back to Patron Chat by the tab list's arrow keys, then to Dana's session.
    _tab_to(alice, alice.get_by_role("tab", name="IM"), back=True)
    alice.keyboard.press("ArrowLeft")
    alice.keyboard.press("ArrowLeft")
    expect(alice.get_by_role("tab", name="Patron Chat")).to_be_focused()
    expect(alice.get_by_role("tab", name="Patron Chat")).to_have_attribute("aria-selected", "true")
    _tab_to(alice, alice.locator("#active-list").get_by_role("button", name="Dana"))
    alice.keyboard.press("Enter")
    expect(alice.locator("#composer-text")).to_be_focused()

    # Transfer to Bob with a note; Bob declines; Escape closes the dialog.
    transfer_button = alice.get_by_role("button", name="Transfer")
    _tab_to(alice, transfer_button, back=True)
    alice.keyboard.press("Enter")
    dialog = alice.locator("#transfer-dialog")
    expect(dialog.get_by_role("button", name="Close")).to_be_focused()
    target = dialog.locator("#transfer-targets").get_by_role("button", name="Bob (RPL-117)")
    _tab_to(alice, target)
    alice.keyboard.press("Enter")
    expect(dialog.get_by_label("IM to the chosen librarian")).to_be_focused()
    _tab_to(alice, dialog.get_by_label("Note for the receiver"))
    alice.keyboard.type("Study room booking")
    _tab_to(alice, dialog.get_by_role("button", name="Transfer", exact=True))
    alice.keyboard.press("Enter")
    expect(dialog.locator("#transfer-status")).to_contain_text("waiting for an answer")
    bob.locator("#offer-dialog").get_by_role("button", name="Decline").click()
    expect_announced(alice, "Bob declined the transfer. Dana's session stays with you.")
    alice.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(transfer_button).to_be_focused()

    # End Session.
    _tab_to(alice, alice.get_by_role("button", name="End Session"))
    alice.keyboard.press("Enter")
    expect(alice.locator("#session-readonly")).to_have_text("This chat session has ended.")
    expect(dana.locator("#ended-reason")).to_have_text("The librarian ended the chat.")

    # Chat History: the tab list by arrows, the session by Tab and Enter.
    _tab_to(alice, alice.get_by_role("tab", name="Patron Chat"), back=True)
    alice.keyboard.press("End")  # Settings
    alice.keyboard.press("ArrowLeft")  # Statistics (Live Sessions is a supervisor's)
    expect(alice.get_by_role("tab", name="Statistics")).to_be_focused()
    alice.keyboard.press("ArrowLeft")
    history_tab = alice.get_by_role("tab", name="Chat History")
    expect(history_tab).to_be_focused()
    expect(history_tab).to_have_attribute("aria-selected", "true")
    link = alice.locator("#history-root tbody tr", has_text="Dana").get_by_role("link")
    _tab_to(alice, link)
    alice.keyboard.press("Enter")
    heading = alice.locator("#history-root h2")
    expect(heading).to_contain_text("Dana")
    expect(heading).to_be_focused()
    notes = alice.locator("#history-root .line-note .line-text").all_inner_texts()
    assert "Room 2 is free on Saturday." in notes
    assert "Hello Dana, which branch?" in log_lines(alice, "#history-root")
