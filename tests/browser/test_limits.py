"""Limits a person meets: a librarian blocks an abusive patron; the chat form says no.

Block: the confirm dialog with its reason, by keyboard, axe-clean; the
patron's page reads only that the librarian ended the chat, with no
transcript form; the same patron can't ask again. The chat form over
``ASK_LIMIT_PER_HOUR`` says so and keeps what was typed.
"""

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import People, pick_up, say, screenshot
from tests.browser.test_accessibility import Axe
from tests.conftest import World

BLOCKED = "You can't start a new chat from this connection right now."


@pytest.fixture
def axe(axe_source: str) -> Axe:
    return Axe(axe_source)


def test_a_librarian_blocks_an_abusive_patron(world: World, people: People, axe: Axe) -> None:
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    troll = people.patron_asks(name="Troll", question="You are all useless")
    alice.locator("#request-dialog").get_by_role("button", name="OK").click()
    pick_up(alice, "Troll")
    say(troll, "Useless, useless, useless")
    expect(alice.locator("#session-log")).to_contain_text("Useless, useless, useless")

    block = alice.get_by_role("button", name="Block", exact=True)
    block.click()
    dialog = alice.locator("#block-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("The chat with Troll ends")
    expect(alice.locator("#block-reason")).to_be_focused()
    axe.check(alice, "Block dialog")

    # Escape changes nothing, and gives the focus back to Block.
    alice.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(block).to_be_focused()

    block.press("Enter")
    expect(alice.locator("#block-reason")).to_be_focused()
    alice.keyboard.press("Tab")
    alice.keyboard.press("Tab")
    expect(alice.locator("#block-confirm")).to_be_focused()
    alice.keyboard.press("Enter")  # no reason yet
    expect(alice.locator("#block-error")).to_have_text(
        "Please say why you are blocking this patron."
    )
    axe.check(alice, "Block dialog with its error")
    screenshot(alice, "console-block-dialog")
    alice.locator("#block-reason").fill("Abusive language")
    alice.locator("#block-reason").press("Tab")
    alice.keyboard.press("Tab")
    alice.keyboard.press("Enter")

    expect(dialog).to_be_hidden()
    expect(alice.locator("#toast")).to_contain_text("Troll is blocked from new chats until")
    expect(alice.locator("#session-readonly")).to_have_text("This chat session has ended.")
    expect(alice.locator("#session-title")).to_be_focused()
    expect(alice.locator("#session-log")).to_contain_text("Alice blocked this patron")
    axe.check(alice, "Patron Chat after a block")

    expect(troll.locator("#ended-reason")).to_have_text("The librarian ended the chat.")
    expect(troll.locator("#transcript-form")).to_be_hidden()
    expect(troll.locator("body")).not_to_contain_text("Abusive language")
    expect(troll.locator("body")).not_to_contain_text("blocked")

    # The same patron (the same connection) asks again: refused, nothing stored.
    troll.goto("/ask/riverside/")
    troll.get_by_label("Screen name").fill("Troll")
    troll.get_by_label("Your question").fill("Let me back in")
    troll.get_by_role("button", name="Ask").click()
    expect(troll.get_by_role("alert")).to_contain_text(BLOCKED)
    expect(troll.get_by_label("Your question")).to_have_value("Let me back in")
    axe.check(troll, "chat form, blocked")
    axe.assert_clean()


@pytest.fixture
def one_request_an_hour(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The server (started after this) takes one chat request per address per hour."""
    monkeypatch.setenv("ASK_LIMIT_PER_HOUR", "1")
    yield


def test_the_chat_form_refuses_a_second_request_within_the_hour(
    one_request_an_hour: None, world: World, people: People, axe: Axe
) -> None:
    # Someone is on: with nobody on, the chat form is "Leave a question".
    people.console(world.alice, monitor=["Ask Riverside"])
    people.patron_asks(name="Dana", question="First question")
    again = people.page()
    again.goto("/ask/riverside/")
    again.get_by_label("Screen name").fill("Dana")
    again.get_by_label("Your question").fill("Second question")
    again.get_by_role("button", name="Ask").click()
    expect(again.get_by_role("alert")).to_contain_text(
        "Too many chat requests have come from your connection in the last hour."
    )
    expect(again.get_by_label("Your question")).to_have_value("Second question")
    expect(again).to_have_url(re.compile(r"/ask/riverside/$"))
    axe.check(again, "chat form, too many requests")
    axe.assert_clean()
