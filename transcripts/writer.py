"""Group commit: the lines a process's sockets send at the same moment are stored together.

A socket hands its line to :func:`post_line` (a function that makes the
line, ``transcripts.services.patron_line`` or ``librarian_line_in``) and
waits for the answer. While a batch is being stored, the lines that arrive
queue up; the next batch takes all of them (up to ``CHAT_LINE_BATCH``) in
one database call and, on PostgreSQL, one transaction with its statements
pipelined (:func:`transcripts.services.lines_write_together`), on a
database thread of their own (``reference_chat.db.lines_call``) so that
they never wait behind snapshots, heartbeats and sweeps. An idle server
stores a line at once, alone; a busy one shares the thread hop, the round
trip, the commit and its disk flush between the lines of a batch, so the
cost of a line falls as the load rises (docs/performance.md).

Each line still gets its own answer: its stored message, or its own error
(``session_closed``, ``invalid_line`` …); one line's refusal, a retry or a
database error never fails another line of the batch. The events of the batch go
out, in the order the lines were stored, before any answer.
"""

import asyncio
import weakref
from collections.abc import Callable
from typing import Any

from django.conf import settings

from reference_chat.db import lines_call
from reference_chat.events import call_service_on
from transcripts.models import Message
from transcripts.services import LineWrite, lines_write_together

Build = Callable[[], LineWrite]


class _Writer:
    """The batches of one event loop: at most one in the database at a time."""

    def __init__(self) -> None:
        self.waiting: list[tuple[Build, asyncio.Future[Any]]] = []
        self.task: asyncio.Task[None] | None = None

    async def drain(self) -> None:
        while self.waiting:
            size = settings.CHAT_LINE_BATCH
            batch, self.waiting = self.waiting[:size], self.waiting[size:]
            try:
                outcomes = await call_service_on(
                    lines_call, lines_write_together, [build for build, _ in batch]
                )
            except BaseException as error:  # the call itself failed: every line hears it
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                if isinstance(error, asyncio.CancelledError):
                    raise
                continue
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():  # the socket went away meanwhile; its client resends
                    continue
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)


_writers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Writer]" = (
    weakref.WeakKeyDictionary()
)


async def post_line(build: Callable[[], LineWrite]) -> tuple[Message, bool]:
    """Store the line ``build`` makes, with the others waiting.

    Returns what ``transcripts.services.line_write`` returns (the message,
    and False for a retry of a stored line) or raises what building or
    storing it raised; its events are sent before this returns.
    """
    loop = asyncio.get_running_loop()
    writer = _writers.get(loop)
    if writer is None:
        writer = _writers[loop] = _Writer()
    future: asyncio.Future[tuple[Message, bool]] = loop.create_future()
    writer.waiting.append((build, future))
    if writer.task is None or writer.task.done():
        writer.task = loop.create_task(writer.drain())
    return await future
