"""What a run of the fault suite holds while it runs (``faults.scenario.Run``).

:class:`Faults` is what was done to the system, for the report and the
sanity check. :class:`RunState` declares the state the parts of the run share
(the stack, the parties, the random source, the clocks and events) and the
few things they all use; the parts are ``faults.injection`` (the faults
themselves), ``faults.endings`` (who ends each session, and when) and
``faults.accounting`` (the transcripts owed and the mail report), put
together in ``faults.scenario``.
"""

import argparse
import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from faults.check import Stored
from faults.clients import Party
from faults.librarian import Console
from faults.mail import MailServer
from faults.patron import Patron
from faults.stack import Stack, log


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


class RunState:
    """The state of one run, set by ``faults.scenario.Run``; what every part of it uses."""

    args: argparse.Namespace
    stack: Stack
    mail: MailServer
    rng: random.Random
    t0: float
    wall0: float
    faults: Faults
    stop_talking: asyncio.Event
    stop_faults: asyncio.Event
    queue_id: int
    consoles: list[Console]
    patrons: list[Patron]
    tasks: list[asyncio.Task[Any]]
    calm: bool  # no connection cuts for now
    password: str
    end_now: asyncio.Event  # the worker was just killed: end a session now
    ends_mid: list[tuple[float, Patron, str]]
    ends_settle: list[tuple[Patron, str]]

    @property
    def parties(self) -> list[Party]:
        return [*self.consoles, *self.patrons]

    def t(self) -> float:
        return time.monotonic() - self.t0

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self.tasks.append(task)
        return task

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

    def _transcripts_owed(self) -> int:
        with self.stack.connect_db() as conn:
            row = conn.execute(
                "SELECT count(*) FROM chat_chatsession WHERE state = 'closed' "
                "AND patron_email <> '' AND transcript_sent_at IS NULL"
            ).fetchone()
        return int(row[0]) if row else 0
