"""``make bench``: Reference Chat under load, beside the bare Channels relay.

Starts the application in production mode (its own PostgreSQL database and
Redis on 127.0.0.1, DEBUG off, Daphne), creates its libraries, queues and
librarians, and drives patrons and librarian consoles over websockets from
this process. Two parts, each on a freshly started server:

1. the bare relay (bench/bare.py): the same sockets and the same lines
   through a group with no database, the floor of the stack;
2. the application: consoles pick the sessions up, patrons and librarians
   exchange lines, new requests arrive and are timed to every monitor's New
   list; then 100 and 1,000 sessions side by side, memory at 2,000 sockets,
   the highest rate held, and a restart that 1,000 patrons reconnect to.

Prints a table and, last, one JSON line. Exit status 0 when every target of
docs/performance.md holds (with --smoke: when the harness ran clean).
"""

import argparse
import asyncio
import contextlib
import gc
import json
import math
import os
import signal
import sys
import traceback
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench import profile
from bench.load import (
    BareSocket,
    Bench,
    ConsoleSocket,
    Ledger,
    Pair,
    PatronSocket,
    Socket,
    drain,
    now,
    traffic,
)
from bench.stack import BenchStack, CpuSample, Meter, log
from faults.forms import ask_form, ask_post, http_request

TARGETS = {
    "p50_ms": 20.0,
    "p99_ms": 100.0,
    "pickup_p99_ms": 100.0,
    "max_rate_ratio": 0.5,  # app / bare, at least
    "cpu_ratio": 2.5,  # app / bare per delivered line, at most
    "scaling": 0.2,  # cost per line at 100 and at 1,000 sessions, within
    "kib_per_socket": 100.0,  # at most, at --memory-sockets
    "catch_up_s": 10.0,  # at most, after a restart
}
LATENCY_LIMIT_MS = 100.0  # a rate is "held" with p99 at most this, nothing lost


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    p.add_argument("--sessions", type=int, default=1000, help="patron sessions (1000)")
    p.add_argument("--librarians", type=int, default=100, help="librarian consoles (100)")
    p.add_argument("--rate", type=float, default=200, help="lines a second, both ways (200)")
    p.add_argument("--seconds", type=float, default=60, help="seconds of the main load (60)")
    p.add_argument("--processes", type=int, default=1, help="Daphne processes (1)")
    p.add_argument(
        "--small-sessions", type=int, default=100, help="the small run of the scaling check (100)"
    )
    p.add_argument(
        "--memory-sockets", type=int, default=2000, help="sockets for the memory figure (2000)"
    )
    p.add_argument(
        "--step-seconds", type=float, default=8, help="seconds per step of the rate search (8)"
    )
    p.add_argument(
        "--max-steps", type=int, default=12, help="steps of the rate search, 0: no search (12)"
    )
    p.add_argument(
        "--pickups",
        type=float,
        default=1.0,
        help="new requests a second in the small and main phases (1)",
    )
    p.add_argument("--no-restart", action="store_true", help="skip the restart phase")
    p.add_argument(
        "--profile", type=Path, help="write py-spy profiles of the main phases to this folder"
    )
    p.add_argument(
        "--smoke", action="store_true", help="a tiny load that checks the harness, not the targets"
    )
    p.add_argument("--pg-host", default=os.environ.get("BENCH_PG_HOST", "127.0.0.1"))
    p.add_argument("--pg-port", type=int, default=int(os.environ.get("BENCH_PG_PORT", "5432")))
    p.add_argument(
        "--timeout", type=float, default=1800, help="the whole run stops after this (1800 s)"
    )
    args = p.parse_args(argv)
    if args.smoke:
        args.sessions, args.librarians, args.rate, args.seconds = 20, 4, 20, 3
        args.small_sessions, args.memory_sockets = 10, 40
        args.step_seconds, args.max_steps = 2, 1
    args.small_sessions = min(args.small_sessions, args.sessions)
    args.queues = max(1, args.librarians // 10)
    return args


# --- figures ------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted ``values`` (0 when there are none)."""
    if not values:
        return 0.0
    return values[min(len(values) - 1, max(0, math.ceil(q / 100 * len(values)) - 1))]


def slowest_seconds(ledger: Ledger, started: float, count: int = 5) -> list[list[float]]:
    """The seconds of the phase whose lines were slowest: [second, lines, max ms]."""
    worst: dict[int, list[float]] = {}
    for line in ledger.lines.values():
        if line.delivered:
            second = int(line.sent - started)
            entry = worst.setdefault(second, [second, 0, 0.0])
            entry[1] += 1
            entry[2] = max(entry[2], round((line.delivered - line.sent) * 1000, 1))
    return sorted(worst.values(), key=lambda e: -e[2])[:count]


@dataclass
class Figures:
    """One phase of traffic, as the JSON line reports it."""

    sessions: int
    librarians: int
    rate: float
    seconds: float
    sent: int = 0
    delivered: int = 0
    lost: int = 0
    duplicated: int = 0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    lines_per_s: float = 0.0
    cpu_s_per_1000: float = 0.0
    db_cpu_s_per_1000: float = 0.0
    worker_cpu_s_per_1000: float = 0.0
    redis_cpu_s_per_1000: float = 0.0
    generator_cpu_s_per_1000: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def held(self) -> bool:
        return (
            self.lost == 0
            and self.duplicated == 0
            and self.p99_ms <= LATENCY_LIMIT_MS
            and self.sent >= 0.95 * self.rate * self.seconds
        )


def figures(ledger: Ledger, base: Figures, before: CpuSample, after: CpuSample) -> Figures:
    """Fill in ``base`` from the phase's ledger and CPU samples (rate over ``base.seconds``)."""
    lines = ledger.lines.values()
    latencies = sorted((line.delivered - line.sent) * 1000 for line in lines if line.delivered)
    delivered = len(latencies)
    per = 1000 / delivered if delivered else 0.0
    base.sent = len(ledger.lines)
    base.delivered = delivered
    base.lost = base.sent - delivered
    base.duplicated = ledger.duplicates
    base.p50_ms = round(percentile(latencies, 50), 1)
    base.p95_ms = round(percentile(latencies, 95), 1)
    base.p99_ms = round(percentile(latencies, 99), 1)
    base.max_ms = round(latencies[-1] if latencies else 0.0, 1)
    base.lines_per_s = round(delivered / base.seconds, 1)
    base.cpu_s_per_1000 = round((after.server - before.server) * per, 3)
    base.db_cpu_s_per_1000 = round((after.database - before.database) * per, 3)
    base.worker_cpu_s_per_1000 = round((after.worker - before.worker) * per, 3)
    base.redis_cpu_s_per_1000 = round((after.redis - before.redis) * per, 3)
    base.generator_cpu_s_per_1000 = round((after.generator - before.generator) * per, 3)
    return base


# --- the run ------------------------------------------------------------------
class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.bench = Bench()
        self.stack = BenchStack(
            pg_host=args.pg_host,
            pg_port=args.pg_port,
            db_name=f"refchat_bench_{os.getpid()}",
            daphnes=args.processes,
            label="bench",
            asgi="bench.asgi:application",
            extra_env={"SWEEP_SECONDS": "5", "LOG_LEVEL": "WARNING"},
        )
        self.meter: Meter | None = None
        self.result: dict[str, Any] = {}
        self.librarians: list[dict[str, Any]] = []
        self.queues: list[dict[str, Any]] = []

    def port(self, index: int) -> int:
        return self.stack.ports[index % len(self.stack.ports)]

    # processes
    async def start_server(self) -> float:
        started = now()
        for i in range(self.args.processes):
            self.stack.start_daphne(i)
        for i in range(self.args.processes):
            await asyncio.to_thread(self.stack.wait_healthy, i, 60)
        return started

    def kill_server(self) -> None:
        for i in range(self.args.processes):
            self.stack.kill_daphne(i)

    async def warm_up(self) -> None:
        """A few requests so the first measured ones don't pay for imports."""
        for i in range(self.args.processes):
            for path in ("/healthz", f"/ask/{self.queues[0]['slug']}/", "/api/v1/status/"):
                await asyncio.to_thread(http_request, self.port(i), "GET", path)

    def profile(self, name: str, seconds: float, *, when: bool) -> list[Any]:
        """With --profile: py-spy on each Daphne process for ``seconds`` (``DIR/name-N.txt``)."""
        if not (self.args.profile and when):
            return []
        self.args.profile.mkdir(parents=True, exist_ok=True)
        return [
            profile.start(pid, seconds, self.args.profile / f"{name}-{i}.txt")
            for i, pid in enumerate(self.stack.daphne_pids())
        ]

    async def connect_all(self, sockets: Sequence[Socket], what: str) -> float:
        """Open ``sockets`` at once; seconds until every one is connected and caught up."""
        profilers = self.profile(f"ramp-{what}", 15, when=len(sockets) >= self.args.sessions)
        started = now()
        for s in sockets:
            s.start()
        waiting = [asyncio.create_task(s.ready.wait()) for s in sockets]
        _, pending = await asyncio.wait(waiting, timeout=120)
        for task in pending:
            task.cancel()
        if pending:
            failed = sum(1 for s in sockets if s.failed)
            raise RuntimeError(f"{len(pending)} of {len(sockets)} {what} never connected "
                               f"({failed} refused)")  # fmt: skip
        seconds = now() - started
        for profiler in profilers:
            await asyncio.to_thread(profiler.wait, 30)
        handshakes = sorted(s.opened_at - s.started_at for s in sockets)
        log(f"{len(sockets)} {what} connected in {seconds:.2f} s (handshake p50 "
            f"{percentile(handshakes, 50):.2f} s, max {handshakes[-1]:.2f} s)")  # fmt: skip
        return seconds

    async def phase(
        self, name: str, pairs: list[Pair], rate: float, seconds: float, *, drain_s: float = 10
    ) -> Figures:
        assert self.meter is not None  # noqa: S101
        # The generator's own pauses would count as the server's latency:
        # what earlier phases left behind is frozen, so a collection during
        # this one walks only its own objects (and the pauses are reported).
        gc.collect()
        gc.freeze()
        pauses_before = len(GC_PAUSES)
        self.bench.ledger = Ledger(name)
        profilers = self.profile(name, seconds, when=name in ("main", "bare", "small"))
        before = self.meter.cpu()
        resyncs, connects = self.bench.resyncs, self.bench.connects
        started = now()
        await traffic(self.bench, pairs, rate, seconds)
        for profiler in profilers:
            await asyncio.to_thread(profiler.wait, 30)
        await drain(self.bench, drain_s)
        after = self.meter.cpu()
        base = Figures(
            sessions=len(pairs),
            librarians=len({id(p.librarian) for p in pairs}),
            rate=rate,
            seconds=seconds,
        )
        result = figures(self.bench.ledger, base, before, after)
        result.extra["resyncs"] = self.bench.resyncs - resyncs
        result.extra["reconnects"] = self.bench.connects - connects
        result.extra["slowest_seconds"] = slowest_seconds(self.bench.ledger, started)
        # Where a slow line waited: until the sender's acknowledgement (the
        # server storing it) or after it (the event on its way).
        acks = sorted(
            (line.acked - line.sent) * 1000 for line in self.bench.ledger.lines.values()
            if line.acked
        )  # fmt: skip
        result.extra["ack_p99_ms"] = round(acks[int(0.99 * (len(acks) - 1))], 1) if acks else None
        pauses = GC_PAUSES[pauses_before:]
        result.extra["generator_gc_pauses_ms"] = [round(p, 1) for p in pauses]
        log(f"{name}: {result.delivered}/{result.sent} delivered, p50 {result.p50_ms} ms, "
            f"p99 {result.p99_ms} ms (acknowledged: {result.extra['ack_p99_ms']} ms), "
            f"{result.cpu_s_per_1000} CPU s/1000, generator GC pauses over 20 ms: "
            f"{len(pauses)} (longest {max(pauses, default=0):.0f} ms), "
            f"{result.extra['resyncs']} resyncs, {result.extra['reconnects']} reconnects, "
            f"slowest seconds "
            f"{result.extra['slowest_seconds'][:3]}")  # fmt: skip
        return result

    async def rate_search(self, name: str, pairs: list[Pair]) -> dict[str, Any]:
        """Raise the rate by a quarter a step until p99 passes 100 ms or a line is lost."""
        steps = []
        best = 0.0
        rate = self.args.rate
        for _ in range(self.args.max_steps):
            step = await self.phase(f"{name}-{int(rate)}", pairs, rate, self.args.step_seconds,
                                    drain_s=5)  # fmt: skip
            steps.append({"rate": rate, "p99_ms": step.p99_ms, "lost": step.lost,
                          "sent": step.sent, "cpu_s_per_1000": step.cpu_s_per_1000})  # fmt: skip
            if not step.held():
                break
            best = rate
            rate = round(rate * 1.25)
            await asyncio.sleep(1)
        return {"max_rate": best, "steps": steps}

    async def memory(self, tokens_or_groups: list[Any], baseline: int, connected: int,
                     make: Any) -> dict[str, Any]:  # fmt: skip
        """Open second sockets until ``--memory-sockets`` are connected; KiB per socket."""
        assert self.meter is not None  # noqa: S101
        extra_count = max(0, self.args.memory_sockets - connected)
        extra = [make(i, tokens_or_groups[i % len(tokens_or_groups)]) for i in range(extra_count)]
        if extra:
            await self.connect_all(extra, "more sockets")
        await asyncio.sleep(2)
        rss = self.meter.rss()
        sockets = connected + len(extra)
        for s in extra:
            await s.stop()
        # The closed tabs' goodbyes (presence rows, patron.left) are database
        # work: let it finish before the next measurement starts.
        await asyncio.sleep(10 if extra and not self.args.smoke else 0)
        return {
            "sockets": sockets,
            "rss_kib": rss,
            "kib_per_socket": round((rss - baseline) / sockets, 1),
        }

    # the bare relay ---------------------------------------------------------
    async def bare_part(self) -> dict[str, Any]:
        args = self.args
        assert self.meter is not None  # noqa: S101
        await self.start_server()
        await self.warm_up()
        baseline = self.meter.rss()
        groups = [f"bare.{j}" for j in range(args.sessions)]
        consoles = []
        for i in range(args.librarians):
            mine = groups[i :: args.librarians]
            consoles.append(BareSocket(self.bench, self.port(i), "L", mine))
        patrons = [BareSocket(self.bench, self.port(j), "P", [groups[j]])
                   for j in range(args.sessions)]  # fmt: skip
        ramp = await self.connect_all(consoles + patrons, "bare sockets")
        pairs = [Pair(patrons[j], consoles[j % args.librarians], groups[j])
                 for j in range(args.sessions)]  # fmt: skip
        main = await self.phase("bare", pairs, args.rate, args.seconds)
        main.extra["ramp_s"] = round(ramp, 2)
        memory = await self.memory(
            groups, baseline, len(consoles) + len(patrons),
            lambda i, g: BareSocket(self.bench, self.port(i), "P", [g]),
        )  # fmt: skip
        search = await self.rate_search("bare-max", pairs) if args.max_steps else {}
        for s in consoles + patrons:
            await s.stop()
        self.kill_server()
        return {"main": main, "memory": memory, "search": search}

    # the application --------------------------------------------------------
    async def accept(self, consoles: list[ConsoleSocket], sessions: list[list[Any]]) -> float:
        """Each session is picked up by a librarian of its queue, round robin."""
        by_queue: dict[int, list[ConsoleSocket]] = {}
        for console, librarian in zip(consoles, self.librarians, strict=True):
            by_queue.setdefault(librarian["queue"], []).append(console)
        owner: dict[int, ConsoleSocket] = {}
        turn: dict[int, int] = {}
        started = now()
        expected = {id(c): c.accepted for c in consoles}
        for session_id, _, queue in sessions:
            mates = by_queue[queue]
            console = mates[turn.get(queue, 0) % len(mates)]
            turn[queue] = turn.get(queue, 0) + 1
            owner[session_id] = console
            expected[id(console)] += 1
            console.send_soon({"type": "session.accept", "session": session_id})
        deadline = now() + 120
        while any(c.accepted < expected[id(c)] for c in consoles):
            if now() > deadline:
                raise RuntimeError("sessions were not all picked up within 120 s")
            await asyncio.sleep(0.05)
        self.owner.update(owner)
        return now() - started

    async def phase_with_pickups(
        self, name: str, pairs: list[Pair], rate: float, seconds: float
    ) -> Figures:
        """A phase of lines with new requests arriving (``--pickups`` a second)."""
        self.bench.pickups.clear()
        count = int(seconds * self.args.pickups)
        interval = 0.8 / self.args.pickups if self.args.pickups else 0
        pickup_task = asyncio.create_task(self.pickups(name, count, interval))
        result = await self.phase(name, pairs, rate, seconds)
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(pickup_task, 30)
        return result

    async def pickups(self, phase: str, count: int, interval: float) -> None:
        """New requests through the /ask/ form, timed to every monitor's New list."""
        for k in range(count):
            queue = self.queues[k % len(self.queues)]
            name = f"Pickup {phase} {k}"
            port = self.port(k)
            form = await asyncio.to_thread(ask_form, port, queue["slug"])
            self.bench.pickups[name] = (now(), {})
            self.pickup_queue[name] = k % len(self.queues)
            await asyncio.to_thread(
                ask_post, port, queue["slug"], form, name, f"{name}: open on Sunday?"
            )
            await asyncio.sleep(interval)

    def pickup_figures(self, consoles: list[ConsoleSocket]) -> dict[str, Any]:
        latencies: list[float] = []
        missed = 0
        for name, (posted, arrivals) in self.bench.pickups.items():
            queue = self.pickup_queue[name]
            for console, librarian in zip(consoles, self.librarians, strict=True):
                if librarian["queue"] != queue:
                    continue
                if console.index in arrivals:
                    latencies.append((arrivals[console.index] - posted) * 1000)
                else:
                    missed += 1
        latencies.sort()
        return {
            "requests": len(self.bench.pickups),
            "shown": len(latencies),
            "missed": missed,
            "pickup_p50_ms": round(percentile(latencies, 50), 1),
            "pickup_p99_ms": round(percentile(latencies, 99), 1),
            "pickup_max_ms": round(latencies[-1] if latencies else 0.0, 1),
        }

    async def app_part(self) -> dict[str, Any]:
        args = self.args
        assert self.meter is not None  # noqa: S101
        self.owner: dict[int, ConsoleSocket] = {}
        self.pickup_queue: dict[str, int] = {}
        await self.start_server()
        await self.warm_up()
        baseline = self.meter.rss()
        out: dict[str, Any] = {}

        consoles = [
            ConsoleSocket(self.bench, self.port(i), i, lib["cookie"], reconnect=True)
            for i, lib in enumerate(self.librarians)
        ]
        out["console_ramp_s"] = round(await self.connect_all(consoles, "consoles"), 2)
        # As deployed: a worker beside the server, sweeping every 5 s and
        # expiring offers every second, through the restart too. Started once
        # the consoles are there: the seeded librarians monitor without one
        # until then, and its sweep would rightly end their shifts.
        self.stack.worker_env = {"LOG_LEVEL": "WARNING"}
        self.stack.start_worker()

        # 100 sessions first: the cost of a line with few sessions open.
        small: list[list[Any]] = await asyncio.to_thread(self.stack.ask, 0, args.small_sessions)
        await self.accept(consoles, small)
        patrons = {
            s[0]: PatronSocket(self.bench, self.port(j), s[1], reconnect=True)
            for j, s in enumerate(small)
        }
        await self.connect_all(list(patrons.values()), "patrons")
        pairs = [Pair(patrons[s[0]], self.owner[s[0]], s[0]) for s in small]
        small_seconds = min(args.seconds, 20)
        # With new requests arriving as in the main phase: the two differ in
        # the sessions open, and nothing else.
        out["small"] = await self.phase_with_pickups("small", pairs, args.rate, small_seconds)

        # All of them: the patrons of the first hundred come back with the rest.
        for p in patrons.values():
            await p.stop()
        rest: list[list[Any]] = await asyncio.to_thread(
            self.stack.ask, args.small_sessions, args.sessions
        )
        sessions = small + rest
        out["accept_s"] = round(await self.accept(consoles, rest), 2)
        patrons = {
            s[0]: PatronSocket(self.bench, self.port(j), s[1], reconnect=True)
            for j, s in enumerate(sessions)
        }
        out["patron_ramp_s"] = round(await self.connect_all(list(patrons.values()), "patrons"), 2)
        await asyncio.sleep(1)
        rss_connected = self.meter.rss()
        pairs = [Pair(patrons[s[0]], self.owner[s[0]], s[0]) for s in sessions]

        main = await self.phase_with_pickups("main", pairs, args.rate, args.seconds)
        await asyncio.sleep(1)
        main.extra.update(self.pickup_figures(consoles))
        main.extra["stored"] = await asyncio.to_thread(self.stored, "main-")
        main.extra["off_shift"] = await asyncio.to_thread(self.off_shift)
        main.extra["ramp_s"] = out["patron_ramp_s"]
        out["main"] = main
        out["memory"] = await self.memory(
            [s[1] for s in sessions], baseline, len(consoles) + len(patrons),
            lambda i, token: PatronSocket(self.bench, self.port(i), token),
        )  # fmt: skip
        out["memory"]["kib_per_socket_at_1100"] = round(
            (rss_connected - baseline) / (len(consoles) + len(patrons)), 1
        )
        if args.max_steps:
            out["search"] = await self.rate_search("app-max", pairs)
        if not args.no_restart:
            out["restart"] = await self.restart(pairs, list(patrons.values()))
        for s in [*consoles, *patrons.values()]:
            await s.stop()
        return out

    def off_shift(self) -> int:
        """Librarians whose monitoring stopped during the run (none should: all stay connected)."""
        with self.stack.connect_db() as conn:
            row = conn.execute(
                "SELECT count(*) FROM queues_membership WHERE NOT is_monitoring"
            ).fetchone()
        return int(row[0]) if row else 0

    def stored(self, prefix: str) -> int:
        """Lines of the phase the database holds (by their client ids)."""
        with self.stack.connect_db() as conn:
            row = conn.execute(
                "SELECT count(*) FROM chat_message WHERE client_id LIKE %s",
                (prefix.replace("%", "") + "%",),
            ).fetchone()
        return int(row[0]) if row else 0

    async def restart(self, pairs: list[Pair], patrons: list[PatronSocket]) -> dict[str, Any]:
        """Kill the server mid-traffic, start it again; time until every patron caught up."""
        self.bench.ledger = Ledger("restart")
        load = asyncio.create_task(traffic(self.bench, pairs, self.args.rate, 60))
        await asyncio.sleep(3)
        self.kill_server()
        killed = now()
        load.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await load
        await asyncio.sleep(0.5)
        with self.stack.connect_db() as conn:
            last: dict[str, int] = dict(
                conn.execute(
                    "SELECT token, last_patron_seq FROM chat_chatsession WHERE state = 'active'"
                ).fetchall()
            )
        for p in patrons:
            # Caught up: connected again, and holding every line stored before the kill.
            p.catch_up_to, p.caught_up_at = max(1, last.get(p.token, 0)), 0.0
        started = await self.start_server()
        up = now()
        deadline = now() + 60
        while any(not p.caught_up_at for p in patrons) and now() < deadline:
            await asyncio.sleep(0.05)
        behind = sum(1 for p in patrons if not p.caught_up_at)
        done = max((p.caught_up_at for p in patrons), default=started)
        await drain(self.bench, 15)
        ledger = self.bench.ledger
        lost = ledger.undelivered()
        return {
            "patrons": len(patrons),
            "behind": behind,
            "catch_up_s": round(done - started, 2),
            "catch_up_from_kill_s": round(done - killed, 2),
            "catch_up_after_healthy_s": round(max(0.0, done - up), 2),
            "boot_s": round(up - started, 2),
            "lines": len(ledger.lines),
            "lost": lost,
            "duplicated": ledger.duplicates,
        }

    # the whole run ----------------------------------------------------------
    async def scenario(self) -> None:
        args = self.args
        log(f"preparing: {args.librarians} librarians in {args.queues} queues")
        seeded = await asyncio.to_thread(
            self.stack.seed, librarians=args.librarians, queues=args.queues
        )
        self.librarians = seeded["librarians"]  # type: ignore[assignment]
        self.queues = seeded["queues"]  # type: ignore[assignment]
        await asyncio.to_thread(self.stack.start_redis)
        self.meter = Meter(self.stack)
        log("the bare relay")
        self.result["bare"] = await self.bare_part()
        log("the application")
        self.result["app"] = await self.app_part()
        self.result["client_notes"] = dict(self.bench.errors)


# --- the report ------------------------------------------------------------------
def summary(args: argparse.Namespace, result: dict[str, Any]) -> dict[str, Any]:
    app, bare = result["app"], result["bare"]
    main: Figures = app["main"]
    bare_main: Figures = bare["main"]
    line = {k: v for k, v in asdict(main).items() if k != "extra"}
    line.update(
        {
            "processes": args.processes,
            "stored": main.extra["stored"],
            "pickup_p99_ms": main.extra["pickup_p99_ms"],
            "pickup_missed": main.extra["missed"],
            "off_shift": main.extra["off_shift"],
            "ramp_s": app["patron_ramp_s"],
            "console_ramp_s": app["console_ramp_s"],
            "kib_per_socket": app["memory"]["kib_per_socket"],
            "memory_sockets": app["memory"]["sockets"],
            "small": {k: v for k, v in asdict(app["small"]).items() if k != "extra"},
            "max_rate": app.get("search", {}).get("max_rate"),
            "restart": app.get("restart"),
        }
    )
    line["bare"] = {k: v for k, v in asdict(bare_main).items() if k != "extra"}
    line["bare"].update(
        {
            "ramp_s": bare_main.extra["ramp_s"],
            "kib_per_socket": bare["memory"]["kib_per_socket"],
            "max_rate": bare.get("search", {}).get("max_rate"),
        }
    )

    def ratio(a: float | None, b: float | None) -> float | None:
        return round(a / b, 2) if a is not None and b else None

    line["ratios"] = {
        "p99": ratio(main.p99_ms, bare_main.p99_ms),
        "cpu_per_line": ratio(main.cpu_s_per_1000, bare_main.cpu_s_per_1000),
        "max_rate": ratio(line["max_rate"], line["bare"]["max_rate"]),
        "kib_per_socket": ratio(line["kib_per_socket"], line["bare"]["kib_per_socket"]),
        "cpu_1000_vs_100_sessions": ratio(main.cpu_s_per_1000, app["small"].cpu_s_per_1000),
    }
    # What the clients noticed: error frames by code, and resyncs by reason.
    line["client_notes"] = result.get("client_notes", {})
    line["steps"] = {"app": app.get("search", {}).get("steps"),
                     "bare": bare.get("search", {}).get("steps")}  # fmt: skip
    return line


def verdicts(line: dict[str, Any], smoke: bool) -> dict[str, bool]:
    """Each target of docs/performance.md: held or not."""
    clean = {
        "nothing lost": line["lost"] == 0 and line["bare"]["lost"] == 0,
        "nothing duplicated": line["duplicated"] == 0 and line["bare"]["duplicated"] == 0,
        "every line stored": line["stored"] == line["sent"],
        "every request shown to every monitor": line["pickup_missed"] == 0,
        "every librarian still on shift": line["off_shift"] == 0,
    }
    restart = line.get("restart")
    if restart:
        clean["restart: nothing lost"] = restart["lost"] == 0 and restart["duplicated"] == 0
    if smoke:
        return clean
    r = line["ratios"]
    targets = {
        f"p50 <= {TARGETS['p50_ms']:.0f} ms": line["p50_ms"] <= TARGETS["p50_ms"],
        f"p99 <= {TARGETS['p99_ms']:.0f} ms": line["p99_ms"] <= TARGETS["p99_ms"],
        f"pick-up p99 <= {TARGETS['pickup_p99_ms']:.0f} ms": (
            line["pickup_p99_ms"] <= TARGETS["pickup_p99_ms"]
        ),
        "max rate >= half the bare relay's": (
            r["max_rate"] is not None and r["max_rate"] >= TARGETS["max_rate_ratio"]
        ),
        "CPU per line <= 2.5 x the bare relay's": (
            r["cpu_per_line"] is not None and r["cpu_per_line"] <= TARGETS["cpu_ratio"]
        ),
        "cost per line, 1,000 vs 100 sessions, within 20 %": (
            r["cpu_1000_vs_100_sessions"] is not None
            and abs(r["cpu_1000_vs_100_sessions"] - 1) <= TARGETS["scaling"]
        ),
        f"<= 100 KiB per socket at {line['memory_sockets']} sockets": (
            line["kib_per_socket"] <= TARGETS["kib_per_socket"]
        ),
        "restart: every patron caught up within 10 s": bool(
            restart and restart["behind"] == 0 and restart["catch_up_s"] <= TARGETS["catch_up_s"]
        ),
    }
    return {**clean, **targets}


def table(line: dict[str, Any]) -> str:
    bare = line["bare"]
    rows = [
        ("", "application", "bare relay", "ratio"),
        ("sessions / consoles", f"{line['sessions']} / {line['librarians']}",
         f"{bare['sessions']} / {bare['librarians']}", ""),
        ("rate, lines/s × s", f"{line['rate']:g} × {line['seconds']:g}",
         f"{bare['rate']:g} × {bare['seconds']:g}", ""),
        ("sent / delivered", f"{line['sent']} / {line['delivered']}",
         f"{bare['sent']} / {bare['delivered']}", ""),
        ("lost / duplicated", f"{line['lost']} / {line['duplicated']}",
         f"{bare['lost']} / {bare['duplicated']}", ""),
        ("latency p50 / p95 ms", f"{line['p50_ms']} / {line['p95_ms']}",
         f"{bare['p50_ms']} / {bare['p95_ms']}", ""),
        ("latency p99 / max ms", f"{line['p99_ms']} / {line['max_ms']}",
         f"{bare['p99_ms']} / {bare['max_ms']}", str(line["ratios"]["p99"])),
        ("delivered lines/s", str(line["lines_per_s"]), str(bare["lines_per_s"]), ""),
        ("server CPU s / 1,000 lines", str(line["cpu_s_per_1000"]), str(bare["cpu_s_per_1000"]),
         str(line["ratios"]["cpu_per_line"])),
        ("  PostgreSQL CPU s / 1,000", str(line["db_cpu_s_per_1000"]),
         str(bare["db_cpu_s_per_1000"]), ""),
        ("  worker CPU s / 1,000", str(line["worker_cpu_s_per_1000"]),
         str(bare["worker_cpu_s_per_1000"]), ""),
        ("  Redis CPU s / 1,000", str(line["redis_cpu_s_per_1000"]),
         str(bare["redis_cpu_s_per_1000"]), ""),
        ("  load generator CPU s / 1,000", str(line["generator_cpu_s_per_1000"]),
         str(bare["generator_cpu_s_per_1000"]), ""),
        ("highest rate held (p99 <= 100 ms)", str(line["max_rate"]), str(bare["max_rate"]),
         str(line["ratios"]["max_rate"])),
        ("KiB per socket", f"{line['kib_per_socket']} at {line['memory_sockets']}",
         str(bare["kib_per_socket"]), str(line["ratios"]["kib_per_socket"])),
        ("connection ramp s", str(line["ramp_s"]), str(bare["ramp_s"]), ""),
        ("pick-up p99 ms (every monitor)", str(line["pickup_p99_ms"]), "", ""),
        ("CPU s / 1,000 at 100 sessions", str(line["small"]["cpu_s_per_1000"]), "",
         str(line["ratios"]["cpu_1000_vs_100_sessions"])),
    ]  # fmt: skip
    restart = line.get("restart")
    if restart:
        rows.append(("restart: all caught up s", str(restart["catch_up_s"]), "", ""))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in rows)  # fmt: skip


# The load generator's garbage-collector pauses over 20 ms, in ms.
GC_PAUSES: list[float] = []
_gc_started = [0.0]


def _gc_watch(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _gc_started[0] = now()
    elif (pause := (now() - _gc_started[0]) * 1000) > 20:
        GC_PAUSES.append(pause)


def main(argv: list[str] | None = None) -> int:
    gc.callbacks.append(_gc_watch)
    # Fewer young collections in the generator, as in the server (reference_chat/asgi.py).
    gc.set_threshold(20000, 20, 20)
    args = parse_args(argv)
    run = Run(args)
    status = 1
    # A Ctrl-C or a kill stops what the run started, like the timeout does.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        asyncio.run(asyncio.wait_for(run.scenario(), args.timeout))
        line = summary(args, run.result)
        verdict = verdicts(line, args.smoke)
        line["targets"] = verdict
        print(table(line))
        print()
        for name, held in verdict.items():
            print(f"  {'held  ' if held else 'MISSED'}  {name}")
        print(json.dumps(line), flush=True)
        status = 0 if all(verdict.values()) else 1
    except (TimeoutError, KeyboardInterrupt) as error:
        log(f"stopped: {type(error).__name__}: {error}")
    except Exception:
        log(f"stopped by an error:\n{traceback.format_exc()}")
    finally:
        left = run.stack.stop_all()
        dropped = run.stack.drop_database()
        if left or not dropped:
            log(f"left behind: {left or 'the database'}")
            status = 1
        if status == 0:
            run.stack.remove_tmp()
        else:
            log(f"server logs kept in {run.stack.tmp}")
    return status


if __name__ == "__main__":
    sys.exit(main())
