"""Staff logins (accounts/logins.py): they end with the browser and after the idle time.

Every request is activity; asking how long is left (GET /idle/) is not;
Stay logged in (POST /idle/) is. The server decides: past the idle time
the login is gone, whatever a page still shows. Open consoles then close
at their next heartbeat (tests/console/test_access.py).
"""

import pytest
from django.conf import settings
from django.test import Client

from tests.helpers import Clock, logged_in

pytestmark = pytest.mark.django_db

IDLE = 8 * 3600  # the default


def test_the_login_cookie_ends_with_the_browser(alice):
    client = Client()
    response = client.post("/login/", {"username": "alice", "password": "x-test-pass"})
    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["expires"] == "" and cookie["max-age"] == ""


def test_a_login_left_idle_past_eight_hours_is_gone(alice, clock: Clock):
    client = logged_in(alice)
    assert client.get("/console/").status_code == 200
    clock.advance(IDLE + 1)
    response = client.get("/console/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_each_request_is_activity_that_keeps_the_login(alice, clock: Clock):
    client = logged_in(alice)
    for _ in range(45):  # 15 days of a request every 8 hours less a minute
        clock.advance(IDLE - 60)
        assert client.get("/console/").status_code == 200


def test_asking_how_long_is_left_is_no_activity_and_stay_logged_in_is(alice, clock: Clock):
    client = logged_in(alice)
    client.get("/console/")
    clock.advance(IDLE - 100)
    answer = client.get("/idle/")
    assert answer.status_code == 200
    assert answer.json() == {"seconds_left": 100, "idle_seconds": IDLE}
    clock.advance(50)
    assert client.get("/idle/").json()["seconds_left"] == 50  # asking changed nothing

    assert client.post("/idle/").json()["seconds_left"] == IDLE  # Stay logged in
    clock.advance(IDLE - 1)
    assert client.get("/console/").status_code == 200


def test_a_login_that_ended_says_so(alice, clock: Clock):
    client = logged_in(alice)
    clock.advance(IDLE + 1)
    for answer in (client.get("/idle/"), client.post("/idle/")):
        assert answer.status_code == 401
        assert answer.json()["seconds_left"] == 0
    assert Client().get("/idle/").status_code == 401  # nobody logged in


def test_every_staff_page_carries_the_idle_warning_and_patron_pages_do_not(alice, supervisor):
    console = logged_in(alice).get("/console/").content.decode()
    assert f'data-seconds="{IDLE}" data-warning="120"' in console
    assert 'src="/static/js/idle.js"' in console
    history = logged_in(alice).get("/console/history/").content.decode()
    assert 'name="staff-idle"' in history
    admin = logged_in(supervisor).get("/admin/").content.decode()
    assert 'name="staff-idle"' in admin and 'src="/static/js/idle.js"' in admin
    assert 'name="staff-idle"' not in Client().get("/ask/").content.decode()
