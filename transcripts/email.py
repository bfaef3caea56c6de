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
    lines = session.messages.patron_visible().order_by("patron_seq")
    # The times the patron saw on the queue's pages: its zone (its hours'), named.
    zone = queue_time_zone(session.queue)
    with translation.override(session.language), timezone.override(zone):
        subject = _("Your chat with %(library)s: transcript") % {"library": session.library.name}
        body = render_to_string(
            "emails/transcript.txt", {"session": session, "lines": lines, "zone": zone_label(zone)}
        )
    return subject, body


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
