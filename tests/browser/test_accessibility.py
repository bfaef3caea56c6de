"""Accessibility: axe-core on every screen and popup, focus in popups, announcements.

axe-core runs inside the page (injected from .cache/, see ``make axe``) and
must find no serious or critical violation, colour contrast included.
"""

from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import People, pick_up, say
from tests.conftest import World

BLOCKING = ("serious", "critical")


class Axe:
    """Runs axe-core in a page and keeps what it found, per screen."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.found: dict[str, list[str]] = {}

    def check(self, page: Page, screen: str) -> None:
        if not page.evaluate("() => Boolean(window.axe)"):
            # Evaluated, not added as an inline <script>, which the pages'
            # Content-Security-Policy refuses (as it should).
            page.evaluate(self.source)
        results: dict[str, Any] = page.evaluate(
            "() => axe.run(document, {resultTypes: ['violations']})"
        )
        problems = [
            f"{v['id']} ({v['impact']}): {v['help']} at "
            + ", ".join(" ".join(node["target"]) for node in v["nodes"][:5])
            for v in results["violations"]
            if v["impact"] in BLOCKING
        ]
        if problems:
            self.found[screen] = problems

    def assert_clean(self) -> None:
        report = "\n".join(
            f"{screen}:\n  " + "\n  ".join(problems) for screen, problems in self.found.items()
        )
        assert not self.found, f"axe-core found serious or critical violations:\n{report}"


@pytest.fixture
def axe(axe_source: str) -> Axe:
    return Axe(axe_source)


def test_patron_pages_pass_axe(world: World, people: People, axe: Axe) -> None:
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    dana = people.page()
    dana.goto("/ask/")
    axe.check(dana, "list of chat services")
    dana.goto("/ask/riverside/")
    dana.get_by_role("button", name="Ask").click()  # empty: the errors show
    expect(dana.locator(".field-invalid").first).to_be_visible()
    axe.check(dana, "chat form with errors")
    dana.get_by_label("Screen name").fill("Dana")
    dana.get_by_label("Your question").fill("Where are the maps?")
    dana.get_by_role("button", name="Ask").click()
    expect(dana.locator("#waiting-panel")).to_be_visible()
    axe.check(dana, "patron page, waiting")

    alice.locator("#request-dialog").get_by_role("button", name="OK").click()
    pick_up(alice, "Dana")
    say(alice, "The maps are on the second floor.")
    expect(dana.locator("#log")).to_contain_text("second floor")
    axe.check(dana, "patron page, chatting")
    dana.context.set_offline(True)
    expect(dana.locator("#connection")).to_have_text("Reconnecting…")
    say(dana, "Thanks, I'll go up.")  # waits in the page, marked "sending…"
    expect(dana.locator("#log .line-pending")).to_have_count(1)
    axe.check(dana, "patron page, reconnecting, a line waiting")
    dana.context.set_offline(False)
    expect(dana.locator("#connection")).to_have_text("")
    expect(alice.locator("#session-log")).to_contain_text("I'll go up.")
    dana.get_by_role("button", name="End Session").click()
    expect(dana.locator("#transcript-form")).to_be_visible()
    axe.check(dana, "patron page, ended")
    axe.assert_clean()


def test_console_tabs_and_popups_pass_axe(world: World, people: People, axe: Axe) -> None:
    login = people.page()
    login.goto("/login/")
    axe.check(login, "log-in page")

    bob = people.console(world.bob, monitor=["Ask Riverside"])
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    dana = people.patron_asks(name="Dana", question="Where are the maps?")

    expect(alice.locator("#request-dialog")).to_be_visible()
    axe.check(alice, "New Patron Request popup")
    alice.locator("#request-dialog").get_by_role("button", name="OK").click()
    bob.locator("#request-dialog").get_by_role("button", name="OK").click()
    axe.check(alice, "Patron Chat tab, a request under New")
    pick_up(alice, "Dana")
    say(alice, "The maps are on the second floor.")
    alice.get_by_label("Note", exact=True).check()
    say(alice, "Asked about maps before.")
    expect(dana.locator("#log")).to_contain_text("second floor")
    expect(alice.locator("#session-log .line-note")).to_be_visible()
    axe.check(alice, "Patron Chat tab, chatting")

    for tab in ("Librarians", "IM", "Chat History", "Settings"):
        alice.get_by_role("tab", name=tab).click()
        expect(alice.get_by_role("tabpanel")).to_be_visible()
        alice.wait_for_load_state("networkidle")  # Chat History and past IMs load by fetch
        axe.check(alice, f"{tab} tab")

    alice.get_by_role("tab", name="IM").click()
    alice.locator("#im-librarians").get_by_role("button", name="Bob (RPL-117)").click()
    expect(bob.locator("#im-dialog")).to_be_visible()
    axe.check(bob, "New IM Request popup")
    bob.locator("#im-dialog").get_by_role("button", name="OK").click()
    bob.locator("#im-text").fill("Hello Alice")
    bob.locator("#im-text").press("Enter")
    expect(alice.locator("#im-log")).to_contain_text("Hello Alice")
    axe.check(alice, "IM tab, chatting")

    alice.get_by_role("tab", name="Patron Chat").click()
    alice.get_by_role("button", name="Transfer").click()
    dialog = alice.locator("#transfer-dialog")
    dialog.locator("#transfer-targets").get_by_role("button", name="Bob (RPL-117)").click()
    expect(dialog.locator("#transfer-im-form")).to_be_visible()
    axe.check(alice, "Transfer dialog")
    dialog.get_by_role("button", name="Transfer", exact=True).click()
    expect(dialog.locator("#transfer-status")).to_contain_text("waiting for an answer")
    axe.check(alice, "Transfer dialog, offer sent")
    expect(bob.locator("#offer-dialog")).to_be_visible()
    axe.check(bob, "New Transferred Chat Session box")
    bob.locator("#offer-dialog").get_by_role("button", name="OK").click()
    expect(dialog.locator("#transfer-status")).to_have_text("Bob took the session.")
    dialog.get_by_role("button", name="Close").click()
    expect(alice.locator("#toast")).to_be_visible()
    axe.check(alice, "Patron Chat tab, session transferred away, a toast")
    axe.check(bob, "Patron Chat tab, session transferred in")

    bob.get_by_role("button", name="End Session").click()
    expect(dana.locator("#ended-panel")).to_be_visible()
    alice.get_by_role("tab", name="Chat History").click()
    alice.locator("#history-root tbody tr").first.get_by_role("link").click()
    expect(alice.locator("#history-root .line-note").first).to_be_visible()
    axe.check(alice, "Chat History, a session with notes")
    axe.assert_clean()


def _keeps_focus(page: Page, dialog: Locator) -> None:
    """The popup has focus, and Tab and Shift+Tab never take it out."""
    inside = "(d) => d.open && d.contains(document.activeElement)"
    assert dialog.evaluate(inside), "the popup took focus"
    for key in ["Tab"] * 4 + ["Shift+Tab"] * 4:
        page.keyboard.press(key)
        assert dialog.evaluate(inside), f"focus left the popup after {key}"


def _escape_gives_focus_back(page: Page, dialog: Locator, to: Locator) -> None:
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(to).to_be_focused()


def test_popups_take_keep_and_give_back_focus(world: World, people: People) -> None:
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    bob = people.console(world.bob, monitor=["Ask Riverside"])
    dana = people.patron_asks(name="Dana", question="Where are the maps?")
    for librarian in (alice, bob):
        librarian.locator("#request-dialog").get_by_role("button", name="OK").click()
    pick_up(alice, "Dana")
    composer = alice.locator("#composer-text")
    composer.fill("Half-typed answer")

    # New Patron Request, while Alice is typing.
    people.patron_asks(name="Erin", question="Do you lend telescopes?")
    request = alice.locator("#request-dialog")
    expect(request).to_be_visible()
    expect(request.get_by_role("button", name="OK")).to_be_focused()
    _keeps_focus(alice, request)
    _escape_gives_focus_back(alice, request, composer)
    expect(composer).to_have_value("Half-typed answer")
    bob.locator("#request-dialog").get_by_role("button", name="OK").click()

    # New IM Request, while Alice is typing.
    bob.get_by_role("tab", name="IM").click()
    bob.locator("#im-librarians").get_by_role("button", name="Alice (RPL-104)").click()
    im = alice.locator("#im-dialog")
    expect(im).to_be_visible()
    expect(im.get_by_role("button", name="OK")).to_be_focused()
    _keeps_focus(alice, im)
    _escape_gives_focus_back(alice, im, composer)

    # Transfer, opened from its button by keyboard.
    transfer_button = alice.get_by_role("button", name="Transfer")
    transfer_button.focus()
    alice.keyboard.press("Enter")
    transfer = alice.locator("#transfer-dialog")
    expect(transfer).to_be_visible()
    expect(transfer.get_by_role("button", name="Close")).to_be_focused()
    expect(transfer.locator("#transfer-targets button")).to_have_count(1)
    _keeps_focus(alice, transfer)
    _escape_gives_focus_back(alice, transfer, transfer_button)

    # New Transferred Chat Session, while Bob is typing an IM.
    bob_im = bob.locator("#im-text")
    bob_im.fill("Half-typed IM")
    transfer_button.click()
    transfer.locator("#transfer-targets").get_by_role("button", name="Bob (RPL-117)").click()
    transfer.get_by_role("button", name="Transfer", exact=True).click()
    offer = bob.locator("#offer-dialog")
    expect(offer).to_be_visible()
    expect(offer.get_by_role("button", name="OK")).to_be_focused()
    _keeps_focus(bob, offer)
    _escape_gives_focus_back(bob, offer, bob_im)
    expect(bob_im).to_have_value("Half-typed IM")
    # Escape only put the box away: the offer is still open until it expires.
    expect(transfer.locator("#transfer-status")).to_contain_text("waiting for an answer")
    expect(dana.locator("#log")).not_to_contain_text("Bob")
