"""The public status (docs/api.md): open, busy or closed with the next opening, per queue.

The same rule as /ask/ and the widget (chat/availability.py); here, what a
library web site reads: the fields, the zone's offset, the 404 of an unknown
queue (readable cross-origin too), the language, and no cookie read.
"""

from datetime import UTC, datetime, time

import pytest
from django.test import Client

from accounts.models import LibraryOpeningPeriod, LibrarySpecialDay
from chat import availability
from shifts import services as shifts

pytestmark = pytest.mark.django_db

# Friday 4 December 2026, 17:30 in Chicago (CST, UTC-6).
FRIDAY_EVENING = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)


@pytest.fixture
def friday_evening(monkeypatch):
    monkeypatch.setattr(availability.timezone, "now", lambda: FRIDAY_EVENING)


@pytest.fixture
def riverside_hours(riverside_library):
    riverside_library.time_zone = "America/Chicago"
    riverside_library.save()
    for weekday in range(5):
        LibraryOpeningPeriod.objects.create(
            library=riverside_library, weekday=weekday, opens=time(9), closes=time(21)
        )
    LibrarySpecialDay.objects.create(library=riverside_library, date="2026-12-07", name="Staff day")


def test_a_queue_closed_by_its_hours_says_when_it_opens_in_its_own_zone(
    client, riverside, alice, riverside_hours, friday_evening, monkeypatch
):
    shifts.monitoring_set(librarian=alice, queue_ids=[riverside.pk])
    # Friday 17:30 is within hours; 21:30 is not.
    body = client.get("/api/v1/status/riverside/").json()
    assert (body["state"], body["open"]) == ("open", True)

    at_night = datetime(2026, 12, 5, 3, 30, tzinfo=UTC)  # Friday 21:30 CST
    monkeypatch.setattr(availability.timezone, "now", lambda: at_night)
    body = client.get("/api/v1/status/riverside/").json()
    assert body == {
        "slug": "riverside",
        "name": "Ask Riverside",
        "libraries": [{"slug": "riverside-public", "name": "Riverside Public Library"}],
        "state": "closed",
        "open": False,
        "reason": "outside_hours",
        # Monday 7 December is the staff day: Tuesday 9:00.
        "message": "Chat is closed. It opens again Tuesday 9:00 AM (Central Time).",
        "next_opening": "2026-12-08T09:00:00-06:00",
        "time_zone": "America/Chicago",
        "librarians_online": 1,
        "waiting": 0,
        "ask_url": "http://testserver/ask/riverside/",
    }
    listed = {q["slug"]: q for q in client.get("/api/v1/status/").json()["queues"]}
    assert listed["riverside"] == body
    # The cooperative keeps no hours of its own: nobody on is its only closing.
    assert (listed["cooperative"]["reason"], listed["cooperative"]["next_opening"]) == (
        "unstaffed",
        None,
    )


def test_busy_is_open_with_a_warning(client, riverside, alice, chat):
    riverside.busy_at = 1
    riverside.save()
    shifts.monitoring_set(librarian=alice, queue_ids=[riverside.pk])
    chat(alice)
    body = client.get("/api/v1/status/riverside/").json()
    assert (body["state"], body["open"], body["reason"]) == ("busy", True, "all_busy")
    assert body["message"] == "Chat is open, but all librarians are busy. You may have to wait."


def test_a_switched_off_queue_answers_its_status_but_is_not_listed(client, archive):
    archive.is_open = False
    archive.save()
    body = client.get("/api/v1/status/archive/").json()
    assert (body["state"], body["reason"]) == ("closed", "switched_off")
    assert "archive" not in {q["slug"] for q in client.get("/api/v1/status/").json()["queues"]}


@pytest.mark.parametrize("slug", ["no-such-queue", "not a slug!", "%00"])
def test_an_unknown_queue_is_a_json_404_any_web_site_can_read(client, world, slug):
    response = client.get(f"/api/v1/status/{slug}/")
    assert response.status_code == 404
    assert response.json() == {"detail": "There is no chat service with this name."}
    assert response["Access-Control-Allow-Origin"] == "*"


def test_the_status_reads_no_cookie_and_says_what_it_varies_on(client, world, settings):
    settings.LANGUAGES = [("en", "English"), ("es", "Spanish")]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    client.cookies[settings.SESSION_COOKIE_NAME] = "whatever"
    response = client.get("/api/v1/status/riverside/")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert set(response["Cache-Control"].split(", ")) == {"public", "max-age=15"}
    assert "Accept-Language" in response["Vary"]
    assert "Cookie" not in response["Vary"]
    assert not response.cookies


def test_the_message_is_in_the_language_asked_for(world, settings, monkeypatch):
    settings.LANGUAGES = [("en", "English"), ("es", "Spanish")]
    heard = []

    def message(status_availability):
        from django.utils.translation import get_language

        heard.append(get_language())
        return "…"

    monkeypatch.setattr("api.serializers.availability_message", message)
    client = Client()
    client.get("/api/v1/status/riverside/?lang=es")
    client.get("/api/v1/status/riverside/", HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9,en;q=0.5")
    client.get("/api/v1/status/riverside/?lang=xx", HTTP_ACCEPT_LANGUAGE="fr")
    assert heard == ["es", "es", settings.LANGUAGE_CODE]  # neither xx nor fr: the default


def test_the_status_has_an_etag_and_a_poll_that_sends_it_back_gets_a_304(client, riverside, alice):
    first = client.get("/api/v1/status/riverside/")
    etag = first["ETag"]
    assert first.status_code == 200 and etag.startswith('"') and etag.endswith('"')
    same = client.get("/api/v1/status/riverside/", HTTP_IF_NONE_MATCH=etag)
    assert same.status_code == 304 and same.content == b""
    assert same["ETag"] == etag
    assert same["Access-Control-Allow-Origin"] == "*"  # a web site's script may read it
    assert "max-age=15" in same["Cache-Control"]
    # Somebody starts monitoring: the answer changes, and so does its tag.
    shifts.monitoring_set(librarian=alice, queue_ids=[riverside.pk])
    changed = client.get("/api/v1/status/riverside/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    every = client.get("/api/v1/status/")
    assert client.get("/api/v1/status/", HTTP_IF_NONE_MATCH=every["ETag"]).status_code == 304
    # Another language is another answer (Vary: Accept-Language), with its own tag.
    spanish = client.get("/api/v1/status/riverside/?lang=es", HTTP_IF_NONE_MATCH=changed["ETag"])
    assert spanish.status_code == 200
