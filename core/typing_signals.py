"""Typing indicators: "Alice is typing…", said from one socket to the other side.

A typing signal is never stored and never carries text: the frame names no
more than who types (the socket) and, for a console, in which session. It
goes straight to the other side's group on the channel layer (no
transaction, so nothing to publish after), and a ring lost on the way costs
nothing: the indicator it would have shown fades by itself in a few seconds.

Each socket lets through at most one ``typing.started`` per
``TYPING_EVENT_SECONDS`` (per session, for a console), and a
``typing.stopped`` only after a ``typing.started`` it let through; every
other typing frame is dropped without an answer, so a client that sends one
per keystroke floods nobody. Like the line bucket, the gate lives with the
socket, in its server process (docs/protocol.md, "Typing").
"""

import logging
import time
from typing import Any

from django.conf import settings

from core.errors import ChatError
from core.sockets import Frame

logger = logging.getLogger(__name__)

# A console names the session it types in; it keeps a gate for each, up to
# this many (a console holds a few sessions; a client naming thousands of
# ids gets no more gates, and its frames are dropped).
MAX_GATES = 64


def typing_frame_started(frame: Frame) -> bool:
    """Whether a ``typing`` frame says started (``state`` absent or
    ``"started"``) or stopped (``"stopped"``); any other state is a bad frame."""
    state = frame.get("state", "started")
    if state not in ("started", "stopped"):
        raise ChatError("bad_frame", '"state" must be "started" or "stopped".')
    return state == "started"


def typing_event_type(*, started: bool) -> str:
    return "typing.started" if started else "typing.stopped"


class TypingGate:
    """One sender's typing signals: a start at most every ``TYPING_EVENT_SECONDS``,
    a stop only after a start that went through."""

    __slots__ = ("last_started", "typing")

    def __init__(self) -> None:
        self.last_started = float("-inf")
        self.typing = False

    def let_through(self, *, started: bool, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        if not started:
            was, self.typing = self.typing, False
            return was
        if now - self.last_started < settings.TYPING_EVENT_SECONDS:
            return False
        self.last_started, self.typing = now, True
        return True

    def idle(self, now: float) -> bool:
        """Whether forgetting this gate changes nothing: no start within the window."""
        return not self.typing and now - self.last_started >= settings.TYPING_EVENT_SECONDS


class TypingGates:
    """A console's gates, one per session it types in (at most ``MAX_GATES``)."""

    __slots__ = ("gates",)

    def __init__(self) -> None:
        self.gates: dict[int, TypingGate] = {}

    def let_through(self, key: int, *, started: bool) -> bool:
        now = time.monotonic()
        gate = self.gates.get(key)
        if gate is None:
            if len(self.gates) >= MAX_GATES:
                self.gates = {k: g for k, g in self.gates.items() if not g.idle(now)}
                if len(self.gates) >= MAX_GATES:
                    return False
            gate = self.gates[key] = TypingGate()
        return gate.let_through(started=started, now=now)


async def typing_send(layer: Any, group: str, event: dict[str, Any]) -> None:
    """Send a typing event to ``group`` now; a lost ring is only logged."""
    try:
        await layer.group_send(group, event)
    except Exception:
        logger.warning("typing event %s not sent", event["type"], exc_info=True)
