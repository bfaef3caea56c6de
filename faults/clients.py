"""Patrons and librarians as the browser is: websockets that come back by themselves.

:class:`Party` is the client both are: ``faults.patron.Patron`` and
``faults.librarian.Console``. The HTTP forms they use are in ``faults.forms``.

Each party keeps its transcript by sequence number (dedupe), a pending list
of lines sent but not yet acknowledged (``message.stored``) that it sends
again, with the same ``client_id``, on every new connection, and asks for
what it missed when it sees a gap or a heartbeat ahead of it. Either side
can end a session (``session.end``), sending it again until it hears the
session closed; nobody writes into a session they know has ended.
"""

import asyncio
import json
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

NOTE_MARKER = "NOTE-SECRET"
# Every line the run writes carries the tag of its session's patron ([P3]) or
# of its session ([S42]): a patron socket carrying any other tag leaked.
TAG = re.compile(r"\[(P\d+|S\d+)\]")
FATAL_CLOSE = {4403, 4404}
# The server's limit of lines per socket (CHAT_LINES_BURST, _PER_SECOND): a
# reconnect's lines go out as the pages send them, ten at once then four a
# second, and a line refused as too fast goes again a second later.
RESEND_AT_ONCE = 10
RESEND_EVERY_S = 0.25
TOO_FAST_RETRY_S = 1.0


# --- parties --------------------------------------------------------------------
@dataclass
class SentLine:
    """One line a party sent: its id, where it should land, what the server said."""

    order: int
    client_id: str
    text: str
    session: int | None  # the console's session id; None for a patron (its own)
    note: bool = False
    acked_seq: int | None = None
    ack_conflict: bool = False
    refused: str | None = None
    sends: int = 0
    conn: int = -1
    sent_at: list[float] = field(default_factory=list)  # wall clock of each send


@dataclass
class Transcript:
    """A client's copy of one session: seq → text, deduped by seq."""

    lines: dict[int, str] = field(default_factory=dict)
    high: int = 0  # every seq 1..high is here
    conflicts: int = 0  # a seq seen again with another text
    repeats: int = 0  # a seq seen again with the same text (deduped, harmless)
    arrived: dict[int, tuple[float, str]] = field(default_factory=dict)  # when, and how

    def add(self, seq: int, text: str, via: str) -> bool:
        if seq in self.lines:
            if self.lines[seq] != text:
                self.conflicts += 1
            else:
                self.repeats += 1
            return False
        self.lines[seq] = text
        self.arrived[seq] = (time.time(), via)
        while self.high + 1 in self.lines:
            self.high += 1
        return True

    @property
    def top(self) -> int:
        return max(self.lines, default=0)


class Party:
    """A websocket client that reconnects with backoff and jitter to any process."""

    kind = "party"

    def __init__(self, name: str, ports: list[int], rng: random.Random, cap: float) -> None:
        self.name = name
        self.ports = ports
        self.rng = rng
        self.backoff_cap = cap
        self.ws: ClientConnection | None = None
        self.ready = False
        self.conn = 0
        self.closing = False
        self.final_mode = False
        self.fatal: str | None = None
        self.sent: dict[str, SentLine] = {}
        self.pending: dict[str, SentLine] = {}  # insertion order = send order
        self.unknown_acks = 0
        self.connects = 0
        self.failed_connects = 0
        self.cuts = 0
        self.cut_after_send = False  # cut the connection right after the next line
        self.cuts_in_flight = 0
        self.too_fast = 0  # lines refused as too fast, and sent again
        self.frames = 0
        self.live_received = 0  # lines that reached the transcript during the run
        self.snapshot_waiter: asyncio.Future[None] | None = None
        self.errors: list[str] = []
        self.catchups: Counter[str] = Counter()  # why it asked for what it missed
        self.lifetimes: list[list[float]] = []  # [opened, closed] of each connection
        self.event_times: list[float] = []  # when each message.created arrived
        self.ack_times: list[float] = []  # when each message.stored arrived
        self.ports_used: list[int] = []  # the process of each connection
        self._last_ask: dict[Any, float] = {}
        # Ending sessions: when this party first sent session.end for each
        # (wall clock; a patron's own session is None), and how many times.
        self.end_sent: dict[int | None, float] = {}
        self.end_frames = 0

    # subclass hooks
    def url(self, port: int) -> str:
        raise NotImplementedError

    def headers(self) -> dict[str, str]:
        return {}

    async def on_frame(self, raw: str, frame: dict[str, Any]) -> None:
        raise NotImplementedError

    def frame_for(self, line: SentLine) -> dict[str, Any]:
        raise NotImplementedError

    # connection loop
    async def run(self) -> None:
        attempt = 0
        while not self.closing:
            port = self.rng.choice(self.ports)
            try:
                ws = await connect(
                    self.url(port),
                    origin=f"http://127.0.0.1:{port}",  # type: ignore[arg-type]
                    additional_headers=self.headers(),
                    open_timeout=5,
                    close_timeout=1,
                    max_size=2**22,
                )
            except (OSError, TimeoutError, WebSocketException):
                self.failed_connects += 1
                attempt += 1
                await self._backoff(attempt)
                continue
            attempt = 0
            self.connects += 1
            self.conn += 1
            self.ws, self.ready = ws, False
            life = [time.time(), float("inf")]
            self.lifetimes.append(life)
            self.ports_used.append(port)
            try:
                async for raw in ws:
                    self.frames += 1
                    text = raw if isinstance(raw, str) else raw.decode(errors="replace")
                    try:
                        frame = json.loads(text)
                        await self.on_frame(text, frame)
                    except ConnectionClosed:
                        raise
                    except Exception as error:  # a harness bug: keep going, report it
                        self.errors.append(f"{type(error).__name__}: {error} in {text[:200]}")
            except ConnectionClosed:
                pass
            finally:
                self.ws, self.ready = None, False
                life[1] = time.time()
            code = ws.close_code
            if code in FATAL_CLOSE:
                self.fatal = f"closed with {code}"
                return
            if not self.closing:
                await self._backoff(0)

    async def _backoff(self, attempt: int) -> None:
        # As static/js/socket.js (0.5 s, 1 s, 2 s … with up to 50 % jitter), capped
        # lower here (4 s) because the whole run is short.
        base = min(self.backoff_cap, 0.5 * 2**attempt)
        await asyncio.sleep(base / 2 + self.rng.random() * base / 2)

    def cut(self) -> bool:
        """Drop the TCP connection without a closing handshake."""
        ws = self.ws
        if ws is None:
            return False
        ws.transport.abort()
        self.cuts += 1
        return True

    async def stop(self) -> None:
        self.closing = True
        ws = self.ws
        if ws is not None:
            try:
                await asyncio.wait_for(ws.close(), 2)
            except (TimeoutError, ConnectionClosed, OSError):
                ws.transport.abort()

    async def send(self, frame: dict[str, Any]) -> bool:
        ws = self.ws
        if ws is None:
            return False
        try:
            await ws.send(json.dumps(frame))
        except ConnectionClosed:
            return False
        return True

    def throttled(self, key: Any, seconds: float = 1.0) -> bool:
        """True if ``key`` was asked for less than ``seconds`` ago (else note it now)."""
        now = time.monotonic()
        if now - self._last_ask.get(key, -1e9) < seconds:
            return True
        self._last_ask[key] = now
        return False

    # sending with retry
    def new_line(self, text: str, session: int | None = None, note: bool = False) -> SentLine:
        client_id = f"{self.name}-{len(self.sent)}-{self.rng.getrandbits(64):016x}"
        line = SentLine(len(self.sent), client_id, text, session, note)
        self.sent[client_id] = line
        self.pending[client_id] = line
        return line

    async def submit(self, line: SentLine) -> None:
        if self.ready and self.ws is not None:
            line.conn = self.conn
            line.sends += 1
            line.sent_at.append(time.time())
            if await self.send(self.frame_for(line)) and self.cut_after_send:
                # The line is on its way and its answer will be lost: the
                # server stores it while the retry goes to any process.
                self.cut_after_send = False
                if self.cut():
                    self.cuts_in_flight += 1

    async def flush(self) -> None:
        """After a (re)connect's snapshot: send every unacknowledged line, same client_id."""
        conn = self.conn
        while self.ws is not None and self.conn == conn:
            todo = [p for p in self.pending.values() if p.conn != conn]
            if not todo:
                self.ready = True
                return
            for i, line in enumerate(todo):
                if i >= RESEND_AT_ONCE:
                    # As the pages do (static/js/socket.js, sendPaced): the
                    # socket's limit of lines takes a long outage's lines paced.
                    await asyncio.sleep(RESEND_EVERY_S)
                    if self.ws is None or self.conn != conn:
                        return
                    if line.client_id not in self.pending:
                        continue  # answered meanwhile
                line.conn = conn
                line.sends += 1
                line.sent_at.append(time.time())
                if not await self.send(self.frame_for(line)):
                    return

    def acked(self, client_id: Any, seq: Any) -> None:
        self.ack_times.append(time.time())
        line = self.sent.get(client_id) if isinstance(client_id, str) else None
        if line is None:
            self.unknown_acks += 1
            return
        self.pending.pop(client_id, None)
        if line.acked_seq is not None and line.acked_seq != seq:
            line.ack_conflict = True
        line.acked_seq = seq

    def refused(self, client_id: Any, code: str) -> None:
        line = self.sent.get(client_id) if isinstance(client_id, str) else None
        if line is None or client_id not in self.pending:
            return
        if code == "too_fast":
            # Refused only for now (the socket's limit of lines): a person
            # sends it again a moment later, and so does this client.
            self.too_fast += 1
            line.conn = -1  # a reconnect meanwhile sends it with the rest
            asyncio.get_running_loop().call_later(
                TOO_FAST_RETRY_S, lambda: asyncio.ensure_future(self.retry(line))
            )
            return
        self.pending.pop(client_id)
        line.refused = code

    async def retry(self, line: SentLine) -> None:
        """Send a line refused as too fast again, unless it was answered since."""
        if line.client_id in self.pending and line.conn == -1:
            await self.submit(line)

    def resolve_waiter(self) -> None:
        if self.snapshot_waiter is not None and not self.snapshot_waiter.done():
            self.snapshot_waiter.set_result(None)

    async def final_sync(self, request: dict[str, Any], timeout: float) -> bool:
        """Ask for a whole snapshot and wait for it (again after a reconnect)."""
        self.final_mode = True
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.ready:
                await asyncio.sleep(0.05)
                continue
            self.snapshot_waiter = asyncio.get_running_loop().create_future()
            if await self.send(request):
                try:
                    await asyncio.wait_for(
                        self.snapshot_waiter, max(0.1, deadline - time.monotonic())
                    )
                    return True
                except TimeoutError:
                    return False
        return False
