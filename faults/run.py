"""``make faults``: the fault suite. See docs/faults.md.

Starts its own PostgreSQL database, Redis, Daphne processes, worker and mail
server; patrons and librarians talk over websockets, and end their sessions,
while processes (the worker too) are killed and restarted, Redis is
restarted and client connections are cut; then every party's transcript is
compared with the database, and every transcript email with what the mail
server got. The last line on stdout is (one line, folded here)

    faults: N lines, L lost, D duplicated, O out of order, K leaked;
            M transcripts, T lost, W sent twice

and the exit status is 0 only if L, D, O, K, T and W are 0 and every process
the run started was stopped. Options come from flags or FAULTS_* variables.
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

from faults.check import Stored, Tally, check, check_transcripts, delivery_stats
from faults.clients import Party
from faults.forms import login
from faults.librarian import Console
from faults.mail import MailServer
from faults.patron import Patron
from faults.stack import QUEUE_SLUG, Stack, log

# Seconds without connection cuts after Redis is back (see _restart_redis).
REDIS_WATCH = 6.0
# The worker's settings in the run: a mail server that doesn't answer within
# EMAIL_TIMEOUT counts as a failed send; a transcript whose worker died while
# it held the claim is due again TRANSCRIPT_LEASE_SECONDS after the claim, so
# within the run (the default is ten minutes).
EMAIL_TIMEOUT = 5
TRANSCRIPT_LEASE_SECONDS = 10
# How long the mail server takes before it accepts a message (seconds): the
# window the run kills the worker in, mid-send. Well under EMAIL_TIMEOUT.
MAIL_DELAY = (0.3, 1.0)
# After the settling, how long to wait for every transcript owed to be sent.
TRANSCRIPT_WAIT = 40.0


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
        default=float(_env("TIMEOUT", "200")),
        help="hard limit of the whole run in seconds (FAULTS_TIMEOUT, default 200)",
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
    worker_kills: int = 0
    worker_kills_mid_send: int = 0  # the mail server held a transcript's DATA
    worker_kills_due: int = 0  # transcripts were owed (due, claimed or being sent)
    worker_restarts: int = 0
    worker_down: list[list[float]] = field(default_factory=list)  # [killed, back], wall clock
    ended: Counter[str] = field(default_factory=Counter)  # who ended sessions, and when
    end_fallbacks: int = 0  # a librarian's end done by the patron (session not picked up)
    transcripts_waited: float = 0.0
    errors: list[str] = field(default_factory=list)


class Run:
    def __init__(
        self, args: argparse.Namespace, stack: Stack, seeded: dict[str, Any], mail: MailServer
    ) -> None:
        self.args = args
        self.stack = stack
        self.mail = mail
        self.rng = random.Random(args.seed)
        self.t0 = time.monotonic()
        self.wall0 = time.time()
        self.faults = Faults(kills={i: 0 for i in range(args.daphnes)})
        self.stop_talking = asyncio.Event()
        self.stop_faults = asyncio.Event()
        self.queue_id: int = seeded["queue"]
        cap = math.ceil(args.patrons / args.librarians) + 1
        self.consoles = [
            Console(
                lib["username"], lib["id"], self.queue_id, stack.ports,
                random.Random(self.rng.getrandbits(64)), 4.0, cap,
            )
            for lib in seeded["librarians"]
        ]  # fmt: skip
        self.patrons = [
            Patron(i, stack.ports, random.Random(self.rng.getrandbits(64)), 4.0)
            for i in range(1, args.patrons + 1)
        ]
        self.tasks: list[asyncio.Task[Any]] = []
        self.calm = False  # no connection cuts for now
        self.password: str = seeded["password"]
        self.end_now = asyncio.Event()  # the worker was just killed: end a session now
        self.ends_mid, self.ends_settle = self._plan_ends()

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
        worker_killer = self.spawn(self._worker_faults())
        ender = self.spawn(self._endings())
        await asyncio.sleep(args.duration)

        log(f"t={self.t():.1f}s stop talking; settle")
        self.stop_talking.set()
        self.stop_faults.set()
        await cutter
        await killer
        await worker_killer
        await ender
        await self._all_processes_up()
        await self._until(
            lambda: not any(p.pending for p in self.parties), 30, "every line acknowledged"
        )
        await self._end_the_rest()
        await self._settle()
        live: dict[str, Any] = {p.name: dict(p.transcript.lines) for p in self.patrons}
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
        await self._transcripts_sent()
        stored = await asyncio.to_thread(self._read_db)
        for line in delivery_stats(stored, self.patrons, self.consoles, self.wall0):
            log(line)
        states = Counter(
            f"{info['state']}" + (f" by {info['closed_by']}" if info["closed_by"] else "")
            for info in stored.sessions.values()
        )
        log(f"sessions: {dict(states)}")
        survivors = self.redis_survivors()
        if survivors:
            log(survivors)
        tally = check(stored, self.patrons, self.consoles, live)
        mails = self.mail.recorder.received()
        check_transcripts(tally, stored, self.patrons, mails)
        for line in self._mail_report(stored, tally):
            log(line)
        self._check_ends(stored)
        return tally

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

    # --- ending sessions ---------------------------------------------------------
    def _plan_ends(self) -> tuple[list[tuple[float, Patron, str]], list[tuple[Patron, str]]]:
        """Who ends each patron's session, and when: most at random moments of
        the last half of the traffic (faults still happening), by the patron or
        by the librarian, half each; two (with four patrons or more) only in the
        settling, one by each side."""
        order = list(self.patrons)
        self.rng.shuffle(order)
        keep = 2 if len(order) >= 4 else 0
        settle = [(p, who) for p, who in zip(order[:keep], ["patron", "librarian"], strict=False)]
        mid = order[keep:]
        sides = ["patron", "librarian"] * (len(mid) // 2 + 1)
        sides = sides[: len(mid)]
        self.rng.shuffle(sides)
        d = self.args.duration
        times = sorted(self.rng.uniform(0.5, 0.95) * d for _ in mid)
        return list(zip(times, mid, sides, strict=True)), settle

    async def _endings(self) -> None:
        """End the sessions of the plan as their time comes, or at once when the
        worker was just killed (a transcript due while no worker runs)."""
        ends: list[asyncio.Task[Any]] = []
        for k, (at, patron, who) in enumerate(self.ends_mid):
            while not self.stop_talking.is_set() and self.t() < at:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.end_now.wait(), max(0.01, at - self.t()))
                if self.end_now.is_set():
                    self.end_now.clear()
                    break
            if self.stop_talking.is_set():
                # The traffic ended first: these end in the settling.
                self.ends_settle += [(p, w) for _, p, w in self.ends_mid[k:]]
                break
            ends.append(self.spawn(self._end(patron, who, "traffic")))
        await asyncio.gather(*ends, return_exceptions=True)

    async def _end(self, patron: Patron, who: str, phase: str) -> None:
        deadline = time.monotonic() + 20
        while patron.token is None and time.monotonic() < deadline:
            await asyncio.sleep(0.1)  # it hasn't asked yet
        if patron.token is None:
            self.faults.errors.append(f"{patron.name}: no session to end")
            return
        sid, state, primary = await asyncio.to_thread(self._session_of, patron.token)
        if state == "closed":
            log(f"t={self.t():.1f}s {patron.name}'s session {sid} has already ended")
            return
        if who == "librarian":
            console = next((c for c in self.consoles if c.librarian_id == primary), None)
            if state == "active" and console is not None and sid is not None:
                log(f"t={self.t():.1f}s {console.name} ends session {sid} ({patron.name})")
                if not await console.end(sid, deadline):
                    self.faults.errors.append(f"{console.name} could not end session {sid}")
                self.faults.ended[f"librarian, {phase}"] += 1
                return
            self.faults.end_fallbacks += 1  # not picked up (yet): only the patron can end it
        log(f"t={self.t():.1f}s {patron.name} ends its session")
        if not await patron.end(deadline):
            self.faults.errors.append(f"{patron.name} could not end its session")
        self.faults.ended[f"patron, {phase}"] += 1

    def _session_of(self, token: str) -> tuple[int | None, str | None, int | None]:
        with self.stack.connect_db() as conn:
            row = conn.execute(
                "SELECT id, state, primary_id FROM chat_chatsession WHERE token = %s", (token,)
            ).fetchone()
        return (row[0], row[1], row[2]) if row else (None, None, None)

    async def _end_the_rest(self) -> None:
        """The settling ends what is still open: the sessions kept for it, and
        any other (an end that failed, a session whose patron's ask lost its
        answer and that a librarian picked up)."""
        planned = {p.name for p, _ in self.ends_settle}
        ends = [self._end(p, who, "settling") for p, who in self.ends_settle]
        stored = await asyncio.to_thread(self._read_db)
        by_token = {p.token: p for p in self.patrons if p.token}
        for sid, info in stored.sessions.items():
            if info["state"] == "closed":
                continue
            patron = by_token.get(info["token"])
            if patron is not None and patron.name in planned:
                continue
            if patron is not None:
                ends.append(self._end(patron, "librarian", "settling"))
                continue
            console = next((c for c in self.consoles if c.librarian_id == info["primary"]), None)
            if console is not None:
                ends.append(self._end_orphan(console, sid))
        if ends:
            log(f"t={self.t():.1f}s end the {len(ends)} sessions still open")
            await asyncio.gather(*ends)

    async def _end_orphan(self, console: Console, sid: int) -> None:
        if await console.end(sid, time.monotonic() + 20):
            self.faults.ended["librarian, settling (no patron)"] += 1
        else:
            self.faults.errors.append(f"{console.name} could not end session {sid}")

    def _check_ends(self, stored: Stored) -> None:
        by_token = {info["token"]: info for info in stored.sessions.values()}
        for patron in self.patrons:
            info = by_token.get(patron.token)
            if info is None:
                continue
            if info["state"] != "closed":
                self.faults.errors.append(f"{patron.name}'s session never ended")
            elif info["closed_by"] not in {"patron", "librarian"}:
                self.faults.errors.append(f"{patron.name}'s session closed by {info['closed_by']}")
        if len(self.patrons) >= 2:
            for side in ("patron", "librarian"):
                if not any(k.startswith(side) for k in self.faults.ended):
                    self.faults.errors.append(f"no session was ended by the {side}")

    # --- the worker ---------------------------------------------------------------
    async def _worker_faults(self) -> None:
        """SIGKILL the worker three times: once while only the sweeps have work,
        then twice while transcripts are owed, each time the moment the mail
        server holds one (mid-send) if that comes before the window closes."""
        d = self.args.duration
        first_end = self.ends_mid[0][0] if self.ends_mid else 0.5 * d
        plan = [
            (self.rng.uniform(0.2, 0.4) * d, None),
            (first_end + 1, 0.8 * d),
            (None, 0.97 * d),
        ]
        for start, until in plan:
            begin = start if start is not None else self.t() + 3
            if not await self._wait_until(begin):
                return
            if until is not None:
                while self.t() < until and not self.mail.recorder.sending():
                    if self.stop_faults.is_set():
                        return
                    await asyncio.sleep(0.01)
            if self.stop_faults.is_set():
                return
            try:
                await self._kill_worker(end_one=start is None or until is not None)
            except Exception as error:
                self.faults.errors.append(f"worker: {error}")
                log(f"fault worker failed: {error}")
                return

    async def _wait_until(self, at: float) -> bool:
        delay = at - self.t()
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_faults.wait(), delay)
        return not self.stop_faults.is_set()

    async def _kill_worker(self, *, end_one: bool) -> None:
        exited = self.stack.worker_exited()
        if exited is not None:
            self.faults.errors.append(f"the worker exited by itself with status {exited}")
        sending = self.mail.recorder.sending()
        self.stack.kill_worker()
        killed = time.time()
        self.faults.worker_kills += 1
        self.faults.worker_kills_mid_send += bool(sending)
        if end_one:
            self.end_now.set()  # a session ends while no worker runs
        owed = await asyncio.to_thread(self._transcripts_owed)
        self.faults.worker_kills_due += bool(sending or owed)
        log(f"t={self.t():.1f}s SIGKILL worker ({sending} transcript(s) mid-send, {owed} owed)")
        await asyncio.sleep(self.rng.uniform(1, 3))
        self.stack.start_worker()
        self.faults.worker_restarts += 1
        self.faults.worker_down.append([killed, time.time()])
        log(f"t={self.t():.1f}s worker started again")

    def _transcripts_owed(self) -> int:
        with self.stack.connect_db() as conn:
            row = conn.execute(
                "SELECT count(*) FROM chat_chatsession WHERE state = 'closed' "
                "AND patron_email <> '' AND transcript_sent_at IS NULL"
            ).fetchone()
        return int(row[0]) if row else 0

    async def _transcripts_sent(self) -> None:
        """Wait (up to TRANSCRIPT_WAIT) until every ended session with an address
        has its transcript recorded as sent."""
        started = time.monotonic()
        owed = 0
        while time.monotonic() - started < TRANSCRIPT_WAIT:
            if not self.stack.worker_alive():
                exited = self.stack.worker_exited()
                self.faults.errors.append(f"the worker exited by itself with status {exited}")
                self.stack.start_worker()
            owed = await asyncio.to_thread(self._transcripts_owed)
            if not owed:
                break
            await asyncio.sleep(0.25)
        self.faults.transcripts_waited = time.monotonic() - started
        if owed:
            log(f"t={self.t():.1f}s {owed} transcripts still not sent after {TRANSCRIPT_WAIT:g} s")
        else:
            log(
                f"t={self.t():.1f}s every transcript owed is sent "
                f"(waited {self.faults.transcripts_waited:.1f} s)"
            )

    def _mail_report(self, stored: Stored, tally: Tally) -> list[str]:
        recorder = self.mail.recorder
        mails = recorder.received()
        f = self.faults
        down = ", ".join(f"t={a - self.wall0:.1f}..{b - self.wall0:.1f}" for a, b in f.worker_down)
        closed = [i for i in stored.sessions.values() if i["state"] == "closed"]
        resent, gaps = 0, []
        for message_id, cut_at in recorder.aborted:
            later = [m.received_at for m in mails if m.message_id == message_id]
            if later:
                resent += 1
                gaps.append(f"{min(later) - cut_at:.1f}")
        during = sum(
            1
            for i in closed
            if i["closed_at"] is not None
            and any(a <= i["closed_at"] <= b for a, b in f.worker_down)
        )
        out = [
            f"worker: killed {f.worker_kills} times ({f.worker_kills_mid_send} mid-send, "
            f"{f.worker_kills_due} while transcripts were owed), started again "
            f"{f.worker_restarts} times; down {down}",
            f"sessions ended: {dict(sorted(f.ended.items()))}, {during} while the worker "
            f"was down, {f.end_fallbacks} librarian ends done by the patron (not picked up yet)",
            f"mail: {len(mails)} messages for {tally.transcripts} transcripts owed; "
            f"{len(recorder.aborted)} sends cut off by a worker kill before the server's yes, "
            f"{resent} of them sent again (after {', '.join(gaps) or '-'} s); "
            f"{sum(i['attempts'] > 1 for i in closed)} transcripts needed a retry after a "
            "failed send",
            f"lines refused because their session had ended: {tally.refused_after_end} "
            f"(expected); console lines of ended sessions read only after the end: "
            f"{sum(c.after_end_lines for c in self.consoles)}",
        ]
        if os.environ.get("FAULTS_VERBOSE"):
            out.extend(d for c in self.consoles for d in c.after_end_detail)
        if recorder.errors:
            out.append(f"mail server errors: {recorder.errors[:5]}")
        tasks = self._task_states()
        if tasks:
            out.append(f"task rows: {tasks}")
        return out

    def _task_states(self) -> dict[str, int]:
        try:
            with self.stack.connect_db() as conn:
                rows = conn.execute(
                    "SELECT status, count(*) FROM django_tasks_database_dbtaskresult "
                    "GROUP BY status ORDER BY status"
                ).fetchall()
        except Exception as error:
            return {f"unreadable: {type(error).__name__}": 0}
        return {str(status): int(n) for status, n in rows}

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
        if not self.stack.worker_alive():
            exited = self.stack.worker_exited()
            if exited is not None:
                self.faults.errors.append(f"the worker exited by itself with status {exited}")
            self.stack.start_worker()
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
                f"{sum(self.faults.kills.values())}, redis restarts {self.faults.redis_restarts}, "
                f"worker kills {self.faults.worker_kills}, sessions ended "
                f"{sum(self.faults.ended.values())}, mails {len(self.mail.recorder.received())}"
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
        if self.faults.worker_kills < 2:
            reasons.append(f"the worker was killed {self.faults.worker_kills} times, not 2")
        if self.faults.worker_kills_due < 1:
            reasons.append("the worker was never killed while transcripts were owed")
        if self.mail.recorder.errors:
            reasons.append(f"the mail server could not read {self.mail.recorder.errors[0]}")
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
    args: argparse.Namespace,
    stack: Stack,
    seeded: dict[str, Any],
    mail: MailServer,
    budget: float,
) -> tuple[Tally, Run]:
    run = Run(args, stack, seeded, mail)
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
    mail = MailServer(random.Random(args.seed + 1), MAIL_DELAY)
    stack = Stack(
        pg_host=args.pg_host,
        pg_port=args.pg_port,
        db_name=args.database,
        daphnes=args.daphnes,
        extra_env={
            "EMAIL_URL": mail.url,
            "EMAIL_TIMEOUT": str(EMAIL_TIMEOUT),
            "TRANSCRIPT_LEASE_SECONDS": str(TRANSCRIPT_LEASE_SECONDS),
        },
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
        log(
            f"database {args.database}, redis on {stack.redis_port}, daphne on {stack.ports}, "
            f"mail server on {mail.port}"
        )
        mail.start()
        seeded = stack.prepare(librarians=args.librarians, password=password)
        seeded["password"] = password
        stack.start_redis()
        for i in range(args.daphnes):
            stack.start_daphne(i)
        worker_since = time.time()
        stack.start_worker()
        for i in range(args.daphnes):
            stack.wait_healthy(i)
        _wait_worker(stack, worker_since, 30)
        log(f"setup done in {time.monotonic() - started:.1f}s")
        # What is left of the hard limit, less time to stop everything.
        budget = args.timeout - (time.monotonic() - started) - 15
        tally, run = asyncio.run(_run(args, stack, seeded, mail, budget))
    except KeyboardInterrupt:
        error = "interrupted"
    except (asyncio.CancelledError, TimeoutError):
        error = "cancelled or out of time"
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    finally:
        alive = stack.stop_all()
        dropped = stack.drop_database()
        mail.stop()
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
            f"worker kills {f.worker_kills} ({f.worker_kills_mid_send} mid-send), "
            f"cuts {f.cuts} + {sum(p.cuts_in_flight for p in run.parties)} right after a send; "
            f"reconnects {sum(p.connects for p in run.parties)}, "
            f"resent lines {sum(max(0, x.sends - 1) for p in run.parties for x in p.sent.values())}"
        )
    if problems:
        log(f"the Daphne processes and the worker logged {sum(problems.values())} errors:")
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


def _wait_worker(stack: Stack, since: float, timeout: float) -> None:
    """Until the worker ran its schedule (a periodic job claimed since ``since``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        exited = stack.worker_exited()
        if exited is not None:
            raise RuntimeError(f"the worker exited with {exited} (see {stack.worker_logs()[-1]})")
        if stack.worker_schedule_ran_since(since):
            return
        time.sleep(0.1)
    raise RuntimeError("the worker did not run its schedule")


if __name__ == "__main__":
    sys.exit(main())
