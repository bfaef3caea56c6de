from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from chat.forms import AskForm
from core.text import CleanCharField
from questions.services import QUESTION_MAX_CHARS


class QuestionForm(AskForm):
    """The "Leave a question" form of a queue nobody can answer now: the chat
    form's fields, the email required (the answer goes there), the name optional."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        name = self.fields["patron_name"]
        name.required = False
        name.label = _("Your name")
        name.help_text = _("Optional. How the librarian may greet you.")
        email = self.fields["patron_email"]
        email.required = True
        email.help_text = _("The answer is sent here.")


class LeaveForm(forms.Form):
    """A waiting patron leaves the question: where to send the answer, and the
    question with what they wrote while waiting (theirs to edit)."""

    patron_email = forms.EmailField(
        label=_("Email"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("The answer is sent here."),
    )
    question = CleanCharField(
        label=_("Your question"),
        max_length=QUESTION_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Your question and what you wrote while waiting. You can add to it."),
    )


class AnswerForm(forms.Form):
    answer = CleanCharField(
        label="Answer (sent to the patron by email)",
        max_length=QUESTION_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 8}),
    )


class NoteForm(forms.Form):
    text = CleanCharField(
        label="Librarian Note (never sent to the patron)",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
