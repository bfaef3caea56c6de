"""The one way anything tells connected clients that something happened.

Services call :func:`publish` inside their transaction; the event goes out
only after the transaction commits, so no client hears of a change that was
rolled back. The channel layer is a doorbell that may drop a ring: clients
catch up from the database (snapshots and sequence numbers), never from it.
"""

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

Event = dict[str, Any]


def publish(event: Event, *groups: str) -> None:
    """Send ``event`` to each of ``groups`` after the current transaction commits.

    ``event["type"]`` is the dotted, past-tense event name the browser also
    receives (``session.accepted``); consumers forward it by the handler of
    the same name. Outside a transaction the event is sent at once.
    """
    if not groups:
        return
    transaction.on_commit(lambda: _send(event, groups), robust=True)


def _send(event: Event, groups: tuple[str, ...]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(_send_all)(layer, event, groups)
    except Exception:
        # A lost ring is recoverable (clients resync from the database);
        # failing the caller's committed write would not be.
        logger.exception("publish of %s to %d groups failed", event.get("type"), len(groups))


async def _send_all(layer: Any, event: Event, groups: tuple[str, ...]) -> None:
    for group in groups:
        await layer.group_send(group, event)
