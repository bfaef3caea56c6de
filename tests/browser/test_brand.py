"""A library's brand in the browser: its logo, name and colours on its ask
form and chat page, from our stylesheet (no CSP violation), axe-clean.

The same pages without a brand are checked by test_accessibility.py.
"""

import pytest
from playwright.sync_api import Page, expect

from accounts.branding import logo_clean
from accounts.models import Library
from queues.management.commands.seed_demo import demo_logo
from tests.browser.conftest import People, pick_up, say, screenshot
from tests.browser.test_accessibility import Axe
from tests.conftest import World

# The demo's colours (seed_demo), as the browser reports them.
RIVER_GREEN = "rgb(11, 93, 59)"
HILLCREST_RED = "rgb(122, 31, 43)"
OUR_BLUE = "rgb(31, 95, 174)"


@pytest.fixture
def axe(axe_source: str) -> Axe:
    return Axe(axe_source)


def brand(library: Library, primary: str, *, logo: bool = False) -> None:
    library.brand_color = primary
    library.brand_text_color = "#ffffff"
    library.link_color = primary
    if logo:  # the demo's, a 192-pixel disc
        library.logo = logo_clean(demo_logo(), name=library.slug)
    library.full_clean()
    library.save()


def background(page: Page, selector: str) -> str:
    return page.locator(selector).first.evaluate("(node) => getComputedStyle(node).backgroundColor")


def test_a_branded_ask_form_and_chat_page(world: World, people: People, axe: Axe) -> None:
    brand(world.riverside_library, "#0b5d3b", logo=True)
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    dana = people.page()
    dana.goto("/ask/riverside/")
    logo = dana.get_by_role("img", name="Riverside Public Library logo")
    expect(logo).to_be_visible()
    assert logo.evaluate("(img) => img.complete && img.naturalWidth") == 192
    height = logo.evaluate("(img) => img.getBoundingClientRect().height")
    assert 0 < height <= 56  # 3.5 rem: a logo of any size stays a header's
    expect(dana.locator(".site-header")).to_contain_text("Riverside Public Library")
    assert background(dana, ".site-header") == RIVER_GREEN
    assert background(dana, "button.button-primary") == RIVER_GREEN
    axe.check(dana, "branded chat form")
    screenshot(dana, "patron-branded-ask")

    dana.get_by_label("Screen name").fill("Dana")
    dana.get_by_label("Your question").fill("Do you have the county maps from 1890?")
    dana.get_by_role("button", name="Ask").click()
    expect(dana.locator("#waiting-panel")).to_be_visible()
    axe.check(dana, "branded patron page, waiting")
    alice.locator("#request-dialog").get_by_role("button", name="OK").click()
    pick_up(alice, "Dana")
    say(alice, "Yes: the 1890 county atlas is in Local History, second floor.")
    expect(dana.locator("#log")).to_contain_text("county atlas")
    expect(dana.get_by_role("img", name="Riverside Public Library logo")).to_be_visible()
    assert background(dana, "#composer button.button-primary") == RIVER_GREEN
    axe.check(dana, "branded patron page, chatting")
    screenshot(dana, "patron-branded-chat")
    # The console keeps Reference Chat's own look.
    assert background(alice, ".site-header") != RIVER_GREEN
    axe.assert_clean()


def test_a_cooperative_form_is_neutral_and_the_chat_wears_the_patrons_library(
    world: World, people: People, axe: Axe
) -> None:
    brand(world.riverside_library, "#0b5d3b", logo=True)
    brand(world.hillcrest_library, "#7a1f2b")
    people.console(world.carol, monitor=["County Libraries Cooperative"])
    erin = people.page()
    erin.goto("/ask/cooperative/")
    expect(erin.locator(".site-header .brand")).to_have_text("Reference Chat")
    assert background(erin, "button.button-primary") == OUR_BLUE
    erin.get_by_label("Screen name").fill("Erin")
    erin.get_by_label("Your library").select_option(label="Hillcrest College Library")
    erin.get_by_label("Your question").fill("Can alumni use the databases?")
    erin.get_by_role("button", name="Ask").click()
    expect(erin.locator("#waiting-panel")).to_be_visible()
    expect(erin.locator(".site-header")).to_contain_text("Hillcrest College Library")
    expect(erin.get_by_role("img")).to_have_count(0)  # Hillcrest has no logo
    assert background(erin, ".site-header") == HILLCREST_RED
    axe.check(erin, "cooperative queue, the patron's library's brand")
    axe.assert_clean()
