"""Reads that only the REST API needs. Everything else comes from ``queues.selectors``."""

import re
from datetime import datetime
from typing import Any

from chat.availability import Availability, queue_availability
from queues.models import Queue
from queues.selectors import open_queues

# A queue's slug (a SlugField of 60).
SLUG = re.compile(r"[-a-zA-Z0-9_]{1,60}")


def status_of(queue: Queue, *, now: datetime | None = None) -> dict[str, Any]:
    """A queue with its availability: what the status serializers read."""
    availability: Availability = queue_availability(queue, now=now)
    return {"queue": queue, "availability": availability}


def queue_status() -> list[dict[str, Any]]:
    """Every queue that takes requests (not switched off), by name, with its availability."""
    queues = open_queues().order_by("name")
    return [status_of(queue) for queue in queues]


def status_one(slug: str) -> dict[str, Any] | None:
    """One queue by slug (switched off or not), with its availability; None if none has it."""
    # What no slug can be is no queue's, and is not worth a query (one with a
    # NUL in it is an error on PostgreSQL).
    if not SLUG.fullmatch(slug):
        return None
    queue = Queue.objects.filter(slug=slug).first()
    return status_of(queue) if queue is not None else None
