"""The figures of the Statistics: each an aggregate query in the database.

:func:`figures` takes the sessions a reader may count (``stats.scope``),
narrowed by the filter, and returns the summary and the tables the page,
its charts, the CSV downloads and the API show. Times are grouped in the
reader's time zone (``TruncDay``/``ExtractHour`` … with ``tzinfo``, which
both databases apply per row, across daylight saving changes).

Definitions (docs/statistics.md says them to librarians):

- a session counts on the day it was asked (``created_at``);
- wait: from asking to the first pick-up (``first_accepted_at``); duration:
  from the first pick-up to the end; median and 90th percentile are the
  nearest-rank values (the value at rank ⌈p·n⌉), the same on both databases;
- left before pick-up: ended without ever being picked up (the patron left,
  left a question, or their connection was lost while waiting);
- lost: ended by the system after a pick-up (the patron's connection);
- roll-over: still waiting when the queue's next tier (cooperative, backup)
  was reached;
- transfers, take-overs and returns to the queue: the holds that ended so;
- offline questions: asked on the form while nobody was on, or left from a
  waiting chat.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from math import ceil
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
)
from django.db.models.functions import (
    Coalesce,
    ExtractHour,
    ExtractIsoWeekDay,
    Now,
    TruncDay,
    TruncMonth,
    TruncWeek,
)

from accounts.models import Librarian
from chat.models import ChatSession, Hold
from questions.models import Question
from stats.scope import StatsScope, held_by
from surveys.models import SurveyAnswer
from wrapup.models import Wrapup
from wrapup.read_scale import READ_LEVELS

TRUNC = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
HELPED = (("yes", "Yes"), ("partly", "Partly"), ("no", "No"))


@dataclass
class Table:
    """One table of figures: its columns, rows of values, and how to say it."""

    name: str
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    note: str = ""


@dataclass
class Figures:
    summary: dict[str, Any]
    tables: dict[str, Table]


@dataclass(frozen=True)
class StatsFilter:
    """The sessions counted: ``sessions`` (the reader's, any date) asked in
    [start, end), and optionally of a patron's library, a queue, held by a librarian."""

    sessions: QuerySet[ChatSession]
    start: datetime
    end: datetime
    zone: str
    period: str = "day"
    library_id: int | None = None
    queue_id: int | None = None
    librarian: Librarian | None = None
    queue_ids: Any = None  # the reader's queues, for the offline questions

    @classmethod
    def of(
        cls,
        scope: StatsScope,
        *,
        start: datetime,
        end: datetime,
        period: str = "day",
        library_id: int | None = None,
        queue_id: int | None = None,
        librarian: Librarian | None = None,
    ) -> "StatsFilter":
        """The reader's filter: their queues, and only their own work unless
        they read the whole library (a librarian asked for then is ignored)."""
        return cls(
            sessions=scope.queue_sessions(),
            queue_ids=scope.queues().values("pk"),
            start=start,
            end=end,
            zone=scope.zone,
            period=period,
            library_id=library_id,
            queue_id=queue_id,
            librarian=scope.own or librarian,
        )

    def counted(self) -> QuerySet[ChatSession]:
        sessions = self.sessions.filter(created_at__gte=self.start, created_at__lt=self.end)
        if self.library_id:
            sessions = sessions.filter(library_id=self.library_id)
        if self.queue_id:
            sessions = sessions.filter(queue_id=self.queue_id)
        if self.librarian is not None:
            sessions = sessions.filter(held_by(self.librarian))
        return sessions


WAIT = ExpressionWrapper(F("first_accepted_at") - F("created_at"), output_field=DurationField())
DURATION = ExpressionWrapper(F("closed_at") - F("first_accepted_at"), output_field=DurationField())


def percentile(values: QuerySet[Any], expression: Any, p: float) -> timedelta | None:
    """The nearest-rank ``p`` percentile of ``expression`` over ``values``
    (None where it is null are left out): two queries, a count and the row at
    rank ⌈p·n⌉ in the database's order."""
    ranked = values.annotate(figure=expression).filter(figure__isnull=False)
    n = ranked.count()
    if n == 0:
        return None
    rank = max(1, ceil(p * n))
    return ranked.order_by("figure").values_list("figure", flat=True)[rank - 1]


def summary(filt: StatsFilter) -> dict[str, Any]:
    """The range's counts, waits and durations, wrap-ups and survey answers."""
    sessions = filt.counted()
    counts = sessions.aggregate(
        asked=Count("pk"),
        picked_up=Count("pk", filter=Q(first_accepted_at__isnull=False)),
        left=Count("pk", filter=Q(state=ChatSession.State.CLOSED, first_accepted_at__isnull=True)),
        lost=Count(
            "pk",
            filter=Q(closed_by=ChatSession.ClosedBy.SYSTEM, first_accepted_at__isnull=False),
        ),
        rolled_over=Count(
            "pk",
            filter=Q(reaches_cooperative_at__isnull=False)
            & Q(reaches_cooperative_at__lt=Coalesce(F("first_accepted_at"), F("closed_at"), Now())),
        ),
    )
    holds = Hold.objects.filter(session__in=sessions.values("pk"))
    if filt.librarian is not None:
        holds = holds.filter(librarian=filt.librarian)
    counts |= holds.aggregate(
        transfers=Count("pk", filter=Q(ended_how=Hold.End.TRANSFERRED)),
        taken_over=Count("pk", filter=Q(ended_how=Hold.End.TAKEN_OVER)),
        requeued=Count("pk", filter=Q(ended_how=Hold.End.REQUEUED)),
    )
    counts["offline_questions"] = _offline_questions(filt).count()
    picked = sessions.filter(first_accepted_at__isnull=False)
    counts["wait_median"] = percentile(picked, WAIT, 0.5)
    counts["wait_p90"] = percentile(picked, WAIT, 0.9)
    answered = picked.filter(state=ChatSession.State.CLOSED)
    counts["duration_median"] = percentile(answered, DURATION, 0.5)
    counts["duration_p90"] = percentile(answered, DURATION, 0.9)
    return counts | _wrapup_counts(filt) | _rating_summary(filt)


def table(filt: StatsFilter, name: str) -> Table:
    """One table (``TABLES``'s), and only its queries: what a chart or a CSV needs."""
    return TABLES[name](filt)


def figures(filt: StatsFilter) -> Figures:
    """The summary and every table: what the Statistics page shows."""
    return Figures(summary=summary(filt), tables={name: table(filt, name) for name in TABLES})


def _offline_questions(filt: StatsFilter) -> QuerySet[Question]:
    questions = Question.objects.filter(
        origin__in=[Question.Origin.ASKED, Question.Origin.LEFT],
        created_at__gte=filt.start,
        created_at__lt=filt.end,
    )
    if filt.queue_ids is not None:
        questions = questions.filter(queue__in=filt.queue_ids)
    if filt.library_id:
        questions = questions.filter(library_id=filt.library_id)
    if filt.queue_id:
        questions = questions.filter(queue_id=filt.queue_id)
    if filt.librarian is not None:
        questions = questions.filter(Q(taken_by=filt.librarian) | Q(answered_by=filt.librarian))
    return questions


def _by_period(filt: StatsFilter) -> Table:
    period, zone = filt.period, ZoneInfo(filt.zone)
    trunc = TRUNC[period]("created_at", tzinfo=zone)
    rows = (
        filt.counted()
        .annotate(when=trunc)
        .values("when")
        .annotate(
            asked=Count("pk"),
            picked_up=Count("pk", filter=Q(first_accepted_at__isnull=False)),
            left=Count(
                "pk", filter=Q(state=ChatSession.State.CLOSED, first_accepted_at__isnull=True)
            ),
        )
        .order_by("when")
    )
    found = {r["when"].astimezone(zone).date(): r for r in rows}
    label = {"day": "Day", "week": "Week of", "month": "Month"}[period]
    fmt = "%Y-%m" if period == "month" else "%Y-%m-%d"
    empty = {"asked": 0, "picked_up": 0, "left": 0}
    return Table(
        name="sessions",
        title=f"Sessions by {period}",
        columns=[label, "Asked", "Picked up", "Left before pick-up"],
        rows=[
            [when.strftime(fmt), r["asked"], r["picked_up"], r["left"]]
            for when in _periods(filt)
            for r in [found.get(when, empty)]
        ],
        note="Every period of the range, those with no sessions too.",
    )


def _periods(filt: StatsFilter) -> list[date]:
    """The first day of each day, week (from Monday) or month the range touches."""
    zone = ZoneInfo(filt.zone)
    first = filt.start.astimezone(zone).date()
    last = (filt.end.astimezone(zone) - timedelta(microseconds=1)).date()
    if filt.period == "week":
        first -= timedelta(days=first.weekday())
    elif filt.period == "month":
        first = first.replace(day=1)
    periods = []
    while first <= last:
        periods.append(first)
        if filt.period == "month":
            first = (first + timedelta(days=32)).replace(day=1)
        else:
            first += timedelta(days=7 if filt.period == "week" else 1)
    return periods


def _heatmap(filt: StatsFilter) -> Table:
    zone = ZoneInfo(filt.zone)
    cells = (
        filt.counted()
        .annotate(
            weekday=ExtractIsoWeekDay("created_at", tzinfo=zone),
            hour=ExtractHour("created_at", tzinfo=zone),
        )
        .values("weekday", "hour")
        .annotate(n=Count("pk"))
    )
    grid = [[0] * 24 for _ in WEEKDAYS]
    for cell in cells:
        grid[cell["weekday"] - 1][cell["hour"]] = cell["n"]
    return Table(
        name="heatmap",
        title="Sessions by hour of the week",
        columns=["Day", *[f"{h:02d}" for h in range(24)]],
        rows=[[day, *grid[i]] for i, day in enumerate(WEEKDAYS)],
        note="Each cell is the sessions asked in that hour of that weekday, over the whole range.",
    )


def _count_by(rows: QuerySet[Any], column: str) -> dict[Any, int]:
    """How many of ``rows`` have each value of ``column``: one GROUP BY."""
    return dict(rows.values(column).annotate(n=Count("pk")).values_list(column, "n"))


def _wrapups(filt: StatsFilter) -> QuerySet[Wrapup]:
    wrapups = Wrapup.objects.filter(session__in=filt.counted().values("pk"))
    if filt.librarian is not None:
        wrapups = wrapups.filter(librarian=filt.librarian)
    return wrapups


def _resolutions(filt: StatsFilter) -> Table:
    rows = (
        _wrapups(filt)
        .filter(state=Wrapup.State.DONE, resolution__isnull=False)
        .values("resolution__label")
        .annotate(n=Count("pk"))
        .order_by("-n", "resolution__label")
    )
    return Table(
        name="resolutions",
        title="Resolution codes",
        columns=["Resolution", "Wrap-ups"],
        rows=[[r["resolution__label"], r["n"]] for r in rows],
    )


def _read_levels(filt: StatsFilter) -> Table:
    done = _wrapups(filt).filter(state=Wrapup.State.DONE, read_level__isnull=False)
    found = _count_by(done, "read_level")
    return Table(
        name="read_levels",
        title="Effort on the READ scale",
        columns=["READ level", "Wrap-ups"],
        rows=[[level, found.get(level, 0)] for level in READ_LEVELS],
    )


def _wrapup_counts(filt: StatsFilter) -> dict[str, Any]:
    return _wrapups(filt).aggregate(
        wrapups_done=Count("pk", filter=Q(state=Wrapup.State.DONE)),
        wrapups_skipped=Count("pk", filter=Q(skipped_at__isnull=False)),
        wrapups_still_skipped=Count("pk", filter=Q(state=Wrapup.State.SKIPPED)),
    )


def _answers(filt: StatsFilter) -> QuerySet[SurveyAnswer]:
    return SurveyAnswer.objects.filter(session__in=filt.counted().values("pk"))


def _ratings(filt: StatsFilter) -> Table:
    found = _count_by(_answers(filt).filter(rating__isnull=False), "rating")
    return Table(
        name="ratings",
        title="Patrons' ratings",
        columns=["Rating", "Answers"],
        rows=[[rating, found.get(rating, 0)] for rating in range(1, 6)],
    )


def _helped(filt: StatsFilter) -> Table:
    found = _count_by(_answers(filt).exclude(helped=""), "helped")
    return Table(
        name="helped",
        title="Did you get the help you needed?",
        columns=["Answer", "Answers"],
        rows=[[label, found.get(value, 0)] for value, label in HELPED],
    )


def _rating_summary(filt: StatsFilter) -> dict[str, Any]:
    return _answers(filt).aggregate(
        survey_answers=Count("pk"),
        rating_average=Avg("rating"),
    )


def _cooperative(filt: StatsFilter) -> Table:
    rows = (
        filt.counted()
        .filter(primary__isnull=False)
        .values("library__name", "primary__library__name")
        .annotate(n=Count("pk"))
        .order_by("library__name", "primary__library__name")
    )
    return Table(
        name="cooperative",
        title="Which library answered whose patrons",
        columns=["Patron's library", "Answered by", "Sessions"],
        rows=[[r["library__name"], r["primary__library__name"], r["n"]] for r in rows],
        note="The library of the librarian who held the session last.",
    )


# Each table of the page, in its order.
TABLES: dict[str, Callable[[StatsFilter], Table]] = {
    "sessions": _by_period,
    "heatmap": _heatmap,
    "resolutions": _resolutions,
    "read_levels": _read_levels,
    "ratings": _ratings,
    "helped": _helped,
    "cooperative": _cooperative,
}
