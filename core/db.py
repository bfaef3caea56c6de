"""How the sockets call the database: on a small pool of threads, not one.

Channels' ``database_sync_to_async`` runs every call of a process on one
shared thread by default, so each call waits for all the others: a line's
commit, a patron's snapshot and a console's digest queue behind each other
while that thread mostly waits for PostgreSQL. Here they run on
``DATABASE_THREADS`` threads, each with its own connection from the pool;
PostgreSQL then works on several at once and commits them together. Chat
lines never queue behind the rest: on PostgreSQL the event loop stores them
itself over a connection of its own (:func:`lines_connection`), and on
SQLite, or when a line needs the ORM, on a thread of their own
(:func:`lines_call`).

Nothing relied on the one thread: a socket handles its frames one at a time
(Channels awaits each handler), the order of lines within a session is
decided by the session's row lock, and the pick-up, transfer and presence
races are decided by conditional UPDATEs, which hold across threads and
processes alike (tests/chat/test_race.py).
"""

import asyncio
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from channels.db import DatabaseSyncToAsync
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

_executor: ThreadPoolExecutor | None = None
_lines_executor: ThreadPoolExecutor | None = None


def executor() -> ThreadPoolExecutor:
    global _executor  # one pool per process, made on first use
    if _executor is None:
        _executor = ThreadPoolExecutor(
            max_workers=settings.DATABASE_THREADS, thread_name_prefix="database"
        )
    return _executor


def lines_executor() -> ThreadPoolExecutor:
    """The thread chat lines are stored on (``transcripts/writer.py``), apart
    from the other calls: a line never waits in line behind a console's
    snapshot, a heartbeat or a sweep (the benchmark's p99, docs/performance.md).
    One thread: the writer has one batch in the database at a time."""
    global _lines_executor
    if _lines_executor is None:
        _lines_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="database-lines")
    return _lines_executor


def database_call(function: Callable[..., Any]) -> Callable[..., Any]:
    """``database_sync_to_async`` on the database threads (closes old connections around it)."""
    return DatabaseSyncToAsync(function, thread_sensitive=False, executor=executor())


def lines_call(function: Callable[..., Any]) -> Callable[..., Any]:
    """:func:`database_call` on the lines' own thread."""
    return DatabaseSyncToAsync(function, thread_sensitive=False, executor=lines_executor())


# --- Lines on the event loop (PostgreSQL) ------------------------------------

_line_connections: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any]" = (
    weakref.WeakKeyDictionary()
)


def on_postgresql() -> bool:
    """Whether the database is PostgreSQL, read from the settings.

    Not from ``connections[...]``: on the event loop that would make a new
    ``DatabaseWrapper`` (with its features, operations, introspection …) for
    every task that asks, since Django keeps connections per async context.
    The benchmark found hundreds a second in the garbage collector's pauses.
    """
    engine = str(settings.DATABASES[DEFAULT_DB_ALIAS]["ENGINE"])
    return engine == "django.db.backends.postgresql"


async def lines_connection() -> Any:
    """The event loop's own PostgreSQL connection for chat lines (psycopg's
    ``AsyncConnection``, autocommit), opened on first use and again after it broke.

    Its statements are waited for by the event loop like any socket, so a
    line never waits for a thread to be scheduled or for the interpreter lock
    to come back to one (docs/performance.md). Only the writer uses it, one
    batch at a time.
    """
    import psycopg  # PostgreSQL only

    loop = asyncio.get_running_loop()
    conn = _line_connections.get(loop)
    if conn is None or conn.closed or conn.broken:
        params = connections[DEFAULT_DB_ALIAS].get_connection_params()
        params.pop("cursor_factory", None)  # Django's is synchronous
        # The few shapes of line statement are prepared on this connection
        # after a few uses: PostgreSQL then parses and plans none of them again
        # (Django's own connections leave prepared statements off).
        params["prepare_threshold"] = 5 if settings.CHAT_LINES_PREPARED else None
        conn = await psycopg.AsyncConnection.connect(**params, autocommit=True)
        _line_connections[loop] = conn
    return conn


def lines_connections_close() -> None:
    """Close every event loop's line connection (tests, between event loops)."""
    for conn in list(_line_connections.values()):
        if not conn.closed:
            conn.pgconn.finish()
    _line_connections.clear()
