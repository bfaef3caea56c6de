"""One run of the fault suite: patrons and librarians talk while faults are injected.

:class:`Run` sets the consoles and patrons up, lets them talk for the
duration while ``faults.injection`` cuts and kills and ``faults.endings``
ends sessions, then settles: every process up, every line acknowledged,
every session ended, every party caught up with the database, every
transcript owed sent (``faults.accounting``). Its tally is compared with the
database by ``faults.check``.
"""

# ruff: noqa: S311 - the randomness here picks faults and timings, not secrets

import argparse
import asyncio
import math
import random
import time
from collections import Counter
from typing import Any

from faults.accounting import Accounting
from faults.check import Stored, Tally, check, delivery_stats
from faults.endings import Endings
from faults.forms import login
from faults.injection import Injection
from faults.librarian import Console
from faults.mail import MailServer
from faults.patron import Patron
from faults.stack import QUEUE_SLUG, Stack, log
from faults.state import Faults
from faults.tiers import check_tiers
from faults.transcripts import check_transcripts


class Run(Injection, Endings, Accounting):
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
        kills = [killed for killed, _ in self.faults.worker_down]
        check_transcripts(tally, stored, self.patrons, mails, kills)
        for line in self._mail_report(stored, tally):
            log(line)
        self._check_ends(stored)
        with self.stack.connect_db() as conn:
            broken, seen = check_tiers(conn, self.consoles)
        for line in seen:
            log(line)
        self.faults.errors.extend(broken)
        return tally

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
