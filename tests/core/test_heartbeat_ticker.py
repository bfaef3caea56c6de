"""The heartbeat ticker keeps its period when its beats are slow.

A console's presence row is refreshed only by its heartbeat; if a busy
process beat its sockets ever more rarely, the presence sweep would end the
shift of librarians who never left. A late tick is not made up for, but a
slot left unbeaten for two periods goes with the next tick, so each socket
is beaten at least every two periods however slow the beats are.
"""

import asyncio
import itertools
from typing import Any

import pytest

from core import heartbeats

PERIOD = 0.4
TICK = 0.05  # eight slots


class Socket:
    def __init__(self, name: str) -> None:
        self.name = name


@pytest.fixture
def short_period(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.HEARTBEAT_SECONDS = PERIOD
    monkeypatch.setattr(heartbeats, "HEARTBEAT_TICK_SECONDS", TICK)


def kind_beating(beaten: dict[str, list[float]], *, takes: float) -> heartbeats.Kind:
    async def beat(sockets: list[Socket]) -> None:
        await asyncio.sleep(takes)  # a database call that waits, as under load
        now = asyncio.get_running_loop().time()
        for socket in sockets:
            beaten.setdefault(socket.name, []).append(now)

    return heartbeats.Kind(f"slow-{takes}", beat)


async def run_for(seconds: float, kind: heartbeats.Kind, sockets: list[Socket]) -> None:
    ticker = heartbeats.Heartbeats()
    for socket in sockets:
        ticker.add(kind, socket)
    await asyncio.sleep(seconds)
    for socket in sockets:
        ticker.discard(kind, socket)
    assert ticker.task is not None
    ticker.task.cancel()


def longest_gap(times: list[float]) -> float:
    return max(b - a for a, b in itertools.pairwise(times))


async def test_slow_beats_still_reach_every_socket_once_a_period(short_period: None) -> None:
    beaten: dict[str, list[float]] = {}
    sockets = [Socket(f"s{i}") for i in range(16)]
    # Each beat takes four ticks: without catching up, a round of the eight
    # slots would take four periods.
    takes = TICK * 4
    await run_for(4.0, kind_beating(beaten, takes=takes), sockets)
    assert set(beaten) == {socket.name for socket in sockets}
    for name, times in beaten.items():
        assert len(times) >= 3, (name, len(times))
        # Two periods, plus the beat's own time and a little lateness.
        assert longest_gap(times) <= 2 * PERIOD + takes + 0.15, (name, longest_gap(times))


async def test_beats_on_time_take_one_slot_a_tick(short_period: None) -> None:
    beaten: dict[str, list[float]] = {}
    batches: list[int] = []
    kind = kind_beating(beaten, takes=0)
    original = kind.beat

    async def counting(sockets: list[Socket]) -> None:
        batches.append(len(sockets))
        await original(sockets)

    kind = heartbeats.Kind("counted", counting)
    await run_for(1.0, kind, [Socket(f"s{i}") for i in range(16)])
    # Sixteen sockets over eight slots: two a tick, never the whole lot at once.
    assert batches and max(batches) <= 4, batches


async def test_two_kinds_are_beaten_apart_and_each_every_period(short_period: None) -> None:
    """Consoles and patron sockets are beaten half a tick apart, so their
    database work and frames don't land on the lines at the same moment, and
    each socket of either kind still has its beat every period."""
    beaten: dict[str, list[float]] = {}
    consoles = heartbeats.Kind("consoles", kind_beating(beaten, takes=0).beat)
    patrons = heartbeats.Kind("patrons", kind_beating(beaten, takes=0).beat)
    ticker = heartbeats.Heartbeats()
    sockets = [Socket(f"{kind}{i}") for i in range(8) for kind in "cp"]  # held: slots are weak
    for socket in sockets:
        ticker.add(consoles if socket.name[0] == "c" else patrons, socket)
    await asyncio.sleep(1.2)
    assert ticker.task is not None
    ticker.task.cancel()
    assert len(beaten) == 16
    for name, times in beaten.items():
        assert len(times) >= 2, (name, times)
        assert longest_gap(times) <= PERIOD + 0.1, (name, longest_gap(times))
    patron_times = [t for n, ts in beaten.items() if n[0] == "p" for t in ts]
    console_times = [t for n, ts in beaten.items() if n[0] == "c" for t in ts]
    # Every patron beat comes about half a tick after the nearest console beat before it.
    for t in patron_times:
        before = max(c for c in console_times if c <= t)
        assert TICK * 0.3 <= t - before <= TICK * 0.8, (t - before, TICK)
