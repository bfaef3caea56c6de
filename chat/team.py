"""Who else is in a session beside its primary: a colleague who joined, a supervisor watching.

- Join: the primary invites a colleague monitoring the queue, by the
  transfer handshake (an offer of kind ``join``: ``chat.transfers``); the
  colleague's OK makes them a joined librarian (:func:`join_accept`). They
  read every line, write lines to the patron and Librarian Notes; only the
  primary transfers or ends the session. The patron reads "Bob has joined
  the chat", and each line carries its author's name. A joined librarian
  leaves with :func:`team_leave` ("Bob has left the chat").
- Watch: a librarian with the ``chat.watch_chatsession`` permission (the
  Supervisors group has it) reads any active session of their library's
  queues, read-only (:func:`watch_start`, :func:`watch_stop`); the patron is
  never told, and a Librarian Note records who watched and when. A
  supervisor who is a member of the queue may take the session over
  (``chat.takeover.take_over``): an accepted transfer from its primary to them.

Every line stored reaches the primary and everyone in the session (the line
statement returns them: ``chat.line_sql``). Each change of who is in a
session publishes ``session.team`` to all of them. A session that closes
or goes back to its queue ends every participation; so do a deactivated
account, a removed membership and a withdrawn permission
(:func:`departed_team_leave`, :func:`watchers_recheck`).
"""

import logging
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Librarian
from accounts.payloads import librarian_ref
from chat import steps
from chat.models import ChatSession, Participant, TransferOffer
from chat.payloads import message_payload, offer_payload, session_detail, team_payload
from chat.selectors import session_lines
from core.errors import ChatError
from core.events import publish
from core.groups import librarian_group

logger = logging.getLogger(__name__)

WATCH_PERMISSION = "chat.watch_chatsession"


def can_watch(librarian: Librarian) -> bool:
    """Whether the librarian may watch live sessions (read fresh: a permission
    withdrawn a moment ago counts)."""
    user = get_user_model().objects.filter(pk=librarian.user_id, is_active=True).first()
    return user is not None and user.has_perm(WATCH_PERMISSION)


def watchable_by(librarian: Librarian) -> Q:
    """The sessions a supervisor may watch: those of their library's queues."""
    return Q(queue__libraries=librarian.library_id)


def in_session(session_id: int) -> "Iterable[Participant]":
    """Who is in the session beside its primary now, with their librarians."""
    return (
        Participant.objects.filter(session_id=session_id, ended_at__isnull=True)
        .select_related("librarian")
        .order_by("started_at")
    )


def team_publish(session: ChatSession, *also: int) -> None:
    """``session.team`` to the primary, everyone in the session and ``also``
    (who just left): who is in the session now."""
    team = list(in_session(session.pk))
    event = {
        "type": "session.team",
        "session": session.pk,
        "primary": librarian_ref(session.primary) if session.primary else None,
        "team": team_payload(team),
    }
    ids = {p.librarian_id for p in team} | set(also)
    if session.primary_id:
        ids.add(session.primary_id)
    publish(event, *(librarian_group(pk) for pk in sorted(ids)))


# --- Join -------------------------------------------------------------------


def join_accept(offer: TransferOffer, librarian: Librarian) -> ChatSession:
    """The receiver of an invitation to join clicks OK: they join the session,
    its primary keeps it. The caller (``chat.transfers.transfer_accept``)
    holds the session's row lock and has marked the offer accepted.

    Changes: a joined :class:`Participant`; a Librarian Note and the
    patron's "Bob has joined the chat." (if the queue tells patrons who joins).
    Publishes ``transfer.accepted`` to both librarians (with the whole
    session for the receiver) and ``session.team`` to everyone in it.
    """
    if not ChatSession.objects.filter(
        pk=offer.session_id, state=ChatSession.State.ACTIVE, primary_id=offer.sender_id
    ).exists():
        raise ChatError(
            "session_closed", "The session ended or changed hands before you could join it."
        )
    try:
        with transaction.atomic():
            Participant.objects.create(
                session_id=offer.session_id,
                librarian=librarian,
                role=Participant.Role.JOINED,
                invited_by_id=offer.sender_id,
            )
    except IntegrityError:
        raise ChatError("already_in", "You are already in this session.") from None
    session = ChatSession.objects.select_related("queue", "library", "primary").get(
        pk=offer.session_id
    )
    offer.refresh_from_db()
    line = steps.note(
        session,
        f"{librarian.display_name} joined the session at {offer.sender.display_name}'s invitation.",
        librarian,
    )
    steps.join_announce(session, librarian)
    publish(
        {"type": "transfer.accepted", "offer": offer_payload(offer),
         "line": message_payload(line)},
        librarian_group(offer.sender_id),
    )  # fmt: skip
    publish(
        {"type": "transfer.accepted", "offer": offer_payload(offer),
         "detail": session_detail(session, session_lines(session))},
        librarian_group(librarian.pk),
    )  # fmt: skip
    team_publish(session)
    logger.info("librarian %s joined session %s", librarian.pk, session.pk)
    return session


def team_leave(*, session_id: object, librarian: Librarian) -> ChatSession:
    """A joined librarian leaves, or a watching supervisor stops watching.

    Changes: their participation ends; a Librarian Note and, for a joined
    librarian, the patron's "Bob has left the chat." Publishes
    ``session.left`` to their consoles and ``session.team`` to the others.
    """
    session = _session_of(session_id)
    with transaction.atomic():
        steps.session_lock(session.pk)
        participant = (
            Participant.objects.select_for_update()
            .filter(session=session, librarian=librarian, ended_at__isnull=True)
            .first()
        )
        if participant is None:
            raise ChatError("not_in_session", "You are not in this session.")
        _end(session, participant, why="")
    return session


def _end(session: ChatSession, participant: Participant, *, why: str) -> None:
    """End one participation (under the session's lock), say so, tell them all."""
    Participant.objects.filter(pk=participant.pk).update(ended_at=timezone.now())
    librarian = participant.librarian
    if participant.role == Participant.Role.JOINED:
        steps.note(session, f"{librarian.display_name} left the session{why}.", librarian)
        if session.state != ChatSession.State.CLOSED:
            with translation.override(session.language):
                steps.announce(
                    session, _("%(name)s has left the chat.") % {"name": librarian.display_name}
                )
    else:
        steps.note(session, f"{librarian.display_name} stopped watching{why}.", librarian)
    publish({"type": "session.left", "session": session.pk}, librarian_group(librarian.pk))
    team_publish(session, librarian.pk)


def team_end(session: ChatSession, *, closed: bool) -> list[int]:
    """The session closed (``closed``: the team hears ``session.closed``,
    their panes show it ended) or went back to its queue (each is told
    ``session.left``): every participation ends. The caller holds the row
    lock. Returns the librarians whose participation ended."""
    ended = dict(
        Participant.objects.filter(session=session, ended_at__isnull=True).values_list(
            "pk", "librarian_id"
        )
    )
    if not ended:
        return []
    Participant.objects.filter(pk__in=ended).update(ended_at=timezone.now())
    if not closed:
        for librarian_id in ended.values():
            publish(
                {"type": "session.left", "session": session.pk,
                 "reason": "The session went back to its queue."},
                librarian_group(librarian_id),
            )  # fmt: skip
    return list(ended.values())


def team_ids_of(session_id: int) -> list[int]:
    """The librarians in the session beside its primary."""
    return list(
        Participant.objects.filter(session_id=session_id, ended_at__isnull=True).values_list(
            "librarian_id", flat=True
        )
    )


def became_primary(session: ChatSession, librarian: Librarian) -> None:
    """A librarian in the session took it (a transfer, a take-over): they are
    its primary now, no longer a participant. The caller holds the row lock."""
    Participant.objects.filter(session=session, librarian=librarian, ended_at__isnull=True).update(
        ended_at=timezone.now()
    )


# --- Watch ------------------------------------------------------------------


def watch_start(*, session_id: object, librarian: Librarian) -> dict[str, Any]:
    """A supervisor starts watching a live session: read-only, and the patron
    is not told. Idempotent: watching it already answers the same.

    Requires: the watch permission; an active session of their library's
    queues that they don't hold. Changes: a watching :class:`Participant` and
    a Librarian Note (who, when). Publishes ``watch.started`` (the whole
    session) to their consoles, ``session.team`` to everyone in it.
    Returns the session detail.
    """
    if not can_watch(librarian):
        raise ChatError("not_allowed", "Only a supervisor can watch chat sessions.")
    session = watchable(session_id, librarian)
    with transaction.atomic():
        steps.session_lock(session.pk)
        session = ChatSession.objects.select_related("queue", "library", "primary").get(
            pk=session.pk
        )
        if session.state != ChatSession.State.ACTIVE:
            raise not_live(session)
        if session.primary_id == librarian.pk:
            raise ChatError("already_in", "You are chatting in this session yourself.")
        current = Participant.objects.filter(
            session=session, librarian=librarian, ended_at__isnull=True
        ).first()
        if current is not None and current.role == Participant.Role.JOINED:
            raise ChatError("already_in", "You have joined this session already.")
        if current is None:
            Participant.objects.create(
                session=session, librarian=librarian, role=Participant.Role.WATCHING
            )
            steps.note(session, f"{librarian.display_name} started watching.", librarian)
            team_publish(session)
            logger.info("librarian %s watches session %s", librarian.pk, session.pk)
        detail = session_detail(session, session_lines(session))
        publish({"type": "watch.started", "detail": detail}, librarian_group(librarian.pk))
    return detail


def watch_stop(*, session_id: object, librarian: Librarian) -> ChatSession:
    """Stop watching (:func:`team_leave`)."""
    return team_leave(session_id=session_id, librarian=librarian)


def _session_of(session_id: object) -> ChatSession:
    try:
        return ChatSession.objects.select_related("queue", "library", "primary").get(
            pk=int(session_id)  # type: ignore[call-overload]
        )
    except (ChatSession.DoesNotExist, TypeError, ValueError, OverflowError):
        raise ChatError("not_found", "There is no such chat session.") from None


def watchable(session_id: object, librarian: Librarian) -> ChatSession:
    """A session of the supervisor's library's queues; ``not_found`` for any other."""
    try:
        return (
            ChatSession.objects.filter(watchable_by(librarian))
            .select_related("queue", "library", "primary")
            .distinct()
            .get(pk=int(session_id))  # type: ignore[call-overload]
        )
    except (ChatSession.DoesNotExist, TypeError, ValueError, OverflowError):
        raise ChatError(
            "not_found", "There is no such chat session in your library's queues."
        ) from None


def not_live(session: ChatSession) -> ChatError:
    if session.state == ChatSession.State.CLOSED:
        return ChatError("session_closed", "This chat session has ended.")
    return ChatError(
        "session_waiting", "No librarian has picked up this session yet: there is nothing to watch."
    )


# --- Access ending ----------------------------------------------------------


def departed_team_leave(*, librarian: Librarian, queue_ids: Iterable[int] | None = None) -> int:
    """The librarian's access ended (a log-out, a deactivation, a withdrawn
    permission; a membership removed: the sessions of ``queue_ids`` they
    joined): every such participation of theirs ends, as if they left.
    Returns how many."""
    rows = Participant.objects.filter(librarian=librarian, ended_at__isnull=True)
    if queue_ids is not None:
        # A supervisor watches their library's queues, member or not.
        rows = rows.filter(session__queue_id__in=list(queue_ids), role=Participant.Role.JOINED)
    ended = 0
    for participant in rows.select_related("librarian"):
        with transaction.atomic():
            steps.session_lock(participant.session_id)
            if not Participant.objects.filter(pk=participant.pk, ended_at__isnull=True).exists():
                continue
            session = _session_of(participant.session_id)
            _end(session, participant, why=" (their access ended)")
        ended += 1
    return ended


def watchers_recheck() -> int:
    """Permissions changed (a group's, a user's, a user's groups): every
    supervisor watching who may no longer watch stops. Returns how many."""
    ended = 0
    watching = Participant.objects.filter(role=Participant.Role.WATCHING, ended_at__isnull=True)
    for librarian in Librarian.objects.filter(
        pk__in=watching.values("librarian_id")
    ).select_related("user"):
        if not can_watch(librarian):
            ended += departed_team_leave(librarian=librarian)
    return ended
