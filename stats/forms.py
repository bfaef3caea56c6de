"""The Statistics filter: a date range in the reader's time zone, and
optionally a patron's library, a queue, a librarian and the period of the
sessions-over-time table. Unknown values are refused by name."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.http import QueryDict
from django.utils import timezone

from stats.figures import StatsFilter
from stats.scope import StatsScope

PERIODS = {"day": "Day", "week": "Week", "month": "Month"}
DEFAULT_DAYS = 30
# A range past this is a mistake in a year, not a report (a century of chats).
MAX_DAYS = 366 * 30


class StatsFilterForm(forms.Form):
    start = forms.DateField(label="From", required=False)
    end = forms.DateField(label="To", required=False)
    library: forms.ModelChoiceField = forms.ModelChoiceField(
        label="Patron's library", queryset=None, required=False, empty_label="All libraries"
    )
    queue: forms.ModelChoiceField = forms.ModelChoiceField(
        label="Queue", queryset=None, required=False, empty_label="All queues"
    )
    librarian: forms.ModelChoiceField = forms.ModelChoiceField(
        label="Librarian", queryset=None, required=False, empty_label="All librarians"
    )
    period = forms.ChoiceField(label="Sessions by", choices=list(PERIODS.items()), required=False)

    def __init__(self, data: QueryDict, *, scope: StatsScope) -> None:
        # The range the figures are of shows in the form, typed or not.
        data = data.copy()
        today = timezone.now().astimezone(ZoneInfo(scope.zone)).date()
        if not data.get("end"):
            data["end"] = today.isoformat()
        if not data.get("start"):
            try:
                end = date.fromisoformat(str(data["end"]))
            except ValueError:
                end = today
            data["start"] = (end - timedelta(days=DEFAULT_DAYS - 1)).isoformat()
        super().__init__(data)
        self._query = data.urlencode()
        self.scope = scope
        self.fields["library"].queryset = scope.patron_libraries()  # type: ignore[attr-defined]
        self.fields["queue"].queryset = scope.queues()  # type: ignore[attr-defined]
        self.fields["librarian"].queryset = scope.librarians()  # type: ignore[attr-defined]
        self.fields["librarian"].label_from_instance = (  # type: ignore[attr-defined]
            lambda librarian: f"{librarian.display_name} · {librarian.library.name}"
        )
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "stats-field")
        self.fields["start"].widget = forms.DateInput(attrs={"type": "date"})
        self.fields["end"].widget = forms.DateInput(attrs={"type": "date"})
        if not scope.whole_library:
            del self.fields["librarian"]  # their own work only

    def query(self) -> str:
        """The filter as a query string, the range filled in: for the charts and CSV links."""
        return self._query

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start is None or end is None:
            return data  # the field says what is wrong
        if start > end:
            self.add_error("end", "The end date must be on or after the start date.")
        elif (end - start).days >= MAX_DAYS:
            self.add_error("start", f"A range can be at most {MAX_DAYS:,} days.")
        data["start"], data["end"] = start, end
        data["period"] = data.get("period") or "day"
        return data

    def bounds(self) -> tuple[datetime, datetime]:
        """The range as instants: from the start day's midnight to the one after the end day."""
        zone = ZoneInfo(self.scope.zone)
        start: date = self.cleaned_data["start"]
        end: date = self.cleaned_data["end"]
        return (
            datetime.combine(start, time.min, tzinfo=zone),
            datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
        )

    def stats_filter(self) -> StatsFilter:
        """The filter of a valid form: the reader's sessions in its range."""
        given = self.cleaned_data
        start, end = self.bounds()
        return StatsFilter.of(
            self.scope,
            start=start,
            end=end,
            period=given["period"],
            library_id=given["library"].pk if given.get("library") else None,
            queue_id=given["queue"].pk if given.get("queue") else None,
            librarian=given.get("librarian"),
        )
