"""Patrons and librarians as the browser is: websockets that come back by themselves.

Each party keeps its transcript by sequence number (dedupe), a pending list
of lines sent but not yet acknowledged (``message.stored``) that it sends
again, with the same ``client_id``, on every new connection, and asks for
what it missed when it sees a gap or a heartbeat ahead of it. Either side
can end a session (``session.end``), sending it again until it hears the
session closed; nobody writes into a session they know has ended.
"""

import asyncio
import http.client
import json
import random
import re
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

NOTE_MARKER = "NOTE-SECRET"
# Every line the run writes carries the tag of its session's patron ([P3]) or
# of its session ([S42]): a patron socket carrying any other tag leaked.
TAG = re.compile(r"\[(P\d+|S\d+)\]")
FATAL_CLOSE = {4403, 4404}


# --- HTTP, as the browser's forms ---------------------------------------------
class HttpError(Exception):
    pass


def http_request(
    port: int,
    method: str,
    path: str,
    *,
    form: dict[str, str] | None = None,
    cookies: dict[str, str] | None = None,
) -> tuple[int, str, dict[str, str], str]:
    """One request; returns status, Location, cookies set, body. Follows no redirect."""
    headers = {"Host": f"127.0.0.1:{port}"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Origin"] = f"http://127.0.0.1:{port}"
        headers["Referer"] = f"http://127.0.0.1:{port}{path}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode(errors="replace")
        jar: dict[str, str] = {}
        # DEBUG is off, so the cookies are marked Secure; this client is not a
        # browser and sends them back over plain HTTP to 127.0.0.1 anyway.
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie: SimpleCookie = SimpleCookie()
            cookie.load(header)
            jar.update({k: m.value for k, m in cookie.items()})
        return response.status, response.getheader("Location") or "", jar, text
    finally:
        conn.close()


def login(port: int, username: str, password: str) -> str:
    """Log in through /login/ like a browser; returns the sessionid cookie."""
    status, _, jar, page = http_request(port, "GET", "/login/")
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if status != 200 or not match or "csrftoken" not in jar:
        raise HttpError(f"login page answered {status}")
    form = {"username": username, "password": password, "csrfmiddlewaretoken": match.group(1)}
    status, location, set_, _ = http_request(port, "POST", "/login/", form=form, cookies=jar)
    if status != 302 or "sessionid" not in set_:
        raise HttpError(f"login of {username} answered {status} {location!r}")
    return set_["sessionid"]


AskForm = tuple[dict[str, str], dict[str, str]]  # hidden fields, cookies


def ask_form(port: int, slug: str) -> AskForm:
    """Open /ask/<slug>/ like a browser: its hidden inputs and the cookies it set."""
    status, _, jar, page = http_request(port, "GET", f"/ask/{slug}/")
    if status != 200:
        raise HttpError(f"ask form answered {status}")
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    if "csrfmiddlewaretoken" not in fields or "library" not in fields:
        raise HttpError("ask form without its hidden inputs")
    return fields, jar


def ask_post(port: int, slug: str, form: AskForm, name: str, question: str, email: str = "") -> str:
    """Send the form opened by :func:`ask_form`; returns the token from the redirect."""
    fields, jar = form
    fields = {**fields, "patron_name": name, "patron_email": email, "question": question}
    status, location, _, _ = http_request(port, "POST", f"/ask/{slug}/", form=fields, cookies=jar)
    match = re.search(r"/chat/([^/]+)/$", location)
    if status != 302 or not match:
        raise HttpError(f"ask answered {status} {location!r}")
    return match.group(1)


def ask(port: int, slug: str, name: str, question: str, email: str = "") -> str:
    """Fill in /ask/<slug>/ like a browser; returns the token from the /chat/<token>/ redirect."""
    return ask_post(port, slug, ask_form(port, slug), name, question, email)


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
            for line in todo:
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
        if line is not None and client_id in self.pending:
            self.pending.pop(client_id)
            line.refused = code

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


class Patron(Party):
    kind = "patron"

    def __init__(self, index: int, ports: list[int], rng: random.Random, cap: float) -> None:
        super().__init__(f"P{index}", ports, rng, cap)
        self.index = index
        self.tag = f"[P{index}]"
        self.token: str | None = None
        self.question: str | None = None
        self.ask_attempts: list[str] = []  # questions of failed asks (may exist as orphans)
        self.transcript = Transcript()
        self.tags_seen: set[str] = set()
        self.note_frames = 0  # frames carrying the note marker (must stay 0)
        self.note_lines = 0  # lines marked as notes (must stay 0)
        self.joined = 0
        self.counter = 0
        self.email = f"patron{index}@faults.example"
        self.ending = False  # decided to end the session: writes no more lines
        self.closed_at: float | None = None  # when it learned the session ended
        self.closed_by: str | None = None

    async def ask(self, slug: str) -> None:
        """Ask through the form on a random process; retry elsewhere if one is down."""
        for attempt in range(12):
            port = self.rng.choice(self.ports)
            question = f"{self.tag} question {attempt} {self.rng.getrandbits(48):012x}"
            try:
                self.token = await asyncio.to_thread(
                    ask, port, slug, f"Patron {self.index}", question, self.email
                )
            except (OSError, HttpError, http.client.HTTPException):
                self.ask_attempts.append(question)
                await asyncio.sleep(0.3 + 0.3 * attempt)
                continue
            self.question = question
            return
        raise HttpError(f"{self.name} could not ask in 12 attempts")

    def url(self, port: int) -> str:
        after = 0 if self.final_mode else self.transcript.high
        return f"ws://127.0.0.1:{port}/ws/chat/{self.token}/?after={after}"

    def frame_for(self, line: SentLine) -> dict[str, Any]:
        return {"type": "message.send", "text": line.text, "client_id": line.client_id}

    def take(self, message: dict[str, Any], via: str) -> None:
        if message.get("note") or message.get("kind") == "note":
            self.note_lines += 1
        if self.transcript.add(message["seq"], message["text"], via) and not self.final_mode:
            self.live_received += 1

    async def resume(self) -> None:
        if not self.throttled("resume"):
            await self.send({"type": "session.resume", "after": self.transcript.high})

    def learn_closed(self, closed_by: Any = None) -> None:
        if self.closed_at is None:
            self.closed_at = time.time()
        if isinstance(closed_by, str):
            self.closed_by = closed_by

    async def end(self, deadline: float) -> bool:
        """End Session: no more lines; ``session.end`` (again every 3 s, on
        any connection, after its pending lines went out on it) until the
        session is heard closed. Whether it was, by ``deadline`` (monotonic)."""
        self.ending = True
        while self.closed_at is None and time.monotonic() < deadline:
            due = self.ready and not self.throttled("end", 3.0)
            if due and await self.send({"type": "session.end"}):
                self.end_sent.setdefault(None, time.time())
                self.end_frames += 1
            await asyncio.sleep(0.05)
        return self.closed_at is not None

    async def on_frame(self, raw: str, frame: dict[str, Any]) -> None:
        if NOTE_MARKER in raw:
            self.note_frames += 1
        self.tags_seen.update(TAG.findall(raw))
        kind = frame.get("type")
        if kind == "session.snapshot":
            if (frame.get("session") or {}).get("state") == "closed":
                self.learn_closed(frame["session"].get("closed_by"))
            messages = frame.get("messages", [])
            for message in messages:
                self.take(message, "snapshot")
            if self.final_mode and messages and messages[0]["seq"] == 1:
                self.resolve_waiter()  # the whole transcript, not a resume's tail
            if not self.ready:
                await self.flush()
        elif kind == "message.created":
            self.event_times.append(time.time())
            message = frame["message"]
            self.take(message, "event")
            if message["seq"] > self.transcript.high:
                self.catchups["gap"] += 1
                await self.resume()  # a line went missing on the way
        elif kind == "message.stored":
            self.acked(frame.get("client_id"), frame.get("seq"))
        elif kind == "session.heartbeat":
            if frame.get("state") == "closed":
                self.learn_closed()
            if (frame.get("last_seq") or 0) > self.transcript.high:
                self.catchups["heartbeat"] += 1
                await self.resume()
        elif kind == "session.accepted":
            self.joined += 1
        elif kind == "session.closed":
            self.learn_closed(frame.get("closed_by"))
        elif kind == "error" and frame.get("client_id"):
            self.refused(frame["client_id"], frame.get("code", "?"))
        elif kind == "error" and frame.get("code") == "session_closed":
            self.learn_closed()  # an End Session sent again after the first one
        elif kind == "error":
            self.errors.append(f"error frame {frame.get('code')}: {raw[:200]}")

    async def talk(self, stop: asyncio.Event, low: float, high: float) -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), self.rng.uniform(low, high))
                return
            except TimeoutError:
                pass
            if self.ending or self.closed_at is not None:
                return  # the page's composer is gone once the session ended
            self.counter += 1
            text = f"{self.tag} line {self.counter} {self.rng.getrandbits(48):012x}"
            await self.submit(self.new_line(text))


class Console(Party):
    kind = "librarian"

    def __init__(
        self,
        username: str,
        librarian_id: int,
        queue_id: int,
        ports: list[int],
        rng: random.Random,
        cap: float,
        max_sessions: int,
    ) -> None:
        super().__init__(username, ports, rng, cap)
        self.librarian_id = librarian_id
        self.queue_id = queue_id
        self.max_sessions = max_sessions
        self.cookie = ""
        self.held: set[int] = set()
        self.waiting: set[int] = set()
        self.transcripts: dict[int, Transcript] = {}
        self.foreign_events: list[int] = []  # message.created of sessions not ours
        self.note_ratio = 0.2
        self.counter = 0
        self.monitoring_asked = -1
        self.accepts = 0
        self.closed: set[int] = set()  # sessions it held that it knows ended
        self.end_wanted: set[int] = set()  # sessions it is ending: no more lines into them
        # Sessions it held that ended (or left its My Active unseen) and that
        # it has not yet read to their end with session.fetch.
        self.unread_end: set[int] = set()
        self.after_end_lines = 0  # lines that reached it only through that read
        self.after_end_detail: list[str] = []

    def url(self, port: int) -> str:
        return f"ws://127.0.0.1:{port}/ws/console/"

    def headers(self) -> dict[str, str]:
        return {"Cookie": f"sessionid={self.cookie}"}

    def frame_for(self, line: SentLine) -> dict[str, Any]:
        frame = {
            "type": "message.send",
            "session": line.session,
            "text": line.text,
            "client_id": line.client_id,
        }
        if line.note:
            frame["note"] = True
        return frame

    def transcript(self, session: int) -> Transcript:
        return self.transcripts.setdefault(session, Transcript())

    def take(self, session: int, messages: list[dict[str, Any]], via: str) -> None:
        t = self.transcript(session)
        for message in messages:
            if t.add(message["seq"], message["text"], via) and not self.final_mode:
                self.live_received += 1

    async def fetch(self, session: int) -> None:
        if not self.throttled(("fetch", session)):
            await self.send({"type": "session.fetch", "session": session})

    async def resync(self) -> None:
        if not self.throttled("sync", 2.0):
            await self.send({"type": "console.sync"})

    def left_active(self, session: int) -> None:
        """A session it held is no longer in its My Active (it ended): read it to its end."""
        self.held.discard(session)
        if session not in self.closed:
            self.unread_end.add(session)

    async def read_ended(self) -> None:
        # Not the browser's way: its console keeps an ended session it heard
        # end, drops one that ended while it was away, and never reads either
        # again. The run reads each to its end once (its last lines and the
        # closing line), so that no line of an ended session goes unseen.
        for session in sorted(self.unread_end):
            if not self.throttled(("read-ended", session), 2.0):
                await self.send({"type": "session.fetch", "session": session})

    async def end(self, session: int, deadline: float) -> bool:
        """End Session on ``session``: no more lines into it; ``session.end``
        (again every 3 s) until the session is heard closed. Whether it was."""
        self.end_wanted.add(session)
        while session not in self.closed and time.monotonic() < deadline:
            due = self.ready and not self.throttled(("end", session), 3.0)
            if due and await self.send({"type": "session.end", "session": session}):
                self.end_sent.setdefault(session, time.time())
                self.end_frames += 1
            await asyncio.sleep(0.05)
        return session in self.closed

    async def on_frame(self, raw: str, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "console.snapshot":
            monitoring = any(
                q["id"] == self.queue_id and q["monitoring"] for q in frame.get("queues", [])
            )
            before = set(self.held)
            self.held = {d["id"] for d in frame.get("active", [])}
            for session in before - self.held:
                self.left_active(session)
            for detail in frame.get("active", []):
                self.take(detail["id"], detail.get("messages", []), "snapshot")
            self.waiting = {row["id"] for row in frame.get("waiting", [])}
            if not monitoring and self.monitoring_asked != self.conn:
                self.monitoring_asked = self.conn
                await self.send({"type": "monitoring.set", "queues": [self.queue_id]})
            if self.final_mode:
                self.resolve_waiter()
            if not self.ready:
                await self.flush()
            await self.read_ended()
        elif kind == "session.created":
            self.waiting.add(frame["session"]["id"])
        elif kind == "session.accepted":
            self.waiting.discard(frame["session"])
            if frame.get("librarian", {}).get("id") == self.librarian_id and "detail" in frame:
                self.held.add(frame["session"])
                self.take(frame["session"], frame["detail"].get("messages", []), "snapshot")
        elif kind == "message.created":
            self.event_times.append(time.time())
            session = frame["session"]
            if session not in self.held:
                self.foreign_events.append(session)
            self.take(session, [frame["message"]], "event")
            if frame["message"]["seq"] > self.transcript(session).high:
                self.catchups["gap"] += 1
                await self.fetch(session)  # a line went missing on the way
        elif kind == "session.detail":
            detail = frame["session"]
            session = detail["id"]
            known = set(self.transcript(session).lines)
            self.take(session, detail.get("messages", []), "snapshot")
            if detail.get("state") == "closed":
                if session in self.unread_end:
                    lines = self.transcript(session).lines
                    new = sorted(set(lines) - known)
                    self.after_end_lines += len(new)
                    self.after_end_detail += [
                        f"{self.name} s{session} seq {seq} {lines[seq][:40]!r}" for seq in new
                    ]
                self.unread_end.discard(session)
                self.closed.add(session)
                self.held.discard(session)
            elif session in self.unread_end and (detail.get("primary") or {}).get("id") == (
                self.librarian_id
            ):
                # Still its own and open: a heartbeat from before its pick-up.
                self.unread_end.discard(session)
                self.held.add(session)
        elif kind == "message.stored":
            self.acked(frame.get("client_id"), frame.get("seq"))
        elif kind == "console.heartbeat":
            listed = {int(key) for key in frame.get("active", {})}
            for session in self.held - listed:
                self.left_active(session)
            await self.read_ended()
            for key, last in frame.get("active", {}).items():
                session = int(key)
                if session not in self.held:
                    self.catchups["heartbeat"] += 1
                    await self.resync()
                elif last > self.transcript(session).high:
                    self.catchups["heartbeat"] += 1
                    await self.fetch(session)
            self.waiting |= set(frame.get("waiting", []))
        elif kind == "session.closed":
            ended = frame.get("session")
            if isinstance(ended, int):
                self.waiting.discard(ended)
                if ended in self.held or ended in self.transcripts:
                    self.left_active(ended)
                    await self.read_ended()
        elif kind == "error":
            about = frame.get("session")
            code = frame.get("code")
            if frame.get("client_id"):
                self.refused(frame["client_id"], code or "?")
            elif code in {"already_taken", "already_yours", "session_closed"}:
                if isinstance(about, int):
                    self.waiting.discard(about)
                    if code == "session_closed" and about in self.end_wanted:
                        # Its End Session sent again: the first one ended it.
                        self.left_active(about)
                        await self.read_ended()
            else:
                self.errors.append(f"error frame {code}: {raw[:200]}")

    async def pick_up(self, stop: asyncio.Event) -> None:
        """Take requests from New, up to a fair share each."""
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), self.rng.uniform(0.2, 0.8))
                return
            except TimeoutError:
                pass
            if not self.ready or not self.waiting or len(self.held) >= self.max_sessions:
                continue
            session = self.rng.choice(sorted(self.waiting))
            if not self.throttled(("accept", session), 2.0):
                self.accepts += 1
                await self.send({"type": "session.accept", "session": session})

    async def talk(self, stop: asyncio.Event, low: float, high: float) -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), self.rng.uniform(low, high))
                return
            except TimeoutError:
                pass
            writable = self.held - self.closed - self.end_wanted
            if not writable:
                continue
            session = self.rng.choice(sorted(writable))
            self.counter += 1
            note = self.rng.random() < self.note_ratio
            marker = f" {NOTE_MARKER}" if note else ""
            text = (
                f"[S{session}]{marker} {self.name} line {self.counter} "
                f"{self.rng.getrandbits(48):012x}"
            )
            await self.submit(self.new_line(text, session=session, note=note))
