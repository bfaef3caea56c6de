"""The one way anything tells connected clients that something happened.

Services call :func:`publish` inside their transaction; the event goes out
only after the transaction commits, so no client hears of a change that was
rolled back. The channel layer is a doorbell that may drop a ring: clients
catch up from the database (snapshots and sequence numbers), never from it.

Consumers call services through :func:`call_service`: the events a call
commits are collected on the database thread and sent from the event loop
once the call has returned, so the one thread Channels runs every database
call on never waits for the channel layer. Anywhere else (views, management
commands, tests calling a service directly) an event is sent by the thread
that commits it, as soon as it commits.

The worker, in the embedded mode (the channel layer in the web process's
memory), hands its events to the web process through the database instead
(:mod:`core.relay`).
"""

import asyncio
import logging
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

from core.db import database_call
from core.models import RelayedEvent

logger = logging.getLogger(__name__)

Event = dict[str, Any]
Outbox = list[tuple[Event, tuple[str, ...]]]

P = ParamSpec("P")
R = TypeVar("R")

# Set on the database thread for the length of one call_service call: the
# committed events of that call, in the order their transactions committed.
_outbox: ContextVar[Outbox | None] = ContextVar("reference_chat_events_outbox", default=None)

# Set by a process that serves no sockets and can't reach the web process's
# in-memory channel layer (the worker, embedded mode): events are relayed.
_relayed = False


def in_memory_layer() -> bool:
    """Whether the channel layer lives in one process's memory (the embedded mode)."""
    backend = str(settings.CHANNEL_LAYERS["default"]["BACKEND"])
    return backend.endswith("InMemoryChannelLayer")


def relay_through_database() -> None:
    """From now on this process's events reach the sockets through the
    database (:mod:`core.relay`): the worker, in the embedded mode."""
    global _relayed
    _relayed = True


def publish(event: Event, *groups: str) -> None:
    """Send ``event`` to each of ``groups`` after the current transaction commits.

    ``event["type"]`` is the dotted, past-tense event name the browser also
    receives (``session.accepted``); consumers forward it by the handler of
    the same name. Outside a transaction the event is sent at once (inside a
    :func:`call_service` call: as soon as the call returns).
    """
    if not groups:
        return
    if _relayed:
        # A row in the same transaction: it commits, or rolls back, with the change.
        RelayedEvent.objects.create(event=event, groups=list(groups))
        return
    outbox = _outbox.get()
    if outbox is not None:
        transaction.on_commit(lambda: outbox.append((event, groups)), robust=True)
    else:
        transaction.on_commit(lambda: _send(event, groups), robust=True)


async def call_service(function: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """Run a service (any synchronous function) from a consumer, and send what it published.

    The function runs on the database threads (:mod:`core.db`) like
    any database call; the events of the transactions it committed are then sent from the
    event loop, in order, to the same groups. A transaction that rolled back
    sends nothing; when the function raises, what it committed before still
    goes out. A lost ring is logged: it never fails the caller.
    """
    return await call_service_on(database_call, function, *args, **kwargs)


async def call_service_on(
    runner: Callable[[Callable[..., Any]], Callable[..., Any]],
    function: Callable[P, R],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> R:
    """:func:`call_service` on the threads of ``runner`` (``core.db``'s
    ``database_call`` or ``lines_call``)."""
    outbox: Outbox = []
    try:
        return await runner(_collecting)(outbox, function, *args, **kwargs)
    finally:
        if outbox:
            await send_collected(outbox)


def _collecting(
    outbox: Outbox, function: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs
) -> R:
    if transaction.get_connection().in_atomic_block:
        # A transaction opened before this call commits after it returns: its
        # events must wait for that commit, as they always did.
        return function(*args, **kwargs)
    token = _outbox.set(outbox)
    try:
        return function(*args, **kwargs)
    finally:
        _outbox.reset(token)


def _send(event: Event, groups: tuple[str, ...]) -> None:
    """Send one committed event from a synchronous thread (no event loop of its own)."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(_send_all)(layer, event, groups)
    except Exception:
        # A lost ring is recoverable (clients resync from the database);
        # failing the caller's committed write would not be.
        _log_lost(event, groups)


async def send_collected(outbox: Outbox) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for event, groups in outbox:
        try:
            await _send_all(layer, event, groups)
        except Exception:
            _log_lost(event, groups)


async def send_collected_by_group(outbox: Outbox) -> None:
    """:func:`send_collected`, each group's events in order and the groups at
    once: one Redis round trip's wait for a line's two events, not two.

    Only for events of which no client is in two of the groups (a chat
    line's: the librarian's consoles and the patron's tabs), since the order
    between two groups is given up.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    by_group: dict[str, list[Event]] = {}
    for event, groups in outbox:
        for group in groups:
            by_group.setdefault(group, []).append(event)
    await asyncio.gather(*(_send_each(layer, group, events) for group, events in by_group.items()))


async def _send_each(layer: Any, group: str, events: list[Event]) -> None:
    for event in events:
        try:
            await layer.group_send(group, event)
        except Exception:
            _log_lost(event, (group,))


async def _send_all(layer: Any, event: Event, groups: tuple[str, ...]) -> None:
    for group in groups:
        await layer.group_send(group, event)


def _log_lost(event: Event, groups: tuple[str, ...]) -> None:
    logger.exception("publish of %s to %d groups failed", event.get("type"), len(groups))
