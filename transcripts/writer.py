"""Group commit of chat lines: what the sockets of a process send at once is stored together.

A socket hands its line to :func:`post_line` (a function that makes the
line, ``transcripts.services.patron_line`` or ``librarian_line_in``) and
waits for the answer. While a batch is being stored, the lines that arrive
queue up; the next batch takes all of them (up to ``CHAT_LINE_BATCH``)
together (:mod:`reference_chat.batches`). An idle server stores a line at
once, alone; a busy one shares the round trip, the commit and its disk
flush between the lines of a batch, so the cost of a line falls as the load
rises (docs/performance.md).

On PostgreSQL a batch is stored from the event loop itself, over a
connection of its own (``reference_chat.db.lines_connection``): each line is
one statement (``transcripts.services.line_statement``), the statements of a
batch are pipelined in one transaction, and the loop waits for PostgreSQL
as it waits for any socket. A database thread would have to get the
interpreter lock back from the busy event loop at every step of every
statement, which was most of the benchmark's tail. Anything out of the
ordinary (a line refused before the database is asked, a session that may
not take it, a retry, a database error) goes the long way: the line is
stored, or refused with its reason, on the lines' database thread by
``transcripts.services.lines_write_together``, as on SQLite.

Each line still gets its own answer: its stored message, or its own error
(``session_closed``, ``invalid_line`` …); one line's refusal, a retry or a
database error never fails another line of the batch. The events of the batch go
out, in the order the lines were stored, before any answer.
"""

import logging
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.utils import timezone
from psycopg.pq import TransactionStatus

from reference_chat.batches import Batcher
from reference_chat.db import lines_call, lines_connection, lines_on_loop
from reference_chat.events import Outbox, call_service_on, send_collected
from transcripts.models import Message
from transcripts.services import (
    LineWrite,
    line_events,
    line_message,
    line_statement,
    lines_write_together,
)

logger = logging.getLogger(__name__)

Build = Callable[[], LineWrite]


class _LineBatcher(Batcher[Build, tuple[Message, bool]]):
    async def call(self, builds: list[Build]) -> Sequence[Any]:
        if lines_on_loop():
            return await lines_write_on_loop(builds)
        return await super().call(builds)


_lines = _LineBatcher(
    lambda builds: lines_write_together(builds),
    runner=lines_call,
    size=lambda: settings.CHAT_LINE_BATCH,
)


async def post_line(build: Build) -> tuple[Message, bool]:
    """Store the line ``build`` makes, with the others waiting.

    Returns what ``transcripts.services.line_write`` returns (the message,
    and False for a retry of a stored line) or raises what building or
    storing it raised; its events are sent before this returns.
    """
    return await _lines.submit(build)


async def lines_write_on_loop(builds: Sequence[Build]) -> list[Any]:
    """:func:`transcripts.services.lines_write_together` from the event loop (PostgreSQL).

    The lines that build and are stored by their statement are answered
    here; the others (refused, a retry, a session that may not take the
    line, or the whole batch after a database error) go through
    ``lines_write_together`` on the lines' database thread.
    """
    outcomes: list[Any] = [None] * len(builds)
    writes: list[tuple[int, LineWrite]] = []
    long_way: list[int] = []
    for index, build in enumerate(builds):
        try:
            writes.append((index, build()))
        except Exception:  # refused, or its refusal needs the database
            long_way.append(index)
    if writes:
        created_at = timezone.now()
        try:
            rows = await _store([line_statement(write, created_at) for _, write in writes])
        except Exception:
            logger.info("a batch of %d lines is stored the long way", len(writes))
            long_way += [index for index, _ in writes]
        else:
            outbox: Outbox = []
            for (index, write), row in zip(writes, rows, strict=True):
                if row is None:
                    long_way.append(index)
                    continue
                message = line_message(write, row, created_at)
                outbox += line_events(message, write, primary_id=row[3])
                outcomes[index] = (message, True)
            await send_collected(outbox)
    if long_way:
        long_way.sort()
        answers = await call_service_on(
            lines_call, lines_write_together, [builds[index] for index in long_way]
        )
        for index, answer in zip(long_way, answers, strict=True):
            outcomes[index] = answer
    return outcomes


async def _store(statements: list[tuple[str, list[object]]]) -> list[tuple[Any, ...] | None]:
    """Run the line statements, pipelined, in one transaction when there are
    several; each one's returned row (None: it stored nothing)."""
    conn = await lines_connection()
    try:
        if len(statements) == 1:
            cursor = conn.cursor()
            await cursor.execute(*statements[0])
            return [await cursor.fetchone()]
        async with conn.transaction():
            cursors = []
            async with conn.pipeline():
                for sql, params in statements:
                    cursor = conn.cursor()
                    await cursor.execute(sql, params)
                    cursors.append(cursor)
            return [await cursor.fetchone() for cursor in cursors]
    except BaseException:
        # Interrupted half-way (the server stopping, a lost connection), the
        # connection may be mid-statement: the next batch opens a new one.
        if conn.info.transaction_status != TransactionStatus.IDLE:
            conn.pgconn.finish()
        raise
