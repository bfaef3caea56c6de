"""``make faults``: the fault suite. See docs/faults.md.

Starts its own PostgreSQL database, Redis and Daphne processes; patrons and
librarians talk over websockets while processes are killed and restarted,
Redis is restarted and client connections are cut; then every party's
transcript is compared with the database. The last line on stdout is

    faults: N lines, L lost, D duplicated, O out of order, K leaked

and the exit status is 0 only if L, D, O and K are 0 and every process the
run started was stopped. Options come from flags or FAULTS_* variables.
"""

# ruff: noqa: S311 - the randomness here picks faults and timings, not secrets

import argparse
import asyncio
import contextlib
import math
import os
import random
import secrets
import shutil
import signal
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from faults.check import Stored, Tally, check, delivery_stats
from faults.clients import Console, Party, Patron, login
from faults.stack import QUEUE_SLUG, Stack, log

# Seconds without connection cuts after Redis is back (see _restart_redis).
REDIS_WATCH = 6.0


def _env(name: str, default: str) -> str:
    return os.environ.get(f"FAULTS_{name}", default)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m faults.run", description=__doc__.split("\n")[0])
    p.add_argument(
        "--duration",
        type=float,
        default=float(_env("DURATION", "45")),
        help="seconds of traffic under faults (FAULTS_DURATION, default 45)",
    )
    p.add_argument(
        "--patrons",
        type=int,
        default=int(_env("PATRONS", "10")),
        help="patrons (FAULTS_PATRONS, default 10)",
    )
    p.add_argument(
        "--librarians",
        type=int,
        default=int(_env("LIBRARIANS", "3")),
        help="librarians (FAULTS_LIBRARIANS, default 3)",
    )
    p.add_argument(
        "--daphnes",
        type=int,
        default=int(_env("DAPHNES", "2")),
        help="Daphne processes (FAULTS_DAPHNES, default 2)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=int(_env("SEED", "0")) or None,
        help="seed of every random choice (FAULTS_SEED; default: a new one, printed)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=float(_env("TIMEOUT", "170")),
        help="hard limit of the whole run in seconds (FAULTS_TIMEOUT, default 170)",
    )
    p.add_argument(
        "--database",
        default=_env("DB", "refchat_faults"),
        help="database to create and drop (FAULTS_DB, default refchat_faults)",
    )
    p.add_argument("--pg-host", default=_env("PG_HOST", "127.0.0.1"))
    p.add_argument("--pg-port", type=int, default=int(_env("PG_PORT", "5432")))
    p.add_argument(
        "--line-every",
        type=float,
        nargs=2,
        default=(0.5, 1.0),
        metavar=("MIN", "MAX"),
        help="seconds between one party's lines",
    )
    args = p.parse_args(argv)
    if args.daphnes < 2:
        p.error("the suite needs at least 2 Daphne processes (one is killed at a time)")
    if args.seed is None:
        args.seed = secrets.randbelow(2**31) + 1
    return args


@dataclass
class Faults:
    """What was done to the system, for the report and the sanity check."""

    kills: dict[int, int] = field(default_factory=dict)
    redis_restarts: int = 0
    redis_down_at: float | None = None
    redis_back_at: float | None = None
    cuts: int = 0
    errors: list[str] = field(default_factory=list)


class Run:
    def __init__(self, args: argparse.Namespace, stack: Stack, seeded: dict[str, Any]) -> None:
        self.args = args
        self.stack = stack
        self.rng = random.Random(args.seed)
        self.t0 = time.monotonic()
        self.wall0 = time.time()
        self.faults = Faults(kills={i: 0 for i in range(args.daphnes)})
        self.stop_talking = asyncio.Event()
        self.stop_faults = asyncio.Event()
        self.queue_id: int = seeded["queue"]  # type: ignore[assignment]
        cap = math.ceil(args.patrons / args.librarians) + 1
        self.consoles = [
            Console(
                lib["username"], lib["id"], self.queue_id, stack.ports,
                random.Random(self.rng.getrandbits(64)), 4.0, cap,
            )
            for lib in seeded["librarians"]  # type: ignore[attr-defined]
        ]  # fmt: skip
        self.patrons = [
            Patron(i, stack.ports, random.Random(self.rng.getrandbits(64)), 4.0)
            for i in range(1, args.patrons + 1)
        ]
        self.tasks: list[asyncio.Task[Any]] = []
        self.calm = False  # no connection cuts for now
        self.password: str = seeded["password"]  # type: ignore[assignment]

    @property
    def parties(self) -> list[Party]:
        return [*self.consoles, *self.patrons]

    def t(self) -> float:
        return time.monotonic() - self.t0

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self.tasks.append(task)
        return task

    # --- the run -------------------------------------------------------------
    async def main(self) -> Tally:
        args = self.args
        low, high = args.line_every
        for console in self.consoles:
            port = self.rng.choice(self.stack.ports)
            console.cookie = await asyncio.to_thread(login, port, console.name, self.password)
            self.spawn(console.run())
            self.spawn(console.pick_up(self.stop_talking))
            self.spawn(console.talk(self.stop_talking, low * 0.8, high * 0.8))
        await self._until(lambda: all(c.ready for c in self.consoles), 20, "consoles ready")
        log(f"t={self.t():.1f}s {len(self.consoles)} consoles up; patrons arrive")
        self.t0 = time.monotonic()  # the fault schedule counts from here
        self.wall0 = time.time()
        self.spawn(self._arrivals(low, high))
        self.spawn(self._progress())
        cutter = self.spawn(self._cut_connections())
        killer = self.spawn(self._process_faults())
        await asyncio.sleep(args.duration)

        log(f"t={self.t():.1f}s stop talking; settle")
        self.stop_talking.set()
        self.stop_faults.set()
        await cutter
        await killer
        await self._all_processes_up()
        await self._until(
            lambda: not any(p.pending for p in self.parties), 30, "every line acknowledged"
        )
        await self._settle()
        live = {p.name: dict(p.transcript.lines) for p in self.patrons}
        live.update(
            {c.name: {s: dict(t.lines) for s, t in c.transcripts.items()} for c in self.consoles}
        )
        log(f"t={self.t():.1f}s final resync of every party")
        synced = await asyncio.gather(
            *[p.final_sync({"type": "session.resume", "after": 0}, 10) for p in self.patrons],
            *[c.final_sync({"type": "console.sync"}, 10) for c in self.consoles],
        )
        for party, ok in zip([*self.patrons, *self.consoles], synced, strict=True):
            if not ok:
                self.faults.errors.append(f"{party.name}: no final snapshot")
        for party in self.parties:
            await party.stop()
        stored = await asyncio.to_thread(self._read_db)
        for line in delivery_stats(stored, self.patrons, self.consoles, self.wall0):
            log(line)
        states = Counter(info["state"] for info in stored.sessions.values())
        log(f"sessions: {dict(states)}")
        survivors = self.redis_survivors()
        if survivors:
            log(survivors)
        return check(stored, self.patrons, self.consoles, live)

    def _read_db(self) -> Stored:
        with self.stack.connect_db() as conn:
            return Stored.read(conn)

    async def _until(self, ready: Any, timeout: float, what: str) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return True
            await asyncio.sleep(0.1)
        self.faults.errors.append(f"timed out waiting for: {what}")
        log(f"timed out waiting for: {what}")
        return False

    async def _arrivals(self, low: float, high: float) -> None:
        """Patrons ask one by one over the first third of the run, then talk."""
        spread = self.args.duration * 0.3 / max(1, len(self.patrons))
        for patron in self.patrons:
            await asyncio.sleep(spread * self.rng.uniform(0.5, 1.5))
            if self.stop_talking.is_set():
                return
            self.spawn(self._patron(patron, low, high))

    async def _patron(self, patron: Patron, low: float, high: float) -> None:
        try:
            await patron.ask(QUEUE_SLUG)
        except Exception as error:
            self.faults.errors.append(f"{patron.name} could not ask: {error}")
            return
        self.spawn(patron.run())
        await patron.talk(self.stop_talking, low, high)

    async def _cut_connections(self) -> None:
        """Drop a random client's TCP connection, again and again."""
        while not self.stop_faults.is_set():
            await asyncio.sleep(self.rng.uniform(0.2, 0.9))
            if self.calm:
                continue
            connected = [p for p in self.parties if p.ws is not None]
            if not connected:
                continue
            party = self.rng.choice(connected)
            if self.rng.random() < 0.4:
                party.cut_after_send = True  # counted when it happens
            elif party.cut():
                self.faults.cuts += 1

    def _schedule(self) -> list[tuple[float, str, int]]:
        """Kill every Daphne process at least once, restart Redis once, spread over the run."""
        n = self.args.daphnes
        events: list[tuple[str, int]] = [("daphne", i) for i in range(n)]
        events.insert(len(events) // 2, ("redis", 0))
        extra = max(0, int(self.args.duration // 11) - len(events))
        events += [("daphne", self.rng.randrange(n)) for _ in range(extra)]
        start, end = self.args.duration * 0.1, self.args.duration * 0.8
        step = (end - start) / max(1, len(events) - 1)
        return [
            (start + k * step + self.rng.uniform(-0.5, 0.5), what, i)
            for k, (what, i) in enumerate(events)
        ]

    async def _process_faults(self) -> None:
        for at, what, index in self._schedule():
            delay = at - self.t()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop_faults.wait(), delay)
            if self.stop_faults.is_set():
                return
            try:
                if what == "daphne":
                    await self._kill_daphne(index)
                else:
                    await self._restart_redis()
            except Exception as error:
                self.faults.errors.append(f"{what} {index}: {error}")
                log(f"fault {what} {index} failed: {error}")
                return

    async def _kill_daphne(self, index: int) -> None:
        log(f"t={self.t():.1f}s SIGKILL daphne {index} (port {self.stack.ports[index]})")
        self.stack.kill_daphne(index)
        self.faults.kills[index] += 1
        await asyncio.sleep(self.rng.uniform(2, 4))
        self.stack.start_daphne(index)
        await asyncio.to_thread(self.stack.wait_healthy, index)
        log(f"t={self.t():.1f}s daphne {index} back")

    async def _restart_redis(self) -> None:
        # No cuts around it: connections that stay open through the restart
        # show whether events reach them again afterwards.
        self.calm = True
        try:
            await asyncio.sleep(1.5)
            log(f"t={self.t():.1f}s SIGKILL redis (port {self.stack.redis_port})")
            self.faults.redis_down_at = time.time()
            self.stack.kill_redis()
            await asyncio.sleep(self.rng.uniform(1, 2))
            await asyncio.to_thread(self.stack.start_redis)
            self.faults.redis_back_at = time.time()
            self.faults.redis_restarts += 1
            log(f"t={self.t():.1f}s redis back")
            await asyncio.sleep(REDIS_WATCH)
        finally:
            self.calm = False

    def redis_survivors(self) -> str | None:
        """Did events reach the connections that stayed open through the Redis restart?"""
        down, back = self.faults.redis_down_at, self.faults.redis_back_at
        if down is None or back is None:
            return None
        stayed = events = 0
        for party in self.parties:
            for opened, closed in party.lifetimes:
                if opened < down and closed > back + REDIS_WATCH - 1:
                    stayed += 1
                    events += sum(1 for t in party.event_times if back < t < closed)
        return (
            f"Redis restart: {stayed} connections stayed open through it and got "
            f"{events} message.created events after it"
        )

    async def _all_processes_up(self) -> None:
        if self.stack.redis is None or self.stack.redis.poll() is not None:
            await asyncio.to_thread(self.stack.start_redis)
        for i in range(self.args.daphnes):
            if not self.stack.daphne_alive(i):
                self.stack.start_daphne(i)
            await asyncio.to_thread(self.stack.wait_healthy, i)

    async def _settle(self) -> None:
        """Wait until every party's live transcript reached what the database holds.

        Lines whose event was lost arrive through the clients' own catch-up
        (a gap, or a heartbeat every 10 s showing a higher number).
        """
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            stored = await asyncio.to_thread(self._read_db)
            behind = self._behind(stored)
            if not behind:
                log(f"t={self.t():.1f}s every party has every line")
                return
            await asyncio.sleep(0.5)
        log(f"t={self.t():.1f}s still behind after 30 s: {behind[:5]}")

    def _behind(self, stored: Stored) -> list[str]:
        behind = []
        token_of = {info["token"]: sid for sid, info in stored.sessions.items()}
        for patron in self.patrons:
            sid = token_of.get(patron.token or "")
            if sid is not None and patron.transcript.high < stored.sessions[sid]["last_patron_seq"]:
                behind.append(patron.name)
        for console in self.consoles:
            for sid, info in stored.sessions.items():
                if info["primary"] != console.librarian_id:
                    continue
                t = console.transcripts.get(sid)
                if t is None or t.high < info["last_seq"]:
                    behind.append(f"{console.name}/{sid}")
        return behind

    async def _progress(self) -> None:
        while not self.stop_talking.is_set():
            await asyncio.sleep(5)
            sent = sum(len(p.sent) for p in self.parties)
            pending = sum(len(p.pending) for p in self.parties)
            up = sum(1 for p in self.parties if p.ws is not None)
            log(
                f"t={self.t():.1f}s sent {sent}, pending {pending}, connected {up}/"
                f"{len(self.parties)}, cuts {self.faults.cuts}, kills "
                f"{sum(self.faults.kills.values())}, redis restarts {self.faults.redis_restarts}"
            )

    async def cancel(self) -> None:
        for task in self.tasks:
            task.cancel()
        results = await asyncio.gather(*self.tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                self.faults.errors.append(f"task failed: {type(result).__name__}: {result}")

    def sanity(self) -> list[str]:
        """Reasons the run proves nothing, even with clean counts."""
        reasons = list(self.faults.errors)
        for i, n in self.faults.kills.items():
            if n < 1:
                reasons.append(f"daphne {i} was never killed")
        if self.faults.redis_restarts < 1:
            reasons.append("redis was never restarted")
        in_flight = sum(p.cuts_in_flight for p in self.parties)
        if self.faults.cuts < 10 or in_flight < 5:
            reasons.append(f"only {self.faults.cuts} + {in_flight} connections were cut")
        for party in self.parties:
            if party.fatal:
                reasons.append(f"{party.name}: {party.fatal}")
            if party.unknown_acks:
                reasons.append(f"{party.name}: {party.unknown_acks} acks for lines it never sent")
            if party.errors:
                reasons.append(f"{party.name}: harness error {party.errors[0]}")
            if not party.sent and isinstance(party, Patron):
                reasons.append(f"{party.name} sent nothing")
        return reasons


async def _run(
    args: argparse.Namespace, stack: Stack, seeded: dict[str, Any], budget: float
) -> tuple[Tally, Run]:
    run = Run(args, stack, seeded)
    try:
        async with asyncio.timeout(budget):
            tally = await run.main()
    finally:
        await run.cancel()
        for party in run.parties:
            if party.ws is not None:
                party.ws.transport.abort()
    return tally, run


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    print(
        f"faults: seed {args.seed} (replay: FAULTS_SEED={args.seed} make faults), "
        f"{args.duration:g} s, {args.daphnes} Daphne processes, {args.librarians} librarians, "
        f"{args.patrons} patrons",
        flush=True,
    )
    stack = Stack(
        pg_host=args.pg_host, pg_port=args.pg_port, db_name=args.database, daphnes=args.daphnes
    )

    def watchdog() -> None:
        # Last resort if the run hangs where no exception can reach it.
        log(f"hard timeout of {args.timeout:g} s: stopping everything")
        stack.stop_all()
        stack.drop_database()
        print("faults: error: hard timeout", flush=True)
        os._exit(3)

    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    timer = threading.Timer(args.timeout, watchdog)
    timer.daemon = True
    timer.start()
    tally: Tally | None = None
    run: Run | None = None
    error: str | None = None
    try:
        password = f"faults-{secrets.token_hex(8)}"
        log(f"database {args.database}, redis on {stack.redis_port}, daphne on {stack.ports}")
        seeded = stack.prepare(librarians=args.librarians, password=password)
        seeded["password"] = password
        stack.start_redis()
        for i in range(args.daphnes):
            stack.start_daphne(i)
        for i in range(args.daphnes):
            stack.wait_healthy(i)
        log(f"setup done in {time.monotonic() - started:.1f}s")
        # What is left of the hard limit, less time to stop everything.
        budget = args.timeout - (time.monotonic() - started) - 15
        tally, run = asyncio.run(_run(args, stack, seeded, budget))
    except KeyboardInterrupt:
        error = "interrupted"
    except (asyncio.CancelledError, TimeoutError):
        error = "cancelled or out of time"
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    finally:
        alive = stack.stop_all()
        dropped = stack.drop_database()
        timer.cancel()
    problems = stack.log_problems()
    elapsed = time.monotonic() - started
    reasons = run.sanity() if run is not None else []
    if alive:
        reasons.append(f"still running: {alive}")
    if not dropped:
        reasons.append(f"database {args.database} was not dropped")
    if tally is not None:
        for line in tally.problems[:40]:
            log(line)
        if len(tally.problems) > 40:
            log(f"… and {len(tally.problems) - 40} more")
    if run is not None:
        f = run.faults
        log(
            f"faults done: kills {dict(f.kills)}, redis restarts {f.redis_restarts}, "
            f"cuts {f.cuts} + {sum(p.cuts_in_flight for p in run.parties)} right after a send; "
            f"reconnects {sum(p.connects for p in run.parties)}, "
            f"resent lines {sum(max(0, x.sends - 1) for p in run.parties for x in p.sent.values())}"
        )
    if problems:
        log(f"the Daphne processes logged {sum(problems.values())} errors:")
        for message, count in problems.most_common(12):
            log(f"  {count} x {message}")
    for reason in reasons:
        log(f"FAILED: {reason}")
    log(f"took {elapsed:.1f}s")
    ok = tally is not None and tally.clean and not reasons and error is None
    if ok and not os.environ.get("FAULTS_KEEP_LOGS"):
        stack.remove_tmp()
    else:
        shutil.rmtree(stack.tmp / "static", ignore_errors=True)
        log(f"logs kept in {stack.tmp}")
    if error is not None or tally is None:
        print(f"faults: error: {error}", flush=True)
        return 2
    print(tally.summary(), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
