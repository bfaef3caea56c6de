"""Hand-back end to end: the cooperative answers a Riverside patron, Riverside
comes back, and the session goes home through the transfer handshake."""

from playwright.sync_api import expect

from queues.models import Queue, QueueTier
from tests.browser.conftest import People, pick_up, screenshot
from tests.browser.test_accessibility import Axe
from tests.conftest import World

COOP = "County Libraries Cooperative"


def test_a_session_the_cooperative_took_goes_home_when_its_library_is_back(
    world: World, people: People, axe_source: str
) -> None:
    QueueTier.objects.create(queue=world.cooperative, after_seconds=0, home=True)
    QueueTier.objects.create(queue=world.cooperative, after_seconds=1, cooperative=True)
    carol = people.console(world.carol, monitor=[COOP])

    patron = people.patron_asks(
        "cooperative", question="Can I renew by phone?", library="Riverside Public Library"
    )

    # Nobody of Riverside is on: it rolls over to Carol, who takes it.
    expect(carol.locator("#request-dialog")).to_be_visible(timeout=8000)
    carol.locator("#request-dialog").get_by_role("button", name="OK").click()
    pick_up(carol, "Dana")
    hand_back = carol.get_by_role("button", name="Hand back to Riverside Public Library")
    expect(hand_back).to_be_visible()
    # Too early: nobody of Riverside can take it yet, and Carol is told so.
    hand_back.click()
    expect(carol.locator("#toast")).to_have_text(
        f"Nobody of Riverside Public Library who can take a chat monitors {COOP} now."
    )

    # Alice of Riverside starts monitoring: Carol hands the session back.
    alice = people.console(world.alice, monitor=[COOP])
    hand_back.click()
    offer = alice.locator("#offer-dialog")
    expect(offer).to_be_visible()
    expect(offer).to_contain_text("Hand-back to Riverside Public Library (their library is back).")
    Axe(axe_source).check(alice, "a hand-back offer")
    offer.get_by_role("button", name="OK").click()
    expect(alice.locator("#session-title")).to_have_text("Dana")
    expect(patron.locator("#log")).to_contain_text(
        "Carol has passed your question to Alice, a librarian of your own library, "
        "Riverside Public Library."
    )
    expect(carol.locator("#session-readonly")).to_be_visible()
    expect(alice.get_by_role("button", name="Hand back to Riverside Public Library")).to_be_hidden()
    screenshot(patron, "patron-handed-back")


def test_the_worker_offers_it_home_by_itself_when_the_queue_says_so(
    world: World, people: People
) -> None:
    QueueTier.objects.create(queue=world.cooperative, after_seconds=0, home=True)
    QueueTier.objects.create(queue=world.cooperative, after_seconds=1, cooperative=True)
    Queue.objects.filter(pk=world.cooperative.pk).update(handback_after_seconds=2)
    carol = people.console(world.carol, monitor=[COOP])
    people.patron_asks(
        "cooperative", question="Can I renew by phone?", library="Riverside Public Library"
    )
    expect(carol.locator("#request-dialog")).to_be_visible(timeout=8000)
    carol.locator("#request-dialog").get_by_role("button", name="OK").click()
    pick_up(carol, "Dana")

    # Alice of Riverside comes on: the worker (its sweep, every second here)
    # offers her the session without Carol doing anything.
    alice = people.console(world.alice, monitor=[COOP])
    offer = alice.locator("#offer-dialog")
    expect(offer).to_be_visible(timeout=10_000)
    expect(offer).to_contain_text(
        "Hand-back to Riverside Public Library (automatically, after a while)."
    )
