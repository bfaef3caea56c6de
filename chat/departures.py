"""A librarian's access ends while they hold sessions: the sessions go back to their queue.

When a supervisor deactivates an account or removes a membership, the
librarian can no longer answer the patrons they hold (in those queues), nor
end their sessions: each goes back to its queue, waiting under New again
for a colleague, and the patron, who did nothing wrong, keeps the
conversation. Their open transfer offers, sent or received, are withdrawn.
(A log-out is the librarian's own choice and ends the sessions instead, as
Log Off always has: ``shifts.services.librarian_log_off``.)
"""

import logging
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Librarian
from chat import routing, steps, team
from chat.lines import line_store, system_line
from chat.models import ChatSession, Hold, TransferOffer
from chat.roster import librarian_updated
from chat.transfers import offer_withdraw, offers_withdraw, round_settled
from core.events import publish
from core.groups import librarian_group

logger = logging.getLogger(__name__)


def patron_told(librarian: Librarian) -> str:
    """The line the patron reads: who is gone and what happens now, nothing of
    why (in the active language: the caller's override of the session's)."""
    return _("%(name)s is no longer available; your question is back in the queue.") % {
        "name": librarian.display_name
    }


def departed_sessions_requeue(
    *, librarian: Librarian, why: str, queue_ids: Iterable[int] | None = None
) -> list[int]:
    """Return the librarian's sessions to their queues (those of ``queue_ids``, or all).

    Requires nothing of the librarian: they may no longer be a member, or active.
    Changes: each active session they hold goes active → waiting with no
    primary (as a return to the queue, marked "(Transfer)" under New), its
    open offers withdrawn; a line for the patron (:func:`patron_told`) and a
    Librarian Note saying ``why``. Publishes ``session.requeued`` to the
    librarian's consoles and to the patron, and ``session.created`` to the queue's monitors.
    Returns the session ids.
    """
    held = ChatSession.objects.filter(primary=librarian, state=ChatSession.State.ACTIVE)
    if queue_ids is not None:
        held = held.filter(queue_id__in=list(queue_ids))
    requeued = []
    for session_id in held.values_list("pk", flat=True):
        with transaction.atomic():
            if not steps.session_lock(session_id, held_by=librarian):
                continue  # ended or handed over meanwhile
            session = ChatSession.objects.select_related("queue").get(pk=session_id)
            offers_withdraw(session, why=f"{librarian.display_name}'s access ended")
            ChatSession.objects.filter(pk=session_id).update(
                state=ChatSession.State.WAITING,
                primary=None,
                waiting_since=timezone.now(),
                requeued_by=librarian,
                requeue_note=why,
                # Its patron has waited already: every tier sees it at once.
                **routing.reach_values(session.queue, at_once=True),
            )
            session.refresh_from_db()
            steps.hold_end(session, librarian.pk, Hold.End.REQUEUED)
            team.team_end(session, closed=False)
            with translation.override(session.language):
                line_store(system_line(session, patron_told(librarian)))
            steps.note(
                session,
                f"{librarian.display_name} can no longer take this session ({why}): "
                f"it went back to {session.queue.name}.",
            )
            round_settled(session_id)
            publish(
                {"type": "session.requeued", "session": session_id, "queue": session.queue_id},
                librarian_group(librarian.pk),
            )
            # The patron's page: waiting again, for the next librarian.
            publish({"type": "session.requeued"}, session.patron_group())
            routing.request_publish(session, routing.first_groups(session.queue, at_once=True))
            librarian_updated(librarian.pk)
        requeued.append(session_id)
        logger.info("session %s returned to queue %s: its librarian's access ended",
                    session_id, session.queue_id)  # fmt: skip
    return requeued


def departed_offers_withdraw(
    *, librarian: Librarian, queue_ids: Iterable[int] | None = None
) -> int:
    """Withdraw the open offers the librarian sent or received (for sessions
    of ``queue_ids``, or all). Publishes ``transfer.cancelled`` to both
    librarians of each. Returns how many."""
    offers = TransferOffer.objects.filter(
        Q(sender=librarian) | Q(receiver=librarian), state=TransferOffer.State.OPEN
    )
    if queue_ids is not None:
        offers = offers.filter(session__queue_id__in=list(queue_ids))
    withdrawn = 0
    for offer in offers.select_related("sender", "receiver", "session"):
        offer_withdraw(offer, why=f"{librarian.display_name}'s access ended")
        withdrawn += 1
    return withdrawn
