"""The admin's forms for hours: times typed as people type them, and refusals that say why.

Each form takes "9:00", "17:30", "9:00 AM", "5 pm" or "17.30"; anything
else is refused with an example. The formsets refuse two periods of one
weekday that overlap, and two special days on one date; a period that
closes before it opens is the model's refusal (``clean``).
"""

from collections import defaultdict
from datetime import date, time
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from core.hours import Period, Weekday, periods_overlap

TIME_FORMATS = ["%H:%M", "%H:%M:%S", "%H.%M", "%I:%M %p", "%I:%M%p", "%I %p", "%I%p", "%H"]
NOT_A_TIME = "Enter a time such as 9:00, 17:30 or 5:30 PM."


class HoursTimeField(forms.TimeField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("input_formats", TIME_FORMATS)
        kwargs.setdefault("error_messages", {"invalid": NOT_A_TIME})
        kwargs.setdefault("widget", forms.TimeInput(format="%H:%M", attrs={"size": 6}))
        super().__init__(**kwargs)


class HoursForm(forms.ModelForm):
    """An opening period or a special day: its times through :class:`HoursTimeField`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("opens", "closes"):
            if name in self.fields:
                old = self.fields[name]
                self.fields[name] = HoursTimeField(
                    required=old.required, help_text=old.help_text, label=old.label
                )


def _kept(formset: forms.BaseInlineFormSet) -> list[forms.Form]:
    """The forms that will be saved: valid, not deleted, not left empty."""
    return [
        form
        for form in formset.forms
        if form.is_valid() and form.cleaned_data and not form.cleaned_data.get("DELETE")
    ]


def _hhmm(at: time) -> str:
    return f"{at:%H:%M}"


class OpeningPeriodFormSet(forms.BaseInlineFormSet):
    """The weekly hours: no two periods of one weekday may overlap."""

    def clean(self) -> None:
        super().clean()
        by_day: dict[int, list[Period]] = defaultdict(list)
        for form in _kept(self):
            data = form.cleaned_data
            if data.get("opens") and data.get("closes") and data.get("weekday") is not None:
                by_day[int(data["weekday"])].append((data["opens"], data["closes"]))
        problems = []
        for weekday, periods in sorted(by_day.items()):
            clash = periods_overlap(periods)
            if clash is not None:
                (a_opens, a_closes), (b_opens, b_closes) = clash
                problems.append(
                    f"{Weekday(weekday).label}: {_hhmm(a_opens)}–{_hhmm(a_closes)} and "
                    f"{_hhmm(b_opens)}–{_hhmm(b_closes)} overlap. Periods of one day must not "
                    "overlap: change one, or make them one period."
                )
        if problems:
            raise ValidationError(problems)


class SpecialDayFormSet(forms.BaseInlineFormSet):
    """Holidays and special days: one entry per date."""

    def clean(self) -> None:
        # Ours before Django's unique check, whose message names no date.
        seen: set[date] = set()
        problems = []
        for form in _kept(self):
            day = form.cleaned_data.get("date")
            if day is None:
                continue
            if day in seen:
                problems.append(
                    f"{day:%Y-%m-%d} is listed twice. Give each date one entry: closed all day, "
                    "or its special hours."
                )
            seen.add(day)
        if problems:
            raise ValidationError(problems)
        super().clean()
