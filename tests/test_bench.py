"""The benchmark's own parts: its bare relay, and the accounting its figures come from.

The figures themselves come from ``make bench`` (docs/performance.md), not
from tests; these keep the harness honest: a line counts as delivered only
at the other end, a live repeat counts as a duplicate, the relay relays.
"""

import pytest
from channels.testing import WebsocketCommunicator

from bench.asgi import application
from bench.figures import Figures, percentile
from bench.load import LIBRARIAN, PATRON, Bench, Ledger, Seen
from bench.report import verdicts

ORIGIN = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([], 99) == 0


def test_a_line_is_delivered_only_when_the_other_end_has_it():
    ledger = Ledger("t")
    client_id, text = ledger.new(PATRON)
    assert text.startswith(client_id)
    ledger.delivered(client_id, PATRON)  # the patron's own echo
    assert ledger.undelivered() == 1
    ledger.delivered(client_id, LIBRARIAN)
    assert ledger.undelivered() == 0
    ledger.delivered("other-1", LIBRARIAN)
    assert ledger.strays == 1


def test_a_live_repeat_is_a_duplicate_and_a_catch_up_repeat_is_not():
    bench = Bench()
    seen = Seen()
    assert seen.add(1, bench, live=True)
    assert not seen.add(1, bench, live=False)  # the same line again in a snapshot
    assert bench.ledger.duplicates == 0
    assert not seen.add(1, bench, live=True)  # the server sent it live twice
    assert bench.ledger.duplicates == 1
    seen.add(3, bench, live=True)
    assert seen.high == 1  # 2 is missing
    seen.add(2, bench, live=False)
    assert seen.high == 3


def test_a_rate_with_a_lost_line_or_a_slow_p99_is_not_held():
    held = Figures(sessions=1, librarians=1, rate=10, seconds=10, sent=100, p99_ms=99)
    assert held.held()
    assert not Figures(sessions=1, librarians=1, rate=10, seconds=10, sent=100, lost=1).held()
    assert not Figures(sessions=1, librarians=1, rate=10, seconds=10, sent=100, p99_ms=101).held()
    # The generator fell behind: the rate was not offered, so not held.
    assert not Figures(sessions=1, librarians=1, rate=10, seconds=10, sent=50).held()


def test_the_smoke_run_checks_the_harness_and_the_full_run_every_target():
    line = {
        "lost": 0,
        "duplicated": 0,
        "sent": 10,
        "stored": 10,
        "pickup_missed": 0,
        "rollovers": 5,
        "rollover_missed": 0,
        "rollover_p99_ms": 400,
        "off_shift": 0,
        "restart": {"lost": 0, "duplicated": 0, "behind": 0, "catch_up_s": 11},
        "bare": {"lost": 0, "duplicated": 0},
        "p50_ms": 5,
        "p99_ms": 50,
        "pickup_p99_ms": 40,
        "kib_per_socket": 60,
        "memory_sockets": 2000,
        "ratios": {
            "p99": 4.9,
            "max_rate": 0.6,
            "cpu_per_line": 2.0,
            "cpu_1000_vs_100_sessions": 1.1,
        },
    }
    assert all(verdicts(line, smoke=True).values())
    full = verdicts(line, smoke=False)
    assert [name for name, held in full.items() if not held] == [
        "restart: every patron caught up within 10 s"
    ]
    # Issue 13's ratios: p99 at most 5 x the bare relay's, the highest rate at least 0.6.
    ratios = {"p99": 5.1, "max_rate": 0.59, "cpu_per_line": 2.0, "cpu_1000_vs_100_sessions": 1.1}
    slower = verdicts({**line, "ratios": ratios}, smoke=False)
    assert [name for name, held in slower.items() if not held] == [
        "p99 <= 5 x the bare relay's",
        "max rate >= 0.6 x the bare relay's",
        "restart: every patron caught up within 10 s",
    ]


async def _bare_sockets(*joins: list[str]) -> list[WebsocketCommunicator]:
    """Bare relay sockets, connected, each having joined its groups."""
    sockets = []
    for groups in joins:
        socket = WebsocketCommunicator(application, "/ws/bare/", headers=ORIGIN)
        connected, _ = await socket.connect(timeout=3)
        assert connected
        await socket.send_json_to({"type": "join", "groups": groups})
        assert await socket.receive_json_from(timeout=3) == {"type": "joined"}
        sockets.append(socket)
    return sockets


@pytest.mark.django_db(transaction=True)
async def test_the_bare_relay_sends_a_line_to_both_ends_of_its_group():
    patron, librarian = await _bare_sockets(["bare.1"], ["bare.1", "bare.2"])

    await patron.send_json_to(
        {"type": "send", "group": "bare.1", "text": "hello", "client_id": "c1"}
    )
    line = {"type": "created", "group": "bare.1", "message": {"client_id": "c1", "text": "hello"}}
    assert await librarian.receive_json_from(timeout=3) == line
    got = [await patron.receive_json_from(timeout=3) for _ in range(2)]
    assert {"type": "stored", "client_id": "c1"} in got
    assert line in got
    await patron.disconnect()
    await librarian.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_the_bare_relay_forwards_typing_to_the_other_side_only():
    """The floor carries the typing frames the application's sockets carry:
    a patron's to its librarian's group, a librarian's to the session's, never
    back to the sender."""
    patron, librarian = await _bare_sockets(["bare.1"], ["bare.1", "bare.librarian.0"])

    await patron.send_json_to({"type": "typing", "group": "bare.librarian.0"})
    assert await librarian.receive_json_from(timeout=3) == {"type": "typing", "state": "started"}
    await librarian.send_json_to({"type": "typing", "group": "bare.1", "state": "stopped"})
    assert await patron.receive_json_from(timeout=3) == {"type": "typing", "state": "stopped"}
    assert await patron.receive_nothing(timeout=0.3)
    assert await librarian.receive_nothing(timeout=0.3)
    await patron.disconnect()
    await librarian.disconnect()
