"""The sessions export: one CSV row per session the reader may count, for
any date range, streamed as it is read (the database's rows in chunks, never
the whole range in memory).

Staff fields only: times in the reader's zone, the wait and the duration,
how it ended, the queue, the patron's library, who answered and their
library, the transfers, the answering librarian's wrap-up and the patron's
rating. The patron's identity is never in it, and their words only when
asked for and allowed (``with_text``: the question and the patron-visible
lines, for a reader of the whole library). A Librarian Note is never in it:
the lines are read through ``Message.objects.patron_visible()``.
"""

from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from chat.models import Hold, Message
from stats.figures import DURATION, WAIT, StatsFilter
from surveys.models import SurveyAnswer
from wrapup.models import Wrapup

CHUNK = 2000
COLUMNS = [
    "Session",
    "Asked",
    "Picked up",
    "Ended",
    "Wait (s)",
    "Duration (s)",
    "State",
    "Ended by",
    "Queue",
    "Patron's library",
    "Answered by",
    "Answering library",
    "Transfers",
    "Resolution",
    "READ level",
    "Helped",
    "Rating",
]
TEXT_COLUMNS = ["Question", "Transcript (patron-visible lines)"]
FIELDS = (
    "pk",
    "created_at",
    "first_accepted_at",
    "closed_at",
    "wait",
    "duration",
    "state",
    "closed_by",
    "queue__name",
    "library__name",
    "primary__display_name",
    "primary__library__name",
    "transfers",
    "resolution",
    "read_level",
    "helped",
    "rating",
)


def _rows(filt: StatsFilter) -> Any:
    """The sessions as value tuples, by id: every column one join or subquery."""
    holder_wrapup = Wrapup.objects.filter(
        session=OuterRef("pk"), librarian=OuterRef("primary"), state=Wrapup.State.DONE
    )
    answer = SurveyAnswer.objects.filter(session=OuterRef("pk"))
    transfers = (
        Hold.objects.filter(session=OuterRef("pk"), ended_how=Hold.End.TRANSFERRED)
        .values("session")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        filt.counted()
        .annotate(
            wait=WAIT,
            duration=DURATION,
            transfers=Coalesce(Subquery(transfers, output_field=IntegerField()), 0),
            resolution=Subquery(holder_wrapup.values("resolution__label")[:1]),
            read_level=Subquery(holder_wrapup.values("read_level")[:1]),
            helped=Subquery(answer.values("helped")[:1]),
            rating=Subquery(answer.values("rating")[:1]),
        )
        .order_by("pk")
        .values_list(*FIELDS)
    )


def export_count(filt: StatsFilter) -> int:
    return filt.counted().count()


def export_chunks(filt: StatsFilter, *, with_text: bool = False) -> Iterator[list[list[Any]]]:
    """The header row, then the sessions ``CHUNK`` rows at a time, by id.

    Each chunk is its own query from the last id on (keyset pagination), so
    no cursor stays open between chunks: the caller may hand each ``next``
    to whichever thread it likes, and memory holds one chunk.
    """
    zone = ZoneInfo(filt.zone)
    yield [COLUMNS + (TEXT_COLUMNS if with_text else [])]
    rows = _rows(filt)
    if with_text:
        rows = rows.values_list(*FIELDS, "question")
    last = 0
    while True:
        chunk = list(rows.filter(pk__gt=last)[:CHUNK])
        if not chunk:
            return
        last = chunk[-1][0]
        said = _patron_lines([row[0] for row in chunk]) if with_text else {}
        out = []
        for row in chunk:
            cells = [_cell(value, zone) for value in row[: len(FIELDS)]]
            if with_text:
                cells += [csv_safe(row[-1]), csv_safe("\n".join(said.get(row[0], [])))]
            out.append(cells)
        yield out


def _patron_lines(session_ids: list[int]) -> dict[int, list[str]]:
    """These sessions' patron-visible lines, "Author: text", in order."""
    messages = (
        Message.objects.patron_visible()
        .filter(session_id__in=session_ids)
        .order_by("session_id", "seq")
        .values_list("session_id", "author_name", "text", "url")
    )
    return {
        session_id: [_line(author, text, url) for _, author, text, url in said]
        for session_id, said in groupby(messages, key=lambda m: m[0])
    }


def _line(author: str, text: str, url: str) -> str:
    said = f"{text} <{url}>" if url else text
    return f"{author}: {said}" if author else said


def _cell(value: Any, zone: ZoneInfo) -> Any:
    if value is None:
        return ""
    if isinstance(value, timedelta):
        return round(value.total_seconds())
    if isinstance(value, datetime):
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    return csv_safe(value) if isinstance(value, str) else value


def csv_safe(text: str) -> str:
    """A text cell a spreadsheet won't run: one starting with = + - @ is quoted."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
