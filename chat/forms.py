from typing import Any, cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.models import Library
from core.text import CleanCharField
from queues.models import Queue


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
    library = forms.ModelChoiceField(
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
        library = cast(forms.ModelChoiceField, self.fields["library"])
        library.queryset = queue.libraries.order_by("name")
        # .all(): the queue's libraries prefetched with its hours serve.
        served = list(queue.libraries.all())
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
