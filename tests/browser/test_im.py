"""Instant messages between two librarians, step by step as the seed describes them."""

from playwright.sync_api import expect

from tests.browser.conftest import People, expect_announced, log_lines, screenshot
from tests.conftest import World


def test_im_request_replies_both_ways_and_end(world: World, people: People) -> None:
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    bob = people.console(world.bob, monitor=["Ask Riverside", "County Libraries Cooperative"])

    # Librarians tab: Bob is there, with his staff ID and queue count.
    alice.get_by_role("tab", name="Librarians").click()
    bob_row = alice.locator("#librarians-body tr")
    expect(bob_row).to_have_count(1)
    expect(bob_row.locator("td").nth(0)).to_have_text("Bob (RPL-117)")
    expect(bob_row.locator("td").nth(1)).to_have_text("2")

    # IM tab: Alice picks Bob from the monitoring librarians.
    alice.get_by_role("tab", name="IM").click()
    alice.locator("#im-librarians").get_by_role("button", name="Bob (RPL-117)").click()
    expect(alice.locator("#im-title")).to_have_text("IM with Bob (RPL-117)")
    expect(alice.locator("#im-text")).to_be_focused()
    expect(alice.locator("#im-list")).to_contain_text("Bob (RPL-117)")

    # Bob gets the New IM Request popup, announced; OK opens his IM tab on it.
    popup = bob.locator("#im-dialog")
    expect(popup).to_be_visible()
    expect(popup).to_contain_text("Alice (RPL-104) wants to send you instant messages.")
    expect_announced(bob, "New IM Request from Alice (RPL-104).")
    expect(bob.locator("#im-dialog-ok")).not_to_be_focused()  # it never takes focus
    popup.get_by_role("button", name="OK").click()
    expect(popup).to_be_hidden()
    expect(bob.get_by_role("tab", name="IM")).to_have_attribute("aria-selected", "true")
    expect(bob.locator("#im-title")).to_have_text("IM with Alice (RPL-104)")
    expect(bob.locator("#im-list")).to_contain_text("Alice (RPL-104)")  # My Active IM Sessions

    # Replies both ways.
    alice.locator("#im-text").fill("Can you cover the cooperative queue at noon?")
    alice.locator("#im-text").press("Enter")
    expect(bob.locator("#im-log")).to_contain_text("cover the cooperative queue at noon")
    bob.locator("#im-text").fill("Yes, from noon to two.")
    bob.locator("#im-text").press("Enter")
    expect(alice.locator("#im-log")).to_contain_text("Yes, from noon to two.")
    alice.locator("#im-text").fill("Thank you!")
    alice.locator("#im-text").press("Enter")
    expect(bob.locator("#im-log")).to_contain_text("Thank you!")
    lines = [
        "Can you cover the cooperative queue at noon?",
        "Yes, from noon to two.",
        "Thank you!",
    ]
    assert log_lines(alice, "#im-log") == lines
    assert log_lines(bob, "#im-log") == lines

    # An IM while Bob looks elsewhere: his IM tab is marked, with an unread count.
    bob.get_by_role("tab", name="Patron Chat").click()
    alice.locator("#im-text").fill("One more thing: the printer is fixed.")
    alice.locator("#im-text").press("Enter")
    expect_announced(bob, "IM from Alice: One more thing: the printer is fixed.")
    expect(bob.locator("#im-badge")).to_have_text("1")
    bob.get_by_role("tab", name="IM").click()
    expect(bob.locator("#im-badge")).to_be_hidden()
    screenshot(alice, "console-im")

    # End: the session leaves My Active IM Sessions on both sides.
    bob.get_by_role("button", name="End", exact=True).click()
    expect(bob.locator("#im-readonly")).to_have_text("You ended this IM session.")
    expect(alice.locator("#im-readonly")).to_have_text("Bob ended this IM session.")
    expect_announced(alice, "Bob ended the IM session.")
    expect(alice.locator("#im-list li")).to_have_count(0)
    expect(bob.locator("#im-list li")).to_have_count(0)
    expect(alice.locator("#im-composer")).to_be_hidden()
    # Past IM sessions stay readable below.
    bob.get_by_role("tab", name="Patron Chat").click()
    bob.get_by_role("tab", name="IM").click()
    past = bob.locator("#im-history-root tbody tr")
    expect(past).to_contain_text("Alice")
    expect(past).to_contain_text("by Bob")
