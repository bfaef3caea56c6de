"""``manage.py seed_demo_history``: eight weeks of past demo chats the
supervisor's Statistics show, the same every time, once with ``--if-empty``."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from chat.models import ChatSession, Hold
from tests.helpers import logged_in

pytestmark = pytest.mark.django_db


def test_the_demo_history_fills_the_supervisors_statistics():
    call_command("seed_demo", password="x-test-pass")
    call_command("seed_demo_wrapup")
    call_command("seed_demo_history")
    made = ChatSession.objects.count()
    assert made > 300
    assert not ChatSession.objects.exclude(state=ChatSession.State.CLOSED).exists()
    # Every answered chat has its holds; the transfers are two of them.
    answered = ChatSession.objects.filter(first_accepted_at__isnull=False)
    assert answered.count() == answered.filter(holds__ended_how=Hold.End.CLOSED).count()
    assert Hold.objects.filter(ended_how=Hold.End.TRANSFERRED).exists()

    call_command("seed_demo_history", if_empty=True)
    assert ChatSession.objects.count() == made

    supervisor = get_user_model().objects.get(username="supervisor")
    page = logged_in(supervisor).get("/console/stats/").content.decode()
    assert "Every queue of Riverside Public Library" in page
    asked = re.search(r'<th scope="row">Sessions asked</th><td>(\d+)</td>', page)
    assert asked is not None and int(asked.group(1)) > 50  # about 30 days of them
    assert "Which library answered whose patrons" in page
