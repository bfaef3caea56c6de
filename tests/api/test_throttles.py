"""The API's throttles: per client address without a log-in, per librarian with one.

Over the rate the answer is 429 with a JSON sentence saying when to come
back; the count is in the shared cache, and a made-up X-Forwarded-For is no
new client.
"""

import pytest
from django.test import Client

from tests.helpers import logged_in

pytestmark = pytest.mark.django_db


def test_anonymous_clients_are_throttled_per_address(world, settings):
    settings.API_ANON_RATE = "3/min"
    client = Client()
    for n in range(3):
        assert client.get("/api/v1/status/", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code == 200
    throttled = client.get("/api/v1/status/")
    assert throttled.status_code == 429
    assert throttled["Content-Type"] == "application/json"
    assert throttled.json()["detail"].startswith("Request was throttled.")
    assert "Retry-After" in throttled
    assert Client(REMOTE_ADDR="192.0.2.8").get("/api/v1/status/").status_code == 200


def test_librarians_are_throttled_per_account(alice, bob, settings):
    settings.API_USER_RATE = "2/min"
    alices = logged_in(alice)
    assert [alices.get("/api/v1/sessions/").status_code for _ in range(3)] == [200, 200, 429]
    assert logged_in(bob).get("/api/v1/sessions/").status_code == 200
