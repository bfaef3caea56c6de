"""Hours in the admin: a supervisor sets a library's and a queue's, and bad hours are refused.

Refused with a message that says what is wrong and keeps what was typed:
overlapping periods, a period that closes before it opens, a time that
doesn't parse, a date listed twice, a zone that isn't one.
"""

from datetime import date, time

import pytest

from accounts.models import LibraryOpeningPeriod, LibrarySpecialDay
from queues.models import QueueOpeningPeriod

pytestmark = pytest.mark.django_db


def library_form(library, periods=(), days=(), **changes) -> dict[str, str]:
    """The library's change form as the browser posts it, with these inline rows."""
    data = {
        "name": library.name,
        "slug": library.slug,
        "kind": library.kind,
        "website": "",
        "policy": library.policy,
        "time_zone": "America/Chicago",
        "opening_periods-TOTAL_FORMS": str(len(periods)),
        "opening_periods-INITIAL_FORMS": "0",
        "special_days-TOTAL_FORMS": str(len(days)),
        "special_days-INITIAL_FORMS": "0",
        **changes,
    }
    for i, (weekday, opens, closes) in enumerate(periods):
        data |= {
            f"opening_periods-{i}-weekday": str(weekday),
            f"opening_periods-{i}-opens": opens,
            f"opening_periods-{i}-closes": closes,
        }
    for i, (day, opens, closes) in enumerate(days):
        data |= {
            f"special_days-{i}-date": day,
            f"special_days-{i}-name": "",
            f"special_days-{i}-opens": opens,
            f"special_days-{i}-closes": closes,
        }
    return data


def post(sam, library, **kwargs):
    return sam.post(
        f"/admin/accounts/library/{library.pk}/change/", library_form(library, **kwargs)
    )


def test_the_supervisor_sets_a_librarys_zone_hours_and_holidays(sam, riverside_library):
    response = post(
        sam,
        riverside_library,
        periods=[(0, "9:00", "12:00"), (0, "13:00", "21:00"), (5, "10 am", "5:00 PM")],
        days=[("2026-12-25", "", ""), ("2026-12-24", "9:00", "12:00")],
    )
    assert response.status_code == 302, response.content.decode()
    riverside_library.refresh_from_db()
    assert riverside_library.time_zone == "America/Chicago"
    assert list(
        LibraryOpeningPeriod.objects.values_list("weekday", "opens", "closes").order_by(
            "weekday", "opens"
        )
    ) == [(0, time(9), time(12)), (0, time(13), time(21)), (5, time(10), time(17))]
    assert list(LibrarySpecialDay.objects.values_list("date", "opens").order_by("date")) == [
        (date(2026, 12, 24), time(9)),
        (date(2026, 12, 25), None),
    ]


def refused(response) -> str:
    assert response.status_code == 200, "refused: the form comes back"
    assert not LibraryOpeningPeriod.objects.exists() and not LibrarySpecialDay.objects.exists()
    return response.content.decode()


def test_overlapping_periods_are_refused_naming_the_day_and_the_times(sam, riverside_library):
    page = refused(
        post(sam, riverside_library, periods=[(2, "9:00", "17:00"), (2, "16:00", "21:00")])
    )
    assert "Wednesday: 09:00–17:00 and 16:00–21:00 overlap." in page
    assert 'value="16:00"' in page, "what was typed is kept"


def test_periods_that_touch_or_fall_on_other_days_are_fine(sam, riverside_library):
    response = post(
        sam,
        riverside_library,
        periods=[(2, "9:00", "13:00"), (2, "13:00", "17:00"), (3, "9:00", "17:00")],
    )
    assert response.status_code == 302


def test_a_period_that_closes_before_it_opens_is_refused(sam, riverside_library):
    page = refused(post(sam, riverside_library, periods=[(1, "17:00", "9:00")]))
    assert "Closes (09:00) must be after opens (17:00)." in page


def test_a_time_that_does_not_parse_is_refused_with_an_example(sam, riverside_library):
    page = refused(post(sam, riverside_library, periods=[(1, "nine", "17:00")]))
    assert "Enter a time such as 9:00, 17:30 or 5:30 PM." in page
    assert 'value="nine"' in page


def test_a_date_listed_twice_is_refused(sam, riverside_library):
    page = refused(
        post(
            sam, riverside_library, days=[("2026-12-25", "", ""), ("2026-12-25", "10:00", "12:00")]
        )
    )
    assert "2026-12-25 is listed twice." in page


def test_special_hours_need_both_times(sam, riverside_library):
    page = refused(post(sam, riverside_library, days=[("2026-12-24", "9:00", "")]))
    assert "Give both opens and closes for special hours" in page


def test_a_zone_that_is_not_one_is_refused(sam, riverside_library):
    response = post(sam, riverside_library, time_zone="Central Time")
    assert response.status_code == 200
    assert "Central Time is not a time zone name." in response.content.decode()


def test_a_queue_takes_hours_of_its_own_and_the_busy_setting(sam, cooperative):
    page = sam.get(f"/admin/queues/queue/{cooperative.pk}/change/").content.decode()
    assert "the queue&#x27;s own weekly hours" in page.lower()
    data = {
        "name": cooperative.name,
        "slug": cooperative.slug,
        "libraries": [str(lib.pk) for lib in cooperative.libraries.all()],
        "description": "",
        "is_open": "on",
        "announce_join": "on",
        "patron_grace_seconds": "600",
        "transfer_offer_seconds": "60",
        "time_zone": "Europe/Berlin",
        "busy_at": "2",
        "waiting_alert_seconds": "120",
        "handback_after_seconds": "0",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "tiers-TOTAL_FORMS": "0",
        "tiers-INITIAL_FORMS": "0",
        "opening_periods-TOTAL_FORMS": "1",
        "opening_periods-INITIAL_FORMS": "0",
        "opening_periods-0-weekday": "6",
        "opening_periods-0-opens": "18:00",
        "opening_periods-0-closes": "22:00",
        "special_days-TOTAL_FORMS": "0",
        "special_days-INITIAL_FORMS": "0",
        # The chat widget's inline on the same page (widget/admin.py): none.
        "widget-TOTAL_FORMS": "0",
        "widget-INITIAL_FORMS": "0",
    }
    response = sam.post(f"/admin/queues/queue/{cooperative.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    cooperative.refresh_from_db()
    assert (cooperative.time_zone, cooperative.busy_at) == ("Europe/Berlin", 2)
    assert QueueOpeningPeriod.objects.get().closes == time(22)
