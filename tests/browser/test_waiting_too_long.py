"""A request waiting too long is marked in New, in words and colour, and said once."""

from playwright.sync_api import expect

from queues.models import Queue
from tests.browser.conftest import People, expect_announced, screenshot
from tests.browser.test_accessibility import Axe
from tests.conftest import World


def test_a_request_past_its_threshold_is_marked_and_announced_once(
    world: World, people: People, axe_source: str
) -> None:
    Queue.objects.filter(pk=world.riverside.pk).update(waiting_alert_seconds=2)
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    people.patron_asks(name="Dana")
    alice.locator("#request-dialog").get_by_role("button", name="OK").click()
    row = alice.locator("#new-list").get_by_role("button", name="Pick up Dana")
    expect(row).not_to_contain_text("waiting too long")
    expect(row).to_contain_text("waiting too long", timeout=6000)
    assert ", waiting too long:" in (row.get_attribute("aria-label") or "")
    expect_announced(alice, "Dana has waited over 2 s in Ask Riverside.")
    alice.wait_for_timeout(2500)
    said = alice.evaluate("() => window.__announcements")
    assert sum("has waited over" in text for text in said) == 1, said
    screenshot(alice, "console-waiting-too-long")
    axe = Axe(axe_source)
    axe.check(alice, "New with a request waiting too long")
    axe.assert_clean()
