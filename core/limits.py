"""Counting hits against a limit, shared by every process (the cache).

A limit is so many hits per key (a client address's hash) per window of
time. The count lives in the cache (``CACHES``: Redis, or a table in the
database), never in a process's memory, so it holds however many processes
serve. Windows are fixed (the hour since the epoch's last whole hour, for an
hourly limit), each counted under a key of its own.

On Redis the count is one INCR, so two processes counting at once never
lose a hit. On the database cache the read and the write run in one
transaction; SQLite's transactions take the write lock at BEGIN here
(``transaction_mode=IMMEDIATE``), so two writers queue instead of both
reading the same count.
"""

import time

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction


def limit_take(*, scope: str, key: str, limit: int, window: int) -> bool:
    """Count one hit of ``scope`` by ``key``; False once there were more than
    ``limit`` in this window of ``window`` seconds (the hit counts anyway).
    A ``limit`` of 0 or less is no limit."""
    if limit <= 0:
        return True
    cache = caches["default"]
    name = f"limit:{scope}:{key}:{int(time.time() // window)}"
    if isinstance(cache, RedisCache):
        cache.add(name, 0, timeout=window)
        try:
            count = cache.incr(name)
        except ValueError:  # the window's key expired between the two calls
            cache.set(name, 1, timeout=window)
            count = 1
    else:
        with transaction.atomic():
            count = int(cache.get(name, 0)) + 1
            cache.set(name, count, timeout=window)
    return count <= limit
