"""The transcript email: the patron-visible record of a session, and nothing else."""

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from queues.models import ChatSession

logger = logging.getLogger(__name__)


def transcript_render(session: ChatSession) -> tuple[str, str]:
    """Subject and body of the transcript, built only from patron-visible lines."""
    lines = session.messages.patron_visible().order_by("seq")
    subject = f"Your chat with {session.library.name}: transcript"
    body = render_to_string(
        "emails/transcript.txt",
        {"session": session, "lines": lines, "tz": timezone.get_current_timezone_name()},
    )
    return subject, body


def transcript_send(*, session_id: int) -> bool:
    """Email the transcript of a closed session to the patron, once.

    Requires: a closed session with ``patron_email``.
    Changes: ``transcript_sent_at`` (claimed before sending, so two callers
    never send twice; released again if the mail server refuses).
    Returns whether this call sent it.
    """
    claimed = (
        ChatSession.objects.filter(
            pk=session_id,
            state=ChatSession.State.CLOSED,
            transcript_sent_at__isnull=True,
        )
        .exclude(patron_email="")
        .update(transcript_sent_at=timezone.now())
    )
    if not claimed:
        return False
    session = ChatSession.objects.select_related("library", "queue").get(pk=session_id)
    subject, body = transcript_render(session)
    try:
        EmailMessage(
            subject=subject,
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[session.patron_email],
        ).send()
    except Exception:
        with transaction.atomic():
            ChatSession.objects.filter(pk=session_id).update(transcript_sent_at=None)
        raise
    logger.info("transcript of session %s emailed", session_id)
    return True
