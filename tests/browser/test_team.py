"""Join and watch in the browser: Bob joins Alice's chat at her invitation and
leaves it; Sam, a supervisor, watches it unseen by the patron and takes it over."""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.db import connection
from playwright.sync_api import Page, expect

from accounts.models import Librarian
from queues.models import Membership, Queue
from tests.browser.conftest import People, log_lines, pick_up, say, screenshot
from tests.browser.test_accessibility import Axe
from tests.conftest import World

QUESTION = "I need 1900s census records for Riverside County."


def _chatting(people: People, world: World) -> tuple[Page, Page]:
    """Alice holds Dana's session with Dana on the chat page."""
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    dana = people.patron_asks(name="Dana", question=QUESTION)
    alice.locator("#request-dialog").get_by_role("button", name="OK").click()
    pick_up(alice, "Dana")
    say(alice, "Let me ask a colleague who knows the census.")
    expect(dana.locator("#log")).to_contain_text("a colleague who knows the census")
    return alice, dana


def test_bob_joins_writes_to_the_patron_and_leaves(
    world: World, people: People, axe_source: str
) -> None:
    axe = Axe(axe_source)
    alice, dana = _chatting(people, world)
    bob = people.console(world.bob, monitor=["Ask Riverside"])

    alice.get_by_role("button", name="Invite to Join").click()
    dialog = alice.locator("#transfer-dialog")
    expect(dialog.get_by_role("heading", name="Invite to Join")).to_be_visible()
    # No return to the queue here: the session stays Alice's.
    expect(dialog.locator("#transfer-queue-target")).to_be_hidden()
    dialog.locator("#transfer-targets").get_by_role("button", name="Bob (RPL-117)").click()
    dialog.get_by_label("Note for the receiver").fill("Census help")
    axe.check(alice, "the Invite to Join dialog")
    dialog.get_by_role("button", name="Invite", exact=True).click()
    expect(dialog.locator("#transfer-status")).to_contain_text(
        "Invitation to join sent to Bob: waiting for an answer"
    )

    offer = bob.locator("#offer-dialog")
    expect(offer).to_be_visible()
    expect(offer.get_by_role("heading")).to_have_text("Invitation to Join a Chat Session")
    expect(offer).to_contain_text("Alice (RPL-104) invites you to join a chat with a patron.")
    axe.check(bob, "an invitation to join")
    offer.get_by_role("button", name="OK").click()

    expect(dialog.locator("#transfer-status")).to_have_text(
        "Bob joined the chat. Close this dialog."
    )
    dialog.get_by_role("button", name="Close").click()
    expect(dana.locator("#log")).to_contain_text("Bob has joined the chat.")
    # Bob's pane: the chat with every line so far, the composer, no Transfer or End Session.
    expect(bob.locator("#session-title")).to_have_text("Dana")
    expect(bob.locator("#active-list")).to_contain_text("joined")
    expect(bob.locator("#session-team")).to_contain_text("You joined Alice's chat with Dana")
    expect(bob.locator("#session-log")).to_contain_text("a colleague who knows the census")
    for name in ("Transfer", "End Session", "Invite to Join", "Block"):
        expect(bob.get_by_role("button", name=name, exact=True)).to_be_hidden()
    expect(alice.locator("#session-team")).to_have_text("Also in this chat: Bob (joined).")

    say(bob, "The 1900 census is on the county reel, I can show you.")
    # The patron sees who wrote each line.
    line = dana.locator("#log li.line-librarian").filter(has_text="county reel")
    expect(line.locator(".line-author")).to_have_text("Bob")
    expect(alice.locator("#session-log")).to_contain_text("county reel")
    bob.locator("#composer-note").check()
    say(bob, "She has been here before; prefers microfilm.")
    expect(alice.locator("#session-log")).to_contain_text("prefers microfilm")
    say(alice, "Thanks Bob!")
    expect(bob.locator("#session-log")).to_contain_text("Thanks Bob!")
    screenshot(bob, "console-joined")
    axe.check(bob, "a joined chat")
    assert "prefers microfilm" not in " ".join(log_lines(dana, "#log"))

    bob.get_by_role("button", name="Leave Session").click()
    expect(dana.locator("#log")).to_contain_text("Bob has left the chat.")
    expect(bob.locator("#session-readonly")).to_have_text(
        "You left this session. It is read-only for you now."
    )
    expect(alice.locator("#session-team")).to_be_empty()
    axe.assert_clean()


def test_a_supervisor_watches_unseen_and_takes_over(
    world: World, people: People, axe_source: str
) -> None:
    axe = Axe(axe_source)
    sam = Librarian.objects.create(
        user_id=world.supervisor.pk, library=world.riverside_library, display_name="Sam",
        staff_id="RPL-001",
    )  # fmt: skip
    Membership.objects.create(librarian=sam, queue=world.riverside)
    # Wes's request is past "waiting too long" at once: the supervisor sees it marked.
    Queue.objects.filter(pk=world.riverside.pk).update(waiting_alert_seconds=1)
    alice, dana = _chatting(people, world)
    waiting = people.patron_asks(name="Wes", question="Is the library open on Sunday?")
    sam_page = people.console(sam)

    sam_page.get_by_role("tab", name="Live Sessions").click()
    table = sam_page.locator("#live-table")
    expect(table.get_by_role("row", name="Dana")).to_contain_text("Chatting with Alice")
    expect(table.get_by_role("row", name="Wes")).to_contain_text("Waiting")
    expect(table.get_by_role("row", name="Wes")).to_contain_text("waiting too long", timeout=8000)
    expect(sam_page.locator("#live-badge")).to_have_text("1 waiting too long")
    axe.check(sam_page, "the Live Sessions tab")
    screenshot(sam_page, "console-live-sessions")
    table.get_by_role("button", name="Watch Dana's chat with Alice").click()

    expect(sam_page.locator("#session-title")).to_have_text("Dana")
    expect(sam_page.locator("#session-team")).to_contain_text(
        "You are watching Alice's chat with Dana. The patron is not told"
    )
    expect(sam_page.locator("#composer")).to_be_hidden()
    expect(sam_page.get_by_role("button", name="End Session")).to_be_hidden()
    say(alice, "Here is the census index.")
    expect(sam_page.locator("#session-log")).to_contain_text("Here is the census index.")
    # Recorded in the session's history for staff; the patron is never told.
    expect(alice.locator("#session-log")).to_contain_text("Sam started watching.")
    expect(dana.locator("#log")).to_contain_text("Here is the census index.")
    expect(dana.locator("#log")).not_to_contain_text("Sam")
    axe.check(sam_page, "watching a chat")
    screenshot(sam_page, "console-watching")

    sam_page.get_by_role("button", name="Take Over").click()
    expect(sam_page.locator("#composer")).to_be_visible()
    expect(dana.locator("#log")).to_contain_text("Alice has passed your question to Sam.")
    expect(alice.locator("#session-readonly")).to_have_text(
        "Sam took this session. It is read-only for you now."
    )
    say(sam_page, "Hello Dana, I'm Sam; I'll help you from here.")
    expect(dana.locator("#log")).to_contain_text("I'll help you from here.")
    assert waiting.locator("#log").count() == 1
    axe.assert_clean()


def test_live_sessions_by_keyboard_alone_with_a_long_list(
    world: World, people: People, axe_source: str, chat: Any, ask: Any, no_maximum: None
) -> None:
    axe = Axe(axe_source)
    sam = Librarian.objects.create(
        user_id=world.supervisor.pk, library=world.riverside_library, display_name="Sam",
        staff_id="RPL-001",
    )  # fmt: skip

    def busy_morning() -> None:
        # On a thread of its own: the services publish after commit, which
        # can't run on this thread beside Playwright's event loop.
        try:
            for n in range(12):
                chat(world.alice, name=f"Patron {n:02d}", question="Where are the maps?")
            for n in range(18):
                ask(name=f"A patron with a very long screen name, number {n:02d}",
                    question="Looking for " + "old county maps, " * 20)  # fmt: skip
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(busy_morning).result()
    page = people.console(sam)

    # The tab list: End, then the arrow keys, reach Live Sessions (hidden for others).
    page.locator("#tab-chat").focus()
    page.keyboard.press("End")
    expect(page.locator("#tab-settings")).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#tab-live")).to_be_focused()
    expect(page.locator("#tab-live")).to_have_attribute("aria-selected", "true")
    rows = page.locator("#live-list tr")
    expect(rows).to_have_count(30)
    axe.check(page, "the Live Sessions tab, a long list")

    # Tab goes on into the list, to the first Watch; the waits ticking leave it there.
    page.keyboard.press("Tab")
    first = page.get_by_role("button", name="Watch Patron 00's chat with Alice")
    expect(first).to_be_focused()
    page.wait_for_timeout(2500)
    expect(first).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Watch Patron 01's chat with Alice")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#session-title")).to_have_text("Patron 01")
    expect(page.locator("#session-team")).to_contain_text("You are watching Alice's chat")
    axe.check(page, "watching a chat, reached by keyboard")
    axe.assert_clean()
