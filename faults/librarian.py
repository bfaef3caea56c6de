"""A librarian at the console, as the browser is: on /ws/console/, monitoring the run's queue.

It picks requests up from New (a fair share each), writes lines and
Librarian Notes into the sessions it holds, keeps each session's transcript
by its staff numbers, fetches what it missed, reads a session that ended to
its end once, and ends a session by sending ``session.end`` until it hears
it closed (the websocket client is ``faults.clients.Party``).
"""

import asyncio
import random
import time
from collections import Counter
from typing import Any

from faults.clients import NOTE_MARKER, Party, SentLine, Transcript

# Refusals of a pick-up that a run may meet: another console was first, a
# double send, the patron left, a tier a moment early, a maximum reached.
EXPECTED_PICK_UP_REFUSALS = frozenset(
    {"already_taken", "already_yours", "session_closed", "not_yet", "at_maximum"}
)


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
        # How many times it was told of each request (session.created):
        # once per wait, whatever its tier (faults/tiers.py).
        self.created_count: Counter[int] = Counter()

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
            self.created_count[frame["session"]["id"]] += 1
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
            elif code in EXPECTED_PICK_UP_REFUSALS:
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
