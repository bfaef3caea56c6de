"""What a console shows: its snapshot, and the digest its heartbeat compares against."""

from collections.abc import Iterable
from typing import Any

from django.db.models import BooleanField, ExpressionWrapper, Prefetch, Q
from django.utils import timezone

from accounts.models import Librarian
from chat import routing, team
from chat.load import Load
from chat.models import ChatSession, Participant, TransferOffer
from chat.payloads import session_detail, session_row, team_payload
from chat.roster import librarian_row
from chat.selectors import (
    active_sessions_for,
    open_offers_for,
    session_for_librarian,
    session_lines,
    sessions_visible_to,
    transfer_targets_for,
    waiting_sessions_for,
)
from console.payloads import console_outcomes, console_snapshot
from core.errors import ChatError
from im.selectors import open_ims_by_librarian, open_ims_snapshot
from queues.models import Membership, Queue
from queues.selectors import memberships_of
from queues.tiers import GROUPS, group_of
from shifts.selectors import librarians_on_shift_for
from wrapup.selectors import wrapups_due_count


def console_snapshot_for(librarian_id: int) -> tuple[Librarian, dict[str, Any]]:
    """The ``console.snapshot`` of a librarian's console, and the librarian,
    read fresh (their settings too)."""
    librarian = Librarian.objects.get(pk=librarian_id)
    snapshot = console_snapshot(
        librarian=librarian,
        memberships=memberships_of(librarian),
        waiting=waiting_sessions_for(librarian),
        active=active_sessions_for(librarian),
        librarians=librarians_on_shift_for(librarian),
        ims=open_ims_snapshot(librarian),
        offers=open_offers_for(librarian),
        server_time=timezone.now().isoformat(),
        can_watch=team.can_watch(librarian),
    )
    # The Wrap-up tab's count: chats they held and have not wrapped up (wrapup/).
    snapshot["wrapups_due"] = wrapups_due_count(librarian=librarian)
    return librarian, snapshot


def console_outcomes_for(
    *, librarian: Librarian, offer_ids: list[int], session_ids: list[int]
) -> dict[str, Any]:
    """``console.outcomes``: the offers among ``offer_ids`` the librarian sent
    or received and the sessions among ``session_ids`` of their queues, each
    with where its session stands now. Anything else is left out, with no
    hint that it exists."""
    offers = TransferOffer.objects.filter(
        Q(sender=librarian) | Q(receiver=librarian), pk__in=offer_ids
    ).select_related("sender", "receiver", "session__queue", "session__library", "session__primary")
    sessions = sessions_visible_to(librarian).filter(pk__in=session_ids)
    return console_outcomes(offers=offers.order_by("pk"), sessions=sessions.order_by("pk"))


def session_detail_for(*, session_id: int, librarian: Librarian) -> dict[str, Any]:
    """One session as the Patron Chat pane shows it (``not_found`` outside
    the librarian's queues)."""
    session = session_for_librarian(session_id=session_id, librarian=librarian)
    return session_detail(session, session_lines(session))


def live_sessions_payload(*, librarian: Librarian) -> dict[str, Any]:
    """``live.sessions``: the waiting and active sessions of the supervisor's
    library's queues, oldest first, each with who holds it and who else is
    in it (``not_allowed`` without the watch permission)."""
    if not team.can_watch(librarian):
        raise ChatError("not_allowed", "Only a supervisor can see the live sessions.")
    sessions = (
        ChatSession.objects.filter(
            team.watchable_by(librarian),
            state__in=[ChatSession.State.WAITING, ChatSession.State.ACTIVE],
        )
        .distinct()
        .select_related("queue", "library", "primary", "requeued_by")
        .prefetch_related(
            Prefetch(
                "participants",
                queryset=Participant.objects.filter(ended_at__isnull=True).select_related(
                    "librarian"
                ),
            )
        )
        .order_by("created_at")
    )
    return {
        "type": "live.sessions",
        "server_time": timezone.now().isoformat(),
        "sessions": [
            {
                **session_row(s),
                "accepted_at": s.accepted_at.isoformat() if s.accepted_at else None,
                "last_seq": s.last_seq,
                "team": team_payload(s.participants.all()),
            }
            for s in sessions
        ],
    }


def transfer_targets_payload(*, session_id: int, librarian: Librarian) -> dict[str, Any]:
    """The Transfer dialog's list: the others monitoring the session's queue."""
    session = session_for_librarian(session_id=session_id, librarian=librarian)
    return {
        "type": "transfer.targets",
        "session": session.pk,
        "queue": {"id": session.queue_id, "name": session.queue.name},
        "librarians": [
            _target_row(lib, session.queue) for lib in transfer_targets_for(session, librarian)
        ],
    }


def _target_row(librarian: Librarian, queue: Queue) -> dict[str, Any]:
    """A row of the Transfer dialog: whether they can take the session, and why not."""
    shift = Load.in_queue(librarian, queue)
    return {
        **librarian_row(librarian),
        "can_take": shift.can_take,
        "unavailable": shift.reason(librarian.display_name),
    }


def console_digests(librarians: Iterable[Librarian]) -> dict[int, dict[str, Any]]:
    """What the consoles of these librarians should show now, by librarian id.

    One digest names every row of New, My Active, the IM sessions, the open
    offers and the Librarians list with their latest numbers; a console that
    differs missed an event and asks for a snapshot. The consoles a heartbeat
    tick beats share the queries: six at most, however many there are.
    Keys are strings (JSON object keys) so the browser compares them as sent.
    """
    library_of = {librarian.pk: librarian.library_id for librarian in librarians}
    ids = set(library_of)
    if not ids:
        return {}
    # Membership's default ordering joins the queue: not wanted here.
    monitoring = Membership.objects.monitoring().order_by()
    # Who monitors the queues these librarians monitor (themselves included):
    # their own queues and their Librarians lists from one query.
    theirs = monitoring.filter(librarian_id__in=ids).values("queue_id")
    mine: dict[int, set[int]] = {pk: set() for pk in ids}
    backup_in: dict[int, set[int]] = {pk: set() for pk in ids}
    on_shift: dict[int, set[int]] = {}
    for librarian_id, queue_id, is_backup in monitoring.filter(queue_id__in=theirs).values_list(
        "librarian_id", "queue_id", "is_backup"
    ):
        on_shift.setdefault(queue_id, set()).add(librarian_id)
        if librarian_id in ids:
            mine[librarian_id].add(queue_id)
            if is_backup:
                backup_in[librarian_id].add(queue_id)
    # Each waiting request with the groups it reached by the database's clock
    # (chat/routing.py): a console lists only what reached its librarian.
    waiting: dict[int, list[tuple[int, int, set[str]]]] = {}
    if on_shift:
        reached = {
            f"reached_{group}": ExpressionWrapper(
                routing.reached(group), output_field=BooleanField()
            )
            for group in GROUPS
        }
        for pk, queue_id, library_id, *flags in (
            ChatSession.objects.filter(queue_id__in=on_shift, state=ChatSession.State.WAITING)
            .annotate(**reached)
            .values_list("pk", "queue_id", "library_id", *reached)
        ):
            groups = {group for group, flag in zip(GROUPS, flags, strict=True) if flag}
            waiting.setdefault(queue_id, []).append((pk, library_id, groups))

    def waiting_for(librarian_id: int) -> list[int]:
        return sorted(
            pk
            for queue in mine[librarian_id]
            for pk, library_id, groups in waiting.get(queue, ())
            if group_of(
                is_backup=queue in backup_in[librarian_id],
                librarian_library_id=library_of[librarian_id],
                patron_library_id=library_id,
            )
            in groups
        )

    active: dict[int, dict[str, int]] = {pk: {} for pk in ids}
    for primary_id, pk, last_seq in ChatSession.objects.filter(
        primary_id__in=ids, state=ChatSession.State.ACTIVE
    ).values_list("primary_id", "pk", "last_seq"):
        active[primary_id][str(pk)] = last_seq
    # And the sessions they joined or watch (chat/team.py).
    for librarian_id, pk, last_seq in Participant.objects.filter(
        librarian_id__in=ids, ended_at__isnull=True, session__state=ChatSession.State.ACTIVE
    ).values_list("librarian_id", "session_id", "session__last_seq"):
        active[librarian_id][str(pk)] = last_seq
    ims = open_ims_by_librarian(ids)
    offers: dict[int, set[int]] = {pk: set() for pk in ids}
    for sender_id, receiver_id, pk in TransferOffer.objects.filter(
        Q(sender_id__in=ids) | Q(receiver_id__in=ids), state=TransferOffer.State.OPEN
    ).values_list("sender_id", "receiver_id", "pk"):
        for librarian_id in {sender_id, receiver_id} & ids:
            offers[librarian_id].add(pk)
    return {
        pk: {
            "waiting": waiting_for(pk),
            "active": active[pk],
            "ims": ims[pk],
            "offers": sorted(offers[pk]),
            # The others monitoring any queue this librarian monitors
            # (the rule of ``queues.selectors.others_on_shift``).
            "librarians": sorted(
                set().union(*(on_shift.get(queue, set()) for queue in mine[pk])) - {pk}
            ),
        }
        for pk in ids
    }
