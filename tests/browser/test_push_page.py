"""Push a Page by keyboard alone: Alice sends Dana a web page, and Dana opens it in a new tab.

Alice opens the form from the reply box with the keyboard, types an address
that is no web page and reads why in the form (what she typed stays), then
a real one with a title; Enter pushes it. Dana's page shows a card with the
title and the host, a link to a new tab that tells the page nothing of the
chat (rel="noopener noreferrer"); after a reload it is still there, and in
the widget's chat too. Escape
puts the form away and gives the keyboard back to its button. Both screens
pass axe.
"""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import People, expect_announced, pick_up
from tests.browser.test_accessibility import Axe
from tests.conftest import World

HOURS = "https://riverside.example.org/hours?branch=main"
NOT_WEB = (
    "Only a web page can be pushed, not a javascript: address: it must start with https:// or "
    "http://."
)


@pytest.fixture(name="axe")
def _axe(axe_source: str) -> Axe:
    return Axe(axe_source)


def test_alice_pushes_a_page_by_keyboard_and_dana_opens_it_in_a_new_tab(
    world: World, people: People, axe: Axe
) -> None:
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    dana = people.patron_asks(name="Dana", question="When is the library open?")
    alice.locator("#request-dialog").get_by_role("button", name="OK").click()
    pick_up(alice, "Dana")

    # From the reply box to Push a Page with Tab, and Enter opens the form.
    opener = alice.get_by_role("button", name="Push a Page")
    expect(opener).to_have_attribute("aria-expanded", "false")
    for _ in range(4):  # Note, Send, Scripts, Push a Page
        alice.keyboard.press("Tab")
    expect(opener).to_be_focused()
    alice.keyboard.press("Enter")
    form = alice.locator("#push-page-form")
    expect(form).to_be_visible()
    expect(opener).to_have_attribute("aria-expanded", "true")
    address = alice.get_by_label("Address")
    expect(address).to_be_focused()

    # An address that is no web page: refused in the form, nothing lost.
    alice.keyboard.type("javascript:alert(document.cookie)")
    alice.keyboard.press("Enter")
    error = form.get_by_role("alert")
    expect(error).to_have_text(NOT_WEB)
    expect(address).to_have_value("javascript:alert(document.cookie)")
    expect(address).to_be_focused()
    axe.check(alice, "Push a Page, an address refused")
    assert dana.locator("#log .line-page").count() == 0

    # The real address, Tab to the title, Enter pushes it.
    alice.keyboard.press("Control+A")
    alice.keyboard.type(HOURS)
    alice.keyboard.press("Tab")
    title = alice.get_by_label("Title")
    expect(title).to_be_focused()
    # A title too long: the message, and the keyboard on the title to shorten it.
    alice.keyboard.type("x" * 201)
    alice.keyboard.press("Enter")
    expect(error).to_have_text("A title can be at most 200 characters; this one has 201.")
    expect(title).to_be_focused()
    expect(title).to_have_attribute("aria-invalid", "true")
    expect(address).to_have_value(HOURS)
    alice.keyboard.press("Control+A")
    alice.keyboard.type("Opening <b>hours</b>")
    alice.keyboard.press("Enter")
    expect(form).to_be_hidden()
    expect(alice.locator("#composer-text")).to_be_focused()
    expect(opener).to_have_attribute("aria-expanded", "false")
    expect_announced(alice, "Page pushed to Dana.")
    mine = alice.locator("#session-log .line-page")
    expect(mine).to_have_count(1)
    expect(mine.locator(".page-title")).to_have_text("Opening <b>hours</b>")
    expect(mine.locator(".page-host")).to_have_text("riverside.example.org")
    axe.check(alice, "Patron Chat with a pushed page")

    # Dana's card: the title as text, the host, a new tab with nothing passed on.
    card = dana.locator("#log .line-page")
    expect(card).to_have_count(1)
    link = card.get_by_role("link")
    expect(link).to_have_attribute("href", HOURS)
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(link).to_have_accessible_name(
        "Opening <b>hours</b> riverside.example.org (opens in a new tab)"
    )
    expect(card.locator(".page-title")).to_have_text("Opening <b>hours</b>")
    expect(card.locator(".page-host")).to_have_text("riverside.example.org")
    expect(card.locator("b")).to_have_count(0)
    expect(card.locator(".badge-page")).to_have_text("Web page")
    axe.check(dana, "patron page with a pushed page")

    # A reload (the snapshot) brings the card back, address and all.
    dana.reload()
    expect(dana.locator("#log .line-page").get_by_role("link")).to_have_attribute("href", HOURS)

    # The widget's chat (the same session in the library site's frame) shows the same card.
    token = urlsplit(dana.url).path.rstrip("/").rsplit("/", 1)[-1]
    framed = dana.context.new_page()
    framed.goto(f"/widget/riverside/chat/{token}/")
    widget_link = framed.locator("#log .line-page").get_by_role("link")
    expect(widget_link).to_have_attribute("href", HOURS)
    expect(widget_link).to_have_attribute("target", "_blank")
    expect(widget_link).to_have_attribute("rel", "noopener noreferrer")
    axe.check(framed, "widget chat with a pushed page")
    framed.close()

    # Escape puts the form away, and the keyboard is back on its button.
    opener.focus()
    alice.keyboard.press("Enter")
    expect(address).to_be_focused()
    expect(address).to_have_value("")
    alice.keyboard.type("https://riverside.example.org/events")
    alice.keyboard.press("Escape")
    expect(form).to_be_hidden()
    expect(opener).to_be_focused()
    # What was typed waits for the next time.
    alice.keyboard.press("Enter")
    expect(address).to_have_value("https://riverside.example.org/events")
    alice.get_by_role("button", name="Cancel").click()
    expect(opener).to_be_focused()
    axe.assert_clean()
