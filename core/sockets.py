"""The frame handling both kinds of socket share: parse, refuse, dispatch.

A bad frame (not JSON, not an object, too big, unknown type, wrong field)
gets an ``error`` event and the socket stays open: nothing the other side
sent is lost because a client sent garbage.
"""

import asyncio
import contextlib
import functools
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import ChatError
from core.relay import reading_ensure
from core.text import text_storable

logger = logging.getLogger(__name__)

Frame = dict[str, Any]

# Close codes (4000–4999 are the application's): the browser shows why.
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404


Receive = Callable[[], Awaitable[dict[str, Any]]]

TOO_FAST = ChatError(
    "too_fast", gettext_lazy("You are sending too fast. Wait a moment and send it again.")
)


class TokenBucket:
    """A token bucket: ``burst`` at once (lines, frames), then ``rate`` a second.

    One per socket, in the socket's own memory: no database call on the
    chat path, and a patron's several tabs (sockets) each have their own.
    """

    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def take(self) -> bool:
        """Take a token if there is one: False means the frame is refused."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


async def serve(consumer: Any, scope: dict[str, Any], receive: Receive, send: Any) -> None:
    """Channels' ``AsyncConsumer.__call__``, with a lighter loop: what the
    socket receives (frames, and events from its channel) is handled one
    message at a time, in the order it came, as Channels does.

    Channels' loop (``await_many_dispatch``) makes a new task, and the
    ``asyncio.wait`` around it, for every message a socket handles; with
    thousands of sockets open, those waiting objects were most of what each
    collection of the garbage collector's young generations walked, and
    those collections were the benchmark's longest stops
    (docs/performance.md). Here each source has one task for the socket's
    life, and a lock keeps the handling one at a time.
    """
    consumer.scope = scope
    consumer.channel_layer = get_channel_layer(consumer.channel_layer_alias)
    sources = [receive]
    if consumer.channel_layer is not None:
        consumer.channel_name = await consumer.channel_layer.new_channel()
        consumer.channel_receive = functools.partial(
            consumer.channel_layer.receive, consumer.channel_name
        )
        sources.append(consumer.channel_receive)
    consumer.base_send = send
    one_at_a_time = asyncio.Lock()

    async def pump(source: Receive) -> None:
        while True:
            message = await source()
            async with one_at_a_time:
                await consumer.dispatch(message)

    pumps = [asyncio.ensure_future(pump(source)) for source in sources]
    try:
        done, _ = await asyncio.wait(pumps, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            task.result()  # StopConsumer when the socket closed, or the handler's error
    except StopConsumer:
        pass
    finally:
        for task in pumps:
            task.cancel()
        for task in pumps:
            with contextlib.suppress(asyncio.CancelledError, StopConsumer):
                await task


class ChatSocket(AsyncJsonWebsocketConsumer):
    """Base consumer: subclasses map frame types to ``actions`` and forward events."""

    # Frame type → name of the coroutine method handling it.
    actions: dict[str, str] = {}
    # The frame types that say a line: each takes a token of the socket's
    # bucket (CHAT_LINES_PER_SECOND, CHAT_LINES_BURST), or is ``too_fast``.
    line_actions: frozenset[str] = frozenset()
    # The frame types that ask for a whole snapshot: each also takes a token
    # of the snapshots' bucket (CHAT_SNAPSHOTS_BURST, _PER_MINUTE).
    snapshot_actions: frozenset[str] = frozenset()
    _bucket: TokenBucket | None = None
    _frames: TokenBucket | None = None
    _snapshots: TokenBucket | None = None

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Any) -> None:
        await serve(self, scope, receive, send)

    async def websocket_connect(self, message: dict[str, Any]) -> None:
        # In the embedded mode the worker's events come through the database.
        reading_ensure()
        await super().websocket_connect(message)

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch without its database hop.

        Channels (4.2+) runs ``close_old_connections`` on the shared sync
        thread before every message a consumer handles: every frame and
        every forwarded event waited in line behind the database work of all
        sockets (the benchmark's profiles, docs/performance.md). These
        consumers reach the database only through ``database_call``,
        which closes old connections itself before and after each call.
        """
        await relay_dispatch(self, message)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None:
            await self.send_json(ChatError("bad_frame", _("Frames must be JSON text.")).as_event())
            return
        if len(text_data.encode()) > settings.CHAT_MAX_FRAME_BYTES:
            await self.send_json(
                ChatError("frame_too_large", _("That frame is too large.")).as_event()
            )
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            await self.send_json(
                ChatError("bad_frame", _("That frame is not valid JSON.")).as_event()
            )
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self.send_json(
                ChatError("bad_frame", _('A frame is a JSON object with a "type".')).as_event()
            )
            return
        ref = frame.get("ref")
        ref = ref if isinstance(ref, str | int) else None
        action_name = self.actions.get(frame["type"])
        if action_name is None:
            await self.send_json(
                ChatError(
                    "unknown_type", _("Unknown frame type %(type)r.") % {"type": frame["type"][:40]}
                ).as_event(ref=ref)
            )
            return
        action: Callable[[Frame], Awaitable[None]] = getattr(self, action_name)
        try:
            if frame["type"] in self.line_actions:
                if not self._line_allowed():
                    raise TOO_FAST  # nothing is stored; the client keeps the line
            elif not self._frame_allowed(frame["type"]):
                raise TOO_FAST  # nothing is done: a flood of frames costs no database work
            await action(frame)
        except ChatError as error:
            extra = {"ref": ref} if ref is not None else {}
            if "session" in frame and isinstance(frame["session"], int):
                extra["session"] = frame["session"]
            if isinstance(frame.get("client_id"), str):
                extra["client_id"] = frame["client_id"]
            await self.send_json(error.as_event(**extra))

    def _line_allowed(self) -> bool:
        if self._bucket is None:
            self._bucket = TokenBucket(settings.CHAT_LINES_PER_SECOND, settings.CHAT_LINES_BURST)
        return self._bucket.take()

    def _frame_allowed(self, frame_type: str) -> bool:
        """Any other frame: the frames' bucket, and a snapshot's its own too.

        The pages send a few frames a minute besides their lines (at most
        one typing signal per 3.2 s, a snapshot at most every 2 s), so only
        a careless or hostile client meets these; without them one socket
        could keep the database threads busy with snapshots for everyone.
        """
        if self._frames is None:
            self._frames = TokenBucket(settings.CHAT_FRAMES_PER_SECOND, settings.CHAT_FRAMES_BURST)
        if not self._frames.take():
            return False
        if frame_type not in self.snapshot_actions:
            return True
        if self._snapshots is None:
            self._snapshots = TokenBucket(
                settings.CHAT_SNAPSHOTS_PER_MINUTE / 60, settings.CHAT_SNAPSHOTS_BURST
            )
        return self._snapshots.take()

    async def forward(self, event: dict[str, Any]) -> None:
        """Send a published event to the browser as it is."""
        await self.send_json(event)

    async def send_beat(self, frame: dict[str, Any]) -> None:
        """Send a heartbeat frame; a socket that can't take it is only logged
        (the ticker beats the others regardless)."""
        try:
            await self.send_json(frame)
        except Exception:
            logger.exception("heartbeat frame %s not sent", frame["type"])


async def relay_dispatch(consumer: Any, message: dict[str, Any]) -> None:
    """Call the consumer's handler for ``message`` (Channels' dispatch, minus the hop)."""
    handler = getattr(consumer, get_handler_name(message), None)
    if handler is None:
        raise ValueError(f"No handler for message type {message['type']}")
    await handler(message)


def frame_str(frame: Frame, key: str, *, required: bool = True, max_len: int = 200) -> str | None:
    value = frame.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or len(value) > max_len:
        raise ChatError("bad_frame", _('"%(key)s" must be a string.') % {"key": key})
    return value


def frame_int(frame: Frame, key: str) -> int:
    value = frame.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ChatError("bad_frame", _('"%(key)s" must be a number.') % {"key": key})
    return value


def frame_text(frame: Frame) -> str:
    """A line's text: any string here; its length and emptiness are ``invalid_line`` later."""
    value = frame.get("text")
    if not isinstance(value, str):
        raise ChatError("bad_frame", _('"%(key)s" must be a string.') % {"key": "text"})
    return value


def frame_client_id(frame: Frame) -> str | None:
    """The sender's id for a line (a UUID); a retry with the same id stores nothing new.

    It is stored with the line, so one no database can store is refused.
    """
    client_id = frame_str(frame, "client_id", required=False, max_len=64)
    if client_id is not None and not text_storable(client_id):
        raise ChatError("bad_frame", _('"%(key)s" must be printable text.') % {"key": "client_id"})
    return client_id
