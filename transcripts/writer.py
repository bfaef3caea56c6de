"""Group commit of chat lines: what the sockets of a process send at once is stored together.

A socket hands its line to :func:`post_line` (a function that makes the
line, ``transcripts.services.patron_line`` or ``librarian_line_in``) and
waits for the answer. While a batch is being stored, the lines that arrive
queue up; the next batch takes all of them (up to ``CHAT_LINE_BATCH``) in
one database call (:mod:`reference_chat.batches`) and, on PostgreSQL, one
transaction with its statements pipelined
(:func:`transcripts.services.lines_write_together`), on a database thread
of their own (``reference_chat.db.lines_call``) so that they never wait
behind snapshots, heartbeats and sweeps. An idle server stores a line at
once, alone; a busy one shares the thread hop, the round trip, the commit
and its disk flush between the lines of a batch, so the cost of a line
falls as the load rises (docs/performance.md).

Each line still gets its own answer: its stored message, or its own error
(``session_closed``, ``invalid_line`` …); one line's refusal, a retry or a
database error never fails another line of the batch. The events of the batch go
out, in the order the lines were stored, before any answer.
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings

from reference_chat.batches import Batcher
from reference_chat.db import lines_call
from transcripts.models import Message
from transcripts.services import LineWrite, lines_write_together

Build = Callable[[], LineWrite]


def _store(builds: list[Build]) -> list[Any]:
    return lines_write_together(builds)


_lines: Batcher[Build, tuple[Message, bool]] = Batcher(
    _store, runner=lines_call, size=lambda: settings.CHAT_LINE_BATCH
)


async def post_line(build: Build) -> tuple[Message, bool]:
    """Store the line ``build`` makes, with the others waiting.

    Returns what ``transcripts.services.line_write`` returns (the message,
    and False for a retry of a stored line) or raises what building or
    storing it raised; its events are sent before this returns.
    """
    return await _lines.submit(build)
