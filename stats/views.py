"""The Statistics pages: the page (or the console tab's fragment), each
chart as SVG and each table as CSV, all from the same filter."""

import csv
import io
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from core.fragments import fragment_template
from core.zones import zone_label
from stats.charts import CHARTS, chart_svg
from stats.export import csv_safe, export_chunks, export_count
from stats.figures import TABLES, StatsFilter, Table, figures, summary, table
from stats.forms import StatsFilterForm
from stats.scope import StatsScope, stats_scope

# Nothing but the chart's own inline style: it is an image, with no script to run.
CHART_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
SUMMARY_ROWS = (
    ("asked", "Sessions asked"),
    ("picked_up", "Picked up"),
    ("left", "Patrons who left before pick-up"),
    ("lost", "Lost sessions (connection)"),
    ("wait_median", "Wait to pick-up, median"),
    ("wait_p90", "Wait to pick-up, 90th percentile"),
    ("duration_median", "Duration, median"),
    ("duration_p90", "Duration, 90th percentile"),
    ("transfers", "Transfers"),
    ("taken_over", "Taken over by a supervisor"),
    ("requeued", "Returned to the queue"),
    ("rolled_over", "Rolled over to the next tier"),
    ("offline_questions", "Offline questions"),
    ("wrapups_done", "Wrap-ups done"),
    ("wrapups_skipped", "Wrap-ups skipped (at least once)"),
    ("survey_answers", "Survey answers"),
    ("rating_average", "Average rating (1–5)"),
)


def _filtered(request: HttpRequest) -> tuple[StatsScope, StatsFilterForm, StatsFilter | None]:
    """The reader's scope, the filter form, and the filter (None if refused)."""
    scope = stats_scope(request.user)
    form = StatsFilterForm(request.GET, scope=scope)
    if not form.is_valid():
        return scope, form, None
    filt = form.stats_filter()
    return scope, form, filt


def shown(value: Any) -> str:
    """A figure as the page and the CSV say it."""
    if value is None:
        return "–"
    if isinstance(value, timedelta):
        seconds = round(value.total_seconds())
        minutes, seconds = divmod(seconds, 60)
        hours, minutes = divmod(minutes, 60)
        return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def heat_rows(table: Table) -> list[tuple[str, list[tuple[int, int]]]]:
    """Each weekday's hours with their shade, 0 (none) to 5 (the busiest hour)."""
    busiest = max((n for row in table.rows for n in row[1:]), default=0)
    return [
        (row[0], [(n, -(-5 * n // busiest) if busiest else 0) for n in row[1:]])
        for row in table.rows
    ]


@never_cache
@login_required
@require_safe
def stats_page(request: HttpRequest) -> HttpResponse:
    scope, form, filt = _filtered(request)
    found = figures(filt) if filt is not None else None
    context: dict[str, Any] = {
        "form": form,
        "scope": scope,
        "figures": found,
        "zone": zone_label(scope.zone),
    }
    if found is not None:
        context["summary"] = [(label, shown(found.summary[key])) for key, label in SUMMARY_ROWS]
        context["tables"] = found.tables
        context["heat_rows"] = heat_rows(found.tables["heatmap"])
        context["asked"] = found.summary["asked"]
        context["charts"] = [name for name in CHARTS if found.tables[name].rows]
        context["query"] = form.query()  # the range shown, typed or not
        context["start_day"] = form.cleaned_data["start"]
        context["end_day"] = form.cleaned_data["end"]
    template = fragment_template(request, "stats", "page")
    return render(request, template, context, status=200 if found is not None else 400)


def _table(request: HttpRequest, name: str) -> Table:
    """The one table a chart or a CSV is of (its queries only), or a 404."""
    if name != "summary" and name not in TABLES:
        raise Http404("There is no such table.")
    _, _, filt = _filtered(request)
    if filt is None:
        raise Http404("Those filters can't be read: correct them on the Statistics page.")
    if name == "summary":
        found = summary(filt)
        rows = [[label, shown(found[key])] for key, label in SUMMARY_ROWS]
        return Table(name="summary", title="Summary", columns=["Figure", "Value"], rows=rows)
    return table(filt, name)


@never_cache
@login_required
@require_safe
def chart_view(request: HttpRequest, name: str) -> HttpResponse:
    if name not in CHARTS:
        raise Http404("There is no such chart.")
    response = HttpResponse(chart_svg(_table(request, name)), content_type="image/svg+xml")
    response["Content-Security-Policy"] = CHART_POLICY
    return response


@never_cache
@login_required
@require_safe
def csv_view(request: HttpRequest, name: str) -> HttpResponse:
    found = _table(request, name)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="statistics-{name}.csv"'
    writer = csv.writer(response)
    for row in [found.columns, *found.rows]:
        writer.writerow([_cell(value) for value in row])
    return response


def _cell(value: Any) -> str:
    return csv_safe(shown(value) if not isinstance(value, str) else value)


@never_cache
@login_required
@require_safe
def export_view(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """Every session of the filter as CSV, streamed a chunk at a time; the
    rows to come in ``X-Total-Count`` (the console's progress). ``text=1``:
    with the question and the patron-visible lines, for a supervisor only."""
    scope, form, filt = _filtered(request)
    if filt is None:
        wrong = "; ".join(
            f"{form[name].label}: {' '.join(str(e) for e in errors)}"
            for name, errors in form.errors.items()
        )
        return HttpResponseBadRequest(
            f"Correct the filters first. {wrong}", content_type="text/plain"
        )
    with_text = request.GET.get("text") == "1"
    if with_text and not scope.whole_library:
        return HttpResponseForbidden(
            "Only a supervisor exports what patrons wrote: export without the text.",
            content_type="text/plain",
        )
    total = export_count(filt)
    response = StreamingHttpResponse(
        _csv_stream(filt, with_text=with_text), content_type="text/csv; charset=utf-8"
    )
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    name = f"sessions-{start:%Y-%m-%d}-to-{end:%Y-%m-%d}{'-with-text' if with_text else ''}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Total-Count"] = str(total)
    return response


async def _csv_stream(filt: StatsFilter, *, with_text: bool) -> AsyncIterator[bytes]:
    """The export's chunks as CSV text, each read on the sync thread (the ORM's)."""
    chunks = export_chunks(filt, with_text=with_text)
    take = sync_to_async(lambda: next(chunks, None), thread_sensitive=True)
    while (chunk := await take()) is not None:
        buffer = io.StringIO()
        csv.writer(buffer).writerows(chunk)
        yield buffer.getvalue().encode()
