"""The benchmark's runs of traffic: the server's processes, connecting sockets, a phase.

:class:`Phases` starts and kills the Daphne processes, opens sockets all at
once and times it, runs a phase of lines at a rate and measures it
(``bench.figures``), searches for the highest rate held, and measures memory
per socket. The two parts of the run (``bench.parts``) are made of these.
"""

import argparse
import asyncio
import gc
import json
import os
from collections.abc import Sequence
from typing import Any

from bench import profile
from bench.figures import GC_PAUSES, Figures, figures, percentile, slowest_seconds
from bench.load import Bench, Ledger, Socket, now
from bench.stack import BenchStack, Meter, log
from bench.traffic import Pair, drain, traffic
from faults.forms import http_request


class Phases:
    """The run's stack and sockets, and the phases of traffic ``bench.parts.Run`` is made of."""

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
            extra_env={
                "SWEEP_SECONDS": "5",
                "LOG_LEVEL": "WARNING",
                # One benchmark console carries the lines of many sessions,
                # faster than any person types: the per-socket limit is lifted.
                "CHAT_LINES_BURST": "1000000",
                "CHAT_LINES_PER_SECOND": "1000000",
                "CHAT_FRAMES_BURST": "1000000",
                "CHAT_FRAMES_PER_SECOND": "1000000",
            },
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
        typing_sent, typing_heard = self.bench.typing_sent, self.bench.typing_heard
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
        if self.args.dump:
            self.dump(name, started)
        result.extra["resyncs"] = self.bench.resyncs - resyncs
        result.extra["reconnects"] = self.bench.connects - connects
        result.extra["typing_sent"] = self.bench.typing_sent - typing_sent
        result.extra["typing_heard"] = self.bench.typing_heard - typing_heard
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
            f"typing {result.extra['typing_sent']} sent/{result.extra['typing_heard']} heard, "
            f"slowest seconds "
            f"{result.extra['slowest_seconds'][:3]}")  # fmt: skip
        return result

    def dump(self, name: str, started: float) -> None:
        """With --dump: the phase's lines (side, sent, acknowledged, delivered;
        seconds from the phase's start) as JSON, ``DIR/name.json``, and its
        /ask/ requests (GET, POST, answer, port) as ``DIR/name-asks.json``."""
        self.args.dump.mkdir(parents=True, exist_ok=True)
        rows = [
            [line.side, round(line.sent - started, 4),
             round(line.acked - started, 4) if line.acked else None,
             round(line.delivered - started, 4) if line.delivered else None]
            for line in self.bench.ledger.lines.values()
        ]  # fmt: skip
        (self.args.dump / f"{name}.json").write_text(json.dumps(rows))
        if self.bench.asks:
            asks = [[round(t - started, 4) for t in ask[:3]] + [ask[3]] for ask in self.bench.asks]
            (self.args.dump / f"{name}-asks.json").write_text(json.dumps(asks))

    async def rate_search(self, name: str, pairs: list[Pair]) -> dict[str, Any]:
        """The highest rate held: p99 at most 100 ms and no line lost.

        The rate rises by a quarter a step until a step misses; then the gap
        between the highest rate held and the lowest missed is halved
        (geometrically) ``--refine-steps`` times. Rising by a quarter alone
        can't tell 0.51 of the bare relay's rate from 0.63: both land on
        the same step. Three halvings narrow it to 3 %.
        """
        steps: list[dict[str, Any]] = []
        best, missed = 0.0, 0.0

        async def step(rate: float) -> bool:
            figures = await self.phase(f"{name}-{int(rate)}", pairs, rate, self.args.step_seconds,
                                       drain_s=5)  # fmt: skip
            steps.append({"rate": rate, "p99_ms": figures.p99_ms, "lost": figures.lost,
                          "sent": figures.sent,
                          "cpu_s_per_1000": figures.cpu_s_per_1000})  # fmt: skip
            await asyncio.sleep(1)
            return figures.held()

        rate = self.args.rate
        for _ in range(self.args.max_steps):
            if not await step(rate):
                missed = rate
                break
            best, rate = rate, round(rate * 1.25)
        for _ in range(self.args.refine_steps if best and missed else 0):
            rate = round((best * missed) ** 0.5)
            if not best < rate < missed:
                break
            if await step(rate):
                best = rate
            else:
                missed = rate
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
