"""The transcript email: the patron-visible record of a session, and nothing else."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from chat.models import ChatSession
from core.zones import zone_label
from queues.hours import queue_time_zone


def transcript_render(session: ChatSession) -> tuple[str, str]:
    """Subject and body of the transcript, built only from patron-visible lines,
    in the session's language (the patron's when asking; its system lines
    were written in it too). Dates use that language's formats, times the
    queue's zone ("Central Time"), as its pages do."""
    with translation.override(session.language), timezone.override(queue_time_zone(session.queue)):
        subject = _("Your chat with %(library)s: transcript") % {"library": session.library.name}
        body = render_to_string("emails/transcript.txt", transcript_context(session))
    return subject, body


def transcript_context(session: ChatSession) -> dict[str, object]:
    """What ``emails/_transcript_lines.txt`` renders: the patron-visible lines
    alone (Librarian Notes never), and the zone their times are in (the
    queue's, named). Render it under ``timezone.override(queue_time_zone(...))``."""
    return {
        "session": session,
        "lines": session.messages.patron_visible().order_by("patron_seq"),
        "zone": zone_label(queue_time_zone(session.queue)),
    }


def transcript_message(session: ChatSession) -> EmailMessage:
    """The email itself. Its Message-ID is the session's own, the same at every
    attempt, so a mail client shows a transcript sent twice (a worker killed
    between the mail server's yes and the record of it) as one."""
    subject, body = transcript_render(session)
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or "localhost"
    return EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[session.patron_email],
        headers={"Message-ID": f"<transcript-{session.pk}@{domain}>"},
    )
