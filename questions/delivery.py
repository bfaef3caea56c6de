"""Sending a question's emails (its confirmation, its answer): at least once,
never twice, and never from a web process.

The same claim as transcripts (transcripts/delivery.py): a
:class:`~questions.models.QuestionEmail` row is owed from ``due_at``; the
worker's schedule runs :func:`question_emails_enqueue_due`, which claims
each due row by moving ``due_at`` on by a lease in the transaction that
queues its task; the task sends only while its claim stands and records
the outcome against it (sent; or due again after a backoff, given up after
``TRANSCRIPT_MAX_ATTEMPTS``). A claim that moved on makes an older task a
no-op, so two tasks never send the same email; the Message-ID is the
email's own, so the rare one sent twice (a worker killed between the mail
server's yes and the record of it) shows as one.
"""

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from questions.models import QuestionEmail
from queues.hours import queue_time_zone
from transcripts.delivery import EPOCH, backoff
from transcripts.email import transcript_context

logger = logging.getLogger(__name__)

BATCH = 100


def question_emails_enqueue_due(*, now: datetime | None = None) -> list[int]:
    """Claim the question emails that are due and queue a task for each (the
    worker's schedule). Safe with several workers: each claim is a
    conditional UPDATE. Returns the email ids queued."""
    now = now or timezone.now()
    due = (
        QuestionEmail.objects.filter(due_at__lte=now)
        .order_by("due_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    queued = []
    for email_id in list(due):
        claim = now + timedelta(seconds=settings.TRANSCRIPT_LEASE_SECONDS)
        with transaction.atomic():
            if not QuestionEmail.objects.filter(
                pk=email_id, due_at__lte=now, sent_at__isnull=True
            ).update(due_at=claim):
                continue  # another worker claimed it first
            question_email.enqueue(email_id=email_id, claim=_claim_number(claim))
        queued.append(email_id)
    return queued


def question_email_deliver(*, email_id: int, claim: int) -> bool:
    """Send one question email whose claim this is (the task's body).

    Requires: the claim still stands. Changes: ``sent_at`` on success; the
    next attempt's time and the count of attempts on failure. Returns
    whether it sent the email.
    """
    claimed_until = EPOCH + timedelta(microseconds=claim)
    sending = max(
        timezone.now() + timedelta(seconds=settings.TRANSCRIPT_LEASE_SECONDS),
        claimed_until + timedelta(microseconds=1),
    )
    if not QuestionEmail.objects.filter(
        pk=email_id, due_at=claimed_until, sent_at__isnull=True
    ).update(due_at=sending):
        return False  # sent, or a later attempt owns it
    ours = QuestionEmail.objects.filter(pk=email_id, due_at=sending)
    email = ours.select_related("question__queue", "question__library").first()
    if email is None:
        return False
    connection = get_connection()
    try:
        connection.open()
        connection.send_messages([question_message(email)])
    except Exception as failure:
        _close_quietly(connection)
        attempts = email.attempts + 1
        given_up = attempts >= settings.TRANSCRIPT_MAX_ATTEMPTS
        ours.update(
            due_at=None if given_up else timezone.now() + backoff(attempts), attempts=attempts
        )
        logger.warning(
            "%s email of question %s not sent (attempt %d, %s)%s",
            email.kind,
            email.question_id,
            attempts,
            type(failure).__name__,
            ": given up" if given_up else "",
        )
        return False
    try:
        ours.update(sent_at=timezone.now(), due_at=None, attempts=email.attempts + 1)
    finally:
        _close_quietly(connection)
    logger.info("%s email of question %s sent", email.kind, email.question_id)
    return True


@task(queue_name="email")
def question_email(email_id: int, claim: int) -> bool:
    """The task: send one question email under its claim (:func:`question_email_deliver`)."""
    return question_email_deliver(email_id=email_id, claim=claim)


def question_message(email: QuestionEmail) -> EmailMessage:
    """The email, in the language the patron asked in. The answer is the
    librarian's own text; no Librarian Note is ever in it."""
    question = email.question
    zone = queue_time_zone(question.queue)
    with translation.override(question.language or settings.LANGUAGE_CODE), timezone.override(zone):
        context: dict[str, object] = {"question": question}
        if email.kind == QuestionEmail.Kind.ANSWER and question.session is not None:
            # The chat below the answer, as the patron saw it: no Librarian Note.
            context |= transcript_context(question.session)
        if email.kind == QuestionEmail.Kind.ANSWER:
            subject = _("Your question to %(library)s: the answer") % {
                "library": question.library.name
            }
            body = render_to_string("emails/question_answer.txt", context)
        else:
            subject = _("Your question to %(library)s: received") % {
                "library": question.library.name
            }
            body = render_to_string("emails/question_confirmation.txt", context)
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or "localhost"
    return EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[question.patron_email],
        headers={"Message-ID": f"<question-{question.pk}-{email.kind}@{domain}>"},
    )


def _close_quietly(connection: Any) -> None:
    # Once the server has taken the message, a goodbye that fails is no
    # failure of the send (as for transcripts).
    try:
        connection.close()
    except Exception:
        logger.warning("the mail server's connection did not close cleanly")


def _claim_number(claim: datetime) -> int:
    delta = claim - EPOCH
    return (delta.days * 86400 + delta.seconds) * 10**6 + delta.microseconds
