"""Log out in one tab: every other console of that login says so, with the way back.

The other tab's socket closes with 4403 (no endless "Reconnecting…"); the
page says "Your session has ended. Please log in again." with a link to
log in, announced, and keyboard-reachable (the focus moves to it: nobody
is typing). The socket side: tests/console/test_access.py.
"""

from playwright.sync_api import expect

from tests.browser.conftest import People, expect_announced
from tests.browser.test_accessibility import Axe
from tests.conftest import World


def test_logging_out_in_one_tab_ends_the_console_in_the_other(
    world: World, people: People, axe_source: str
):
    axe = Axe(axe_source)
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    other_tab = alice.context.new_page()
    other_tab.goto("/console/")
    expect(other_tab.locator("#connection")).to_have_text("Connected")

    other_tab.get_by_role("button", name="Log out").click()
    other_tab.wait_for_url("**/login/")

    ended = alice.get_by_role("dialog", name="Logged out")
    expect(ended).to_contain_text("Your session has ended. Please log in again.")
    expect_announced(alice, "Your session has ended. Please log in again.")
    link = ended.get_by_role("link", name="Log in")
    expect(link).to_be_focused()
    axe.check(alice, "the console after its login ended")
    axe.assert_clean()
    expect(alice.locator("#connection")).to_have_text("Disconnected")
    # It stays so: no retry in the background.
    alice.wait_for_timeout(2000)
    expect(alice.locator("#connection")).to_have_text("Disconnected")

    alice.keyboard.press("Enter")
    alice.wait_for_url("**/login/?next=%2Fconsole%2F")
    expect(alice.get_by_role("button", name="Log in")).to_be_visible()
