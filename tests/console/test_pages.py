"""The librarian's pages: logging in, the console page, logging off (which ends the shift)."""

import pytest

from queues.models import Membership
from shifts import services as shifts
from tests.helpers import logged_in

pytestmark = pytest.mark.django_db


# --- The console ------------------------------------------------------------


def test_the_console_sends_anonymous_visitors_to_log_in(client, world):
    response = client.get("/console/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/console/"
    assert client.get("/login/").status_code == 200


def test_a_librarian_logs_in_and_gets_her_console(client, alice):
    response = client.post("/login/", {"username": "alice", "password": "x-test-pass"})
    assert response.status_code == 302
    assert response["Location"] == "/console/"
    console = client.get("/console/")
    assert console.status_code == 200
    page = console.content.decode()
    assert "Alice" in page
    assert "RPL-104" in page


def test_a_wrong_password_does_not_log_in(client, alice):
    response = client.post("/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert client.get("/console/").status_code == 302


def test_a_user_without_a_librarian_profile_is_told_why_there_is_no_console(frank):
    response = logged_in(frank).get("/console/")
    assert response.status_code == 403
    assert "no librarian profile" in response.content.decode()


def test_logging_off_stops_monitoring_and_ends_my_chats(chat, alice, riverside):
    shifts.monitoring_set(librarian=alice, queue_ids=[riverside.pk])
    session = chat(alice)
    client = logged_in(alice)
    response = client.post("/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    session.refresh_from_db()
    assert (session.state, session.closed_by) == ("closed", "librarian")
    assert session.messages.order_by("seq").last().text == "Librarian ended chat session"
    assert not Membership.objects.filter(librarian=alice, is_monitoring=True).exists()
    assert client.get("/console/").status_code == 302
