"""Reads of the staff record: Chat History of sessions, and of IM sessions."""

from datetime import date
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from accounts.models import Librarian
from chat.models import ChatSession, Message
from chat.selectors import sessions_visible_to
from im.models import ImSession
from im.selectors import ims_of
from transcripts.extras import history_facts, history_filters


def session_history(
    *,
    librarian: Librarian,
    queue_id: int | None = None,
    librarian_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    text: str = "",
    extras: dict[str, Any] | None = None,
) -> QuerySet[ChatSession]:
    """Chat History: sessions of the librarian's queues, newest first, filtered.

    ``text`` matches the patron's name, email or question, or any line
    (Librarian Notes included: this is the staff record). ``extras`` are the
    values of the filters the apps above add (transcripts/extras.py), by name.
    """
    sessions = sessions_visible_to(librarian)
    if queue_id:
        sessions = sessions.filter(queue_id=queue_id)
    if librarian_id:
        sessions = sessions.filter(primary_id=librarian_id)
    if date_from:
        sessions = sessions.filter(created_at__date__gte=date_from)
    if date_to:
        sessions = sessions.filter(created_at__date__lte=date_to)
    if text:
        line = Message.objects.filter(session=OuterRef("pk"), text__icontains=text)
        sessions = sessions.filter(
            Q(patron_name__icontains=text)
            | Q(patron_email__icontains=text)
            | Q(question__icontains=text)
            | Exists(line)
        )
    for extra in history_filters():
        value = (extras or {}).get(extra.name)
        if value:
            sessions = extra.apply(sessions, value)
    return sessions.order_by("-created_at")


def session_facts(session: ChatSession) -> list[tuple[str, str]]:
    """What the apps above add to a session's facts in Chat History (label, value)."""
    found = ((fact.label, fact.value(session)) for fact in history_facts())
    return [(label, value) for label, value in found if value is not None]


def im_history(librarian: Librarian) -> QuerySet[ImSession]:
    """The librarian's own IM sessions, newest first (open ones too), with their line counts."""
    return ims_of(librarian).annotate(lines=Count("messages")).order_by("-created_at")
