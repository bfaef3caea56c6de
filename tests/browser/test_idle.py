"""The idle log-out of staff pages and its warning (WCAG 2.2.1).

The server here logs a librarian out after 22 s without activity and warns
20 s before (STAFF_IDLE_SECONDS, STAFF_IDLE_WARNING_SECONDS), so the
warning comes 2 s after the last key or click. It is announced; with no
text box focused it takes the focus to "Stay logged in"; while the
librarian's cursor is in the reply box it opens beside the page and the
keys typed go to the reply, keeping the login. Nobody there: logged out,
by the server.
"""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import People, expect_announced
from tests.browser.test_accessibility import Axe
from tests.conftest import World
from tests.helpers import logged_in
from tests.sockets import rings_dropped


@pytest.fixture
def server_env() -> dict[str, str]:
    return {"STAFF_IDLE_SECONDS": "22", "STAFF_IDLE_WARNING_SECONDS": "20"}


def seconds_left(page: Page) -> Any:
    """What the server says of the page's login (asking is no activity)."""
    return page.evaluate(
        "() => fetch('/idle/').then(async (r) => [r.status, (await r.json()).seconds_left])"
    )


def test_the_console_warns_before_an_idle_log_out_and_the_librarian_stays(
    world: World, people: People, chat: Any, axe_source: str
):
    axe = Axe(axe_source)
    with rings_dropped():  # made here, heard by no socket: the console's snapshot shows it
        chat(world.alice, name="Eli")
    alice = people.console(world.alice)

    warning = alice.get_by_role("dialog", name="Are you still there?")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("you will be logged out in")
    expect_announced(alice, "You will be logged out in")
    stay = warning.get_by_role("button", name="Stay logged in")
    expect(stay).to_be_focused()
    axe.check(alice, "the idle warning")
    axe.assert_clean()
    alice.keyboard.press("Enter")
    expect(warning).to_be_hidden()
    status, left = seconds_left(alice)
    assert status == 200 and left > 15

    # In the reply box, the warning takes no keystroke: typing on is staying.
    alice.locator("#active-list").get_by_role("button").first.click()
    box = alice.locator("#composer-text")
    box.click()
    expect(warning).to_be_visible()
    expect(box).to_be_focused()
    box.press_sequentially("Still here")
    expect(warning).to_be_hidden()
    expect(box).to_have_value("Still here")

    # Gone: after the warning's 20 s the server has logged her out.
    expect(warning).to_be_visible()
    ended = alice.get_by_role("dialog", name="Logged out")
    expect(ended).to_contain_text("Your session has ended. Please log in again.", timeout=30_000)
    expect(ended.get_by_role("link", name="Log in")).to_be_visible()
    assert seconds_left(alice)[0] == 401
    expect(alice.locator("#connection")).to_have_text("Disconnected", timeout=15_000)


def test_the_admin_warns_too(world: World, people: People):
    page = people.page()
    client = logged_in(world.supervisor)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value,
          "url": people.server.url}]
    )  # fmt: skip
    page.goto("/admin/")
    warning = page.get_by_role("dialog", name="Are you still there?")
    expect(warning).to_be_visible()
    warning.get_by_role("button", name="Stay logged in").click()
    expect(warning).to_be_hidden()
    assert seconds_left(page)[1] > 15
