"""Events from the worker to the sockets, in the embedded mode.

In service mode every process shares the Redis channel layer, and the
worker publishes to it like any web process. In the embedded mode the
channel layer is the web process's memory, which the worker can't reach: the
worker writes each event it publishes as a :class:`RelayedEvent` row in the
transaction that caused it (``core.events.publish``), and the web
process reads the new rows a few
times a second and sends them on. The decision (a sweep, an expiry) is
still the worker's; the web process only passes the doorbell on. Clients
catch up from the database anyway if a ring is lost.
"""

import asyncio
import logging
import weakref
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from core.db import database_call
from core.events import in_memory_layer, send_collected
from core.models import RelayedEvent

logger = logging.getLogger(__name__)

# Relayed events are kept this long, then pruned by the worker.
KEPT_SECONDS = 60


def relayed_events_prune() -> int:
    """Remove relayed events older than a minute (the worker's schedule). Returns how many."""
    deleted, _ = RelayedEvent.objects.filter(
        created_at__lt=timezone.now() - timedelta(seconds=KEPT_SECONDS)
    ).delete()
    return deleted


def _newest_id() -> int:
    return RelayedEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _after(last_id: int) -> list[tuple[int, dict[str, Any], list[str]]]:
    return list(
        RelayedEvent.objects.filter(pk__gt=last_id)
        .order_by("pk")
        .values_list("pk", "event", "groups")[:500]
    )


_readers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[None]]" = (
    weakref.WeakKeyDictionary()
)


def reading_ensure() -> None:
    """Start this web process's reader of relayed events, once (embedded mode only)."""
    if not in_memory_layer() or settings.RELAY_READ_SECONDS <= 0:
        return
    loop = asyncio.get_running_loop()
    task = _readers.get(loop)
    if task is None or task.done():
        _readers[loop] = loop.create_task(_read_forever())


async def _read_forever() -> None:
    last_id = await database_call(_newest_id)()
    while True:
        await asyncio.sleep(settings.RELAY_READ_SECONDS)
        try:
            rows = await database_call(_after)(last_id)
        except Exception:
            logger.exception("relayed events could not be read")
            continue
        if rows:
            last_id = rows[-1][0]
            await send_collected([(event, tuple(groups)) for _, event, groups in rows])


async def reading_stop() -> None:
    """Stop this event loop's reader (tests, before their event loop ends)."""
    task = _readers.pop(asyncio.get_running_loop(), None)
    if task is not None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
