"""The load generator's sockets: patrons, consoles and bare relay sockets.

All of them live on one event loop in the benchmark's process, so one
clock (``time.perf_counter``) times a line from its send to its arrival at
the other end. Each line carries a ``client_id`` naming it in the phase's
:class:`Ledger`; a receiver reports the line to the ledger, and counts a
sequence number it sees twice on a live event as a duplicate.

Frame handling is synchronous and small on purpose: the generator shares
two cores with the server, and its own cost must stay well below the
server's for the figures to mean anything.
"""

# ruff: noqa: S311 - the randomness here spreads load, it guards nothing

import asyncio
import contextlib
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

PATRON, LIBRARIAN = "P", "L"
# As static/js/socket.js: a heartbeat that shows the client behind is checked
# again this much later (the event may only have been overtaken) before asking.
RECHECK_S = 1.5
# A chat line of a usual length (about 60 characters).
FILLER = "Could you tell me whether the branch has this title on shelf?"
# As static/js/typing.js (TYPING_SEND_MS): at most one typing frame per
# conversation and side this often (bench/traffic.py says when the generator types).
TYPING_S = 3.2


def now() -> float:
    return time.perf_counter()


@dataclass(slots=True)
class Line:
    """One line of a phase: who sent it, when, and when the other side had it."""

    side: str
    sent: float
    acked: float = 0.0
    delivered: float = 0.0


@dataclass
class Ledger:
    """Every line one phase sent, by client id, and what became of it."""

    name: str
    lines: dict[str, Line] = field(default_factory=dict)
    duplicates: int = 0
    strays: int = 0  # lines of another phase, or never sent
    _count: int = 0

    def new(self, side: str) -> tuple[str, str]:
        self._count += 1
        client_id = f"{self.name}-{self._count}"
        self.lines[client_id] = Line(side, now())
        return client_id, f"{client_id} {FILLER}"

    def acked(self, client_id: Any) -> None:
        line = self.lines.get(client_id)
        if line is not None and not line.acked:
            line.acked = now()

    def delivered(self, client_id: Any, receiver_side: str) -> None:
        line = self.lines.get(client_id)
        if line is None:
            self.strays += 1
        elif line.side != receiver_side and not line.delivered:
            line.delivered = now()

    def undelivered(self) -> int:
        return sum(1 for line in self.lines.values() if not line.delivered)


class Bench:
    """What the sockets report to: the current phase's ledger and the pick-up clock."""

    def __init__(self) -> None:
        self.ledger = Ledger("idle")
        # patron name → (time the request was posted, {console index: arrival})
        self.pickups: dict[str, tuple[float, dict[int, float]]] = {}
        # Each /ask/ request of the phase: (GET started, POST started, POST
        # answered, port), for --dump: is a slow line near one?
        self.asks: list[tuple[float, float, float, int]] = []
        self.errors: dict[str, int] = {}
        self.resyncs = 0  # snapshots asked for after a heartbeat showed a client behind
        self.connects = 0  # sockets opened, reconnections included
        self.typing_sent = 0  # typing frames sent (starts and stops)
        self.typing_heard = 0  # typing events received from the other side

    def error(self, code: str) -> None:
        self.errors[code] = self.errors.get(code, 0) + 1


class Socket:
    """A websocket that runs until stopped, coming back (as the browser does) if told to."""

    side = ""

    def __init__(self, bench: Bench, port: int, *, reconnect: bool = False) -> None:
        self.bench = bench
        self.port = port
        self.reconnect = reconnect
        self.ws: ClientConnection | None = None
        self.ready = asyncio.Event()  # connected and caught up (snapshot read)
        self.closing = False
        self.connects = 0
        self.failed = 0
        self.task: asyncio.Task[None] | None = None
        self.started_at = self.opened_at = 0.0  # the first connection's start and handshake
        # Lines sent but not acknowledged: sent again on the next connection.
        self.pending: dict[str, dict[str, Any]] = {}
        self._asked: dict[Any, float] = {}
        self._typed: dict[Any, float] = {}  # conversation → last typing frame sent
        self._typing: set[Any] = set()  # conversations a stop is owed to

    def typing_frame(self, address: Any, *, started: bool) -> dict[str, Any] | None:
        """The typing frame of this side (None: this socket doesn't type)."""
        return None

    def typing_start(self, address: Any) -> bool:
        """The person starts typing a line: a typing frame unless one went
        within TYPING_S. False if this socket doesn't type (or is not open)."""
        if self.typing_frame(address, started=True) is None or not self.ready.is_set():
            return False
        t = now()
        if t - self._typed.get(address, -1e9) >= TYPING_S:
            self._typed[address] = t
            self._typing.add(address)
            self.send_soon(self.typing_frame(address, started=True) or {})
            self.bench.typing_sent += 1
        return True

    def typing_stop(self, address: Any) -> None:
        """The line went: a stop, if a typing frame said started."""
        if address in self._typing:
            self._typing.discard(address)
            self.send_soon(self.typing_frame(address, started=False) or {})
            self.bench.typing_sent += 1

    def path(self) -> str:
        raise NotImplementedError

    def headers(self) -> dict[str, str]:
        return {}

    def on_frame(self, frame: dict[str, Any]) -> None:
        raise NotImplementedError

    def line_frame(self, client_id: str, text: str, address: Any) -> dict[str, Any]:
        raise NotImplementedError

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self.run())

    async def run(self) -> None:
        self.started_at = now()
        while not self.closing:
            try:
                ws = await connect(
                    f"ws://127.0.0.1:{self.port}{self.path()}",
                    origin=f"http://127.0.0.1:{self.port}",  # type: ignore[arg-type]
                    additional_headers=self.headers(),
                    open_timeout=60,
                    close_timeout=1,
                    ping_interval=None,  # browsers don't ping; Daphne does
                    compression=None,
                    max_size=2**24,
                )
            except (OSError, TimeoutError, WebSocketException):
                self.failed += 1
                if not self.reconnect:
                    return
                await asyncio.sleep(0.5 + random.random() * 0.5)
                continue
            self.ws = ws
            self.opened_at = self.opened_at or now()
            self.connects += 1
            self.bench.connects += 1
            await self.opened()
            try:
                async for raw in ws:
                    self.on_frame(json.loads(raw))
            except ConnectionClosed:
                pass
            finally:
                if not self.closing:
                    self.bench.error(f"{type(self).__name__} closed {ws.close_code}")
                self.ws = None
                self.ready.clear()
            if not self.reconnect:
                return
            # As static/js/socket.js: half a second and up to as much again.
            await asyncio.sleep(0.5 + random.random() * 0.5)

    async def opened(self) -> None:
        """Right after a connection opened."""

    def send_soon(self, frame: dict[str, Any]) -> None:
        ws = self.ws
        if ws is not None:
            asyncio.get_running_loop().create_task(_send(ws, frame))

    async def send_line(self, frame: dict[str, Any]) -> None:
        self.pending[frame["client_id"]] = frame
        ws = self.ws
        if ws is not None and self.ready.is_set():
            await _send(ws, frame)

    def resend_pending(self) -> None:
        for frame in list(self.pending.values()):
            self.send_soon(frame)

    def throttled(self, key: Any, seconds: float = 2.0) -> bool:
        t = now()
        if t - self._asked.get(key, -1e9) < seconds:
            return True
        self._asked[key] = t
        return False

    def acked(self, client_id: Any) -> None:
        self.pending.pop(client_id, None)
        self.bench.ledger.acked(client_id)

    async def stop(self) -> None:
        self.closing = True
        ws = self.ws
        if ws is not None:
            try:
                await asyncio.wait_for(ws.close(), 2)
            except (TimeoutError, ConnectionClosed, OSError):
                ws.transport.abort()
        if self.task is not None:
            self.task.cancel()


async def _send(ws: ClientConnection, frame: dict[str, Any]) -> None:
    with contextlib.suppress(ConnectionClosed):
        await ws.send(json.dumps(frame))


class Seen:
    """One conversation as a receiver has it: sequence numbers, gap-free up to ``high``.

    A line can reach a client twice by design (a live event, and again in a
    snapshot or fetch asked for after a gap); the client keeps it once. A
    duplicate is the server sending the same line twice as a live event.
    """

    __slots__ = ("high", "live", "seqs")

    def __init__(self) -> None:
        self.seqs: set[int] = set()
        self.live: set[int] = set()
        self.high = 0

    def add(self, seq: int, bench: "Bench", *, live: bool) -> bool:
        """Note ``seq``; True if it is new to this client."""
        if live:
            if seq in self.live:
                bench.ledger.duplicates += 1
            self.live.add(seq)
        if seq in self.seqs:
            return False
        self.seqs.add(seq)
        while self.high + 1 in self.seqs:
            self.high += 1
        return True


class PatronSocket(Socket):
    """``/ws/chat/<token>/``, as static/js/patron.js uses it."""

    side = PATRON

    def __init__(self, bench: Bench, port: int, token: str, **kw: Any) -> None:
        super().__init__(bench, port, **kw)
        self.token = token
        self.seen = Seen()
        self.caught_up_at = 0.0
        self.catch_up_to = 0  # a patron number to reach (the restart phase)

    def path(self) -> str:
        return f"/ws/chat/{self.token}/?after={self.seen.high}"

    def line_frame(self, client_id: str, text: str, address: object = None) -> dict[str, Any]:
        return {"type": "message.send", "text": text, "client_id": client_id}

    def typing_frame(self, address: Any, *, started: bool) -> dict[str, Any] | None:
        return {"type": "typing"} if started else {"type": "typing", "state": "stopped"}

    def on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        if kind == "message.created":
            self._line(frame["message"], live=True)
        elif kind in ("typing.started", "typing.stopped"):
            self.bench.typing_heard += 1
        elif kind == "message.stored":
            self.acked(frame["client_id"])
        elif kind == "session.snapshot":
            for message in frame["messages"]:
                self._line(message, live=False)
            self._check_caught_up()
            if not self.ready.is_set():
                self.ready.set()
                self.resend_pending()
        elif kind == "session.heartbeat":
            if frame["last_seq"] > self.seen.high:
                asyncio.get_running_loop().call_later(RECHECK_S, self._recheck, frame["last_seq"])
        elif kind == "error":
            self.bench.error(f"patron {frame.get('code')}")

    def _recheck(self, last_seq: int) -> None:
        if last_seq > self.seen.high and not self.throttled("resume", 1.0):
            self.bench.resyncs += 1
            self.bench.error("patron resume")
            self.send_soon({"type": "session.resume", "after": self.seen.high})

    def _line(self, message: dict[str, Any], *, live: bool) -> None:
        if not self.seen.add(message["seq"], self.bench, live=live):
            return
        if message["kind"] == "librarian" and message.get("client_id"):
            self.bench.ledger.delivered(message["client_id"], PATRON)
        self._check_caught_up()

    def _check_caught_up(self) -> None:
        if self.catch_up_to and not self.caught_up_at and self.seen.high >= self.catch_up_to:
            self.caught_up_at = now()


class ConsoleSocket(Socket):
    """``/ws/console/``, as static/js/console.js uses it (session cookie)."""

    side = LIBRARIAN

    def __init__(self, bench: Bench, port: int, index: int, cookie: str, **kw: Any) -> None:
        super().__init__(bench, port, **kw)
        self.index = index
        self.cookie = cookie
        self.sessions: dict[int, Seen] = {}
        self.waiting: set[int] = set()
        self.accepted = 0
        # As static/js/console.js: when each session last changed here, and
        # the last snapshot; a recheck leaves out what changed from shortly
        # before the heartbeat on.
        self.changed: dict[int, float] = {}
        self.snapshot_at = 0.0

    def path(self) -> str:
        return "/ws/console/"

    def headers(self) -> dict[str, str]:
        return {"Cookie": f"sessionid={self.cookie}"}

    def line_frame(self, client_id: str, text: str, session: int) -> dict[str, Any]:
        return {"type": "message.send", "session": session, "text": text, "client_id": client_id}

    def typing_frame(self, address: Any, *, started: bool) -> dict[str, Any] | None:
        frame = {"type": "typing", "session": address}
        return frame if started else {**frame, "state": "stopped"}

    def on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        if kind in ("typing.started", "typing.stopped"):
            self.bench.typing_heard += 1
        elif kind == "message.created":
            message = frame["message"]
            seen = self.sessions.setdefault(frame["session"], Seen())
            if not seen.add(message["seq"], self.bench, live=True):
                pass
            elif message["kind"] == "patron" and message.get("client_id"):
                self.bench.ledger.delivered(message["client_id"], LIBRARIAN)
        elif kind == "message.stored":
            self.acked(frame["client_id"])
        elif kind == "session.created":
            row = frame["session"]
            self.changed[row["id"]] = now()
            self.waiting.add(row["id"])
            pickup = self.bench.pickups.get(row["patron_name"])
            if pickup is not None:
                pickup[1].setdefault(self.index, now())
        elif kind == "session.accepted":
            self.changed[frame["session"]] = now()
            self.waiting.discard(frame["session"])
            if "detail" in frame:
                self.accepted += 1
                self._detail(frame["detail"])
        elif kind == "session.closed":
            self.changed[frame["session"]] = now()
            self.waiting.discard(frame["session"])
        elif kind == "console.snapshot":
            self.snapshot_at = now()
            self.waiting = {row["id"] for row in frame["waiting"]}
            for detail in frame["active"]:
                self._detail(detail)
            if not self.ready.is_set():
                self.ready.set()
                self.resend_pending()
        elif kind == "session.detail":
            self._detail(frame["session"])
        elif kind == "console.heartbeat":
            if self._behind(frame):
                since = now() - RECHECK_S
                asyncio.get_running_loop().call_later(RECHECK_S, self._recheck, frame, since)
        elif kind == "error":
            self.bench.error(f"console {frame.get('code')}")

    def _behind(self, digest: dict[str, Any], since: float = float("inf")) -> str:
        """The parts of the digest this client keeps: New, and My Active's
        numbers; leaving out sessions that changed here after ``since``."""
        if self.snapshot_at > since:
            return ""
        differ = self.waiting.symmetric_difference(digest["waiting"])
        if any(self.changed.get(session, 0.0) <= since for session in differ):
            return "waiting"
        for session, last in digest["active"].items():
            seen = self.sessions.get(int(session))
            if (seen is None and self.changed.get(int(session), 0.0) <= since) or (
                seen is not None and last > seen.high
            ):
                return "active"
        return ""

    def _recheck(self, digest: dict[str, Any], since: float) -> None:
        # As static/js/console.js: a whole snapshot, at most every 2 s.
        why = self._behind(digest, since)
        if why and not self.throttled("sync"):
            self.bench.resyncs += 1
            self.bench.error(f"console resync: {why}")
            self.send_soon({"type": "console.sync"})

    def _detail(self, detail: dict[str, Any]) -> None:
        seen = self.sessions.setdefault(detail["id"], Seen())
        for message in detail["messages"]:
            new = seen.add(message["seq"], self.bench, live=False)
            if new and message["kind"] == "patron" and message.get("client_id"):
                self.bench.ledger.delivered(message["client_id"], LIBRARIAN)


class BareSocket(Socket):
    """``/ws/bare/`` (bench/bare.py): joins its groups, then relays."""

    def __init__(
        self, bench: Bench, port: int, side: str, groups: list[str], typing_to: str = ""
    ) -> None:
        super().__init__(bench, port)
        self.side = side
        self.groups = groups
        # Where this side's typing goes: a patron's to its librarian's own
        # group; a librarian's (typing_to empty) to the session's group.
        self.typing_to = typing_to
        self.seen: set[str] = set()

    def typing_frame(self, address: Any, *, started: bool) -> dict[str, Any] | None:
        frame = {"type": "typing", "group": self.typing_to or address}
        return frame if started else {**frame, "state": "stopped"}

    def path(self) -> str:
        return "/ws/bare/"

    async def opened(self) -> None:
        if self.ws is not None:
            await _send(self.ws, {"type": "join", "groups": self.groups})

    def line_frame(self, client_id: str, text: str, group: str) -> dict[str, Any]:
        return {"type": "send", "group": group, "text": text, "client_id": client_id}

    def on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        if kind == "created":
            client_id = frame["message"]["client_id"]
            if client_id in self.seen:
                self.bench.ledger.duplicates += 1
                return
            self.seen.add(client_id)
            self.bench.ledger.delivered(client_id, self.side)
        elif kind == "stored":
            self.acked(frame["client_id"])
        elif kind == "typing":
            self.bench.typing_heard += 1
        elif kind == "joined":
            self.ready.set()
