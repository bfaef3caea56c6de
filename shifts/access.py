"""When a librarian's access ends: a log-out, a deactivated account, a membership removed.

Each takes effect on every open console of theirs within one heartbeat: the
console socket closes with 4403 and the page says the session has ended.
Two ways, so that neither a lost ring nor a bulk change in the admin (which
sends no signal) leaves a console working:

- at once: the service publishes ``access.ended`` to the librarian's
  consoles (``login``: only the consoles opened with that login, for a
  log-out; null: all of them), after commit;
- at every heartbeat: :func:`consoles_access` checks, for all the consoles
  a tick beats in one go, that the login each was opened with still holds,
  that the account is active and that the memberships it was shown are
  still there, and repairs what a bulk change left undone.

What happens to the sessions the librarian held (docs/architecture.md):
a log-out ends them, as Log Off always has (the librarian chose to leave;
closing line, transcript); a deactivation or a removed membership returns
them to their queue for a colleague (``chat.departures``: the patron did
nothing wrong and keeps the conversation). Open transfer offers the
librarian sent or received are withdrawn either way.
"""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from accounts.logins import login_tag, logins_extend, logins_holding
from accounts.models import Librarian
from chat.departures import departed_offers_withdraw, departed_sessions_requeue
from chat.models import ChatSession, Participant, TransferOffer
from chat.roster import librarian_updated
from chat.team import departed_team_leave
from core.events import publish
from core.groups import librarian_group
from queues.models import Membership, Queue
from shifts.services import librarian_log_off, monitoring_set

logger = logging.getLogger(__name__)


def access_ended_publish(librarian_id: int, *, session_key: str | None = None) -> None:
    """Tell the librarian's consoles (those of one login, or all) to close with 4403."""
    publish(
        {"type": "access.ended", "login": login_tag(session_key) if session_key else None},
        librarian_group(librarian_id),
    )


def librarian_logged_out(*, librarian: Librarian, session_key: str | None) -> None:
    """The librarian logged out (the console's Log Off, the admin's, any path).

    Changes: as Log Off (monitoring stops, the sessions they hold end with
    the closing line and the transcript); the offers they received are
    withdrawn. Publishes ``access.ended`` to the consoles of that login.
    """
    librarian_log_off(librarian=librarian)
    departed_offers_withdraw(librarian=librarian)
    departed_team_leave(librarian=librarian)
    access_ended_publish(librarian.pk, session_key=session_key)
    logger.info("librarian %s logged out", librarian.pk)


def librarian_deactivated(*, librarian: Librarian) -> None:
    """The librarian's account was deactivated (or its user removed).

    Changes: monitoring stops; every session they hold goes back to its
    queue with a line for the patron and a Librarian Note; their open
    offers are withdrawn. Publishes ``access.ended`` to all their consoles.
    """
    monitoring_set(librarian=librarian, queue_ids=[])
    departed_sessions_requeue(librarian=librarian, why="account deactivated")
    departed_offers_withdraw(librarian=librarian)
    departed_team_leave(librarian=librarian)
    access_ended_publish(librarian.pk)
    logger.info("librarian %s deactivated", librarian.pk)


def librarian_memberships_lost(*, librarian_id: int, queue_ids: Iterable[int] = ()) -> None:
    """Memberships of the librarian were removed (one by one, in bulk, or a
    row changed to another queue): what they held in queues they no longer
    belong to goes back to those queues, their offers there are withdrawn.

    Publishes ``access.ended`` to all their consoles, ``librarian.updated``
    to the queues they left (those named in ``queue_ids`` too).
    """
    librarian = Librarian.objects.filter(pk=librarian_id).first()
    if librarian is None:
        return  # removed with the librarian: nothing of theirs is left
    member_of = Membership.objects.filter(librarian=librarian).values("queue_id")
    held = ChatSession.objects.filter(
        primary=librarian, state=ChatSession.State.ACTIVE
    ).values_list("queue_id", flat=True)
    offered = TransferOffer.objects.filter(
        receiver=librarian, state=TransferOffer.State.OPEN
    ).values_list("session__queue_id", flat=True)
    joined = Participant.objects.filter(
        librarian=librarian, role=Participant.Role.JOINED, ended_at__isnull=True
    ).values_list("session__queue_id", flat=True)
    lost = list(
        Queue.objects.exclude(pk__in=member_of)
        .filter(pk__in={*held, *offered, *joined})
        .order_by("pk")
        .values_list("pk", "name")
    )
    for queue_id, name in lost:
        departed_sessions_requeue(librarian=librarian, why=f"removed from {name}",
                                  queue_ids=[queue_id])  # fmt: skip
        departed_offers_withdraw(librarian=librarian, queue_ids=[queue_id])
        departed_team_leave(librarian=librarian, queue_ids=[queue_id])
    with transaction.atomic():
        librarian_updated(librarian.pk, also_queues={*queue_ids, *(q for q, _ in lost)})
        access_ended_publish(librarian.pk)
    logger.info("librarian %s lost memberships", librarian.pk)


# --- The heartbeat's check -------------------------------------------------


@dataclass(frozen=True)
class ConsoleLogin:
    """What a console socket knows of the access it was opened with."""

    librarian_id: int
    user_id: int
    session_key: str
    member_of: frozenset[int]  # the queues its snapshot listed


def consoles_access(
    consoles: Sequence[ConsoleLogin], *, active: Iterable[str] = ()
) -> list[str | None]:
    """For each console, why its access ended (``login``, ``inactive``,
    ``membership``), or None while it holds.

    ``active`` are the session keys of logins whose console saw the
    librarian act since the last beat: they last a whole idle time from
    now. Two queries for all the consoles (three with activity); a
    deactivation or a removal that sent no signal is repaired here (at most
    once per librarian and tick: their consoles close).
    """
    if not consoles:
        return []
    logins_extend(active)
    ids = {console.librarian_id for console in consoles}
    passwords: dict[int, str] = {}
    members: dict[int, set[int]] = {}
    for librarian_id, user_id, password, queue_id in Librarian.objects.filter(
        pk__in=ids, user__is_active=True
    ).values_list("pk", "user_id", "user__password", "memberships__queue_id"):
        passwords[user_id] = password
        members.setdefault(librarian_id, set())
        if queue_id is not None:
            members[librarian_id].add(queue_id)
    holding = logins_holding(((c.session_key, c.user_id) for c in consoles), passwords)
    verdicts: list[str | None] = []
    repairs: dict[int, str] = {}
    for console in consoles:
        if console.librarian_id not in members:
            verdicts.append("inactive")
            repairs[console.librarian_id] = "inactive"
        elif not console.member_of <= members[console.librarian_id]:
            verdicts.append("membership")
            repairs.setdefault(console.librarian_id, "membership")
        elif console.session_key not in holding:
            verdicts.append("login")
        else:
            verdicts.append(None)
    for librarian_id, why in repairs.items():
        _repair(librarian_id, why)
    return verdicts


def _repair(librarian_id: int, why: str) -> None:
    if why == "membership":
        librarian_memberships_lost(librarian_id=librarian_id)
        return
    librarian = Librarian.objects.filter(pk=librarian_id).first()
    user = get_user_model().objects.filter(librarian__pk=librarian_id).first()
    if librarian is not None and (user is None or not user.is_active):
        librarian_deactivated(librarian=librarian)
