"""Presence rows: one per open socket, named by its channel, refreshed by heartbeat.

Patron sockets (``chat.PatronPresence``) and consoles
(``shifts.ConsolePresence``) keep such rows: a process that dies takes nobody's
presence with it for longer than the grace period, because its rows simply
stop being refreshed.
"""

from collections.abc import Callable
from typing import Any

from django.db import models
from django.utils import timezone


def presence_refresh(
    model: type[models.Model], owners: dict[str, Any], reopen: Callable[[str, Any], None]
) -> None:
    """Refresh the open presence rows of these channels in one UPDATE; ``reopen``
    each channel whose row a sweep closed or removed meanwhile (rarely any).

    ``model`` has ``channel_name`` (unique), ``closed`` and ``last_seen``;
    ``owners`` maps each channel name to what ``reopen`` needs to recreate it.
    """
    if not owners:
        return
    rows = model._default_manager.filter(channel_name__in=list(owners), closed=False)
    if rows.update(last_seen=timezone.now()) == len(owners):
        return  # channel names are unique: every row was there
    there = set(rows.values_list("channel_name", flat=True))
    for channel_name, owner in owners.items():
        if channel_name not in there:
            reopen(channel_name, owner)
