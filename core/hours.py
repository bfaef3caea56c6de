"""Opening hours: weekly periods, special days, and when they are open, in a time zone.

Pure rules and the abstract rows both libraries (``accounts``) and queues
(``queues``) keep their hours in. Local wall-clock times are what a library
publishes ("9:00 to 21:00"), so every check converts *now* to the zone's
local time and compares there: a daylight-saving change moves the UTC
instant of 9:00, never 9:00 itself. A local time that does not exist on a
spring-forward day (2:30 in a 2:00→3:00 gap) is read as the instant after
the gap, as a clock on the wall would show it.
"""

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

# How far ahead the next opening is looked for: a year of special days
# closing everything is as far as any library plans.
LOOKAHEAD_DAYS = 400

Period = tuple[time, time]
# A day with no weekly periods at all in a schedule that has none: open all day.
ALL_DAY: Period = (time(0), time.max)


def default_time_zone() -> str:
    """The server's zone (``TIME_ZONE``): where a new library's hours are."""
    return str(settings.TIME_ZONE)


def validate_time_zone(name: str) -> None:
    """Refuse a zone name zoneinfo does not know ("America/Chicago" is one)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            "%(name)s is not a time zone name. Use an IANA name such as America/Chicago "
            "or Europe/Berlin.",
            code="time_zone",
            params={"name": name},
        ) from None


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(available_timezones())]


def closes_before_opens(opens: time, closes: time) -> str:
    return f"Closes ({closes:%H:%M}) must be after opens ({opens:%H:%M})."


class Weekday(models.IntegerChoices):
    # datetime.date.weekday()'s numbering.
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class OpeningPeriodBase(models.Model):
    """One period of the weekly hours: on ``weekday``, from ``opens`` to ``closes`` (local).

    A weekday with no period is a closed day. Periods of one day may not
    overlap (the admin's formset refuses that; see ``periods_overlap``).
    """

    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField(help_text="Local time, such as 9:00.")
    closes = models.TimeField(help_text="Local time, such as 17:30. Before midnight.")

    class Meta:
        abstract = True
        ordering = ["weekday", "opens"]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"

    def clean(self) -> None:
        if self.opens is not None and self.closes is not None and self.closes <= self.opens:
            raise ValidationError({"closes": closes_before_opens(self.opens, self.closes)})


class SpecialDayBase(models.Model):
    """A holiday or exception: ``date`` closed all day, or open only ``opens``–``closes``."""

    date = models.DateField()
    name = models.CharField(max_length=100, blank=True, help_text="Such as Thanksgiving.")
    opens = models.TimeField(null=True, blank=True, help_text="Empty: closed all day.")
    closes = models.TimeField(null=True, blank=True, help_text="Empty: closed all day.")

    class Meta:
        abstract = True
        ordering = ["date"]

    def __str__(self) -> str:
        if self.opens is None:
            return f"{self.date:%Y-%m-%d} closed"
        return f"{self.date:%Y-%m-%d} {self.opens:%H:%M}–{self.closes:%H:%M}"

    def clean(self) -> None:
        if (self.opens is None) != (self.closes is None):
            raise ValidationError(
                "Give both opens and closes for special hours, or neither for a day closed all day."
            )
        if self.opens is not None and self.closes is not None and self.closes <= self.opens:
            raise ValidationError({"closes": closes_before_opens(self.opens, self.closes)})


def periods_overlap(periods: Iterable[Period]) -> tuple[Period, Period] | None:
    """The first two periods (of one day) that overlap, or None. Touching is not overlapping."""
    ordered = sorted(periods)
    for earlier, later in itertools.pairwise(ordered):
        if later[0] < earlier[1]:
            return earlier, later
    return None


@dataclass(frozen=True)
class Schedule:
    """Hours in one zone: weekly periods by weekday, and special days by date.

    A special day replaces its weekday's periods (an empty tuple: closed all
    day). A schedule with no weekly periods at all is open all day on every
    day that is not a special day.
    """

    zone: ZoneInfo
    weekly: Mapping[int, Sequence[Period]] = field(default_factory=dict)
    special: Mapping[date, Sequence[Period]] = field(default_factory=dict)
    names: Mapping[date, str] = field(default_factory=dict)  # a special day's name, if any

    def periods_on(self, day: date) -> Sequence[Period]:
        if day in self.special:
            return self.special[day]
        if not any(self.weekly.values()):
            return (ALL_DAY,)
        return self.weekly.get(day.weekday(), ())

    def is_special(self, day: date) -> bool:
        return day in self.special


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The instant a wall clock in ``zone`` shows ``at`` on ``day`` (a gap's time: just after)."""
    naive = datetime.combine(day, at)
    aware = naive.replace(tzinfo=zone)
    # Round trip through UTC: a time in a spring-forward gap comes back moved
    # past the gap, a real one comes back unchanged.
    return aware.astimezone(UTC).astimezone(zone)


def schedule_is_within(schedule: Schedule, now: datetime) -> bool:
    """Whether ``now`` (aware) is inside one of the day's periods, in the schedule's zone."""
    local = now.astimezone(schedule.zone)
    at = local.time().replace(tzinfo=None)
    return any(opens <= at < closes for opens, closes in schedule.periods_on(local.date()))


def schedule_next_opening(schedule: Schedule, now: datetime) -> datetime | None:
    """The next instant after ``now`` when a period begins (aware, in the zone), or None.

    None when no period begins within ``LOOKAHEAD_DAYS`` (hours with every
    day closed).
    """
    local = now.astimezone(schedule.zone)
    for offset in range(LOOKAHEAD_DAYS):
        day = local.date() + timedelta(days=offset)
        for opens, _closes in sorted(schedule.periods_on(day)):
            start = _local(day, opens, schedule.zone)
            if start > now:
                return start
    return None
