"""Reads about queues and chat sessions, scoped to who is asking."""

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounts.models import Librarian
from queues.models import ChatSession, Membership, Queue, TransferOffer
from reference_chat.errors import ChatError
from transcripts.models import ImSession, Message


def open_queues() -> QuerySet[Queue]:
    return Queue.objects.filter(is_open=True).prefetch_related("libraries")


def memberships_of(librarian: Librarian) -> QuerySet[Membership]:
    return librarian.memberships.select_related("queue").order_by("queue__name")


def sessions_visible_to(librarian: Librarian) -> QuerySet[ChatSession]:
    """Sessions of the queues the librarian belongs to: all a librarian may read."""
    member = Membership.objects.filter(librarian=librarian, queue=OuterRef("queue"))
    return ChatSession.objects.filter(Exists(member)).select_related(
        "queue", "library", "primary", "requeued_by"
    )


def session_for_librarian(*, session_id: object, librarian: Librarian) -> ChatSession:
    """The session if the librarian may read it; ``not_found`` otherwise (no hint it exists)."""
    try:
        return sessions_visible_to(librarian).get(pk=int(session_id))  # type: ignore[call-overload]
    except (ChatSession.DoesNotExist, TypeError, ValueError):
        raise ChatError("not_found", "There is no such chat session in your queues.") from None


def session_for_patron(*, token: str) -> ChatSession | None:
    """The session of this token, with what the patron's view shows (no ordering: one row)."""
    try:
        return ChatSession.objects.select_related("queue", "library", "primary").get(token=token)
    except ChatSession.DoesNotExist:
        return None


def session_ids_for_patrons(tokens: list[str]) -> list[int | None]:
    """The session id of each patron token (None: no such session), in one
    query; a socket reads the rest under the row lock."""
    found = dict(ChatSession.objects.filter(token__in=set(tokens)).values_list("token", "pk"))
    return [found.get(token) for token in tokens]


def waiting_sessions_for(librarian: Librarian) -> QuerySet[ChatSession]:
    """The New list: waiting sessions of the queues the librarian monitors, oldest first."""
    monitored = Membership.objects.monitoring().filter(librarian=librarian, queue=OuterRef("queue"))
    return (
        ChatSession.objects.filter(Exists(monitored), state=ChatSession.State.WAITING)
        .select_related("queue", "library", "primary", "requeued_by")
        .order_by("waiting_since")
    )


def active_sessions_for(librarian: Librarian) -> QuerySet[ChatSession]:
    """My Active: the librarian's active sessions with all their lines, in two queries."""
    return (
        ChatSession.objects.filter(primary=librarian, state=ChatSession.State.ACTIVE)
        .select_related("queue", "library", "primary", "requeued_by")
        .prefetch_related(Prefetch("messages", queryset=Message.objects.order_by("seq")))
        .order_by("accepted_at")
    )


def session_history(
    *,
    librarian: Librarian,
    queue_id: int | None = None,
    librarian_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    text: str = "",
) -> QuerySet[ChatSession]:
    """Chat History: sessions of the librarian's queues, newest first, filtered.

    ``text`` matches the patron's name, email or question, or any line
    (Librarian Notes included: this is the staff record).
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
    return sessions.order_by("-created_at")


def librarians_sharing_queues(librarian: Librarian) -> QuerySet[Librarian]:
    """Librarians who belong to any queue the given librarian belongs to (history filter)."""
    queues = Membership.objects.filter(librarian=librarian).values("queue")
    return (
        Librarian.objects.filter(memberships__queue__in=queues).distinct().order_by("display_name")
    )


def _with_shift_figures(librarians: QuerySet[Librarian]) -> QuerySet[Librarian]:
    """Annotate what the Librarians list shows: monitored queues and active sessions."""
    active = (
        ChatSession.objects.filter(primary=OuterRef("pk"), state=ChatSession.State.ACTIVE)
        .order_by()
        .values("primary")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        librarians.select_related("library", "primary_queue")
        .annotate(active_count=Coalesce(Subquery(active), 0))
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.monitoring().order_by("queue_id"),
                to_attr="monitored",
            )
        )
    )


def _others_on_shift(librarian: Librarian) -> QuerySet[Librarian]:
    """The others monitoring any queue this librarian monitors: the one rule for who is listed."""
    mine = Membership.objects.monitoring().filter(librarian=librarian).values("queue")
    shared = Membership.objects.monitoring().filter(librarian=OuterRef("pk"), queue__in=mine)
    return Librarian.objects.filter(Exists(shared)).exclude(pk=librarian.pk)


def librarians_on_shift_for(librarian: Librarian) -> QuerySet[Librarian]:
    """The Librarians list, with its figures."""
    return _with_shift_figures(_others_on_shift(librarian)).order_by("display_name")


def librarian_on_shift(librarian_id: int) -> Librarian:
    """One librarian with the Librarians list's figures (for ``librarian.updated``)."""
    return _with_shift_figures(Librarian.objects.filter(pk=librarian_id)).get()


def shares_a_monitored_queue(a: Librarian, b_id: int) -> bool:
    """Whether ``b_id`` is in ``a``'s Librarians list (whom ``a`` may IM)."""
    return _others_on_shift(a).filter(pk=b_id).exists()


def transfer_targets_for(session: ChatSession, librarian: Librarian) -> QuerySet[Librarian]:
    """Whom the Transfer dialog lists: the others monitoring the session's queue."""
    monitors = Membership.objects.monitoring().filter(librarian=OuterRef("pk"), queue=session.queue)
    others = Librarian.objects.filter(Exists(monitors)).exclude(pk=librarian.pk)
    return _with_shift_figures(others).order_by("display_name")


def open_offers_for(librarian: Librarian) -> QuerySet[TransferOffer]:
    """Open transfer offers the librarian sent or received (restored on reload)."""
    return (
        TransferOffer.objects.filter(
            Q(sender=librarian) | Q(receiver=librarian), state=TransferOffer.State.OPEN
        )
        .select_related("sender", "receiver", "session__queue", "session__library")
        .order_by("created_at")
    )


def console_digests(librarians: Iterable[Librarian]) -> dict[int, dict[str, Any]]:
    """What the consoles of these librarians should show now, by librarian id.

    One digest names every row of New, My Active, the IM sessions, the open
    offers and the Librarians list with their latest numbers; a console that
    differs missed an event and asks for a snapshot. The consoles a heartbeat
    tick beats share the queries: five at most, however many there are.
    Keys are strings (JSON object keys) so the browser compares them as sent.
    """
    ids = {librarian.pk for librarian in librarians}
    if not ids:
        return {}
    # Membership's default ordering joins the queue: not wanted here.
    monitoring = Membership.objects.monitoring().order_by()
    # Who monitors the queues these librarians monitor (themselves included):
    # their own queues and their Librarians lists from one query.
    theirs = monitoring.filter(librarian_id__in=ids).values("queue_id")
    mine: dict[int, set[int]] = {pk: set() for pk in ids}
    on_shift: dict[int, set[int]] = {}
    for librarian_id, queue_id in monitoring.filter(queue_id__in=theirs).values_list(
        "librarian_id", "queue_id"
    ):
        on_shift.setdefault(queue_id, set()).add(librarian_id)
        if librarian_id in ids:
            mine[librarian_id].add(queue_id)
    waiting: dict[int, list[int]] = {}
    if on_shift:
        for pk, queue_id in ChatSession.objects.filter(
            queue_id__in=on_shift, state=ChatSession.State.WAITING
        ).values_list("pk", "queue_id"):
            waiting.setdefault(queue_id, []).append(pk)
    active: dict[int, dict[str, int]] = {pk: {} for pk in ids}
    for primary_id, pk, last_seq in ChatSession.objects.filter(
        primary_id__in=ids, state=ChatSession.State.ACTIVE
    ).values_list("primary_id", "pk", "last_seq"):
        active[primary_id][str(pk)] = last_seq
    ims: dict[int, dict[str, int]] = {pk: {} for pk in ids}
    for initiator_id, recipient_id, pk, last_seq in ImSession.objects.filter(
        Q(initiator_id__in=ids) | Q(recipient_id__in=ids), ended_at__isnull=True
    ).values_list("initiator_id", "recipient_id", "pk", "last_seq"):
        for librarian_id in {initiator_id, recipient_id} & ids:
            ims[librarian_id][str(pk)] = last_seq
    offers: dict[int, set[int]] = {pk: set() for pk in ids}
    for sender_id, receiver_id, pk in TransferOffer.objects.filter(
        Q(sender_id__in=ids) | Q(receiver_id__in=ids), state=TransferOffer.State.OPEN
    ).values_list("sender_id", "receiver_id", "pk"):
        for librarian_id in {sender_id, receiver_id} & ids:
            offers[librarian_id].add(pk)
    return {
        pk: {
            "waiting": sorted(p for queue in mine[pk] for p in waiting.get(queue, ())),
            "active": active[pk],
            "ims": ims[pk],
            "offers": sorted(offers[pk]),
            # The others monitoring any queue this librarian monitors
            # (the rule of _others_on_shift).
            "librarians": sorted(
                set().union(*(on_shift.get(queue, set()) for queue in mine[pk])) - {pk}
            ),
        }
        for pk in ids
    }
