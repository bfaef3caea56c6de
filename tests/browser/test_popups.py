"""The console's popups after a reconnect, and an offer put away with Escape.

Bob's console shows a New Patron Request popup or a New Transferred Chat
Session box; his network drops; meanwhile the request is picked up, the
offer cancelled or taken on his other console. Back online, no box may
still offer what is gone: each closes, and the console says why and who
has the session now. An offer put away with Escape stays one Show away
until it is answered or expires.
"""

from playwright.sync_api import Page, expect

from tests.browser.conftest import People, expect_announced, pick_up, say
from tests.conftest import World

POPUP_KEY = "Alt+Shift+N"


def _away(page: Page) -> None:
    page.context.set_offline(True)
    expect(page.locator("#connection")).to_have_text("Reconnecting…")


def _back(page: Page) -> None:
    page.context.set_offline(False)
    expect(page.locator("#connection")).to_have_text("Connected")


def _offer_to_bob(alice: Page) -> None:
    alice.get_by_role("button", name="Transfer").click()
    dialog = alice.locator("#transfer-dialog")
    dialog.locator("#transfer-targets").get_by_role("button", name="Bob (RPL-117)").click()
    dialog.get_by_role("button", name="Transfer", exact=True).click()
    expect(dialog.locator("#transfer-status")).to_contain_text("waiting for an answer")


def test_after_a_reconnect_no_box_offers_what_is_gone(world: World, people: People) -> None:
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    bob = people.console(world.bob, monitor=["Ask Riverside"])
    people.patron_asks(name="Dana", question="Where are the maps?")
    request = bob.locator("#request-dialog")
    expect(request).to_be_visible()
    alice.locator("#request-dialog").get_by_role("button", name="OK").click()

    # A request picked up while Bob was away: his popup goes, saying by whom.
    _away(bob)
    pick_up(alice, "Dana")
    _back(bob)
    expect(request).to_be_hidden()
    expect(bob.locator("#toast")).to_have_text("Alice picked up Dana's request.")
    expect_announced(bob, "Alice picked up Dana's request.")

    # An offer cancelled while Bob was away.
    _offer_to_bob(alice)
    offer = bob.locator("#offer-dialog")
    expect(offer).to_be_visible()
    _away(bob)
    alice.locator("#transfer-dialog").get_by_role("button", name="Cancel transfer").click()
    expect(alice.locator("#toast")).to_have_text("Transfer cancelled: Alice cancelled it.")
    alice.locator("#transfer-dialog").get_by_role("button", name="Close").click()
    _back(bob)
    expect(offer).to_be_hidden()
    said = "Alice cancelled the transfer of Dana. Dana's session is with Alice now."
    expect(bob.locator("#toast")).to_have_text(said)
    expect_announced(bob, said)

    # An offer taken on Bob's other console while this one was away: it
    # closes, and the session is under My Active here too.
    other = people.console(world.bob)
    _offer_to_bob(alice)
    expect(offer).to_be_visible()
    expect(other.locator("#offer-dialog")).to_be_visible()
    _away(bob)
    other.locator("#offer-dialog").get_by_role("button", name="OK").click()
    expect(other.locator("#session-title")).to_have_text("Dana")
    _back(bob)
    expect(offer).to_be_hidden()
    expect(bob.locator("#toast")).to_have_text("You took Dana's session from Alice.")
    expect(bob.locator("#active-list")).to_contain_text("Dana")
    expect(bob.locator("#offers-to-me")).to_be_hidden()


def test_a_live_request_popup_drops_a_request_someone_else_picked_up(
    world: World, people: People
) -> None:
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    bob = people.console(world.bob, monitor=["Ask Riverside"])
    people.patron_asks(name="Dana", question="Where are the maps?")
    people.patron_asks(name="Erin", question="Do you lend telescopes?")
    request = bob.locator("#request-dialog")
    expect(request.locator("#request-dialog-title")).to_have_text("2 New Patron Requests")
    alice.locator("#request-dialog").get_by_role("button", name="OK").click()
    pick_up(alice, "Dana")
    expect(request.locator("#request-dialog-title")).to_have_text("New Patron Request")
    expect(request).not_to_contain_text("Dana")
    expect(request).to_contain_text("Erin")
    pick_up(alice, "Erin")
    expect(request).to_be_hidden()


def test_an_offer_put_away_with_escape_stays_one_show_away(world: World, people: People) -> None:
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    bob = people.console(world.bob, monitor=["Ask Riverside"])
    dana = people.patron_asks(name="Dana", question="Where are the maps?")
    for librarian in (alice, bob):
        librarian.locator("#request-dialog").get_by_role("button", name="OK").click()
    pick_up(alice, "Dana")
    _offer_to_bob(alice)

    offer = bob.locator("#offer-dialog")
    expect(offer).to_be_visible()
    bob.keyboard.press(POPUP_KEY)
    expect(offer.get_by_role("button", name="OK")).to_be_focused()
    bob.keyboard.press("Escape")
    expect(offer).to_be_hidden()
    expect_announced(bob, "Alice's transfer of Dana stays open under Offers to you")

    # Under "Offers to you": who offers whom, and a countdown that runs.
    offers = bob.locator("#offers-to-me")
    expect(offers).to_be_visible()
    expect(offers).to_contain_text("Alice offers you Dana (Ask Riverside):")
    left = offers.locator(".offer-left")
    first = left.inner_text()
    assert first.endswith("s left to answer."), first
    expect(left).not_to_have_text(first)

    # The shortcut reaches it too; Show brings the box back with focus on OK.
    bob.get_by_role("tab", name="Patron Chat").focus()
    bob.keyboard.press(POPUP_KEY)
    show = offers.get_by_role("button", name="Show Alice's offer: Dana")
    expect(show).to_be_focused()
    bob.keyboard.press("Enter")
    expect(offer).to_be_visible()
    expect(offer.get_by_role("button", name="OK")).to_be_focused()
    expect(offers).to_be_hidden()
    bob.keyboard.press("Enter")
    expect(bob.locator("#session-title")).to_have_text("Dana")
    say(bob, "Hello Dana, Bob here.")
    expect(dana.locator("#log")).to_contain_text("Hello Dana, Bob here.")
