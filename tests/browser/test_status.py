"""Available, Busy, Away and the maximum, as librarians see them in the console."""

from playwright.sync_api import expect

from accounts.models import Librarian
from tests.browser.conftest import People, pick_up, screenshot
from tests.browser.test_accessibility import Axe
from tests.conftest import World

RIVERSIDE = "Ask Riverside"


def test_away_brings_no_popup_busy_shows_to_colleagues_and_the_maximum_refuses(
    world: World, people: People, axe_source: str
) -> None:
    axe = Axe(axe_source)
    Librarian.objects.filter(pk=world.bob.pk).update(max_sessions=1)
    alice = people.console(world.alice, monitor=[RIVERSIDE])
    bob = people.console(world.bob, monitor=[RIVERSIDE])

    # Alice goes Away: Bob's Librarians tab says so; her next request
    # comes into New without a popup, while Bob gets his.
    alice.get_by_label("Status").select_option("away")
    bob.get_by_role("tab", name="Librarians").click()
    alice_row = bob.locator("#librarians-body tr", has_text="Alice")
    expect(alice_row.locator("td").nth(4)).to_have_text("Away")
    people.patron_asks(name="Dana")
    expect(bob.locator("#request-dialog")).to_be_visible()
    expect(alice.locator("#new-list")).to_contain_text("Dana")
    expect(alice.locator("#request-dialog")).to_be_hidden()
    axe.check(alice, "console, Away")

    # Bob picks up: at his maximum of one he shows as Busy, and his next
    # pick-up is refused, saying why, with the request still under New.
    bob.locator("#request-dialog").get_by_role("button", name="OK").click()
    pick_up(bob, "Dana")
    alice.get_by_label("Status").select_option("available")
    alice.get_by_role("tab", name="Librarians").click()
    bob_row = alice.locator("#librarians-body tr", has_text="Bob")
    expect(bob_row.locator("td").nth(4)).to_have_text("Busy (1 of 1)")
    screenshot(alice, "console-librarians-status")
    people.patron_asks(name="Eli")
    expect(alice.locator("#request-dialog")).to_be_visible()
    expect(bob.locator("#request-dialog")).to_be_hidden()  # at his maximum: no popup
    bob.locator("#new-list").get_by_role("button", name="Pick up Eli").click()
    expect(bob.locator("#toast")).to_have_text(
        "You are at your maximum of 1 chat: end one before you pick up another."
    )
    expect(bob.locator("#new-list")).to_contain_text("Eli")

    # Alice's Transfer dialog lists Bob with why he can't take it.
    alice.locator("#request-dialog").get_by_role("button", name="OK").click()
    alice.get_by_role("tab", name="Patron Chat").click()
    pick_up(alice, "Eli")
    alice.get_by_role("button", name="Transfer").click()
    target = alice.locator("#transfer-targets").get_by_role("button", name="Bob (RPL-117)")
    expect(target).to_be_disabled()
    expect(target).to_contain_text("Bob is at their maximum of 1 chat.")
    axe.check(alice, "Transfer dialog with a librarian at their maximum")
    axe.assert_clean()
