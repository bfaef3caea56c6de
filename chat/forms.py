from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import Library
from core.text import CleanCharField
from queues.hours import queue_hours
from queues.models import Queue


class ServedLibraryField(forms.ModelChoiceField):
    """The patron's library, one of the queue's as ``queues.hours`` keeps them
    read: a choice posted costs no query of its own (the queryset still lists
    a cooperative queue's libraries in its select)."""

    served: tuple[Library, ...] = ()

    def to_python(self, value: Any) -> Library | None:
        if len(self.served) == 1:
            # A queue of one library: the patron chose nothing (the field is
            # hidden), so whatever the page posted, even from before a change
            # to the queue's libraries, it is that one.
            return self.served[0]
        if value in self.empty_values:
            return None
        for library in self.served:
            if str(library.pk) == str(value):
                return library
        raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")


class AskForm(forms.Form):
    """The patron's chat form. The email is required or optional per queue;
    a cooperative queue asks which library the patron belongs to."""

    # Names and questions are cleaned of what no database stores
    # (core/text.py); the email, like every address, is refused instead.
    patron_name = CleanCharField(
        label=_("Screen name"),
        max_length=80,
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
        help_text=_("What the librarian will call you. It doesn't have to be your real name."),
    )
    patron_email = forms.EmailField(
        label=_("Email"),
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    library = ServedLibraryField(
        queryset=Library.objects.none(),
        label=_("Your library"),
        empty_label=_("Choose your library"),
    )
    question = CleanCharField(
        label=_("Your question"),
        max_length=settings.CHAT_MAX_LINE_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: Any, queue: Queue, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = queue
        library = cast(ServedLibraryField, self.fields["library"])
        library.queryset = queue.libraries.order_by("name")
        served = queue_hours(queue).libraries
        library.served = served
        if len(served) == 1:
            library.initial = served[0]
            library.widget = forms.HiddenInput()
        email = self.fields["patron_email"]
        email.required = queue.email_required
        email.help_text = (
            _("We send the transcript of the chat here.")
            if queue.email_required
            else _("Optional. If you give it, we email you the transcript of the chat.")
        )
