"""Reads of the staff record: Chat History of sessions, and of IM sessions."""

from datetime import date
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from accounts.models import Librarian
from chat.models import ChatSession, Hold, Message
from chat.selectors import sessions_visible_to
from im.models import ImSession
from im.selectors import ims_of
from transcripts.extras import history_facts, history_filters
from wrapup.models import ResolutionCode, SubjectTag, Wrapup
from wrapup.read_scale import READ_LEVELS


def session_history(
    *,
    librarian: Librarian,
    queue_id: int | None = None,
    librarian_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    text: str = "",
    resolution: str = "",
    read_level: int | None = None,
    tag: str = "",
    wrapup: str = "",
    extras: dict[str, Any] | None = None,
) -> QuerySet[ChatSession]:
    """Chat History: sessions of the librarian's queues, newest first, filtered.

    ``text`` matches the patron's name, email or question, or any line
    (Librarian Notes included: this is the staff record). ``resolution``,
    ``read_level`` and ``tag`` match a done wrap-up of any librarian who held
    it (codes and subjects by name); ``wrapup`` "done", "skipped" (and not
    done by anyone) or "none" (held, with no wrap-up at all). ``extras`` are the
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
    done = Wrapup.objects.filter(session=OuterRef("pk"), state=Wrapup.State.DONE)
    if resolution:
        sessions = sessions.filter(Exists(done.filter(resolution__label__iexact=resolution)))
    if read_level:
        sessions = sessions.filter(Exists(done.filter(read_level=read_level)))
    if tag:
        sessions = sessions.filter(Exists(done.filter(tags__name__iexact=tag)))
    if wrapup == "done":
        sessions = sessions.filter(Exists(done))
    elif wrapup == "skipped":
        skipped = Wrapup.objects.filter(session=OuterRef("pk"), state=Wrapup.State.SKIPPED)
        sessions = sessions.filter(Exists(skipped)).exclude(Exists(done))
    elif wrapup == "none":
        held = Hold.objects.filter(session=OuterRef("pk"))
        any_wrapup = Wrapup.objects.filter(session=OuterRef("pk"))
        sessions = sessions.filter(Exists(held)).exclude(Exists(any_wrapup))
    for extra in history_filters():
        value = (extras or {}).get(extra.name)
        if value:
            sessions = extra.apply(sessions, value)
    # The list's Wrap-up column: one query for the page shown.
    wrapups = Prefetch("wrapups", queryset=Wrapup.objects.select_related("resolution"))
    return sessions.prefetch_related(wrapups).order_by("-created_at")


def history_filter_lists(librarian: Librarian) -> tuple[list[str], list[str]]:
    """The names Chat History's wrap-up filters offer: the librarian's library's
    resolution codes and subjects (retired ones too: old chats have them)."""
    codes = ResolutionCode.objects.filter(library_id=librarian.library_id)
    tags = SubjectTag.objects.filter(library_id=librarian.library_id)
    return list(codes.values_list("label", flat=True)), list(tags.values_list("name", flat=True))


def session_wrapups(session: ChatSession) -> list[dict[str, object]]:
    """Each librarian who held the session, with their wrap-up (or None): staff only."""
    wrapups = {
        w.librarian_id: w
        for w in Wrapup.objects.filter(session=session)
        .select_related("resolution", "librarian")
        .prefetch_related("tags")
    }
    rows: list[dict[str, object]] = []
    for hold in session.holds.select_related("librarian").order_by("ended_at", "pk"):
        if any(row["librarian"] == hold.librarian for row in rows):
            continue  # held twice: one wrap-up
        wrapup = wrapups.get(hold.librarian_id)
        rows.append(
            {
                "librarian": hold.librarian,
                "wrapup": wrapup,
                "read_meaning": READ_LEVELS.get(wrapup.read_level or 0, "") if wrapup else "",
            }
        )
    return rows


def session_facts(session: ChatSession) -> list[tuple[str, str]]:
    """What the apps above add to a session's facts in Chat History (label, value)."""
    found = ((fact.label, fact.value(session)) for fact in history_facts())
    return [(label, value) for label, value in found if value is not None]


def im_history(librarian: Librarian) -> QuerySet[ImSession]:
    """The librarian's own IM sessions, newest first (open ones too), with their line counts."""
    return ims_of(librarian).annotate(lines=Count("messages")).order_by("-created_at")


def session_follow_up(session: ChatSession) -> Any:
    """The follow-up the session is on (``questions.Question``: left from the
    chat, or put on a list by a wrap-up), or None. Read through its reverse
    relation: the follow-ups' app sits above this one."""
    try:
        return session.follow_up
    except ObjectDoesNotExist:
        return None
