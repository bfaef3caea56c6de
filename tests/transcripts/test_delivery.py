"""Transcripts go out from the worker: at least once, never twice, and never in the way of a chat.

End Session closes the chat for both sides at once and only marks the
transcript due; the worker's job claims it and its task sends it. A mail
server that hangs or refuses costs a retry later, with backoff, and never a
second email; a worker that dies holding a transcript leaves it to be sent
after its lease.

Dana asks Ask Riverside with her address; Alice holds the chat.
"""

import asyncio
import smtplib
import socket
import threading
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connections
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from chat import sessions
from chat.models import ChatSession
from core import scheduler
from tests.sockets import (  # noqa: F401 - the fixture closes leftover sockets
    call,
    close_sockets_left_open,
    console_of,
    patron_of,
    reload,
)
from tests.talk import transcripts_delivered, worker_runs_queue
from transcripts import delivery

ADDRESS = "dana@example.org"


class HangingBackend(BaseEmailBackend):
    """A mail server that takes the message and never answers, until released."""

    entered = threading.Event()
    release = threading.Event()

    def send_messages(self, messages: Any) -> int:
        HangingBackend.entered.set()
        HangingBackend.release.wait(timeout=30)
        mail.outbox.extend(messages)
        return len(messages)


class RefusingBackend(BaseEmailBackend):
    """A mail server that refuses every message."""

    def send_messages(self, messages: Any) -> int:
        raise smtplib.SMTPRecipientsRefused({ADDRESS: (450, b"Mailbox busy, try later")})


class RudeGoodbyeBackend(BaseEmailBackend):
    """A mail server that takes the message, then drops the line on QUIT."""

    def send_messages(self, messages: Any) -> int:
        mail.outbox.extend(messages)
        return len(messages)

    def close(self) -> None:
        raise TimeoutError("no answer to QUIT")


def fresh(session: ChatSession) -> ChatSession:
    return ChatSession.objects.get(pk=session.pk)


def ended(chat: Any, alice: Any) -> ChatSession:
    session = chat(alice, email=ADDRESS)
    sessions.session_end_by_librarian(session_id=session.pk, librarian=alice)
    return fresh(session)


# --- A slow or failing mail server ----------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_end_session_reaches_both_sides_while_the_mail_server_hangs(
    chat, alice, settings, mailoutbox
):
    settings.EMAIL_BACKEND = "tests.transcripts.test_delivery.HangingBackend"
    HangingBackend.entered.clear()
    HangingBackend.release.clear()
    settings.HEARTBEAT_SECONDS = 0.3
    # Eve's chat ended a moment ago; the worker is stuck sending her transcript.
    eve = await call(chat, alice, name="Eve", email="eve@example.org")
    await call(sessions.session_end_by_librarian, session_id=eve.pk, librarian=alice)

    def work() -> None:
        try:
            transcripts_delivered()
        finally:
            connections.close_all()

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    assert await asyncio.to_thread(HangingBackend.entered.wait, 10)

    dana = await call(chat, alice, email=ADDRESS)
    patron = await patron_of(dana)
    await patron.expect("session.snapshot")
    console = await console_of(alice)
    await patron.send(type="session.end")
    # Both sides hear it while the mail server is still hanging, and the
    # sockets keep beating.
    assert (await patron.expect("session.closed"))["closed_by"] == "patron"
    assert (await console.expect("session.closed", session=dana.pk))["closed_by"] == "patron"
    await patron.expect("session.heartbeat", state="closed")
    await console.expect("console.heartbeat")
    assert worker.is_alive() and mailoutbox == []

    HangingBackend.release.set()
    await asyncio.to_thread(worker.join, 10)
    await call(transcripts_delivered)
    assert sorted(m.to[0] for m in mailoutbox) == [ADDRESS, "eve@example.org"]
    for socket_ in (patron, console):
        await socket_.close()


@pytest.mark.django_db
def test_a_refused_transcript_is_tried_again_later_and_sent_once(
    chat, alice, settings, mailoutbox, caplog
):
    settings.EMAIL_BACKEND = "tests.transcripts.test_delivery.RefusingBackend"
    session = ended(chat, alice)
    closed_at = session.closed_at
    assert closed_at is not None
    assert transcripts_delivered() == [session.pk]
    session = fresh(session)
    assert (session.transcript_attempts, session.transcript_sent_at) == (1, None)
    assert session.transcript_due_at == pytest.approx(
        closed_at + delivery.backoff(1), abs=timedelta(seconds=5)
    )
    # Not before its time.
    assert transcripts_delivered() == []
    # Then again, refused again: the wait grows.
    assert transcripts_delivered(now=session.transcript_due_at) == [session.pk]
    session = fresh(session)
    assert session.transcript_attempts == 2
    assert delivery.backoff(2) > delivery.backoff(1)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert transcripts_delivered(now=session.transcript_due_at) == [session.pk]
    assert [m.to for m in mailoutbox] == [[ADDRESS]]
    session = fresh(session)
    assert session.transcript_sent_at is not None and session.transcript_due_at is None
    assert transcripts_delivered(now=timezone.now() + timedelta(days=1)) == []
    assert len(mailoutbox) == 1
    # The log says which session and why, never the address or the chat.
    assert f"transcript of session {session.pk} not sent (attempt 1" in caplog.text
    assert ADDRESS not in caplog.text


@pytest.mark.django_db
def test_a_transcript_refused_too_often_is_given_up(chat, alice, settings, caplog):
    settings.EMAIL_BACKEND = "tests.transcripts.test_delivery.RefusingBackend"
    settings.TRANSCRIPT_MAX_ATTEMPTS = 3
    session = ended(chat, alice)
    now = timezone.now()
    for _ in range(3):
        transcripts_delivered(now=now)
        now += timedelta(days=1)
    session = fresh(session)
    assert (session.transcript_attempts, session.transcript_due_at) == (3, None)
    assert f"transcript of session {session.pk} given up after 3 attempts" in caplog.text
    assert transcripts_delivered(now=now + timedelta(days=30)) == []


@pytest.mark.django_db
def test_a_mail_server_that_never_answers_costs_one_attempt_of_email_timeout(
    chat, alice, settings, mailoutbox
):
    # A real SMTP client against a loopback server that accepts and says nothing.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = silent.getsockname()
    settings.EMAIL_TIMEOUT = 0.5
    try:
        session = ended(chat, alice)
        transcripts_delivered()
    finally:
        silent.close()
    assert fresh(session).transcript_attempts == 1
    assert fresh(session).transcript_sent_at is None


@pytest.mark.django_db
def test_a_goodbye_that_fails_after_the_server_took_the_message_is_no_failure(
    chat, alice, settings, mailoutbox
):
    settings.EMAIL_BACKEND = "tests.transcripts.test_delivery.RudeGoodbyeBackend"
    session = ended(chat, alice)
    transcripts_delivered()
    session = fresh(session)
    assert (session.transcript_sent_at is not None, session.transcript_due_at) == (True, None)
    transcripts_delivered(now=timezone.now() + timedelta(days=1))
    assert [m.to for m in mailoutbox] == [[ADDRESS]]


# --- Claims: at least once, never twice ---------------------------------------------


@pytest.mark.django_db
def test_a_transcript_whose_worker_died_is_sent_after_its_lease(chat, alice, settings, mailoutbox):
    session = ended(chat, alice)
    assert delivery.transcripts_enqueue_due() == [session.pk]
    # The worker dies before it runs the task: the queued task is gone with it.
    DBTaskResult.objects.all().delete()
    assert transcripts_delivered() == []  # still claimed
    assert mailoutbox == []
    after_lease = timezone.now() + timedelta(seconds=settings.TRANSCRIPT_LEASE_SECONDS + 1)
    assert transcripts_delivered(now=after_lease) == [session.pk]
    assert [m.to for m in mailoutbox] == [[ADDRESS]]


@pytest.mark.django_db
def test_a_task_that_outlived_its_claim_sends_nothing(chat, alice, settings, mailoutbox):
    session = ended(chat, alice)
    delivery.transcripts_enqueue_due()  # the first claim's task waits in the queue …
    after_lease = timezone.now() + timedelta(seconds=settings.TRANSCRIPT_LEASE_SECONDS + 1)
    delivery.transcripts_enqueue_due(now=after_lease)  # … and the claim is taken again
    assert DBTaskResult.objects.count() == 2
    assert worker_runs_queue() == 2
    assert [m.to for m in mailoutbox] == [[ADDRESS]]
    assert fresh(session).transcript_sent_at is not None


@pytest.mark.django_db
def test_every_transcript_has_the_sessions_own_message_id(chat, alice, mailoutbox):
    first, second = ended(chat, alice), ended(chat, alice)
    transcripts_delivered()
    ids = {m.to[0]: m.extra_headers["Message-ID"] for m in mailoutbox}
    assert sorted(m.extra_headers["Message-ID"] for m in mailoutbox) == sorted(
        f"<transcript-{s.pk}@localhost>" for s in (first, second)
    )
    assert len(ids) == 1  # both to Dana


@pytest.mark.django_db
def test_no_address_no_transcript_due(chat, alice):
    session = chat(alice)
    sessions.session_end_by_patron(session=session)
    assert fresh(session).transcript_due_at is None
    assert transcripts_delivered() == []


@pytest.mark.django_db
def test_a_task_left_running_by_a_dead_worker_is_pruned_after_a_day(chat, alice):
    ended(chat, alice)
    delivery.transcripts_enqueue_due()
    [task] = DBTaskResult.objects.all()
    DBTaskResult.objects.filter(pk=task.pk).update(
        status="RUNNING", started_at=timezone.now() - timedelta(hours=23)
    )
    scheduler.task_results_prune()
    assert DBTaskResult.objects.filter(pk=task.pk).exists()
    DBTaskResult.objects.filter(pk=task.pk).update(started_at=timezone.now() - timedelta(days=2))
    scheduler.task_results_prune()
    assert not DBTaskResult.objects.filter(pk=task.pk).exists()
