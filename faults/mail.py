"""The run's own mail server: aiosmtpd on a loopback port, in a thread of the harness.

The worker sends the transcripts here (``EMAIL_URL=smtp://127.0.0.1:PORT``).
Every message the server accepted is recorded with its Message-ID,
recipients, subject and body, so the run can tell a transcript that never
came from one that came twice.

The server takes its time before it says yes to a message (``delay``, less
than the worker's ``EMAIL_TIMEOUT``), as a real one does: that is the
moment the run kills the worker in, mid-send. A message is accepted, and
recorded, only when the server answers 250; a sender that went away before
that (the worker killed while the server waited) is counted as ``aborted``,
never as a message, as a real server drops a message whose sender hung up
before the end of DATA was acknowledged.
"""

import asyncio
import email
import email.policy
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from faults.stack import free_ports


@dataclass
class Mail:
    message_id: str
    rcpt_tos: list[str]  # the envelope's recipients
    to: str  # the To header
    subject: str
    body: str
    received_at: float  # wall clock, when the server said yes


class Recorder:
    """The aiosmtpd handler: waits a moment, then accepts and records each message."""

    def __init__(self, rng: random.Random, delay: tuple[float, float]) -> None:
        self.rng = rng
        self.delay = delay
        self.lock = threading.Lock()
        self.mails: list[Mail] = []
        self.aborted: list[tuple[str, float]] = []  # (Message-ID, when) of senders gone mid-DATA
        self.in_flight: Counter[str] = Counter()  # Message-IDs whose DATA the server holds now
        self.errors: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        try:
            message = email.message_from_bytes(raw, policy=email.policy.default)
            if not isinstance(message, EmailMessage):
                raise TypeError(f"parsed as {type(message).__name__}")
            message_id = str(message.get("Message-ID", ""))
            part = message.get_body(preferencelist=("plain",))
            body = part.get_content() if part is not None else ""
        except Exception as error:  # a harness bug or a malformed message: report it
            with self.lock:
                self.errors.append(f"{type(error).__name__}: {error}")
            return "554 Transaction failed: the harness could not read the message"
        with self.lock:
            self.in_flight[message_id] += 1
            wait = self.rng.uniform(*self.delay)
        try:
            await asyncio.sleep(wait)
        except asyncio.CancelledError:
            # aiosmtpd cancels the session's handler when the connection is
            # lost: the sender died before it heard yes.
            with self.lock:
                self.aborted.append((message_id, time.time()))
            raise
        finally:
            with self.lock:
                self.in_flight[message_id] -= 1
                if self.in_flight[message_id] <= 0:
                    del self.in_flight[message_id]
        mail = Mail(
            message_id=message_id,
            rcpt_tos=list(envelope.rcpt_tos),
            to=str(message.get("To", "")),
            subject=str(message.get("Subject", "")),
            body=body,
            received_at=time.time(),
        )
        with self.lock:
            self.mails.append(mail)
        return "250 Message accepted for delivery"

    def sending(self) -> int:
        """How many messages the server holds now, between DATA and its answer."""
        with self.lock:
            return sum(self.in_flight.values())

    def received(self) -> list[Mail]:
        with self.lock:
            return list(self.mails)


class MailServer:
    """A loopback SMTP server of the run's own (start, then stop at the end)."""

    def __init__(self, rng: random.Random, delay: tuple[float, float] = (0.3, 1.0)) -> None:
        self.port = free_ports(1)[0]
        self.recorder = Recorder(rng, delay)
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self.running = False

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller.start()
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.running = False
            self.controller.stop()
