"""The two parts of a run: the bare relay, then the application; and the whole scenario.

The bare relay (bench/bare.py) carries the same sockets and lines through a
group with no database: the floor of the stack. The application part picks
the sessions up, runs 100 and then all sessions with new requests arriving,
measures memory, searches for the highest rate held and restarts the server
under 1,000 patrons.
"""

import asyncio
import contextlib
from typing import Any

from bench.figures import Figures, percentile
from bench.load import BareSocket, ConsoleSocket, Ledger, PatronSocket, now
from bench.phases import Phases
from bench.stack import Meter, log
from bench.traffic import Pair, drain, traffic
from faults.forms import ask_form, ask_post


class Run(Phases):
    """A whole run: ``scenario`` fills in ``result``, which ``bench.report`` reports."""

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
            # Its sessions' groups, and its own, where its patrons' typing goes.
            mine = [*groups[i :: args.librarians], f"bare.librarian.{i}"]
            consoles.append(BareSocket(self.bench, self.port(i), "L", mine))
        patrons = [BareSocket(self.bench, self.port(j), "P", [groups[j]],
                              typing_to=f"bare.librarian.{j % args.librarians}")
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
        """Each session is picked up by a librarian of its queue, round robin
        (of its own library: the cooperative's monitor New only)."""
        by_queue: dict[int, list[ConsoleSocket]] = {}
        for console, librarian in zip(consoles, self.librarians, strict=True):
            if not librarian["coop"]:
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
        self.bench.asks.clear()
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
            got = now()
            form = await asyncio.to_thread(ask_form, port, queue["slug"])
            posted = now()
            self.bench.pickups[name] = (posted, {})
            self.pickup_queue[name] = k % len(self.queues)
            await asyncio.to_thread(
                ask_post, port, queue["slug"], form, name, f"{name}: open on Sunday?"
            )
            self.bench.asks.append((got, posted, now(), port))
            await asyncio.sleep(interval)

    def pickup_figures(self, consoles: list[ConsoleSocket]) -> dict[str, Any]:
        """How soon each new request reached its queue's monitors: those of
        its own library from when it was posted, the cooperative's from
        ``--rollover-seconds`` later (its roll-over; counted for requests
        whose roll-over is two seconds past by now)."""
        latencies: list[float] = []
        rollovers: list[float] = []
        missed = rollovers_missed = 0
        delay = self.args.rollover_seconds
        for name, (posted, arrivals) in self.bench.pickups.items():
            queue = self.pickup_queue[name]
            for console, librarian in zip(consoles, self.librarians, strict=True):
                if librarian["queue"] != queue:
                    continue
                if librarian["coop"]:
                    if console.index in arrivals:
                        rollovers.append((arrivals[console.index] - posted - delay) * 1000)
                    elif posted + delay + 2 < now():
                        rollovers_missed += 1
                elif console.index in arrivals:
                    latencies.append((arrivals[console.index] - posted) * 1000)
                else:
                    missed += 1
        latencies.sort()
        rollovers.sort()
        return {
            "requests": len(self.bench.pickups),
            "shown": len(latencies),
            "missed": missed,
            "pickup_p50_ms": round(percentile(latencies, 50), 1),
            "pickup_p99_ms": round(percentile(latencies, 99), 1),
            "pickup_max_ms": round(latencies[-1] if latencies else 0.0, 1),
            "rollovers": len(rollovers),
            "rollovers_missed": rollovers_missed,
            "rollover_p50_ms": round(percentile(rollovers, 50), 1) if rollovers else None,
            "rollover_p99_ms": round(percentile(rollovers, 99), 1) if rollovers else None,
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
            self.stack.seed,
            librarians=args.librarians,
            queues=args.queues,
            rollover=args.rollover_seconds,
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
