"""Heartbeats in batches: one ticker per server process, a constant number of queries per tick.

Every open socket still gets its heartbeat every HEARTBEAT_SECONDS, carrying
what it always did; the sockets are spread over the ticks of a period, and
each tick refreshes the presence rows of its patron sockets in one UPDATE and
reads their sessions in one SELECT, and the rows of its consoles in one
UPDATE, however many sockets there are. The real-socket tests shorten the
period (and the tick) through the settings.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat import patrons
from chat.consumers import PATRON_SOCKETS
from chat.models import ChatSession, PatronPresence
from core import heartbeats
from shifts import services as shifts
from shifts.models import ConsolePresence
from tests.sockets import (  # noqa: F401 - the fixture closes leftover sockets
    Socket,
    call,
    close_sockets_left_open,
    console_of,
    librarian_says,
    patron_of,
    reload,
)
from tests.talk import patron_connected, sweep_patrons

PERIOD = 0.4
TICK = 0.1  # four slots


@pytest.fixture
def short_period(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.HEARTBEAT_SECONDS = PERIOD
    monkeypatch.setattr(heartbeats, "HEARTBEAT_TICK_SECONDS", TICK)


@pytest.fixture
def batches(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Each patron batch the ticker ran: its sockets and the queries it took."""
    seen: list[dict[str, Any]] = []
    beats = patrons.patron_sockets_beat

    def counted(sockets: Any) -> Any:
        sockets = list(sockets)
        with CaptureQueriesContext(connection) as queries:
            try:
                return beats(sockets)
            finally:
                seen.append(
                    {
                        "sockets": {channel_name for _, channel_name in sockets},
                        "queries": [q["sql"].split()[0] for q in queries.captured_queries],
                    }
                )

    monkeypatch.setattr(patrons, "patron_sockets_beat", counted)
    return seen


def registry() -> heartbeats.Heartbeats:
    return heartbeats.heartbeats()


def patron_slots() -> list[Any]:
    return registry().kinds[PATRON_SOCKETS].slots


def patron_channel_names() -> set[str]:
    return {socket.channel_name for socket in registry().sockets(PATRON_SOCKETS)}


async def open_patrons(sessions: list[ChatSession]) -> list[Socket]:
    sockets = []
    for session in sessions:
        socket = await patron_of(session)
        await socket.expect("session.snapshot")
        sockets.append(socket)
    return sockets


async def wait_for(condition: Callable[[], bool | Awaitable[bool]], timeout: float = 5) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        met = condition()
        if not isinstance(met, bool):
            met = await met
        if met:
            return
        assert loop.time() < deadline, "waited in vain"
        await asyncio.sleep(0.02)


# --- Queries ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 25])
def test_a_tick_of_patron_sockets_costs_one_update_and_one_select(
    ask, django_assert_num_queries, count
):
    sockets = []
    for i in range(count):
        session = ask(name=f"Patron {i}")
        patron_connected(session, f"tab-{i}")
        sockets.append((session, f"tab-{i}"))
    with django_assert_num_queries(2):
        beats = patrons.patron_sockets_beat(sockets)
    assert beats == {session.pk: ("waiting", 1, None) for session, _ in sockets}


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 25])
def test_a_tick_of_consoles_costs_one_update(world, django_assert_num_queries, count):
    consoles = [(world.alice, f"console-{i}") for i in range(count)]
    for librarian, channel_name in consoles:
        shifts.console_opened(librarian=librarian, channel_name=channel_name)
    ConsolePresence.objects.update(last_seen="2000-01-01T00:00:00Z")
    with django_assert_num_queries(1):
        shifts.consoles_heartbeat(consoles=consoles)
    assert not ConsolePresence.objects.filter(last_seen__year=2000).exists()


@pytest.mark.django_db
def test_a_batch_puts_back_the_rows_a_sweep_closed_or_removed(ask, chat, alice, events_of):
    dana, eli, fay = ask(name="Dana"), chat(alice, name="Eli"), ask(name="Fay")
    for session in (dana, eli, fay):
        patron_connected(session, f"tab-{session.pk}")
    # The sweep gave up on Eli's tab (a long stall); Fay's row is gone altogether.
    PatronPresence.objects.filter(channel_name=f"tab-{eli.pk}").update(closed=True)
    ChatSession.objects.filter(pk=eli.pk).update(patron_gone_since="2000-01-01T00:00:00Z")
    PatronPresence.objects.filter(channel_name=f"tab-{fay.pk}").delete()

    sockets = [(s, f"tab-{s.pk}") for s in (dana, eli, fay)]
    heard = events_of(
        [f"librarian.{alice.pk}"], lambda: patrons.patron_sockets_heartbeat(sockets=sockets)
    )
    assert heard == [{"type": "patron.returned", "session": eli.pk}]
    assert set(
        PatronPresence.objects.filter(closed=False).values_list("channel_name", flat=True)
    ) == {f"tab-{s.pk}" for s in (dana, eli, fay)}
    assert ChatSession.objects.get(pk=eli.pk).patron_present


@pytest.mark.django_db
def test_a_batch_puts_back_the_console_rows_a_sweep_removed(world):
    shifts.console_opened(librarian=world.alice, channel_name="alice-1")
    shifts.console_opened(librarian=world.bob, channel_name="bob-1")
    ConsolePresence.objects.filter(channel_name="bob-1").delete()
    shifts.consoles_heartbeat(consoles=[(world.alice, "alice-1"), (world.bob, "bob-1")])
    assert dict(
        ConsolePresence.objects.filter(closed=False).values_list("channel_name", "librarian")
    ) == {"alice-1": world.alice.pk, "bob-1": world.bob.pk}


# --- Through the sockets ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_each_socket_beats_once_a_period_spread_evenly_at_constant_cost(
    ask, short_period, batches
):
    sessions = [await call(ask, name=f"Patron {i}") for i in range(6)]
    # Two tabs each for two of the patrons: eight sockets.
    sockets = await open_patrons(sessions + sessions[:2])
    slots = patron_slots()
    assert sorted(len(slot) for slot in slots) == [2, 2, 2, 2]

    started = len(batches)
    await wait_for(lambda: len(batches) >= started + 12)  # three periods
    ticks = batches[started : started + 12]
    # Each tick beats one slot: two sockets, one UPDATE and one SELECT.
    assert [len(tick["sockets"]) for tick in ticks] == [2] * 12
    assert {tuple(tick["queries"]) for tick in ticks} == {("UPDATE", "SELECT")}
    # Every socket is in every fourth tick: once a period.
    names = patron_channel_names()
    for name in names:
        assert [i % 4 for i, tick in enumerate(ticks) if name in tick["sockets"]] in (
            [k, k, k] for k in range(4)
        )

    for socket in sockets:
        beat = await socket.expect("session.heartbeat")
        assert beat == {"type": "session.heartbeat", "state": "waiting", "last_seq": 1}
    for socket in sockets:
        await socket.close()


@pytest.mark.django_db(transaction=True)
async def test_heartbeats_come_every_period_with_each_sessions_state_and_number(
    ask, chat, alice, short_period
):
    dana = await call(ask, name="Dana")
    eli = await call(chat, alice, name="Eli")
    danas = await open_patrons([dana, dana])
    [elis] = await open_patrons([eli])
    loop = asyncio.get_running_loop()

    times = []
    for _ in range(4):
        assert await elis.expect("session.heartbeat") == {
            "type": "session.heartbeat",
            "state": "active",
            "last_seq": 2,
        }
        times.append(loop.time())
    for tab in danas:
        await tab.expect("session.heartbeat", state="waiting", last_seq=1)
    # Once a period (a loaded machine may make a tick late, never early).
    average = (times[-1] - times[0]) / (len(times) - 1)
    assert PERIOD * 0.8 < average < PERIOD * 3, average

    await librarian_says(eli, alice, "It is on shelf LP 823.")
    await elis.expect("session.heartbeat", state="active", last_seq=3)
    for tab in danas:
        tab.received.clear()
        await tab.expect("session.heartbeat", state="waiting", last_seq=1)
    for socket in (*danas, elis):
        await socket.close()


@pytest.mark.django_db(transaction=True)
async def test_a_socket_that_closes_leaves_the_batches_and_the_last_one_stops_the_ticker(
    ask, short_period, batches
):
    sessions = [await call(ask, name=f"Patron {i}") for i in range(3)]
    sockets = await open_patrons(sessions)
    gone = (await call(PatronPresence.objects.get, session=sessions[0])).channel_name
    assert gone in patron_channel_names()

    await sockets[0].close()
    assert gone not in patron_channel_names()
    started = len(batches)
    await wait_for(lambda: len(batches) >= started + 4)  # a whole period
    assert not any(gone in tick["sockets"] for tick in batches[started:])
    row = await call(PatronPresence.objects.get, channel_name=gone)
    assert row.closed
    assert not (await reload(sessions[0])).patron_present

    for socket in sockets[1:]:
        await socket.close()
    ticker = registry().task
    assert ticker is not None
    await asyncio.wait_for(ticker, 2)  # nobody left to beat: it ends


@pytest.mark.django_db(transaction=True)
async def test_a_failing_batch_is_logged_and_tried_again_at_the_next_tick(
    ask, short_period, batches, monkeypatch, caplog
):
    sessions = [
        await call(ask, name=f"Patron {i}", question="My card number is 2931") for i in range(8)
    ]
    sockets = await open_patrons(sessions)
    refresh = patrons.patron_sockets_heartbeat
    failed: list[set[str]] = []

    def down_once(*, sockets: Any) -> None:
        sockets = list(sockets)
        if not failed:
            failed.append({channel_name for _, channel_name in sockets})
            raise ConnectionError("the database went away")
        refresh(sockets=sockets)

    monkeypatch.setattr(patrons, "patron_sockets_heartbeat", down_once)
    with caplog.at_level(logging.ERROR, logger="core.heartbeats"):
        started = len(batches)
        await wait_for(lambda: len(batches) >= started + 3)
    [record] = [r for r in caplog.records if r.name == "core.heartbeats"]
    assert record.getMessage() == "heartbeat of 2 patron sockets failed; trying again next tick"
    tokens_and_lines = [s.token for s in sessions] + ["2931"]
    assert not any(secret in caplog.text for secret in tokens_and_lines)

    # The failed slot's sockets went again with the next slot's.
    failed_at = next(i for i, tick in enumerate(batches) if tick["sockets"] == failed[0])
    assert len(batches[failed_at + 1]["sockets"]) == 4
    assert failed[0] < batches[failed_at + 1]["sockets"]
    for socket in sockets:
        await socket.expect("session.heartbeat", state="waiting", last_seq=1)
        await socket.close()


@pytest.mark.django_db(transaction=True)
async def test_a_patron_the_sweep_gave_up_on_is_back_at_the_next_beat(chat, alice, short_period):
    session = await call(chat, alice)
    console = await console_of(alice)
    [patron] = await open_patrons([session])
    await console.expect("patron.returned", session=session.pk)
    await patron.expect("session.heartbeat")

    # A stall of more than 30 s, as the sweep of another process sees it.
    row = await call(PatronPresence.objects.get, session=session)
    later = row.last_seen + timedelta(seconds=60)
    await call(sweep_patrons, now=later)
    await console.expect("patron.left", session=session.pk)
    await console.expect("patron.returned", session=session.pk)
    assert (await reload(session)).patron_present
    assert not (await call(PatronPresence.objects.get, session=session)).closed
    for socket in (patron, console):
        await socket.close()


@pytest.mark.django_db(transaction=True)
async def test_consoles_beat_in_one_update_per_tick_each_with_its_digest(
    chat, alice, bob, riverside, short_period, monkeypatch
):
    refreshed: list[tuple[int, int]] = []
    refresh = shifts.consoles_heartbeat

    def counted(*, consoles: Any) -> None:
        consoles = list(consoles)
        with CaptureQueriesContext(connection) as queries:
            refresh(consoles=consoles)
        refreshed.append((len(consoles), len(queries.captured_queries)))

    monkeypatch.setattr(shifts, "consoles_heartbeat", counted)
    session = await call(chat, alice)
    consoles = [await console_of(alice), await console_of(alice), await console_of(bob)]
    for console in consoles[:2]:
        beat = await console.expect("console.heartbeat")
        assert beat["active"] == {str(session.pk): 2}
    assert (await consoles[2].expect("console.heartbeat"))["active"] == {}
    assert refreshed and all(queries == 1 for _, queries in refreshed)
    assert sum(count for count, _ in refreshed) >= 3

    # A sweep removed a row while its console stayed open: the next beat puts it back.
    await call(ConsolePresence.objects.filter(librarian=bob).delete)
    await wait_for(lambda: call(ConsolePresence.objects.filter(librarian=bob, closed=False).exists))
    for console in consoles:
        await console.close()
