"""Which hours a queue keeps, and in which zone: the one place that decides.

- A queue with hours of its own (any weekly period or special day of its
  own) keeps them, in its ``time_zone`` (empty: its first library's zone,
  by name). This is how a cooperative queue has hours.
- Otherwise a queue of one library keeps that library's hours, in the
  library's zone.
- Otherwise (a cooperative queue without hours of its own, or nobody has
  set hours anywhere) there are no hours: always within hours, as before
  hours existed.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from zoneinfo import ZoneInfo

from accounts.models import Library
from core.hours import OpeningPeriodBase, Period, Schedule, SpecialDayBase, default_time_zone
from queues.models import Queue

# What a queue's hours are read from: prefetched with the queues, availability
# reads no hours with a query of its own.
HOURS_PREFETCH = [
    "libraries",
    "libraries__opening_periods",
    "libraries__special_days",
    "opening_periods",
    "special_days",
]


def _schedule(
    zone: str, periods: Iterable[OpeningPeriodBase], special_days: Iterable[SpecialDayBase]
) -> Schedule | None:
    weekly: dict[int, list[Period]] = defaultdict(list)
    for period in periods:
        weekly[period.weekday].append((period.opens, period.closes))
    special: dict[date, tuple[Period, ...]] = {}
    names: dict[date, str] = {}
    for day in special_days:
        if day.name:
            names[day.date] = day.name
        if day.opens is not None and day.closes is not None:
            special[day.date] = ((day.opens, day.closes),)
        else:
            special[day.date] = ()
    if not weekly and not special:
        return None
    return Schedule(zone=ZoneInfo(zone), weekly=dict(weekly), special=special, names=names)


def _libraries(queue: Queue) -> list[Library]:
    # Sorted here rather than in SQL so that a prefetched list serves.
    return sorted(queue.libraries.all(), key=lambda library: library.name)


def queue_time_zone(queue: Queue) -> str:
    """The IANA name of the zone the queue's hours (and times shown to its patrons) are in."""
    libraries = _libraries(queue)
    # .all(), not .exists(): a prefetched list serves.
    own = bool(list(queue.opening_periods.all())) or bool(list(queue.special_days.all()))
    if (own or len(libraries) != 1) and queue.time_zone:
        return queue.time_zone
    if libraries:
        return libraries[0].time_zone
    return queue.time_zone or default_time_zone()


def queue_schedule(queue: Queue) -> Schedule | None:
    """The hours the queue keeps (the module's rule), or None: always within hours."""
    periods = list(queue.opening_periods.all())
    special_days = list(queue.special_days.all())
    if periods or special_days:
        return _schedule(queue_time_zone(queue), periods, special_days)
    libraries = _libraries(queue)
    if len(libraries) == 1:
        library = libraries[0]
        return _schedule(
            library.time_zone, library.opening_periods.all(), library.special_days.all()
        )
    return None
