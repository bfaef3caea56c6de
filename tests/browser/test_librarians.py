"""The Librarians tab changes live as others start and stop monitoring."""

from playwright.sync_api import Page, expect

from tests.browser.conftest import People, expect_announced, pick_up, screenshot, start_monitoring
from tests.conftest import World


def _rows(page: Page) -> list[str]:
    return page.locator("#librarians-body tr td:first-child").all_inner_texts()


def test_librarians_tab_follows_who_monitors(world: World, people: People) -> None:
    world.bob.primary_queue = world.riverside
    world.bob.save()
    world.carol.primary_queue = world.hillcrest
    world.carol.save()
    alice = people.console(world.alice, monitor=["Ask Riverside", "County Libraries Cooperative"])
    alice.get_by_role("tab", name="Librarians").click()
    table = alice.locator("#librarians-body tr")
    expect(table).to_have_count(0)
    expect(alice.locator("#librarians-empty")).to_be_visible()

    # Bob starts monitoring Ask Riverside: he appears, and it is announced.
    bob = people.console(world.bob, monitor=["Ask Riverside"])
    expect(table).to_have_count(1)
    expect_announced(alice, "Bob is now monitoring.")
    expect(alice.get_by_role("tab", name="Librarians")).to_contain_text("(1)")
    # Carol shares only the cooperative queue with Alice.
    carol = people.console(world.carol, monitor=["County Libraries Cooperative"])
    expect(table).to_have_count(2)
    expect_announced(alice, "Carol is now monitoring.")
    assert _rows(alice) == ["Bob (RPL-117)", "Carol (HC-2031)"]
    carol_row = alice.locator("#librarians-body tr", has_text="Carol")
    expect(carol_row.locator("td").nth(3)).to_have_text(
        "Hillcrest Research Help (Hillcrest College Library)"
    )
    # Dave monitors a queue Alice doesn't: not listed.
    dave = people.console(world.dave, monitor=["Riverside Local History Archive"])
    expect(dave.locator("#monitoring-status")).to_have_text("Monitoring 1 of 1.")

    # Bob picks up a request: his Active count goes up live.
    dana = people.patron_asks(name="Dana")
    bob.locator("#request-dialog").get_by_role("button", name="OK").click()
    alice.locator("#request-dialog").get_by_role("button", name="OK").click()  # to New
    alice.get_by_role("tab", name="Librarians").click()
    pick_up(bob, "Dana")
    bob_row = alice.locator("#librarians-body tr", has_text="Bob")
    expect(bob_row.locator("td").nth(2)).to_have_text("1")
    expect(dana.locator("#chat-with")).to_contain_text("Bob")

    # Sorting by a column heading.
    alice.get_by_role("button", name="Active").click()
    expect(alice.locator("th[data-sort='active']")).to_have_attribute("aria-sort", "ascending")
    assert _rows(alice) == ["Carol (HC-2031)", "Bob (RPL-117)"]
    alice.get_by_role("button", name="Active").click()
    expect(alice.locator("th[data-sort='active']")).to_have_attribute("aria-sort", "descending")
    assert _rows(alice) == ["Bob (RPL-117)", "Carol (HC-2031)"]
    screenshot(alice, "console-librarians")

    # Carol stops monitoring: she leaves the list.
    start_monitoring(carol)
    expect(table).to_have_count(1)
    expect_announced(alice, "Carol stopped monitoring.")
    assert _rows(alice) == ["Bob (RPL-117)"]

    # Bob logs out (his session with Dana ends first): he leaves the list too.
    bob.once("dialog", lambda dialog: dialog.accept())  # "You have 1 active session…"
    bob.get_by_role("button", name="Log out").click()
    bob.wait_for_url("**/login/")
    expect(table).to_have_count(0)
    expect_announced(alice, "Bob stopped monitoring.")
    expect(alice.locator("#librarians-empty")).to_be_visible()
    expect(dana.locator("#ended-reason")).to_have_text("The librarian ended the chat.")
