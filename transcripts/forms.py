from typing import Any, cast

from django import forms
from django.db.models import QuerySet

from accounts.models import Librarian
from queues.models import Queue
from transcripts.extras import history_filters


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

    def __init__(
        self,
        *args: Any,
        queues: QuerySet[Queue],
        librarians: QuerySet[Librarian],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["queue"]).queryset = queues
        cast(forms.ModelChoiceField, self.fields["librarian"]).queryset = librarians
        # The filters of the apps above (transcripts/extras.py), after our own.
        for extra in history_filters():
            self.fields[extra.name] = extra.field()
