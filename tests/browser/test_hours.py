"""A patron finds a queue closed by its hours: when it opens, in the library's zone, named.

Riverside Public Library (America/Chicago) is open every day 9:00–17:00,
but today is a holiday there: whatever the hour, Ask Riverside is closed
until tomorrow 9:00 Central Time. The server is its own process, so its
clock is the real one; the hours are what make the answer certain.
"""

from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import LibraryOpeningPeriod, LibrarySpecialDay
from tests.browser.conftest import People, screenshot
from tests.browser.test_accessibility import Axe
from tests.conftest import World

CHICAGO = ZoneInfo("America/Chicago")


@pytest.fixture
def axe(axe_source: str) -> Axe:
    return Axe(axe_source)


def test_the_ask_pages_show_closed_until_tomorrow_and_the_weeks_hours(
    world: World, people: People, axe: Axe
) -> None:
    library = world.riverside_library
    library.time_zone = "America/Chicago"
    library.save()
    for weekday in range(7):
        LibraryOpeningPeriod.objects.create(
            library=library, weekday=weekday, opens=time(9), closes=time(17)
        )
    today = timezone.now().astimezone(CHICAGO).date()
    LibrarySpecialDay.objects.create(library=library, date=today, name="Staff day")
    tomorrow = (today + timedelta(days=1)).strftime("%A")
    closed = f"Chat is closed. It opens again {tomorrow} 9:00 AM (Central Time)."

    dana = people.page()
    dana.goto("/ask/")
    card = dana.locator(".queue-list li").filter(has_text="Ask Riverside")
    expect(card.locator(".availability")).to_have_text(closed)
    expect(card.get_by_role("link", name="Start a chat")).to_have_count(0)
    # Nobody monitors the cooperative (no hours of its own): said so, and it still takes questions.
    cooperative = dana.locator(".queue-list li").filter(has_text="County Libraries Cooperative")
    expect(cooperative.locator(".availability")).to_have_text(
        "No librarian is available right now."
    )
    axe.check(dana, "list of chat services, one closed by its hours")

    card.get_by_role("link", name="Hours of Ask Riverside").click()
    expect(dana.get_by_role("heading", level=1)).to_have_text("Ask Riverside is closed")
    expect(dana.locator(".availability")).to_have_text(closed)
    expect(dana.get_by_label("Your question")).to_have_count(0)
    hours = dana.get_by_role("region", name="Chat hours (Central Time)")
    expect(hours.locator(".hours-day")).to_have_count(7)
    expect(hours.locator(".hours-today")).to_contain_text("Closed (Staff day)")
    expect(hours.locator(".hours-day").nth(1)).to_contain_text("9:00 AM – 5:00 PM")
    screenshot(dana, "patron-closed")
    axe.check(dana, "chat form of a queue closed by its hours")

    dana.goto("/ask/cooperative/")
    expect(dana.locator(".availability")).to_have_text("No librarian is available right now.")
    expect(dana.get_by_label("Your question")).to_be_visible()
    axe.check(dana, "chat form with nobody on")
    axe.assert_clean()
