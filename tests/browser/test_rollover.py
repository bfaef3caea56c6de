"""A request rolls over in three browsers: Riverside, then the cooperative, then backup.

The cooperative queue's tiers are set short here (0, 3 and 6 s) so the test
watches the real worker roll the request over on time; the defaults (0, 40,
120 s) work the same way, only slower.
"""

from datetime import datetime, timedelta

from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from chat.models import ChatSession
from queues.models import Membership, QueueTier
from tests.browser.conftest import People, pick_up, screenshot
from tests.browser.test_accessibility import Axe
from tests.conftest import World

COOP = "County Libraries Cooperative"


def _new_row(page: Page, name: str) -> Locator:
    return page.locator("#new-list").get_by_role("button", name=f"Pick up {name}")


def _not_before(at: datetime | None) -> None:
    """The popup was seen no earlier than the tier's time (less the clock
    difference between the database and this process)."""
    assert at is not None
    assert timezone.now() >= at - timedelta(milliseconds=150)


def test_a_request_reaches_riverside_then_the_cooperative_then_backup(
    world: World, people: People, axe_source: str
) -> None:
    axe = Axe(axe_source)
    QueueTier.objects.create(queue=world.cooperative, after_seconds=0, home=True)
    QueueTier.objects.create(queue=world.cooperative, after_seconds=3, cooperative=True)
    QueueTier.objects.create(queue=world.cooperative, after_seconds=6, backup=True)
    Membership.objects.create(librarian=world.dave, queue=world.cooperative, is_backup=True)
    alice = people.console(world.alice, monitor=[COOP])
    carol = people.console(world.carol, monitor=[COOP])
    dave = people.console(world.dave, monitor=[COOP])

    patron = people.patron_asks(
        "cooperative", question="Can I borrow from Hillcrest?", library="Riverside Public Library"
    )
    # The tier times are counted from when the request was made, not from
    # when the patron's page finished loading.
    session = ChatSession.objects.get(patron_name="Dana")
    for reaches, seconds in ((session.reaches_cooperative_at, 3), (session.reaches_backup_at, 6)):
        assert reaches is not None
        assert abs((reaches - session.created_at).total_seconds() - seconds) < 0.5

    # Riverside's own librarian at once, with the popup; the others not yet.
    expect(alice.locator("#request-dialog")).to_be_visible()
    expect(_new_row(alice, "Dana")).to_be_visible()
    expect(_new_row(alice, "Dana")).not_to_contain_text("rolled over")
    expect(_new_row(carol, "Dana")).to_have_count(0)
    expect(carol.locator("#request-dialog")).to_be_hidden()
    expect(_new_row(dave, "Dana")).to_have_count(0)
    alice.locator("#request-dialog").get_by_role("button", name="OK").click()

    # The cooperative at 3 s: Carol's popup, the row marked "rolled over".
    expect(carol.locator("#request-dialog")).to_be_visible(timeout=8000)
    _not_before(session.reaches_cooperative_at)
    expect(carol.locator("#request-dialog")).to_contain_text("rolled over")
    row = _new_row(carol, "Dana")
    expect(row).to_contain_text("rolled over")
    expect(row).to_contain_text("Riverside Public Library")
    expect(_new_row(dave, "Dana")).to_have_count(0)
    screenshot(carol, "console-rolled-over")
    axe.check(carol, "a rolled-over request's popup")
    carol.locator("#request-dialog").get_by_role("button", name="OK").click()
    axe.check(carol, "New with a rolled-over request")

    # Backup at 6 s.
    expect(dave.locator("#request-dialog")).to_be_visible(timeout=8000)
    _not_before(session.reaches_backup_at)
    expect(_new_row(dave, "Dana")).to_contain_text("rolled over")
    dave.locator("#request-dialog").get_by_role("button", name="OK").click()
    # Alice's popup came once: no second one as the request rolled on.
    expect(alice.locator("#request-dialog")).to_be_hidden()

    # Dave (backup) picks it up: it leaves every New list.
    pick_up(dave, "Dana")
    for page in (alice, carol):
        expect(_new_row(page, "Dana")).to_have_count(0)
    expect(patron.locator("#log")).to_contain_text("Dave has joined the chat.")
    axe.assert_clean()
