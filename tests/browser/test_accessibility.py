"""Accessibility: axe-core on every screen and popup, focus in popups, announcements.

axe-core runs inside the page (injected from .cache/, see ``make axe``) and
must find no serious or critical violation, colour contrast included.
"""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection
from playwright.sync_api import Locator, Page, expect

from tests import talk
from tests.browser.conftest import People, expect_announced, pick_up, say
from tests.conftest import World

BLOCKING = ("serious", "critical")

# Every id an aria-* attribute names (and a label's `for`) must exist.
_BROKEN_IDREFS = """() => {
  const attrs = ["aria-describedby", "aria-labelledby", "aria-controls", "aria-owns",
                 "aria-errormessage", "aria-activedescendant", "aria-details", "aria-flowto"];
  const broken = [];
  for (const node of document.querySelectorAll("*")) {
    for (const attr of attrs) {
      for (const id of (node.getAttribute(attr) || "").split(/\\s+/).filter(Boolean)) {
        const who = node.id || node.tagName;
        if (!document.getElementById(id)) broken.push(`${who}[${attr}] -> ${id}`);
      }
    }
  }
  return broken;
}"""


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
        # axe passes an aria-describedby that names one id that exists and
        # one that doesn't; a screen reader then reads half the description.
        problems += [
            f"aria idref to a missing id: {broken}" for broken in page.evaluate(_BROKEN_IDREFS)
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
    assert dialog.evaluate(inside), "the popup has no focus"
    for key in ["Tab"] * 4 + ["Shift+Tab"] * 4:
        page.keyboard.press(key)
        assert dialog.evaluate(inside), f"focus left the popup after {key}"


def _escape_gives_focus_back(page: Page, dialog: Locator, to: Locator) -> None:
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(to).to_be_focused()


def _focus_is_somewhere(page: Page, when: str) -> None:
    """Focus didn't fall to the page's <body> (a keyboard user would start over)."""
    where = page.evaluate("() => document.activeElement?.id || document.activeElement?.tagName")
    assert where not in ("BODY", None), f"focus fell to <body> {when}"


POPUP_KEY = "Alt+Shift+N"


def test_popups_arrive_without_focus_and_the_shortcut_goes_to_them(
    world: World, people: People
) -> None:
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    bob = people.console(world.bob, monitor=["Ask Riverside"])
    dana = people.patron_asks(name="Dana", question="Where are the maps?")
    for librarian in (alice, bob):
        librarian.locator("#request-dialog").get_by_role("button", name="OK").click()
    pick_up(alice, "Dana")
    expect(alice.locator("#shortcuts")).to_contain_text(
        "Alt+Shift+N goes to it (again for the next one), Escape goes back"
    )
    composer = alice.locator("#composer-text")
    composer.press_sequentially("Half-typed")

    # New Patron Request while Alice types: it shows and is announced, and
    # her keys still go to the reply box; Enter sends her line to Dana.
    people.patron_asks(name="Erin", question="Do you lend telescopes?")
    request = alice.locator("#request-dialog")
    expect(request).to_be_visible()
    expect_announced(alice, "New request from Erin in Ask Riverside")
    expect_announced(alice, "Press Alt+Shift+N to go to it.")
    expect(composer).to_be_focused()
    alice.keyboard.type(" answer.")
    alice.keyboard.press("Enter")
    expect(dana.locator("#log")).to_contain_text("Half-typed answer.")
    expect(request).to_be_visible()  # Enter didn't answer the popup
    bob.locator("#request-dialog").get_by_role("button", name="OK").click()

    # New IM Request on top: the shortcut goes to the newest popup, then the next.
    composer.press_sequentially("Second thought")
    bob.get_by_role("tab", name="IM").click()
    bob.locator("#im-librarians").get_by_role("button", name="Alice (RPL-104)").click()
    im = alice.locator("#im-dialog")
    expect(im).to_be_visible()
    expect_announced(alice, "New IM Request from Bob (RPL-117). Press Alt+Shift+N to go to it.")
    expect(composer).to_be_focused()
    alice.keyboard.press(POPUP_KEY)
    expect(im.get_by_role("button", name="OK")).to_be_focused()
    _keeps_focus(alice, im)
    alice.keyboard.press(POPUP_KEY)
    expect(request.get_by_role("button", name="OK")).to_be_focused()
    _keeps_focus(alice, request)
    # Escape: the popup goes, and so does focus, back to the reply box, text intact.
    _escape_gives_focus_back(alice, request, composer)
    expect(composer).to_have_value("Second thought")
    expect(im).to_be_visible()
    alice.keyboard.press(POPUP_KEY)
    _escape_gives_focus_back(alice, im, composer)

    # Transfer, which Alice opens herself, is modal and takes focus.
    transfer_button = alice.get_by_role("button", name="Transfer")
    transfer_button.focus()
    alice.keyboard.press("Enter")
    transfer = alice.locator("#transfer-dialog")
    expect(transfer).to_be_visible()
    expect(transfer.get_by_role("button", name="Close")).to_be_focused()
    expect(transfer.locator("#transfer-targets button")).to_have_count(1)
    _keeps_focus(alice, transfer)
    _escape_gives_focus_back(alice, transfer, transfer_button)

    # New Transferred Chat Session while Bob types an IM: Enter sends his IM
    # and leaves the offer open; the shortcut goes to OK.
    bob_im = bob.locator("#im-text")
    bob_im.press_sequentially("Half-typed IM")
    transfer_button.click()
    transfer.locator("#transfer-targets").get_by_role("button", name="Bob (RPL-117)").click()
    transfer.get_by_role("button", name="Transfer", exact=True).click()
    offer = bob.locator("#offer-dialog")
    expect(offer).to_be_visible()
    expect_announced(bob, "New Transferred Chat Session from Alice: Dana. Press Alt+Shift+N")
    expect(bob_im).to_be_focused()
    bob.keyboard.press("Enter")
    expect(bob.locator("#im-log li.line-pending")).to_have_count(0)
    expect(bob.locator("#im-log")).to_contain_text("Half-typed IM")
    expect(transfer.locator("#transfer-status")).to_contain_text("waiting for an answer")
    bob.keyboard.press(POPUP_KEY)
    expect(offer.get_by_role("button", name="OK")).to_be_focused()
    _keeps_focus(bob, offer)
    _escape_gives_focus_back(bob, offer, bob_im)
    # Escape only put the box away: the offer is still open until it expires.
    expect(transfer.locator("#transfer-status")).to_contain_text("waiting for an answer")
    expect(dana.locator("#log")).not_to_contain_text("Bob")


def test_long_chats_pass_axe_and_their_logs_take_the_keyboard(
    world: World, people: People, axe: Axe, chat: Any
) -> None:
    def long_chat() -> Any:
        # On a thread of its own: the services publish after commit, which
        # can't run on this thread beside Playwright's event loop.
        try:
            session = chat(world.alice, name="Dana", question="Where are the maps?")
            for n in range(1, 17):
                talk.patron_says(session, f"Question {n}: and where is shelf {n}?")
                talk.librarian_says(session, world.alice, f"Answer {n}: shelf {n} is upstairs.")
            return session
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        session = pool.submit(long_chat).result()
    dana = people.page()
    dana.goto(f"/chat/{session.token}/")
    expect(dana.locator("#log li.line")).to_have_count(34)  # the question, the join, 32 lines
    axe.check(dana, "patron page, a long chat")
    alice = people.console(world.alice)
    alice.locator("#active-list").get_by_role("button", name="Dana").click()
    expect(alice.locator("#session-log li.line")).to_have_count(34)
    axe.check(alice, "Patron Chat tab, a long chat")
    axe.assert_clean()

    # Each log is a stop on the Tab path, named, and its arrow keys scroll it.
    for page, log in ((dana, "#log"), (alice, "#session-log")):
        region = page.locator(log)
        expect(region).to_have_accessible_name("Chat messages")
        region.focus()
        expect(region).to_be_focused()
        page.keyboard.press("Home")
        expect(region).to_have_js_property("scrollTop", 0)
        page.keyboard.press("End")  # keyboard scrolling is smooth: it takes a moment
        page.wait_for_function("(log) => document.querySelector(log).scrollTop > 0", arg=log)


def test_every_way_a_popup_closes_passes_axe_and_keeps_focus(
    world: World, people: People, axe: Axe
) -> None:
    world.riverside.transfer_offer_seconds = 10
    world.riverside.save()
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    bob = people.console(world.bob, monitor=["Ask Riverside"])
    people.patron_asks(name="Dana", question="Where are the maps?")
    composer = alice.locator("#composer-text")

    # New Patron Request: OK leads to the request under New.
    request = alice.locator("#request-dialog")
    expect(request).to_be_visible()
    alice.keyboard.press(POPUP_KEY)
    alice.keyboard.press("Enter")
    expect(request).to_be_hidden()
    expect(alice.locator("#new-list").get_by_role("button", name="Pick up Dana")).to_be_focused()
    axe.check(alice, "New Patron Request closed by OK")
    bob.locator("#request-dialog").get_by_role("button", name="OK").click()
    pick_up(alice, "Dana")

    # New Patron Request that goes by itself (Bob picked Erin up) while
    # Alice is in it: focus goes back to her reply box.
    people.patron_asks(name="Erin", question="Do you lend telescopes?")
    expect(request).to_be_visible()
    alice.keyboard.press(POPUP_KEY)
    expect(request.get_by_role("button", name="OK")).to_be_focused()
    bob.locator("#request-dialog").get_by_role("button", name="OK").click()
    pick_up(bob, "Erin")
    expect(request).to_be_hidden()
    expect(composer).to_be_focused()
    axe.check(alice, "New Patron Request gone: picked up by another")

    # New IM Request: OK opens the IM tab on it; Escape goes back.
    bob.get_by_role("tab", name="IM").click()
    bob.locator("#im-librarians").get_by_role("button", name="Alice (RPL-104)").click()
    im = alice.locator("#im-dialog")
    expect(im).to_be_visible()
    alice.keyboard.press(POPUP_KEY)
    alice.keyboard.press("Enter")
    expect(alice.locator("#im-text")).to_be_focused()
    axe.check(alice, "New IM Request closed by OK")
    alice.get_by_role("tab", name="Patron Chat").click()
    alice.locator("#active-list").get_by_role("button", name="Dana").click()
    expect(composer).to_be_focused()

    # Transfer dialog closed by Escape after a Decline: back to Transfer.
    transfer_button = alice.get_by_role("button", name="Transfer")
    dialog = alice.locator("#transfer-dialog")
    offer = bob.locator("#offer-dialog")

    def offer_to_bob() -> None:
        transfer_button.click()
        dialog.locator("#transfer-targets").get_by_role("button", name="Bob (RPL-117)").click()
        dialog.get_by_role("button", name="Transfer", exact=True).click()
        expect(dialog.locator("#transfer-status")).to_contain_text("waiting for an answer")
        expect(offer).to_be_visible()

    bob.get_by_role("tab", name="Patron Chat").click()
    bob.locator("#active-list").get_by_role("button", name="Erin").click()
    bob_composer = bob.locator("#composer-text")
    expect(bob_composer).to_be_focused()
    offer_to_bob()
    bob.keyboard.press(POPUP_KEY)
    bob.keyboard.press("Shift+Tab")
    expect(offer.get_by_role("button", name="Decline")).to_be_focused()
    bob.keyboard.press("Enter")
    expect(offer).to_be_hidden()
    expect(bob_composer).to_be_focused()
    axe.check(bob, "New Transferred Chat Session closed by Decline")
    expect(dialog.locator("#transfer-status")).to_have_text("")
    alice.keyboard.press("Escape")
    expect(transfer_button).to_be_focused()
    axe.check(alice, "Transfer dialog closed by Escape after a Decline")

    # The offer box put away by Escape, then gone by itself (expired).
    offer_to_bob()
    bob.keyboard.press(POPUP_KEY)
    _escape_gives_focus_back(bob, offer, bob_composer)
    expect(bob.locator("#offers-to-me")).to_be_visible()
    axe.check(bob, "New Transferred Chat Session put away, under Offers to you")
    expect(bob.locator("#offers-to-me")).to_be_hidden(timeout=15_000)
    expect(bob.locator("#toast")).to_have_text("Alice's transfer of Dana is no longer open.")
    _focus_is_somewhere(bob, "after an offer expired")
    dialog.get_by_role("button", name="Close").click()
    expect(transfer_button).to_be_focused()

    # OK: Bob has the session; Alice's Transfer dialog, closed after the
    # session moved, gives focus to the session's heading, not to <body>.
    offer_to_bob()
    bob.keyboard.press(POPUP_KEY)
    bob.keyboard.press("Enter")
    expect(bob.locator("#session-title")).to_have_text("Dana")
    expect(bob_composer).to_be_focused()
    axe.check(bob, "New Transferred Chat Session closed by OK")
    expect(dialog.locator("#transfer-status")).to_have_text("Bob took the session.")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    expect(alice.locator("#session-title")).to_be_focused()
    axe.check(alice, "Transfer dialog closed after the session moved")

    # Returned to the queue: Escape, and again the heading has focus.
    bob_transfer = bob.get_by_role("button", name="Transfer")
    bob_transfer.click()
    bob_dialog = bob.locator("#transfer-dialog")
    bob_dialog.locator("#transfer-queue-target").click()
    bob_dialog.get_by_role("button", name="Transfer", exact=True).click()
    expect(bob_dialog.locator("#transfer-status")).to_contain_text("Returned to the queue")
    bob.keyboard.press("Escape")
    expect(bob_dialog).to_be_hidden()
    expect(bob.locator("#session-title")).to_be_focused()
    axe.check(bob, "Transfer dialog closed after a return to the queue")
    axe.assert_clean()
