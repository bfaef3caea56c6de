"""Group commit of chat lines: what the sockets of a process send at once is stored together.

A socket hands its line to :func:`post_line` (a function that makes the
line: ``chat.lines.patron_line`` or ``librarian_line``) and waits for the
answer. While a batch is being stored, the lines that arrive queue up; the
next batch takes all of them (up to ``CHAT_LINE_BATCH``) together
(:mod:`core.batches`). An idle server stores a line at once,
alone; a busy one shares the round trip, the commit and its disk flush
between the lines of a batch, so the cost of a line falls as the load rises
(docs/performance.md).

Where a batch is stored is the only choice made here; how a line is stored
is ``chat.lines`` alone:

- PostgreSQL: from the event loop itself, over a connection of its own
  (``core.db.lines_connection``): each line is its one statement
  (``chat.line_sql.line_statement``), the statements of a batch pipelined
  in one transaction, and the loop waits for PostgreSQL as it waits for any
  socket. A database thread would have to get the interpreter lock back
  from the busy event loop at every step of every statement, which was most
  of the benchmark's tail. A line whose statement stored nothing (a session
  that may not take it, a retry), one refused in a way only the database
  can tell, and a batch that failed go the long way: ``chat.lines.line_store``
  on the lines' database thread, which finds the stored line or the reason.
- SQLite: every batch goes that way.

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

from chat.line import LineWrite
from chat.line_sql import line_statement
from chat.lines import line_events, line_message, line_store
from chat.models import Message
from core.batches import Batcher
from core.db import lines_call, lines_connection, on_postgresql
from core.events import Outbox, call_service_on, send_collected_by_group

logger = logging.getLogger(__name__)

Build = Callable[[], LineWrite]
Outcome = tuple[Message, bool] | BaseException


def lines_store_one_by_one(writes: Sequence[LineWrite]) -> list[Outcome]:
    """Store each line on its own (:func:`chat.lines.line_store`); for each,
    its answer or the exception that answers it alone."""
    outcomes: list[Outcome] = []
    for write in writes:
        try:
            outcomes.append(line_store(write))
        except Exception as error:  # the line's own answer
            outcomes.append(error)
    return outcomes


class _LineBatcher(Batcher[LineWrite, tuple[Message, bool]]):
    async def call(self, writes: list[LineWrite]) -> Sequence[Outcome]:
        if on_postgresql():
            return await lines_store_on_loop(writes)
        return await super().call(writes)


_lines = _LineBatcher(
    lines_store_one_by_one, runner=lines_call, size=lambda: settings.CHAT_LINE_BATCH
)


async def post_line(build: Build) -> tuple[Message, bool]:
    """Store the line ``build`` makes, with the others waiting.

    Returns what ``chat.lines.line_store`` returns (the message, and False
    for a retry of a stored line) or raises what building or storing it
    raised; its events are sent before this returns. ``build`` touches no
    database: a line it refuses is answered at once.
    """
    return await _lines.submit(build())


async def lines_store_on_loop(writes: Sequence[LineWrite]) -> list[Outcome]:
    """Store a batch from the event loop (PostgreSQL), pipelined in one transaction.

    The lines their statement stored are answered here; the others (refused
    in a way only the database can tell, a retry, a session that may not
    take the line, or the whole batch after a database error) go through
    :func:`lines_store_one_by_one` on the lines' database thread.
    """
    outcomes: list[Any] = [None] * len(writes)
    on_loop = [(index, write) for index, write in enumerate(writes) if write.refused is None]
    long_way = [index for index, write in enumerate(writes) if write.refused is not None]
    if on_loop:
        created_at = timezone.now()
        try:
            rows = await _store([line_statement(write, created_at) for _, write in on_loop])
        except Exception:
            logger.info("a batch of %d lines is stored the long way", len(on_loop))
            long_way += [index for index, _ in on_loop]
        else:
            outbox: Outbox = []
            for (index, write), row in zip(on_loop, rows, strict=True):
                if row is None:
                    long_way.append(index)
                    continue
                message = line_message(write, row, created_at)
                outbox += line_events(message, write, primary_id=row[3], team=row[4])
                outcomes[index] = (message, True)
            await send_collected_by_group(outbox)
    if long_way:
        long_way.sort()
        answers = await call_service_on(
            lines_call, lines_store_one_by_one, [writes[index] for index in long_way]
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
