"""Is chat available: the one rule the widget, /ask/ and the status API all use.

A queue is

- ``closed`` when switched off (``Queue.is_open`` false: ``switched_off``),
  outside its hours (``outside_hours``, or ``holiday`` on a special day;
  ``queues.hours`` says whose hours and in which zone), or when nobody
  monitors it but librarians who are Away (``unstaffed``);
- ``busy`` when it is within hours and staffed, but no librarian
  monitoring it can take a chat: each is Busy, or at their maximum of
  active chats (their own, or the queue's ``busy_at``; counted over every
  queue: a librarian's capacity is theirs, not a queue's: ``chat/load.py``);
- ``open`` otherwise (``staffed``).

``next_opening`` is given only when hours close the queue: it is when they
next begin, which a patron can plan on. Nobody monitoring has no such time.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import formats, timezone
from django.utils.translation import gettext, pgettext

from accounts.models import Librarian
from chat.load import Load
from chat.models import ChatSession
from chat.roster import with_active_count
from core.hours import ALL_DAY, Schedule, schedule_is_within, schedule_next_opening
from core.zones import zone_label
from queues.hours import queue_schedule, queue_time_zone
from queues.models import Queue
from queues.selectors import monitors_of

OPEN = "open"
BUSY = "busy"
CLOSED = "closed"
STATES = [OPEN, BUSY, CLOSED]
REASONS = ["staffed", "all_busy", "outside_hours", "holiday", "unstaffed", "switched_off"]


@dataclass(frozen=True)
class Availability:
    state: str  # "open" | "busy" | "closed"
    reason: (
        str  # "staffed" | "all_busy" | "outside_hours" | "holiday" | "unstaffed" | "switched_off"
    )
    next_opening: datetime | None  # aware; when hours next begin (closed by hours), else None
    time_zone: str  # IANA name of the zone the hours are in ("America/Chicago")
    librarians_online: int  # monitoring the queue now and able to take a chat
    waiting: int  # sessions waiting in the queue now

    @property
    def open(self) -> bool:
        """A patron asking now reaches the queue (open, or open but busy)."""
        return self.state != CLOSED


def _staffing(queue: Queue) -> tuple[int, int]:
    """How many librarians monitoring the queue are there (not Away), and how
    many of them can take a chat now (Available, below their maximum:
    chat/load.py). One query."""
    there = with_active_count(monitors_of(queue.pk).exclude(status=Librarian.Status.AWAY))
    loads = [Load.in_queue(librarian, queue) for librarian in there.only("status", "max_sessions")]
    return len(loads), sum(load.can_take for load in loads)


def queue_availability(queue: Queue, *, now: datetime | None = None) -> Availability:
    """Whether a patron asking the queue at ``now`` (default: now) reaches a librarian."""
    now = now or timezone.now()
    zone = queue_time_zone(queue)
    there, online = _staffing(queue)
    waiting = ChatSession.objects.filter(queue=queue, state=ChatSession.State.WAITING).count()

    def answer(state: str, reason: str, next_opening: datetime | None = None) -> Availability:
        return Availability(state, reason, next_opening, zone, online, waiting)

    if not queue.is_open:
        return answer(CLOSED, "switched_off")
    schedule = queue_schedule(queue)
    if schedule is not None and not schedule_is_within(schedule, now):
        today = now.astimezone(schedule.zone).date()
        reason = "holiday" if schedule.is_special(today) else "outside_hours"
        return answer(CLOSED, reason, schedule_next_opening(schedule, now))
    if there == 0:
        return answer(CLOSED, "unstaffed")
    if online == 0:
        return answer(BUSY, "all_busy")
    return answer(OPEN, "staffed")


def opening_label(when: datetime, zone: str, *, now: datetime | None = None) -> str:
    """When hours begin, for a patron: "Monday 9:00 AM", in ``zone``, in the active language.

    Within the coming week the weekday says it; later on, the date too.
    """
    zone_info = ZoneInfo(zone)
    local = when.astimezone(zone_info)
    today = (now or timezone.now()).astimezone(zone_info).date()
    if (local.date() - today) < timedelta(days=7):
        # Translators: a PHP-style date format (Django's "date" filter) for the
        # weekday and time chat opens again within the coming week.
        fmt = pgettext("opening time within a week", "l g:i A")
    else:
        # Translators: as above, for an opening more than a week away.
        fmt = pgettext("opening time over a week away", "l, F j, g:i A")
    return formats.date_format(local, fmt)


def availability_message(availability: Availability, *, now: datetime | None = None) -> str:
    """One translated sentence for the patron about the state."""
    if availability.state == OPEN:
        return gettext("Chat is open.")
    if availability.state == BUSY:
        return gettext("Chat is open, but all librarians are busy. You may have to wait.")
    if availability.reason == "unstaffed":
        return gettext("No librarian is available right now.")
    if availability.next_opening is None:
        return gettext("Chat is closed.")
    return gettext("Chat is closed. It opens again %(when)s (%(zone)s).") % {
        "when": opening_label(availability.next_opening, availability.time_zone, now=now),
        "zone": zone_label(availability.time_zone),
    }


@dataclass(frozen=True)
class DayHours:
    """A weekday's hours as the ask page lists them."""

    day: str  # "Monday, December 7"
    periods: list[str]  # "9:00 AM – 9:00 PM"; empty: closed
    special: bool  # a holiday or a day of special hours
    name: str = ""  # the special day's name as the library typed it ("Thanksgiving")


def _time_label(at: datetime) -> str:
    # Translators: a PHP-style time format for opening hours ("9:00 AM").
    return formats.date_format(at, pgettext("opening hours time", "g:i A"))


def week_hours(queue: Queue, *, now: datetime | None = None) -> list[DayHours] | None:
    """The queue's hours for the seven days from today (special days included), or None.

    None when it keeps no hours (always within hours).
    """
    schedule: Schedule | None = queue_schedule(queue)
    if schedule is None:
        return None
    today = (now or timezone.now()).astimezone(schedule.zone).date()
    days = []
    for offset in range(7):
        day = today + timedelta(days=offset)
        periods = []
        for opens, closes in sorted(schedule.periods_on(day)):
            if (opens, closes) == ALL_DAY:
                periods.append(gettext("Open all day"))
                continue
            start = datetime.combine(day, opens)
            end = datetime.combine(day, closes)
            periods.append(f"{_time_label(start)} – {_time_label(end)}")
        # Translators: a PHP-style date format for a day of the hours list.
        label = formats.date_format(day, pgettext("day of the hours list", "l, F j"))
        days.append(
            DayHours(
                day=label,
                periods=periods,
                special=schedule.is_special(day),
                name=schedule.names.get(day, ""),
            )
        )
    return days
