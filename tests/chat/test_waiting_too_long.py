"""A request waiting past its queue's threshold (``Queue.waiting_alert_seconds``)."""

import pytest
from django.test import Client

from chat.payloads import session_row
from chat.selectors import waiting_too_long
from tests.helpers import request_aged

pytestmark = pytest.mark.django_db


def test_past_its_queues_threshold_a_request_is_waiting_too_long(ask, riverside, hillcrest):
    riverside.waiting_alert_seconds = 60
    riverside.save()
    hillcrest.waiting_alert_seconds = 0  # never
    hillcrest.save()
    dana = ask(name="Dana")
    gus = ask(hillcrest, name="Gus", email="gus@example.org")
    assert session_row(dana)["too_long_after"] == 60
    assert session_row(gus)["too_long_after"] is None
    assert list(waiting_too_long()) == []
    request_aged(dana, 61)
    request_aged(gus, 3600)
    assert list(waiting_too_long()) == [dana]


def test_supervisors_find_them_in_the_admin(ask, riverside, supervisor):
    dana = ask(name="Dana")
    ask(name="Eli")
    request_aged(dana, 125)  # the default threshold: 120 s
    client = Client()
    client.force_login(supervisor)
    page = client.get("/admin/chat/chatsession/?waiting=too_long").content.decode()
    assert "Dana" in page
    assert "Eli" not in page
    assert "(waiting too long)" in page
    everyone = client.get("/admin/chat/chatsession/?waiting=now").content.decode()
    assert "Dana" in everyone and "Eli" in everyone
