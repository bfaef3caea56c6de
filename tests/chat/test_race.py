"""Two people press a button at the same moment: the database decides, once.

Real threads with their own database connections, released together by a
barrier (``tests.helpers.at_once``), against the real database (SQLite with
IMMEDIATE transactions, or PostgreSQL in service mode).
"""

import threading
import time
from typing import Any

import pytest
from django.db import connections, transaction

from chat import patrons, sessions
from chat.models import ChatSession, Message, PatronPresence
from core.errors import ChatError
from tests.helpers import at_once

# Round after round of pick-ups by the same librarians: no maximum.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_maximum")]

ROUNDS = 20


def test_two_librarians_picking_up_at_once_one_wins_and_the_other_is_told_who(ask, alice, bob):
    winners = []
    for round_ in range(ROUNDS):
        session = ask(name=f"Patron {round_}")
        outcomes = at_once(
            alice=lambda s=session: sessions.session_accept(session_id=s.pk, librarian=alice),
            bob=lambda s=session: sessions.session_accept(session_id=s.pk, librarian=bob),
        )
        won = [name for name, outcome in outcomes.items() if isinstance(outcome, ChatSession)]
        assert len(won) == 1, f"round {round_}: {outcomes}"
        winner = {"alice": alice, "bob": bob}[won[0]]
        loser_error = outcomes["bob" if won[0] == "alice" else "alice"]
        assert isinstance(loser_error, ChatError), f"round {round_}: {loser_error!r}"
        assert loser_error.code == "already_taken"
        assert loser_error.message == f"{winner.display_name} already picked up this request."

        session.refresh_from_db()
        assert session.state == ChatSession.State.ACTIVE
        assert session.primary == winner
        joined = session.messages.filter(
            kind=Message.Kind.SYSTEM, text__endswith="has joined the chat."
        )
        assert list(joined.values_list("text", flat=True)) == [
            f"{winner.display_name} has joined the chat."
        ]
        assert list(session.messages.values_list("seq", flat=True).order_by("seq")) == [1, 2]
        winners.append(won[0])
    assert len(winners) == ROUNDS


def test_patron_and_librarian_ending_at_once_write_one_closing_line(chat, alice):
    for round_ in range(ROUNDS // 2):
        session = chat(alice, name=f"Patron {round_}")
        outcomes = at_once(
            patron=lambda s=session: sessions.session_end_by_patron(
                session=ChatSession.objects.get(pk=s.pk)
            ),
            librarian=lambda s=session: sessions.session_end_by_librarian(
                session_id=s.pk, librarian=alice
            ),
        )
        ended = [name for name, outcome in outcomes.items() if isinstance(outcome, ChatSession)]
        assert len(ended) == 1, f"round {round_}: {outcomes}"
        refusal = outcomes["librarian" if ended == ["patron"] else "patron"]
        assert isinstance(refusal, ChatError), f"round {round_}: {refusal!r}"
        assert refusal.code == "session_closed"

        session.refresh_from_db()
        assert session.state == ChatSession.State.CLOSED
        assert session.closed_by == ended[0]
        closing = session.messages.filter(
            text__in=[sessions.PATRON_ENDED, sessions.LIBRARIAN_ENDED]
        ).values_list("text", flat=True)
        expected = sessions.PATRON_ENDED if ended == ["patron"] else sessions.LIBRARIAN_ENDED
        assert list(closing) == [expected]
        assert list(session.messages.values_list("seq", flat=True).order_by("seq")) == [1, 2, 3]


def _open_while_picked_up(session: ChatSession, librarian: Any) -> tuple[ChatSession, Any]:
    """A patron tab opens while ``librarian``'s pick-up holds the session's row
    lock (its transaction not yet committed); what the open returned."""
    picked_up, release = threading.Event(), threading.Event()
    opened: dict[str, Any] = {}

    def pick_up() -> None:
        try:
            with transaction.atomic():
                sessions.session_accept(session_id=session.pk, librarian=librarian)
                picked_up.set()
                release.wait(10)
        finally:
            connections.close_all()

    def open_tab() -> None:
        try:
            picked_up.wait(10)
            [opened["answer"]] = patrons.patron_sockets_open([(session.pk, "tab", 0)])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=pick_up), threading.Thread(target=open_tab)]
    for thread in threads:
        thread.start()
    picked_up.wait(10)
    time.sleep(0.3)  # the tab is waiting for the pick-up's lock by now
    release.set()
    for thread in threads:
        thread.join(timeout=30)
    return opened["answer"]


def test_a_patron_tab_opening_while_a_librarian_picks_up_hears_who_has_it(ask, alice):
    # The tab's open waits for the pick-up's row lock. PostgreSQL then reads
    # the locked row again as the pick-up left it (active, primary Alice)
    # but keeps the rest of the row it had joined first (no librarian): a
    # snapshot that said "active, with nobody", and a session whose primary
    # was None while its primary_id said Alice.
    for round_ in range(3):
        session, snapshot = _open_while_picked_up(ask(name=f"Patron {round_}"), alice)
        assert snapshot["session"]["state"] == "active"
        assert snapshot["session"]["librarian"] == "Alice", f"round {round_}"
        assert session.primary == alice
        PatronPresence.objects.all().delete()
