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
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from accounts.models import Library
from core.hours import OpeningPeriodBase, Period, Schedule, SpecialDayBase, default_time_zone
from queues.models import Queue, QueueOpeningPeriod, QueueSpecialDay, QueueTier
from queues.tiers import Tier, tiers_of_rows


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


@dataclass(frozen=True)
class QueueHours:
    """What the patron pages (and a new request's routing) read with a queue,
    besides its own row."""

    zone: str  # IANA name of the zone its hours (and its patrons' times) are in
    schedule: Schedule | None  # None: always within hours
    libraries: tuple[Library, ...]  # the libraries it serves, by name
    tiers: tuple[Tier, ...]  # its roll-over tiers by time (queues/tiers.py)


# Each process's copy, per queue id: (the queue's page_version it was read
# at, what was read). One entry per queue, replaced when the version moves.
_copies: dict[int, tuple[int, QueueHours]] = {}


def queue_hours(queue: Queue) -> QueueHours:
    """The queue's hours, zone and libraries, read once per change of them.

    The ask form, its POST, the widget and the status API read these on
    every request; reading them means five queries and the ORM's prefetch
    machinery, about a third of an ask's CPU, all of it holding the
    interpreter lock the sockets' event loop needs (docs/performance.md).
    So each process keeps a copy keyed by the queue's ``page_version``,
    which every change to them moves in the same transaction
    (``queues/receivers.py``): a queue row read after an edit committed
    carries the new version, and its first reader reads the hours again.
    """
    copy = _copies.get(queue.pk)
    if copy is not None and copy[0] == queue.page_version:
        return copy[1]
    hours = _hours_read(queue)
    _copies[queue.pk] = (queue.page_version, hours)
    return hours


def queue_hours_forget(queue_ids: Iterable[int]) -> None:
    """Drop this process's copies (an edit here: the instance in hand may be older)."""
    for queue_id in queue_ids:
        _copies.pop(queue_id, None)


def _hours_read(queue: Queue) -> QueueHours:
    libraries = tuple(
        Library.objects.filter(queues=queue)
        .prefetch_related("opening_periods", "special_days")
        .order_by("name")
    )
    periods = list(QueueOpeningPeriod.objects.filter(queue=queue))
    special_days = list(QueueSpecialDay.objects.filter(queue=queue))
    own = bool(periods or special_days)
    zone = _time_zone(queue, libraries, own=own)
    schedule = None
    if own:
        schedule = _schedule(zone, periods, special_days)
    elif len(libraries) == 1:
        library = libraries[0]
        schedule = _schedule(
            library.time_zone, library.opening_periods.all(), library.special_days.all()
        )
    tiers = tiers_of_rows(QueueTier.objects.filter(queue=queue))
    return QueueHours(zone=zone, schedule=schedule, libraries=libraries, tiers=tiers)


def _time_zone(queue: Queue, libraries: tuple[Library, ...], *, own: bool) -> str:
    if (own or len(libraries) != 1) and queue.time_zone:
        return queue.time_zone
    if libraries:
        return libraries[0].time_zone
    return queue.time_zone or default_time_zone()


def queue_time_zone(queue: Queue) -> str:
    """The IANA name of the zone the queue's hours (and times shown to its patrons) are in."""
    return queue_hours(queue).zone


def queue_tiers(queue: Queue) -> tuple[Tier, ...]:
    """The queue's roll-over tiers, in order (its own, or the defaults)."""
    return queue_hours(queue).tiers


def queue_schedule(queue: Queue) -> Schedule | None:
    """The hours the queue keeps (the module's rule), or None: always within hours."""
    return queue_hours(queue).schedule
