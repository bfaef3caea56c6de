"""Sending transcripts: at least once, never twice for a session, and never from a web process.

When a session closes with the patron's address known (or the patron gives
one after), the chat marks its transcript due (``ChatSession.transcript_due_at``:
the database is the record of what is owed). The worker's schedule runs
:func:`transcripts_enqueue_due` every couple of seconds: each due transcript
is claimed by moving ``transcript_due_at`` on by a lease, in the same
transaction that queues its task (:func:`transcript_email`), so one worker
and one task own it. The task sends only while its claim still stands,
and records the outcome against the claim:

- sent: ``transcript_sent_at``, and nothing is due any more;
- refused or timed out (``EMAIL_TIMEOUT``): due again after a backoff (30 s,
  2 min, 8 min … up to 6 h), given up after ``TRANSCRIPT_MAX_ATTEMPTS``;
- the worker died while it held the claim: the lease runs out and the
  transcript is due again (sent at least once; the same Message-ID, so the
  rare one sent twice shows as one).

A claim that moved on (a later attempt took it) makes an older task a no-op,
so two tasks never send the same transcript.
"""

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from chat.models import ChatSession
from transcripts.email import transcript_message

logger = logging.getLogger(__name__)

# A claim is a number of microseconds since the epoch: it survives the task
# queue's JSON and compares exactly with the stored datetime.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
BATCH = 100


def backoff(attempts: int) -> timedelta:
    """How long after the ``attempts``-th failure the next attempt comes."""
    return timedelta(seconds=min(30 * 4 ** (attempts - 1), 6 * 3600))


def transcripts_enqueue_due(*, now: datetime | None = None) -> list[int]:
    """Claim the transcripts that are due and queue a task for each (the
    worker's schedule). Safe with several workers: each claim is a
    conditional UPDATE. Returns the session ids queued."""
    now = now or timezone.now()
    due = (
        ChatSession.objects.filter(transcript_due_at__lte=now)
        .order_by("transcript_due_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    queued = []
    for session_id in list(due):
        claim = now + timedelta(seconds=settings.TRANSCRIPT_LEASE_SECONDS)
        with transaction.atomic():
            taken = ChatSession.objects.filter(
                pk=session_id, transcript_due_at__lte=now, transcript_sent_at__isnull=True
            ).update(transcript_due_at=claim)
            if not taken:
                continue  # another worker claimed it first
            transcript_email.enqueue(session_id=session_id, claim=_claim_number(claim))
        queued.append(session_id)
    return queued


def transcript_deliver(*, session_id: int, claim: int) -> bool:
    """Send the transcript of a session whose claim this is (the task's body).

    Requires: the claim still stands (else another attempt owns it, or it
    was sent: nothing happens). Changes: ``transcript_sent_at`` on success;
    the next attempt's time and the count of attempts on failure.
    Returns whether it sent the email.
    """
    claimed_until = EPOCH + timedelta(microseconds=claim)
    # The send itself is claimed anew, so that even a task run twice (or an
    # older one that outlived its lease) can't send what another is sending.
    sending = max(
        timezone.now() + timedelta(seconds=settings.TRANSCRIPT_LEASE_SECONDS),
        claimed_until + timedelta(microseconds=1),
    )
    if not ChatSession.objects.filter(
        pk=session_id, transcript_due_at=claimed_until, transcript_sent_at__isnull=True
    ).update(transcript_due_at=sending):
        return False  # sent, or a later attempt owns it
    ours = ChatSession.objects.filter(pk=session_id, transcript_due_at=sending)
    session = ours.select_related("library", "queue").first()
    if session is None:
        return False
    if not session.patron_email:
        ours.update(transcript_due_at=None)
        return False
    connection = get_connection()
    try:
        connection.open()
        connection.send_messages([transcript_message(session)])
    except Exception as failure:
        _close_quietly(connection)
        attempts = session.transcript_attempts + 1
        if attempts >= settings.TRANSCRIPT_MAX_ATTEMPTS:
            ours.update(transcript_due_at=None, transcript_attempts=attempts)
            logger.error(
                "transcript of session %s given up after %d attempts (%s)",
                session_id,
                attempts,
                type(failure).__name__,
            )
        else:
            ours.update(
                transcript_due_at=timezone.now() + backoff(attempts), transcript_attempts=attempts
            )
            logger.warning(
                "transcript of session %s not sent (attempt %d, %s); trying again in %s",
                session_id,
                attempts,
                type(failure).__name__,
                backoff(attempts),
            )
        return False
    # Recorded the moment the server has said yes, before saying goodbye: the
    # time in which a crash leaves a sent transcript looking unsent (and so
    # sent again, RFC 1047's duplicate) is one UPDATE, not a QUIT as well.
    try:
        ours.update(
            transcript_sent_at=timezone.now(),
            transcript_due_at=None,
            transcript_attempts=session.transcript_attempts + 1,
        )
    finally:
        _close_quietly(connection)
    logger.info("transcript of session %s emailed", session_id)
    return True


@task(queue_name="email")
def transcript_email(session_id: int, claim: int) -> bool:
    """The task: send one transcript under its claim (:func:`transcript_deliver`)."""
    return transcript_deliver(session_id=session_id, claim=claim)


def _close_quietly(connection: Any) -> None:
    """Say goodbye to the mail server. Once it has taken the message, a
    goodbye that fails (a QUIT that times out) is no failure of the send and
    must not make the transcript due again, which would send it twice."""
    try:
        connection.close()
    except Exception:
        logger.warning("the mail server's connection did not close cleanly")


def _claim_number(claim: datetime) -> int:
    delta = claim - EPOCH
    return (delta.days * 86400 + delta.seconds) * 10**6 + delta.microseconds
