"""The two sockets, spoken to through the full ASGI application (origin check, auth, routing).

A test opens real sockets on ``reference_chat.asgi.application`` and a real
channel layer (in-memory, or Redis in service mode). Events from the layer
may arrive in any order relative to direct answers, so a :class:`Socket`
keeps what it received and finds events by type.

A module of such tests imports :func:`close_sockets_left_open` (an autouse
fixture) with the helpers it uses. Below them, what the resume tests of both
sockets share: the awaitable ways to say a line, and :func:`rings_dropped`.
"""

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from accounts.models import Librarian
from chat.lines import line_store, note_line
from chat.models import ChatSession, Message
from core import events
from reference_chat.asgi import application
from shifts import services as shifts
from tests import talk
from tests.conftest import QUIET_SECONDS

TIMEOUT = 3
ORIGIN = (b"origin", b"http://127.0.0.1")
HOST = (b"host", b"127.0.0.1")
# A heartbeat period short enough for a test to wait for a few beats.
TINY_HEARTBEAT = 0.05


class Socket:
    """One browser socket: sends frames, and finds the events it expects among those received."""

    still_open: list["Socket"] = []

    def __init__(self, path: str, headers: list[tuple[bytes, bytes]]) -> None:
        self.communicator = WebsocketCommunicator(application, path, headers=headers)
        self.received: list[dict[str, Any]] = []
        self.connected = False

    async def open(self) -> tuple[bool, Any]:
        self.connected, detail = await self.communicator.connect(timeout=TIMEOUT)
        if self.connected:
            Socket.still_open.append(self)
        return self.connected, detail

    async def send(self, **frame: Any) -> None:
        await self.communicator.send_json_to(frame)

    async def send_raw(self, text: str | None = None, data: bytes | None = None) -> None:
        await self.communicator.send_to(text_data=text, bytes_data=data)

    async def _take_one(self, wait: float) -> bool:
        # receive_nothing polls without cancelling the application on timeout,
        # which receive_output would do.
        if await self.communicator.receive_nothing(timeout=wait, interval=0.005):
            return False
        self.received.append(await self.communicator.receive_json_from(timeout=TIMEOUT))
        return True

    async def expect(
        self,
        type_: str,
        *,
        where: Callable[[dict[str, Any]], bool] = lambda event: True,
        timeout: float = TIMEOUT,
        **fields: Any,
    ) -> dict[str, Any]:
        """The first event of ``type_`` with ``fields`` (and ``where``), waiting for it if need be.

        Events received meanwhile stay for later ``expect`` and ``drain`` calls.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for index, event in enumerate(self.received):
                if (
                    event["type"] == type_
                    and all(event.get(k) == v for k, v in fields.items())
                    and where(event)
                ):
                    return self.received.pop(index)
            if loop.time() > deadline:
                if self.communicator.future.done():
                    await self.communicator.future  # the consumer crashed: show why
                pytest.fail(f"no {type_} {fields} within {timeout}s; received {self.received}")
            await self._take_one(0.05)

    async def drain(self) -> list[dict[str, Any]]:
        """Everything received and not yet expected, once the socket has been quiet a moment."""
        while await self._take_one(QUIET_SECONDS):
            pass
        events, self.received = self.received, []
        return events

    async def close(self) -> None:
        if self.connected:
            self.connected = False
            Socket.still_open.remove(self)
            await self.communicator.disconnect(timeout=TIMEOUT)


@pytest.fixture(autouse=True)
async def close_sockets_left_open():
    """Each test closes its sockets; after a failed one, this does, before the database goes."""
    yield
    while Socket.still_open:
        await Socket.still_open[0].close()


def login_headers(librarian_or_user: Any) -> list[tuple[bytes, bytes]]:
    user = getattr(librarian_or_user, "user", librarian_or_user)
    client = Client()
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    return [ORIGIN, HOST, (b"cookie", cookie.encode())]


async def console_of(person: Any, *, snapshot: bool = True) -> Socket:
    """Open a console logged in as ``person`` (and take its first snapshot)."""
    socket = Socket("/ws/console/", await call(login_headers, person))
    connected, code = await socket.open()
    assert connected, f"console refused with {code}"
    if snapshot:
        await socket.expect("console.snapshot")
    return socket


async def patron_of(session: ChatSession, *, after: int | None = None) -> Socket:
    path = f"/ws/chat/{session.token}/" + (f"?after={after}" if after is not None else "")
    socket = Socket(path, [ORIGIN, HOST])
    connected, code = await socket.open()
    assert connected, f"patron socket refused with {code}"
    return socket


async def call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a piece of the synchronous world (ORM, services) from the test."""
    return await database_sync_to_async(function)(*args, **kwargs)


@database_sync_to_async
def monitor(librarian: Librarian, *queues: Any) -> None:
    shifts.monitoring_set(librarian=librarian, queue_ids=[q.pk for q in queues])


@database_sync_to_async
def reload(session: ChatSession) -> ChatSession:
    return ChatSession.objects.get(pk=session.pk)


# --- Resume: lines said meanwhile, and events that never arrive ------------------


@contextmanager
def rings_dropped() -> Iterator[None]:
    """Every event published inside the block is lost on its way to the sockets.

    The channel layer is a doorbell that may drop a ring: the lines are
    stored, nobody hears of them, which is what a Redis restart or a server
    restart between two processes does to a client.
    """
    send = events._send
    events._send = lambda event, groups: None
    try:
        yield
    finally:
        events._send = send


@database_sync_to_async
def librarian_says(session: ChatSession, librarian: Librarian, text: str) -> Message:
    """``tests.talk.librarian_says``, awaited: the line stored."""
    return talk.librarian_says(session, librarian, text)[0]


@database_sync_to_async
def patron_says(session: ChatSession, text: str) -> Message:
    """``tests.talk.patron_says``, awaited: the line stored."""
    return talk.patron_says(session, text)[0]


@database_sync_to_async
def note(session: ChatSession, librarian: Librarian, text: str) -> Message:
    """A Librarian Note, awaited: the line stored."""
    return line_store(note_line(session, text, librarian))[0]


def numbered(messages: list[dict[str, Any]]) -> list[tuple[int, str]]:
    return [(m["seq"], m["text"]) for m in messages]


def created_texts(received: list[dict[str, Any]], type_: str = "message.created") -> list[str]:
    return [e["message"]["text"] for e in received if e["type"] == type_]
