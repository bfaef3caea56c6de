"""Is chat available (chat/availability.py): hours, holidays, staffing and busy, one rule.

Riverside Public Library keeps Monday–Friday 9:00–17:00 in the zone the
test gives it. Daylight-saving changes in 2026: America/Chicago springs
forward on Sunday 8 March and falls back on Sunday 1 November;
Europe/Berlin on Sunday 29 March and Sunday 25 October.
"""

from datetime import UTC, date, datetime, time

import pytest

from accounts.models import Library, LibraryOpeningPeriod, LibrarySpecialDay
from chat.availability import availability_message, queue_availability
from queues.models import Queue, QueueOpeningPeriod
from shifts.services import monitoring_set

pytestmark = pytest.mark.django_db


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc, arg-type]


def weekdays_nine_to_five(library: Library, zone: str) -> None:
    library.time_zone = zone
    library.save()
    for weekday in range(5):
        LibraryOpeningPeriod.objects.create(
            library=library, weekday=weekday, opens=time(9), closes=time(17)
        )


@pytest.fixture
def chicago(riverside_library: Library) -> Library:
    weekdays_nine_to_five(riverside_library, "America/Chicago")
    return riverside_library


def monitor(librarian, *queues: Queue) -> None:
    monitoring_set(librarian=librarian, queue_ids=[q.pk for q in queues])


# --- No hours: as before hours existed ------------------------------------------


def test_a_queue_without_hours_is_open_whenever_someone_monitors_it(riverside, alice):
    closed = queue_availability(riverside)
    assert (closed.state, closed.reason, closed.open) == ("closed", "unstaffed", False)
    assert closed.next_opening is None
    assert availability_message(closed) == "No librarian is available right now."

    monitor(alice, riverside)
    now = queue_availability(riverside)
    assert (now.state, now.reason, now.open, now.librarians_online) == ("open", "staffed", True, 1)
    assert availability_message(now) == "Chat is open."


def test_a_switched_off_queue_is_closed_with_no_opening_to_wait_for(riverside, alice):
    monitor(alice, riverside)
    riverside.is_open = False
    riverside.save()
    off = queue_availability(riverside)
    assert (off.state, off.reason, off.next_opening) == ("closed", "switched_off", None)
    assert availability_message(off) == "Chat is closed."


# --- Busy -----------------------------------------------------------------------


def test_busy_when_every_monitoring_librarian_is_at_capacity(riverside, alice, bob, chat, ask):
    riverside.busy_at = 2
    riverside.save()
    monitor(alice, riverside)
    chat(alice)
    assert queue_availability(riverside).state == "open"
    chat(alice)
    ask()
    busy = queue_availability(riverside)
    assert (busy.state, busy.reason, busy.open, busy.waiting) == ("busy", "all_busy", True, 1)
    assert availability_message(busy) == (
        "Chat is open, but all librarians are busy. You may have to wait."
    )
    monitor(bob, riverside)  # Bob holds nothing yet: someone can take a chat.
    assert queue_availability(riverside).state == "open"


# --- Hours across daylight-saving changes ---------------------------------------


def test_chicago_hours_hold_in_local_time_when_the_clocks_spring_forward(chicago, riverside, alice):
    monitor(alice, riverside)
    # Friday 6 March, 8:30 CST (UTC-6): before opening.
    before = queue_availability(riverside, now=utc(2026, 3, 6, 14, 30))
    assert (before.state, before.reason) == ("closed", "outside_hours")
    assert before.next_opening == utc(2026, 3, 6, 15, 0)
    assert before.time_zone == "America/Chicago"
    # Monday 9 March, the same 14:30 UTC is 9:30 CDT (UTC-5): open.
    assert queue_availability(riverside, now=utc(2026, 3, 9, 14, 30)).state == "open"
    # Friday 17:30 CST: the next opening is Monday 9:00 CDT, over the change.
    friday = queue_availability(riverside, now=utc(2026, 3, 6, 23, 30))
    assert friday.next_opening == utc(2026, 3, 9, 14, 0)
    assert friday.next_opening.utcoffset().total_seconds() == -5 * 3600  # type: ignore[union-attr]
    assert availability_message(friday, now=utc(2026, 3, 6, 23, 30)) == (
        "Chat is closed. It opens again Monday 9:00 AM (Central Time)."
    )


def test_chicago_hours_hold_when_the_clocks_fall_back(chicago, riverside, alice):
    monitor(alice, riverside)
    friday = queue_availability(riverside, now=utc(2026, 10, 30, 22, 30))  # 17:30 CDT
    assert friday.next_opening == utc(2026, 11, 2, 15, 0)  # Monday 9:00 CST
    # Monday 2 November, 14:30 UTC is 8:30 CST: still closed.
    assert queue_availability(riverside, now=utc(2026, 11, 2, 14, 30)).state == "closed"
    assert queue_availability(riverside, now=utc(2026, 11, 2, 15, 0)).state == "open"


@pytest.mark.parametrize(
    ("friday_evening", "monday_nine"),
    [
        # Spring: Friday 27 March 17:30 CET; Monday 30 March 9:00 CEST (UTC+2).
        (utc(2026, 3, 27, 16, 30), utc(2026, 3, 30, 7, 0)),
        # Autumn: Friday 23 October 17:30 CEST; Monday 26 October 9:00 CET (UTC+1).
        (utc(2026, 10, 23, 15, 30), utc(2026, 10, 26, 8, 0)),
    ],
)
def test_a_cooperative_queue_keeps_its_own_hours_in_its_own_zone_over_berlin_changes(
    cooperative, carol, friday_evening, monday_nine
):
    cooperative.time_zone = "Europe/Berlin"
    cooperative.save()
    for weekday in range(5):
        QueueOpeningPeriod.objects.create(
            queue=cooperative, weekday=weekday, opens=time(9), closes=time(17)
        )
    monitor(carol, cooperative)
    closed = queue_availability(cooperative, now=friday_evening)
    assert (closed.state, closed.time_zone) == ("closed", "Europe/Berlin")
    assert closed.next_opening == monday_nine
    assert queue_availability(cooperative, now=monday_nine).state == "open"
    assert availability_message(closed, now=friday_evening) == (
        "Chat is closed. It opens again Monday 9:00 AM (Central European Time)."
    )


def test_an_opening_in_the_spring_forward_gap_is_just_after_the_gap(riverside_library, riverside):
    riverside_library.time_zone = "America/Chicago"
    riverside_library.save()
    # Sunday 8 March 2026: 2:00 CST jumps to 3:00 CDT; 2:30 never happens.
    LibraryOpeningPeriod.objects.create(
        library=riverside_library, weekday=6, opens=time(2, 30), closes=time(5)
    )
    closed = queue_availability(riverside, now=utc(2026, 3, 8, 6, 0))  # 0:00 CST
    assert closed.next_opening == utc(2026, 3, 8, 8, 30)  # 3:30 CDT


# --- Holidays and special days --------------------------------------------------


def test_the_next_opening_skips_the_weekend_and_a_monday_holiday(chicago, riverside, alice):
    LibrarySpecialDay.objects.create(library=chicago, date=date(2026, 1, 19), name="MLK Day")
    monitor(alice, riverside)
    friday = queue_availability(riverside, now=utc(2026, 1, 16, 23, 30))  # Friday 17:30 CST
    assert friday.next_opening == utc(2026, 1, 20, 15, 0)  # Tuesday 9:00 CST
    monday = queue_availability(riverside, now=utc(2026, 1, 19, 16, 0))  # Monday 10:00 CST
    assert (monday.state, monday.reason) == ("closed", "holiday")
    assert monday.next_opening == utc(2026, 1, 20, 15, 0)
    assert availability_message(monday, now=utc(2026, 1, 19, 16, 0)) == (
        "Chat is closed. It opens again Tuesday 9:00 AM (Central Time)."
    )


def test_special_hours_replace_the_day_and_open_a_closed_day(chicago, riverside, alice):
    # Saturday 12 December: open 10:00–14:00 for once.
    LibrarySpecialDay.objects.create(
        library=chicago, date=date(2026, 12, 12), opens=time(10), closes=time(14)
    )
    monitor(alice, riverside)
    friday = queue_availability(riverside, now=utc(2026, 12, 11, 23, 30))
    assert friday.next_opening == utc(2026, 12, 12, 16, 0)
    assert queue_availability(riverside, now=utc(2026, 12, 12, 17, 0)).state == "open"
    after = queue_availability(riverside, now=utc(2026, 12, 12, 21, 0))  # 15:00 CST
    assert (after.state, after.reason) == ("closed", "holiday")
    assert after.next_opening == utc(2026, 12, 14, 15, 0)


def test_a_far_opening_names_the_date(chicago, riverside):
    for day in range(14, 32):
        LibrarySpecialDay.objects.create(library=chicago, date=date(2026, 12, day))
    closed = queue_availability(riverside, now=utc(2026, 12, 14, 16, 0))
    assert closed.next_opening == utc(2027, 1, 1, 15, 0)
    assert availability_message(closed, now=utc(2026, 12, 14, 16, 0)) == (
        "Chat is closed. It opens again Friday, January 1, 9:00 AM (Central Time)."
    )


def test_a_queue_with_hours_of_its_own_ignores_its_librarys(chicago, riverside, alice):
    QueueOpeningPeriod.objects.create(queue=riverside, weekday=5, opens=time(10), closes=time(12))
    monitor(alice, riverside)
    # Saturday 10:30 CST: the library is closed, the queue open.
    assert queue_availability(riverside, now=utc(2026, 12, 12, 16, 30)).state == "open"
    # Monday 10:00 CST: the library is open, the queue is not.
    assert queue_availability(riverside, now=utc(2026, 12, 14, 16, 0)).state == "closed"


def test_hours_say_closed_before_staffing_does(chicago, riverside):
    # Nobody monitors, and it is outside hours: the hours are what a patron can plan on.
    closed = queue_availability(riverside, now=utc(2026, 12, 12, 16, 30))
    assert (closed.reason, closed.librarians_online) == ("outside_hours", 0)
    assert closed.next_opening == utc(2026, 12, 14, 15, 0)
