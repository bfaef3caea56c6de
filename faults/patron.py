"""A patron as the browser is: asks through the form, then talks on /ws/chat/<token>/.

It keeps its transcript by its own numbers, asks for what it missed on a gap
or a heartbeat ahead of it, and ends its session by sending ``session.end``
until it hears the session closed (the websocket client is
``faults.clients.Party``).
"""

import asyncio
import http.client
import random
import time
from typing import Any

from faults.clients import NOTE_MARKER, TAG, Party, SentLine, Transcript
from faults.forms import HttpError, ask


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
