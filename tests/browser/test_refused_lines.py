"""A line the server refuses never blocks the ones after it (issue 14, points 4 and 6).

A line of nothing but control characters used to kill the socket on
PostgreSQL (and be stored as it was on SQLite); the page sent it again on
every reconnect and every later line stayed "sending…". Refused for good, a
line now stays in the log marked "not sent" with the reason, and the next
line is delivered. A line refused only for now (``too_fast``: more than the
socket's burst at once) goes back into the box with the message, and leaves
the log; none is lost.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import People, log_lines, pick_up, say
from tests.browser.test_accessibility import Axe
from tests.conftest import World

EMPTY = "A message can't be empty."
TOO_FAST = "You are sending too fast. Wait a moment and send it again."


@pytest.fixture(name="axe")
def _axe(axe_source: str) -> Axe:
    return Axe(axe_source)


def _type_raw(page: Page, box: str, text: str) -> None:
    """Put ``text`` (control characters and all, as a paste would) in ``box`` and press Enter."""
    page.locator(box).evaluate("(box, text) => { box.value = text; }", text)
    page.locator(box).press("Enter")


def test_a_refused_line_shows_not_sent_and_the_next_one_is_delivered(
    world: World, people: People, axe: Axe
) -> None:
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    dana = people.patron_asks(name="Dana")
    alice.locator("#request-dialog").get_by_role("button", name="OK").click()
    pick_up(alice, "Dana")

    _type_raw(dana, "#message", "\x00\x00")
    failed = dana.locator("#log li.line-failed")
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text(f"Not sent: {EMPTY}")
    expect(failed.locator("time")).to_have_text("not sent")
    expect(dana.locator("#composer-error")).to_have_text(EMPTY)
    say(dana, "Is the Riverside branch open on Sunday?")
    expect(alice.locator("#session-log")).to_contain_text("open on Sunday?")
    expect(dana.locator("#log li.line-pending")).to_have_count(0)
    axe.check(dana, "patron page, a line not sent")

    _type_raw(alice, "#composer-text", "\x07")
    expect(alice.locator("#session-log li.line-failed")).to_contain_text(f"Not sent: {EMPTY}")
    say(alice, "Yes, from 1 to 5 pm.")
    expect(dana.locator("#log")).to_contain_text("Yes, from 1 to 5 pm.")
    expect(alice.locator("#session-log li.line-pending")).to_have_count(0)
    axe.check(alice, "Patron Chat, a line not sent")

    # Nothing sends the refused lines again when the socket comes back.
    dana.context.set_offline(True)
    expect(dana.locator("#connection")).to_have_text("Reconnecting…")
    dana.context.set_offline(False)
    expect(dana.locator("#connection")).to_have_text("")
    expect(dana.locator("#log li.line-failed")).to_have_count(1)
    say(dana, "Thanks!")
    expect(alice.locator("#session-log")).to_contain_text("Thanks!")
    axe.assert_clean()


def test_a_line_sent_too_fast_goes_back_into_the_box_and_none_is_lost(
    world: World, people: People
) -> None:
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    dana = people.patron_asks(name="Dana", question="Hello?")
    alice.locator("#request-dialog").get_by_role("button", name="OK").click()
    pick_up(alice, "Dana")

    # 30 lines at once (a script, or a key held down): more than the burst of 20.
    sent = [f"Line {n}" for n in range(30)]
    dana.locator("#message").evaluate(
        """(box, lines) => {
          for (const line of lines) {
            box.value = line;
            box.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
          }
        }""",
        sent,
    )
    expect(dana.locator("#composer-error")).to_have_text(TOO_FAST)
    expect(dana.locator("#message")).to_have_value(re.compile(r"Line \d+"))
    in_box = dana.locator("#message").input_value()
    expect(dana.locator("#log li.line-pending")).to_have_count(0)
    not_sent = dana.locator("#log li.line-failed .line-text").all_inner_texts()
    delivered = [text for text in log_lines(dana, "#log") if text.startswith("Line ")]
    delivered = [text for text in delivered if text not in not_sent]
    # The first lines went through, in order; the one in the box left the log.
    assert delivered == sent[: len(delivered)] and len(delivered) >= 20
    assert in_box not in delivered and in_box not in not_sent
    assert sorted([*delivered, in_box, *not_sent]) == sorted(sent)
    expect(dana.locator("#log li.line-failed")).to_have_count(len(not_sent))
    for failed in dana.locator("#log li.line-failed").all():
        expect(failed).to_contain_text(f"Not sent: {TOO_FAST}")
    expect(alice.locator("#session-log")).to_contain_text(delivered[-1])
    assert in_box not in alice.locator("#session-log").inner_text()

    # A moment later the line in the box goes as it is.
    dana.wait_for_timeout(1000)
    dana.locator("#message").press("Enter")
    expect(alice.locator("#session-log")).to_contain_text(in_box)
    expect(dana.locator("#message")).to_have_value("")


def test_the_console_keeps_a_refused_im_and_too_fast_lines_through_a_reconnect(
    world: World, people: People
) -> None:
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    bob = people.console(world.bob, monitor=["Ask Riverside"])
    dana = people.patron_asks(name="Dana", question="Hello?")
    for console in (alice, bob):
        console.locator("#request-dialog").get_by_role("button", name="OK").click()
    pick_up(alice, "Dana")

    # An IM of nothing but control characters: not sent, and the next one goes.
    alice.get_by_role("tab", name="IM").click()
    alice.locator("#im-librarians").get_by_role("button", name="Bob (RPL-117)").click()
    expect(alice.locator("#im-title")).to_have_text("IM with Bob (RPL-117)")
    bob.locator("#im-dialog").get_by_role("button", name="OK").click()
    _type_raw(alice, "#im-text", "\x00")
    expect(alice.locator("#im-log li.line-failed")).to_contain_text(f"Not sent: {EMPTY}")
    expect(alice.locator("#im-error")).to_have_text(EMPTY)
    alice.locator("#im-text").fill("Are you free at noon?")
    alice.locator("#im-text").press("Enter")
    expect(bob.locator("#im-log")).to_contain_text("Are you free at noon?")

    # Lines to Dana faster than the burst: one back in the box, the rest not sent.
    alice.get_by_role("tab", name="Patron Chat").click()
    sent = [f"Line {n}" for n in range(30)]
    alice.locator("#composer-text").evaluate(
        """(box, lines) => {
          for (const line of lines) {
            box.value = line;
            box.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
          }
        }""",
        sent,
    )
    expect(alice.locator("#composer-error")).to_have_text(TOO_FAST)
    expect(alice.locator("#composer-text")).to_have_value(re.compile(r"Line \d+"))
    in_box = alice.locator("#composer-text").input_value()
    expect(alice.locator("#session-log li.line-pending")).to_have_count(0)
    not_sent = alice.locator("#session-log li.line-failed .line-text").all_inner_texts()
    assert not_sent and in_box not in not_sent

    # The console reconnects and draws the session again: the lines not sent
    # are still shown, and nothing sends them.
    alice.context.set_offline(True)
    expect(alice.locator("#connection")).to_have_text("Reconnecting…")
    alice.context.set_offline(False)
    expect(alice.locator("#connection")).to_have_text("Connected")
    expect(alice.locator("#session-log li.line-failed")).to_have_count(len(not_sent))
    say(alice, "That was too much at once, sorry.")
    expect(dana.locator("#log")).to_contain_text("That was too much at once, sorry.")
    patron_sees = dana.locator("#log").inner_text()
    assert not any(f"{text}\n" in f"{patron_sees}\n" for text in [in_box, *not_sent])
