"""``/api/v1/queues/``: a library's queues by id or slug, with their hours
and status, switched on and off with a key of the queues scope (docs/api.md)."""

from datetime import time

import pytest
from django.test import Client

from accounts.models import LibraryOpeningPeriod, LibrarySpecialDay
from api.models import LibraryAPIKey, Scope
from queues.models import Queue
from tests.helpers import logged_in

pytestmark = pytest.mark.django_db


def key_of(library, *scopes: str) -> str:
    return LibraryAPIKey.objects.create_key(name="Site", library=library, scopes=list(scopes))[1]


def call(method: str, key: str, path: str):
    return getattr(Client(), method)(path, HTTP_AUTHORIZATION=f"Api-Key {key}")


def test_a_key_lists_its_librarys_queues_with_their_hours(world, riverside_library):
    riverside_library.time_zone = "America/Chicago"
    riverside_library.save()
    for weekday in range(5):
        LibraryOpeningPeriod.objects.create(
            library=riverside_library, weekday=weekday, opens=time(9), closes=time(21)
        )
    LibrarySpecialDay.objects.create(library=riverside_library, date="2099-12-25", name="Far")
    key = key_of(riverside_library, Scope.STATUS)
    listed = call("get", key, "/api/v1/queues/").json()["queues"]
    # Its own queues and the cooperative it is part of; never Hillcrest's own.
    assert sorted(q["slug"] for q in listed) == ["archive", "cooperative", "riverside"]
    riverside = call("get", key, "/api/v1/queues/riverside/").json()
    assert riverside == call("get", key, f"/api/v1/queues/{riverside['id']}/").json()
    assert riverside["zone"] == "America/Chicago" and riverside["switched_on"] is True
    assert riverside["hours"]["monday"] == [["09:00", "21:00"]]
    assert riverside["hours"]["saturday"] == []
    assert riverside["status"]["state"] == "closed"  # nobody on
    assert riverside["libraries"] == ["Riverside Public Library"]
    assert call("get", key, "/api/v1/queues/hillcrest/").status_code == 404


def test_a_key_of_the_queues_scope_switches_a_queue_off_and_on(world, riverside_library):
    key = key_of(riverside_library, Scope.QUEUES)
    closed = call("post", key, "/api/v1/queues/riverside/close/")
    assert closed.status_code == 200
    assert closed.json()["switched_on"] is False
    assert closed.json()["status"] == {"state": "closed", "open": False, "reason": "switched_off"}
    assert Queue.objects.get(slug="riverside").is_open is False
    assert Client().get("/api/v1/status/riverside/").json()["reason"] == "switched_off"
    opened = call("post", key, f"/api/v1/queues/{closed.json()['id']}/open/")
    assert opened.json()["switched_on"] is True
    assert Queue.objects.get(slug="riverside").is_open is True


def test_switching_needs_the_queues_scope_and_a_key(world, riverside_library, alice):
    status_only = key_of(riverside_library, Scope.STATUS)
    refused = call("post", status_only, "/api/v1/queues/riverside/close/")
    assert refused.status_code == 403
    assert refused.json() == {"detail": 'This API key has no "queues" scope.'}
    assert call("get", key_of(riverside_library, Scope.STATISTICS), "/api/v1/queues/").json() == {
        "detail": 'This API key has no "queues" or "status" scope.'
    }
    # Another library's queue is not found, not switched.
    hillcrest_key = key_of(world.hillcrest_library, Scope.QUEUES)
    assert call("post", hillcrest_key, "/api/v1/queues/riverside/close/").status_code == 404
    # A librarian reads their own queues but switches none.
    alices = logged_in(alice)
    assert sorted(q["slug"] for q in alices.get("/api/v1/queues/").json()["queues"]) == [
        "cooperative",
        "riverside",
    ]
    answer = alices.post("/api/v1/queues/riverside/close/")
    assert answer.status_code == 403 and "API key" in answer.json()["detail"]
    assert Queue.objects.get(slug="riverside").is_open is True
