from typing import Any, cast

from django import forms
from django.db.models import QuerySet

from accounts.models import Librarian
from queues.models import Queue
from transcripts.extras import history_filters
from wrapup.read_scale import READ_LEVELS

WRAPUP_STATES = [
    ("", "Any wrap-up"),
    ("done", "Wrapped up"),
    ("skipped", "Skipped"),
    ("none", "Not wrapped up"),
]


class HistoryFilterForm(forms.Form):
    """Chat History filters; every field optional, choices limited to the librarian's queues."""

    queue = forms.ModelChoiceField(
        queryset=Queue.objects.none(), required=False, empty_label="All queues"
    )
    librarian = forms.ModelChoiceField(
        queryset=Librarian.objects.none(), required=False, empty_label="Any librarian"
    )
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    text = forms.CharField(
        label="Text",
        required=False,
        max_length=200,
        widget=forms.SearchInput(attrs={"placeholder": "Words in the chat, name or email"}),
    )

    # The wrap-ups (wrapup/): by any librarian who held the chat. Codes and
    # subjects by name, so one library's "Answered" finds its partners' too.
    resolution = forms.ChoiceField(label="Resolution", required=False)
    read_level = forms.TypedChoiceField(
        label="Effort (READ)",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "Any effort"), *((level, f"READ {level}") for level in READ_LEVELS)],
    )
    tag = forms.ChoiceField(label="Subject", required=False)
    wrapup = forms.ChoiceField(label="Wrap-up", required=False, choices=WRAPUP_STATES)

    def __init__(
        self,
        *args: Any,
        queues: QuerySet[Queue],
        librarians: QuerySet[Librarian],
        codes: list[str] = (),  # type: ignore[assignment]
        tags: list[str] = (),  # type: ignore[assignment]
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["queue"]).queryset = queues
        cast(forms.ModelChoiceField, self.fields["librarian"]).queryset = librarians
        cast(forms.ChoiceField, self.fields["resolution"]).choices = [
            ("", "Any resolution"),
            *((label, label) for label in codes),
        ]
        cast(forms.ChoiceField, self.fields["tag"]).choices = [
            ("", "Any subject"),
            *((name, name) for name in tags),
        ]
        # The filters of the apps above (transcripts/extras.py), after our own.
        for extra in history_filters():
            self.fields[extra.name] = extra.field()
