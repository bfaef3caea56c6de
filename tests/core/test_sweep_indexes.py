"""Every filter of the worker's periodic jobs is backed by an index.

The sweeps run every few seconds against tables that grow with every chat
(presence rows, sessions, offers): each one's query must find its rows by an
index, never by reading the table. PostgreSQL is asked for each plan with
sequential scans priced out; a plan that still reads the table has no index
to use.
"""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from chat.models import ChatSession, PatronBlock, PatronPresence, TransferOffer
from core.models import RelayedEvent
from im.models import ImSession
from queues.models import Membership
from shifts.models import ConsolePresence

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="query plans of PostgreSQL"),
]

NOW = timezone.now()

QUERIES: dict[str, tuple[Callable[[], QuerySet], str]] = {
    "blocks expired, their hash still kept (chat.patron_blocks_prune)": (
        lambda: PatronBlock.objects.filter(expires_at__lte=NOW).exclude(address_hash=""),
        "block_expiry",
    ),
    "consoles gone past the grace period (shifts.presence_sweep)": (
        lambda: Membership.objects.monitoring().exclude(
            Exists(
                ConsolePresence.objects.filter(
                    librarian=OuterRef("librarian"), last_seen__gte=NOW - timedelta(seconds=30)
                )
            )
        ),
        "membership_monitoring",
    ),
    "a console of theirs seen since (the same sweep, per librarian)": (
        lambda: ConsolePresence.objects.filter(librarian_id=1, last_seen__gte=NOW),
        "console_librarian_seen",
    ),
    "patron sockets whose process died (chat.patron_sockets_sweep)": (
        lambda: PatronPresence.objects.filter(closed=False, last_seen__lt=NOW),
        "patron_socket_open_seen",
    ),
    "patrons away past the grace period (chat.sessions_lost_sweep)": (
        lambda: ChatSession.objects.filter(
            state__in=[ChatSession.State.WAITING, ChatSession.State.ACTIVE],
            patron_gone_since__isnull=False,
        ),
        "session_patron_away",
    ),
    "offers past their time (chat.transfer_expire_due)": (
        lambda: TransferOffer.objects.filter(state=TransferOffer.State.OPEN, expires_at__lte=NOW),
        "offer_open_expiry",
    ),
    "transcripts due (transcripts.transcripts_enqueue_due)": (
        lambda: ChatSession.objects.filter(transcript_due_at__lte=NOW).order_by(
            "transcript_due_at"
        ),
        "session_transcript_due",
    ),
    "IM sessions idle past IM_IDLE_MINUTES (im.im_idle_sweep)": (
        lambda: ImSession.objects.filter(ended_at__isnull=True, last_line_at__lt=NOW),
        "im_open_idle",
    ),
    "console rows to prune": (
        lambda: ConsolePresence.objects.filter(last_seen__lt=NOW),
        "last_seen",
    ),
    "patron rows to prune": (
        lambda: PatronPresence.objects.filter(closed=True, last_seen__lt=NOW),
        "last_seen",
    ),
    "relayed events to prune": (
        lambda: RelayedEvent.objects.filter(created_at__lt=NOW),
        "created_at",
    ),
}


@pytest.mark.parametrize("name", QUERIES)
def test_the_query_reads_an_index_not_the_table(name):
    make, index = QUERIES[name]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = make().explain()
    assert "Seq Scan" not in plan, plan
    assert index in plan, plan
