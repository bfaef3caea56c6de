"""/ask/ and /ask/<slug>/ say what the status API says: open, busy, or closed and until when.

Riverside Public Library keeps Monday–Friday 9:00–21:00 in America/Chicago,
with Monday 7 December 2026 a holiday. The clock stands on Friday 4
December at 21:30 there (Saturday 03:30 UTC): closed until Tuesday 9:00.
"""

from datetime import UTC, datetime, time

import pytest

from accounts.models import LibraryOpeningPeriod, LibrarySpecialDay
from chat import availability
from chat.models import ChatSession
from shifts import services as shifts

pytestmark = pytest.mark.django_db

FRIDAY_NIGHT = datetime(2026, 12, 5, 3, 30, tzinfo=UTC)
FRIDAY_NOON = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)
CLOSED_UNTIL_TUESDAY = "Chat is closed. It opens again Tuesday 9:00 AM (Central Time)."


@pytest.fixture
def riverside_hours(riverside_library):
    riverside_library.time_zone = "America/Chicago"
    riverside_library.save()
    for weekday in range(5):
        LibraryOpeningPeriod.objects.create(
            library=riverside_library, weekday=weekday, opens=time(9), closes=time(21)
        )
    LibrarySpecialDay.objects.create(library=riverside_library, date="2026-12-07")
    LibrarySpecialDay.objects.create(
        library=riverside_library,
        date="2026-12-10",
        name="Staff day",
        opens=time(12),
        closes=time(16),
    )


def at(monkeypatch, moment: datetime) -> None:
    monkeypatch.setattr(availability.timezone, "now", lambda: moment)


def test_the_list_says_closed_until_when_and_offers_the_hours(
    client, riverside_hours, alice, riverside, monkeypatch
):
    at(monkeypatch, FRIDAY_NIGHT)
    shifts.monitoring_set(librarian=alice, queue_ids=[riverside.pk])
    page = client.get("/ask/").content.decode()
    riverside_card = page.split("Ask Riverside</a>")[1].split("</li>")[0]
    assert CLOSED_UNTIL_TUESDAY in riverside_card
    assert "See the hours" in riverside_card
    assert "Start a chat" not in riverside_card
    # The cooperative keeps no hours: nobody on says so, and it still takes questions.
    cooperative_card = page.split("County Libraries Cooperative</a>")[1].split("</li>")[0]
    assert "No librarian is available right now." in cooperative_card
    assert "Start a chat" in cooperative_card


def test_the_list_says_open_and_busy(client, alice, riverside, cooperative, chat):
    riverside.busy_at = 1
    riverside.save()
    shifts.monitoring_set(librarian=alice, queue_ids=[riverside.pk, cooperative.pk])
    page = client.get("/ask/").content.decode()
    assert "Chat is open.</p>" in page.split("County Libraries Cooperative</a>")[1]
    chat(alice)
    page = client.get("/ask/").content.decode()
    riverside_card = page.split("Ask Riverside</a>")[1].split("</li>")[0]
    assert "Chat is open, but all librarians are busy. You may have to wait." in riverside_card
    assert "Start a chat" in riverside_card


def test_the_form_of_a_queue_closed_by_hours_shows_when_it_opens_and_the_week(
    client, riverside_hours, riverside_library, monkeypatch
):
    at(monkeypatch, FRIDAY_NIGHT)
    response = client.get("/ask/riverside/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Ask Riverside is closed" in page
    assert CLOSED_UNTIL_TUESDAY in page
    assert 'name="question"' not in page
    assert "Chat hours (Central Time)" in page
    # The week from today, Friday: the weekend closed, Monday the holiday.
    days = page.split('class="hours-list"')[1].split("</dl>")[0]
    assert "Friday, December 4" in days and "(today)" in days
    assert "9:00 AM – 9:00 PM" in days
    monday = days.split("Monday, December 7")[1].split("</div>")[0]
    assert "Closed" in monday and "(holiday)" in monday
    thursday = days.split("Thursday, December 10")[1].split("</div>")[0]
    assert "12:00 PM – 4:00 PM" in thursday and "(Staff day)" in thursday
    # Posting anyway stores nothing.
    response = client.post(
        "/ask/riverside/",
        {"patron_name": "Dana", "library": riverside_library.pk, "question": "Hours?"},
    )
    assert CLOSED_UNTIL_TUESDAY in response.content.decode()
    assert not ChatSession.objects.exists()


def test_the_form_within_hours_says_open_and_lists_the_hours(
    client, riverside_hours, alice, riverside, monkeypatch
):
    at(monkeypatch, FRIDAY_NOON)
    shifts.monitoring_set(librarian=alice, queue_ids=[riverside.pk])
    page = client.get("/ask/riverside/").content.decode()
    assert "Chat is open." in page
    assert 'name="question"' in page
    assert "Chat hours (Central Time)" in page


def test_the_form_with_nobody_on_says_so_and_still_takes_the_question(client, riverside):
    page = client.get("/ask/riverside/").content.decode()
    assert "No librarian is available right now." in page
    assert 'name="question"' in page
    # No hours anywhere: no hours to list.
    assert "Chat hours" not in page
