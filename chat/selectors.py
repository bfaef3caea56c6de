"""Reads about chat sessions, scoped to who is asking."""

from datetime import timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from accounts.models import Librarian
from chat import routing
from chat.models import (
    PATRON_TOKEN,
    ChatSession,
    Message,
    Participant,
    PatronBlock,
    TransferOffer,
)
from chat.payloads import patron_message_payload, patron_session
from chat.roster import with_shift_figures
from core.errors import ChatError
from queues.models import Membership, Queue
from queues.selectors import monitors_of


def sessions_visible_to(librarian: Librarian) -> QuerySet[ChatSession]:
    """Sessions of the queues the librarian belongs to, and those they are in
    now (a supervisor watching: chat/team.py): all a librarian may read."""
    member = Membership.objects.filter(librarian=librarian, queue=OuterRef("queue"))
    return ChatSession.objects.filter(Exists(member) | Exists(_in_it(librarian))).select_related(
        "queue", "library", "primary", "requeued_by"
    )


def _in_it(librarian: Librarian) -> QuerySet[Participant]:
    """The librarian's participation, now, in the outer query's session."""
    return Participant.objects.filter(
        librarian=librarian, session=OuterRef("pk"), ended_at__isnull=True
    )


def session_for_librarian(*, session_id: object, librarian: Librarian) -> ChatSession:
    """The session if the librarian may read it; ``not_found`` otherwise (no hint it exists)."""
    try:
        return sessions_visible_to(librarian).get(pk=int(session_id))  # type: ignore[call-overload]
    except (ChatSession.DoesNotExist, TypeError, ValueError, OverflowError):
        raise ChatError("not_found", "There is no such chat session in your queues.") from None


def session_for_patron(*, token: str) -> ChatSession | None:
    """The session of this token, with what the patron's view shows (no ordering: one row).

    A token that can't be one (``/chat/%00/`` would reach PostgreSQL as a NUL)
    is no session's, and is not worth a query.
    """
    if not PATRON_TOKEN.fullmatch(token):
        return None
    try:
        return ChatSession.objects.select_related("queue", "library", "primary").get(token=token)
    except ChatSession.DoesNotExist:
        return None


def block_standing(*, address_hash: str) -> PatronBlock | None:
    """The block that keeps this address (its keyed hash) from a new chat now, if any."""
    return (
        PatronBlock.objects.filter(
            address_hash=address_hash, expires_at__gt=timezone.now(), lifted_at__isnull=True
        )
        .order_by("-expires_at")
        .first()
    )


def session_ids_for_patrons(tokens: list[str]) -> list[int | None]:
    """The session id of each patron token (None: no such session), in one
    query; a socket reads the rest under the row lock."""
    found = dict(ChatSession.objects.filter(token__in=set(tokens)).values_list("token", "pk"))
    return [found.get(token) for token in tokens]


def patron_snapshots(sockets: list[tuple[ChatSession, int]]) -> list[dict[str, Any]]:
    """The ``session.snapshot`` of each (session, after) pair: the session as
    the patron sees it and its patron-visible lines after ``after``, all the
    pairs' lines in one query. Needs each session's queue, library and primary."""
    if not sockets:
        return []
    wanted = Q()
    for session, after in sockets:
        wanted |= Q(session_id=session.pk, patron_seq__gt=after)
    lines: dict[int, list[dict[str, Any]]] = {}
    for message in Message.objects.patron_visible().filter(wanted).order_by("patron_seq"):
        lines.setdefault(message.session_id, []).append(patron_message_payload(message))
    server_time = timezone.now().isoformat()
    return [
        {
            "type": "session.snapshot",
            "server_time": server_time,
            "session": patron_session(session),
            "messages": [line for line in lines.get(session.pk, ()) if line["seq"] > after],
        }
        for session, after in sockets
    ]


def patron_snapshot(*, session_id: int, after: int) -> dict[str, Any]:
    """One patron socket's ``session.snapshot`` (a resume)."""
    session = ChatSession.objects.select_related("queue", "library", "primary").get(pk=session_id)
    [snapshot] = patron_snapshots([(session, after)])
    return snapshot


def patron_beats(session_ids: set[int]) -> dict[int, tuple[str, int, int | None]]:
    """What a patron heartbeat tells: each session's state and last
    patron-visible number, and (for the socket only) its primary librarian's id."""
    rows = ChatSession.objects.filter(pk__in=session_ids)
    return {
        pk: (state, last, primary)
        for pk, state, last, primary in rows.values_list(
            "pk", "state", "last_patron_seq", "primary_id"
        )
    }


def patron_waits(session_ids: set[int]) -> dict[int, dict[str, Any]]:
    """The ``session.wait`` frame of each of these sessions that is waiting:
    its place in its queue (1: next) and how many librarians monitor the queue.

    Two queries whatever the number of sessions: the waiting ones with their
    place counted in the database, then the monitors of their queues.
    """
    ahead = ChatSession.objects.filter(
        queue=OuterRef("queue"), state=ChatSession.State.WAITING
    ).filter(
        Q(waiting_since__lt=OuterRef("waiting_since"))
        | Q(waiting_since=OuterRef("waiting_since"), pk__lt=OuterRef("pk"))
    )
    rows = list(
        ChatSession.objects.filter(pk__in=session_ids, state=ChatSession.State.WAITING)
        .annotate(ahead=Subquery(ahead.values("queue").annotate(n=Count("pk")).values("n")))
        .values_list("pk", "queue_id", "ahead")
    )
    queue_ids = {queue_id for _, queue_id, _ in rows}
    monitoring = dict(
        Membership.objects.monitoring()
        .filter(queue_id__in=queue_ids)
        .values("queue_id")
        .annotate(n=Count("pk"))
        .values_list("queue_id", "n")
    )
    return {
        pk: {
            "type": "session.wait",
            "position": (ahead or 0) + 1,
            "librarians_online": monitoring.get(queue_id, 0),
        }
        for pk, queue_id, ahead in rows
    }


def waiting_sessions_for(librarian: Librarian) -> QuerySet[ChatSession]:
    """The New list: waiting sessions of the queues the librarian monitors
    that reached their tier by now (:mod:`chat.routing`), oldest first; each
    with ``as_backup`` (the librarian is backup in its queue)."""
    monitored = Membership.objects.monitoring().filter(librarian=librarian, queue=OuterRef("queue"))
    return (
        ChatSession.objects.filter(
            Exists(monitored), routing.reached_by(librarian), state=ChatSession.State.WAITING
        )
        .annotate(as_backup=Exists(monitored.filter(is_backup=True)))
        .select_related("queue", "library", "primary", "requeued_by")
        .order_by("waiting_since")
    )


def waiting_too_long(sessions: QuerySet[ChatSession] | None = None) -> QuerySet[ChatSession]:
    """Waiting requests past their queue's "waiting too long" threshold
    (``Queue.waiting_alert_seconds``; 0: never), oldest first."""
    sessions = ChatSession.objects.all() if sessions is None else sessions
    now = timezone.now()
    late = Q(pk__in=[])
    for queue_id, seconds in Queue.objects.filter(waiting_alert_seconds__gt=0).values_list(
        "pk", "waiting_alert_seconds"
    ):
        late |= Q(queue_id=queue_id, waiting_since__lte=now - timedelta(seconds=seconds))
    return sessions.filter(late, state=ChatSession.State.WAITING).order_by("waiting_since")


def active_sessions_for(librarian: Librarian) -> QuerySet[ChatSession]:
    """My Active: the active sessions the librarian holds or is in (joined,
    watching), with all their lines and who else is in them, in three queries."""
    return (
        ChatSession.objects.filter(
            Q(primary=librarian) | Exists(_in_it(librarian)), state=ChatSession.State.ACTIVE
        )
        .select_related("queue", "library", "primary", "requeued_by")
        .prefetch_related(
            Prefetch("messages", queryset=Message.objects.order_by("seq")),
            Prefetch(
                "participants",
                queryset=Participant.objects.filter(ended_at__isnull=True).select_related(
                    "librarian"
                ),
            ),
        )
        .order_by("accepted_at")
    )


def session_lines(session: ChatSession) -> QuerySet[Message]:
    """Every line of a session, in order (the staff record: notes included)."""
    return session.messages.order_by("seq")


def open_offers_for(librarian: Librarian) -> QuerySet[TransferOffer]:
    """Open transfer offers the librarian sent or received (restored on reload)."""
    return (
        TransferOffer.objects.filter(
            Q(sender=librarian) | Q(receiver=librarian), state=TransferOffer.State.OPEN
        )
        .select_related("sender", "receiver", "session__queue", "session__library")
        .order_by("created_at")
    )


def transfer_targets_for(session: ChatSession, librarian: Librarian) -> QuerySet[Librarian]:
    """Whom the Transfer dialog lists: the others monitoring the session's queue."""
    others = monitors_of(session.queue_id).exclude(pk=librarian.pk)
    return with_shift_figures(others).order_by("display_name")
