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
