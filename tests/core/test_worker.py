"""The worker: its schedule, and the real ``manage.py worker`` beside live sockets.

Periodic work (sweeps, expiries, transcripts) runs in the worker, never in a
web process: a job's run is claimed in the database so several workers run
it once, a failing job never stops the others, and what the worker decides
reaches the consoles it concerns (through Redis in service mode, through the
database in the embedded mode, where the channel layer lives in the web
process's memory).
"""

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from chat import transfers
from chat.models import ChatSession, TransferOffer
from core import relay, scheduler
from core.models import ScheduledJob
from tests.helpers import at_once
from tests.live import ROOT, start_worker, stop, subprocess_database_url
from tests.sockets import (  # noqa: F401 - the fixture closes leftover sockets
    call,
    close_sockets_left_open,
    console_of,
    monitor,
    patron_of,
    reload,
)

RUNS: Counter[str] = Counter()


def counted() -> None:
    RUNS["counted"] += 1


def broken() -> None:
    raise ZeroDivisionError("a detail that must not reach the log")


@pytest.fixture
def schedule(settings: Any) -> list[scheduler.Job]:
    RUNS.clear()
    settings.PERIODIC_JOBS = {
        "test.broken": {"call": "tests.core.test_worker.broken", "every": 60},
        "test.counted": {"call": "tests.core.test_worker.counted", "every": 60},
    }
    jobs = scheduler.jobs()
    scheduler.schedule_ensure(jobs)
    return jobs


# The schedule runs outside any transaction, as in the worker (a failure's
# connection housekeeping would end a test's transaction).
@pytest.mark.django_db(transaction=True)
def test_a_failing_job_never_stops_the_others_and_leaves_no_detail_in_the_log(schedule, caplog):
    assert scheduler.run_due(schedule) == ["test.broken", "test.counted"]
    assert RUNS["counted"] == 1
    broken_row = ScheduledJob.objects.get(name="test.broken")
    assert broken_row.last_error == "ZeroDivisionError"
    assert broken_row.last_finished_at is not None
    assert ScheduledJob.objects.get(name="test.counted").last_error == ""
    assert "periodic job test.broken failed" in caplog.text
    # The traceback names the exception; the log line itself carries no data.
    [record] = [r for r in caplog.records if r.getMessage().startswith("periodic job")]
    assert "must not" not in record.getMessage()


@pytest.mark.django_db(transaction=True)
def test_a_job_runs_again_only_when_its_period_has_passed(schedule):
    assert "test.counted" in scheduler.run_due(schedule)
    assert scheduler.run_due(schedule) == []
    ScheduledJob.objects.update(next_run_at=timezone.now() - timedelta(seconds=1))
    assert "test.counted" in scheduler.run_due(schedule)
    assert RUNS["counted"] == 2


@pytest.mark.django_db(transaction=True)
def test_a_tick_with_nothing_due_is_one_read(schedule, django_assert_num_queries):
    """Four ticks a second per worker: with nothing due, each costs one SELECT
    and writes nothing, whatever the length of the schedule."""
    scheduler.run_due(schedule)
    with django_assert_num_queries(1):
        assert scheduler.run_due(schedule) == []


@pytest.mark.django_db(transaction=True)
def test_several_workers_at_once_run_each_job_once_a_period(schedule):
    for round_ in range(5):
        ScheduledJob.objects.update(next_run_at=timezone.now() - timedelta(seconds=1))
        outcomes = at_once(**{f"worker{n}": lambda: scheduler.run_due(schedule) for n in range(3)})
        assert not [o for o in outcomes.values() if isinstance(o, Exception)], outcomes
        ran = [name for names in outcomes.values() for name in names]
        assert sorted(ran) == ["test.broken", "test.counted"], f"round {round_}"
    assert RUNS["counted"] == 5


def test_every_scheduled_job_names_a_function_that_exists():
    for job in scheduler.jobs():
        module, _, name = job.call.rpartition(".")
        assert callable(getattr(__import__(module, fromlist=[name]), name)), job.call
    # The sweeps of the web processes' old loop are all here, on the worker.
    calls = {job.call for job in scheduler.jobs()}
    assert {
        "shifts.services.presence_sweep",
        "chat.patrons.patron_sockets_sweep",
        "chat.patrons.sessions_lost_sweep",
        "chat.transfers.transfer_expire_due",
        "transcripts.delivery.transcripts_enqueue_due",
    } <= calls


# --- The real worker beside live sockets -----------------------------------------


@pytest.fixture
def worker(tmp_path: Path, settings: Any) -> Any:
    """``manage.py worker`` on the test database, sweeping every second; in the
    embedded mode this process's sockets read what it relays."""
    settings.RELAY_READ_SECONDS = 0.05
    env = {
        **os.environ,
        "DATABASE_URL": subprocess_database_url(),
        "VAR_DIR": str(tmp_path / "worker-var"),
        "SWEEP_SECONDS": "1",
        "LOG_LEVEL": "INFO",
        "PYTHONFAULTHANDLER": "1",
    }
    if django_settings.REDIS_URL:
        env["CHANNEL_PREFIX"] = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
    env.pop("EMAIL_URL", None)
    log = tmp_path / "worker.log"
    proc = start_worker(env, log)
    yield proc, log, tmp_path / "worker-var" / "mail"
    stop(proc, name="the worker", log=log)


@pytest.mark.django_db(transaction=True)
async def test_the_worker_expires_an_offer_and_both_consoles_hear_it(
    alice, bob, riverside, chat, worker
):
    await monitor(bob, riverside)
    session = await call(chat, alice)
    alices, bobs = await console_of(alice), await console_of(bob)
    offer = await call(
        transfers.transfer_offer, session_id=session.pk, sender=alice, receiver_id=bob.pk
    )
    await bobs.expect("transfer.offered")
    await call(
        TransferOffer.objects.filter(pk=offer.pk).update,
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    for console in (alices, bobs):
        expired = await console.expect("transfer.expired", timeout=10)
        assert expired["offer"]["id"] == offer.pk
    assert (await reload(session)).primary_id == alice.pk
    await relay.reading_stop()


@pytest.mark.django_db(transaction=True)
async def test_the_worker_ends_a_chat_whose_patron_stayed_away_and_emails_the_transcript_once(
    alice, chat, worker
):
    _, log, mail_dir = worker
    session = await call(chat, alice, email="dana@example.org")
    alices = await console_of(alice)
    await call(
        ChatSession.objects.filter(pk=session.pk).update,
        patron_gone_since=timezone.now() - timedelta(minutes=11),
    )
    closed = await alices.expect("session.closed", session=session.pk, timeout=10)
    assert closed["closed_by"] == "system"
    deadline = time.monotonic() + 10
    while not (mail_dir.exists() and list(mail_dir.glob("*.log"))):
        assert time.monotonic() < deadline, log.read_text()
        await asyncio.sleep(0.1)
    await asyncio.sleep(3)  # another round of the schedule sends nothing more
    [mail_file] = list(mail_dir.glob("*.log"))
    body = mail_file.read_text()
    assert body.count("To: dana@example.org") == 1
    assert "The patron's connection was lost" in body
    assert (await reload(session)).transcript_sent_at is not None
    # The worker's log names the session, never the address or the text.
    assert "dana@example.org" not in log.read_text()
    await relay.reading_stop()


def test_the_worker_stops_on_sigterm_and_says_so(tmp_path, transactional_db):
    env = {**os.environ, "DATABASE_URL": subprocess_database_url(), "LOG_LEVEL": "INFO"}
    log = tmp_path / "worker.log"
    proc = start_worker(env, log)
    deadline = time.monotonic() + 20
    while "started" not in log.read_text():
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    # A periodic job under way is finished first (the worker waits up to 30 s
    # for it), which on a loaded machine took longer than 10 s.
    assert proc.wait(timeout=40) == 0
    assert "stopped" in log.read_text()


def test_the_batch_worker_runs_the_schedule_once_and_exits(tmp_path, transactional_db):
    env = {**os.environ, "DATABASE_URL": subprocess_database_url(), "LOG_LEVEL": "INFO"}
    done = subprocess.run(
        [sys.executable, "manage.py", "worker", "--batch"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    names = set(ScheduledJob.objects.values_list("name", flat=True))
    assert names == set(django_settings.PERIODIC_JOBS)
    assert not ScheduledJob.objects.exclude(last_error="").exists()
