"""The Librarians list: who else is monitoring my queues, with their figures, kept live.

"The same queues" means a queue both librarians monitor right now. Who is on
shift comes from the database (memberships and console presence rows), so
these tests read it through the selectors and services, never from memory.
"""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import Librarian
from chat import sessions
from chat.roster import librarian_row
from core import events
from queues.models import Membership, Queue
from shifts import selectors
from shifts import services as shifts
from shifts.models import ConsolePresence
from tests.helpers import at_once
from tests.talk import console_heartbeat

pytestmark = pytest.mark.django_db

GRACE = timedelta(seconds=30)


def monitor(librarian: Librarian, *queues: Queue) -> None:
    shifts.monitoring_set(librarian=librarian, queue_ids=[q.pk for q in queues])


def librarians_list(librarian: Librarian) -> dict[str, dict[str, Any]]:
    """The Librarians tab of ``librarian``'s console, by display name."""
    rows = [librarian_row(other) for other in selectors.librarians_on_shift_for(librarian)]
    return {row["display_name"]: row for row in rows}


def monitored_by(librarian: Librarian) -> set[int]:
    return set(
        Membership.objects.monitoring()
        .filter(librarian=librarian)
        .values_list("queue_id", flat=True)
    )


def updates(heard: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Librarians list rows carried by the ``librarian.updated`` events heard."""
    return [e["librarian"] for e in heard if e["type"] == "librarian.updated"]


# --- Who is in the list -------------------------------------------------------


def test_alice_sees_bob_with_his_queues_active_chats_and_home_queue(
    alice, bob, riverside, cooperative, chat
):
    bob.primary_queue = riverside
    bob.save()
    monitor(alice, riverside)
    monitor(bob, riverside, cooperative)

    assert librarians_list(alice) == {
        "Bob": {
            "id": bob.pk,
            "display_name": "Bob",
            "staff_id": "RPL-117",
            "queues": 2,
            "monitoring": sorted([riverside.pk, cooperative.pk]),
            "active": 0,
            # His maximum: the queues' busy_at (3); he can take a chat.
            "max_sessions": 3,
            "status": "available",
            "primary_queue": "Ask Riverside",
            "library": "Riverside Public Library",
        }
    }

    session = chat(bob)
    assert librarians_list(alice)["Bob"]["active"] == 1
    sessions.session_end_by_librarian(session_id=session.pk, librarian=bob)
    assert librarians_list(alice)["Bob"]["active"] == 0


def test_a_librarian_without_a_home_queue_shows_none_there(alice, bob, riverside):
    monitor(alice, riverside)
    monitor(bob, riverside)
    row = librarians_list(alice)["Bob"]
    assert (row["primary_queue"], row["library"]) == (None, "Riverside Public Library")


def test_i_am_not_in_my_own_list(alice, bob, riverside):
    monitor(alice, riverside)
    monitor(bob, riverside)
    assert "Alice" not in librarians_list(alice)
    assert list(librarians_list(bob)) == ["Alice"]


def test_carol_is_listed_only_while_she_and_alice_both_monitor_the_cooperative(
    alice, carol, riverside, hillcrest, cooperative
):
    monitor(alice, riverside, cooperative)
    monitor(carol, hillcrest)
    assert "Carol" not in librarians_list(alice)
    assert "Alice" not in librarians_list(carol)

    monitor(carol, hillcrest, cooperative)
    assert librarians_list(alice)["Carol"]["library"] == "Hillcrest College Library"
    assert list(librarians_list(carol)) == ["Alice"]

    # A queue Carol belongs to is not enough: Alice must monitor it too.
    monitor(alice, riverside)
    assert "Carol" not in librarians_list(alice)
    assert "Alice" not in librarians_list(carol)


def test_dave_in_the_archive_is_never_in_anyone_elses_list(
    alice, bob, carol, dave, riverside, hillcrest, cooperative, archive
):
    monitor(alice, riverside, cooperative)
    monitor(bob, riverside, cooperative)
    monitor(carol, hillcrest, cooperative)
    monitor(dave, archive)
    assert list(librarians_list(alice)) == ["Bob", "Carol"]
    assert "Dave" not in librarians_list(bob)
    assert "Dave" not in librarians_list(carol)
    assert librarians_list(dave) == {}


def test_a_member_who_is_not_monitoring_is_not_listed(alice, bob, riverside):
    monitor(alice, riverside)
    assert librarians_list(alice) == {}
    monitor(bob, riverside)
    assert list(librarians_list(alice)) == ["Bob"]
    monitor(bob)
    assert librarians_list(alice) == {}


def test_a_librarian_who_monitors_nothing_has_an_empty_list(alice, bob, riverside):
    monitor(bob, riverside)
    assert librarians_list(alice) == {}


# --- librarian.updated: the list changes live -----------------------------------


def test_starting_to_monitor_tells_the_monitors_of_those_queues(
    alice, bob, riverside, cooperative, heard_by
):
    groups = [f"queue.{riverside.pk}", f"queue.{cooperative.pk}", f"librarian.{alice.pk}"]
    heard = heard_by(groups, lambda: monitor(bob, riverside))
    (row,) = updates(heard[f"queue.{riverside.pk}"])
    assert (row["id"], row["monitoring"], row["queues"]) == (bob.pk, [riverside.pk], 1)
    assert heard[f"queue.{cooperative.pk}"] == []
    assert heard[f"librarian.{alice.pk}"] == []


def test_moving_to_another_queue_tells_the_queue_left_as_well(
    bob, riverside, cooperative, hillcrest, heard_by
):
    monitor(bob, riverside)
    groups = [f"queue.{q.pk}" for q in (riverside, cooperative, hillcrest)]
    heard = heard_by(groups, lambda: monitor(bob, cooperative))
    # Riverside's monitors drop him, the cooperative's add him: one row, both groups.
    for queue in (riverside, cooperative):
        (row,) = updates(heard[f"queue.{queue.pk}"])
        assert (row["id"], row["monitoring"]) == (bob.pk, [cooperative.pk])
    assert heard[f"queue.{hillcrest.pk}"] == []


def test_stopping_monitoring_tells_the_queues_he_left(bob, riverside, cooperative, heard_by):
    monitor(bob, riverside, cooperative)
    groups = [f"queue.{riverside.pk}", f"queue.{cooperative.pk}"]
    heard = heard_by(groups, lambda: monitor(bob))
    for group in groups:
        (row,) = updates(heard[group])
        assert (row["id"], row["monitoring"], row["queues"]) == (bob.pk, [], 0)


def test_picking_up_and_ending_a_chat_changes_the_active_count_live(
    ask, bob, riverside, cooperative, heard_by
):
    monitor(bob, riverside)
    # A queue he belongs to but doesn't monitor (a patron of his own library).
    session = ask(cooperative, library=bob.library)
    groups = [f"queue.{riverside.pk}", f"queue.{cooperative.pk}"]

    heard = heard_by(groups, lambda: sessions.session_accept(session_id=session.pk, librarian=bob))
    # Those who list him are the monitors of the queues he monitors.
    assert [(r["id"], r["active"]) for r in updates(heard[f"queue.{riverside.pk}"])] == [
        (bob.pk, 1)
    ]
    assert updates(heard[f"queue.{cooperative.pk}"]) == []

    heard = heard_by(
        groups, lambda: sessions.session_end_by_librarian(session_id=session.pk, librarian=bob)
    )
    assert [r["active"] for r in updates(heard[f"queue.{riverside.pk}"])] == [0]


def test_the_patron_ending_the_chat_also_updates_the_active_count(chat, bob, riverside, heard_by):
    monitor(bob, riverside)
    session = chat(bob)
    heard = heard_by(
        [f"queue.{riverside.pk}"], lambda: sessions.session_end_by_patron(session=session)
    )
    assert [r["active"] for r in updates(heard[f"queue.{riverside.pk}"])] == [0]


def test_logging_off_takes_him_out_of_every_list(chat, alice, bob, riverside, heard_by):
    monitor(alice, riverside)
    monitor(bob, riverside)
    chat(bob)
    heard = heard_by([f"queue.{riverside.pk}"], lambda: shifts.librarian_log_off(librarian=bob))
    rows = updates(heard[f"queue.{riverside.pk}"])
    assert rows
    assert rows[-1]["id"] == bob.pk
    assert rows[-1]["monitoring"] == []
    assert librarians_list(alice) == {}


# --- Presence: a console that goes away -----------------------------------------


def test_a_reload_is_not_a_departure_but_a_closed_console_is_after_the_grace_period(
    alice, bob, riverside, clock, heard_by
):
    monitor(alice, riverside)
    monitor(bob, riverside)
    shifts.console_opened(librarian=alice, channel_name="alice-1")
    shifts.console_opened(librarian=bob, channel_name="bob-1")

    clock.advance(5)
    shifts.console_closed(channel_name="bob-1")
    row = ConsolePresence.objects.get(channel_name="bob-1")
    assert (row.closed, row.last_seen) == (True, clock.now)

    clock.advance(10)
    console_heartbeat(librarian=alice, channel_name="alice-1")
    assert shifts.presence_sweep() == []
    assert monitored_by(bob) == {riverside.pk}
    assert list(librarians_list(alice)) == ["Bob"]

    clock.advance(21)  # 31 s after Bob's console closed; Alice's beat 21 s ago
    groups = [f"librarian.{bob.pk}", f"queue.{riverside.pk}"]
    heard = heard_by(groups, lambda: shifts.presence_sweep())
    assert monitored_by(bob) == set()
    assert heard[f"librarian.{bob.pk}"] == [{"type": "monitoring.changed", "queues": []}]
    (gone,) = updates(heard[f"queue.{riverside.pk}"])
    assert (gone["id"], gone["monitoring"]) == (bob.pk, [])
    assert librarians_list(alice) == {}
    assert monitored_by(alice) == {riverside.pk}
    shifts.console_presence_prune()
    assert not ConsolePresence.objects.filter(channel_name="bob-1").exists()


def test_a_heartbeat_that_lands_while_the_sweep_runs_keeps_the_shift(
    alice, bob, riverside, clock, monkeypatch
):
    # Bob's process was stalled: his console's beat is written late, just
    # after the worker's sweep found him gone and before it ends his shift.
    # The end is decided by the UPDATE itself, which no longer matches.
    monitor(bob, riverside)
    shifts.console_opened(librarian=bob, channel_name="bob-1")
    clock.advance(31)
    read = shifts.monitored_queue_ids

    def beat_lands_first(librarian_id: int) -> list[int]:
        console_heartbeat(librarian=bob, channel_name="bob-1")
        return read(librarian_id)

    monkeypatch.setattr(shifts, "monitored_queue_ids", beat_lands_first)
    assert shifts.presence_sweep() == []
    assert monitored_by(bob) == {riverside.pk}


def test_the_sweep_returns_who_left_once(alice, bob, riverside, clock):
    monitor(alice, riverside)
    monitor(bob, riverside)
    shifts.console_opened(librarian=alice, channel_name="alice-1")
    shifts.console_opened(librarian=bob, channel_name="bob-1")
    shifts.console_closed(channel_name="bob-1")
    clock.advance(31)
    console_heartbeat(librarian=alice, channel_name="alice-1")
    assert shifts.presence_sweep() == [bob.pk]
    assert shifts.presence_sweep() == []


def test_an_open_console_that_stops_beating_is_swept_as_a_dead_process(
    alice, bob, riverside, heard_by
):
    monitor(bob, riverside)
    shifts.console_opened(librarian=bob, channel_name="bob-1")
    assert shifts.presence_sweep() == []

    # Its server process died: no close, just no heartbeat for 31 s.
    ConsolePresence.objects.filter(channel_name="bob-1").update(
        last_seen=timezone.now() - timedelta(seconds=31)
    )
    heard = heard_by([f"queue.{riverside.pk}"], lambda: shifts.presence_sweep())
    assert monitored_by(bob) == set()
    assert updates(heard[f"queue.{riverside.pk}"])[0]["monitoring"] == []


def test_an_open_console_that_keeps_beating_keeps_the_shift(bob, riverside, clock):
    monitor(bob, riverside)
    shifts.console_opened(librarian=bob, channel_name="bob-1")
    for _ in range(6):  # a minute of heartbeats, every 10 s
        clock.advance(10)
        console_heartbeat(librarian=bob, channel_name="bob-1")
        assert shifts.presence_sweep() == []
    assert monitored_by(bob) == {riverside.pk}


def test_a_console_reopened_within_the_grace_period_keeps_the_shift(bob, riverside, clock):
    monitor(bob, riverside)
    shifts.console_opened(librarian=bob, channel_name="bob-1")
    clock.advance(3)
    shifts.console_closed(channel_name="bob-1")  # the page reloads …
    clock.advance(2)
    shifts.console_opened(librarian=bob, channel_name="bob-2")  # … on a new socket
    for _ in range(4):
        clock.advance(10)
        console_heartbeat(librarian=bob, channel_name="bob-2")
    assert shifts.presence_sweep() == []
    assert monitored_by(bob) == {riverside.pk}
    shifts.console_presence_prune()
    assert list(ConsolePresence.objects.values_list("channel_name", flat=True)) == ["bob-2"]


def test_with_two_consoles_closing_one_is_no_departure(bob, riverside, clock):
    monitor(bob, riverside)
    shifts.console_opened(librarian=bob, channel_name="bob-1")
    shifts.console_opened(librarian=bob, channel_name="bob-2")
    shifts.console_closed(channel_name="bob-1")
    clock.advance(10)
    console_heartbeat(librarian=bob, channel_name="bob-2")
    clock.advance(25)
    assert shifts.presence_sweep() == []
    assert monitored_by(bob) == {riverside.pk}

    shifts.console_closed(channel_name="bob-2")
    clock.advance(31)
    assert shifts.presence_sweep() == [bob.pk]
    assert monitored_by(bob) == set()


def test_a_heartbeat_after_a_sweep_removed_the_row_puts_it_back(bob, riverside, clock):
    monitor(bob, riverside)
    shifts.console_opened(librarian=bob, channel_name="bob-1")
    clock.advance(31)  # the server was too busy to beat in time
    assert shifts.presence_sweep() == [bob.pk]
    console_heartbeat(librarian=bob, channel_name="bob-1")
    row = ConsolePresence.objects.get(channel_name="bob-1")
    assert (row.librarian, row.closed, row.last_seen) == (bob, False, clock.now)


def test_a_librarian_not_monitoring_is_left_alone_by_the_sweep(alice, bob, riverside, clock):
    monitor(bob, riverside)
    shifts.console_opened(librarian=bob, channel_name="bob-1")
    clock.advance(31)
    console_heartbeat(librarian=bob, channel_name="bob-1")
    # Alice never opened a console and monitors nothing: there is no shift to end.
    assert shifts.presence_sweep() == []
    assert monitored_by(alice) == set()


@pytest.mark.django_db(transaction=True)
def test_two_processes_sweeping_at_once_end_the_shift_once(bob, riverside, monkeypatch):
    sent: list[tuple[str, tuple[str, ...]]] = []
    # What leaves after commit, whichever thread commits it.
    monkeypatch.setattr(events, "_send", lambda event, groups: sent.append((event["type"], groups)))
    for round_ in range(10):
        monitor(bob, riverside)
        shifts.console_opened(librarian=bob, channel_name=f"bob-{round_}")
        shifts.console_closed(channel_name=f"bob-{round_}")
        sent.clear()
        later = timezone.now() + timedelta(seconds=31)
        outcomes = at_once(
            first=lambda at=later: shifts.presence_sweep(now=at),
            second=lambda at=later: shifts.presence_sweep(now=at),
        )
        assert not [o for o in outcomes.values() if isinstance(o, Exception)], outcomes
        assert outcomes["first"] + outcomes["second"] == [bob.pk], f"round {round_}"
        assert monitored_by(bob) == set()
        assert [kind for kind, _ in sent] == ["monitoring.changed", "librarian.updated"]
