"""The health check (/healthz): the database, Redis in service mode, and whether a worker runs."""

import datetime as dt

import pytest
from django.utils import timezone

from core.models import ScheduledJob
from tests.conftest import SERVICE_MODE

pytestmark = pytest.mark.django_db


# --- Health -------------------------------------------------------------------


def test_the_health_check_answers_when_the_database_does(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    expected = {"status": "ok", "database": "ok", "worker": "not started"}
    if SERVICE_MODE:
        expected["redis"] = "ok"
    assert response.json() == expected
    assert "no-cache" in response["Cache-Control"]


def test_the_health_check_says_whether_a_worker_ran_the_schedule_lately(client, db):
    ScheduledJob.objects.create(
        name="shifts.presence_sweep", next_run_at=timezone.now(), last_started_at=timezone.now()
    )
    assert client.get("/healthz").json()["worker"] == "ok"
    ScheduledJob.objects.update(last_started_at=timezone.now() - dt.timedelta(minutes=5))
    response = client.get("/healthz")
    # Said for monitoring; a late worker doesn't take the web process out of service.
    assert (response.status_code, response.json()["worker"]) == (200, "late")


def test_the_health_check_fails_when_redis_is_unreachable(client, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "down",
        "database": "ok",
        "redis": "down",
        "worker": "not started",
    }
