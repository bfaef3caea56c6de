"""The console's form of a personal script, and the admin's forms.

The console's form only carries what was typed (nothing typed is lost on a
refusal); the rules are :mod:`scripts.rules` and the services', whose
refusal is shown at the field it concerns.
"""

from collections.abc import Callable
from typing import Any

from django import forms

from core.errors import ChatError
from core.text import CleanCharField
from scripts.models import SavedPage, Script
from scripts.rules import (
    ADDRESS_RULE,
    SCRIPT_MAX_CHARS,
    script_text_clean,
    shortcut_clean,
    title_clean,
    validate_page_address,
)
from scripts.services import library_script_validate

# Which field a refusal of the services is about.
FIELD_OF = {
    "invalid_title": "title",
    "invalid_text": "text",
    "invalid_shortcut": "shortcut",
    "shortcut_taken": "shortcut",
}


class ScriptForm(forms.Form):
    """A personal script as typed in Settings."""

    title = CleanCharField(label="Title", required=False, strip=False)
    text = CleanCharField(
        label="Text",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=f"At most {SCRIPT_MAX_CHARS:,} characters. {{patron}}, {{librarian}} and "
        "{library} become the patron's screen name, your name and the session's library "
        "when you insert it.",
    )
    shortcut = CleanCharField(
        label="Shortcut (optional)",
        required=False,
        help_text='One short word, such as "hours": /hours in the reply box finds it.',
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Ids of its own: the console shows other forms' "text" fields (a
        # question's note) on the same page.
        kwargs.setdefault("auto_id", "script-%s")
        super().__init__(*args, **kwargs)
        # No maxlength on the text: a paste over the limit is kept and refused
        # with its length, never cut short without a word.
        self.fields["title"].widget.attrs.update(size=40)
        self.fields["shortcut"].widget.attrs.update(
            size=16, autocapitalize="none", spellcheck="false"
        )

    # Each field's own rule here, so every field wrong is said at once; the
    # services check them again, and what only they can tell (a shortcut
    # taken) comes back through refuse().
    def _rule(self, name: str, rule: Callable[[object], str]) -> str:
        try:
            return rule(self.cleaned_data.get(name))
        except ChatError as refusal:
            raise forms.ValidationError(refusal.message, code=refusal.code) from None

    def clean_title(self) -> str:
        return self._rule("title", title_clean)

    def clean_text(self) -> str:
        return self._rule("text", script_text_clean)

    def clean_shortcut(self) -> str:
        return self._rule("shortcut", shortcut_clean)

    def refuse(self, refusal: ChatError) -> None:
        """Show a refusal of the services at its field, and tie it to the field
        (aria-invalid, aria-describedby) so a screen reader reads it there."""
        self.add_error(FIELD_OF.get(refusal.code), refusal.message)

    def describe(self) -> "ScriptForm":
        for name, field in self.fields.items():
            bound = self[name]
            ids = [f"{bound.auto_id}_helptext"] if field.help_text else []
            if self.errors.get(name):
                ids.append(f"{bound.auto_id}_error")
                field.widget.attrs["aria-invalid"] = "true"
            if ids:
                field.widget.attrs["aria-describedby"] = " ".join(ids)
        return self


class LibraryScriptAdminForm(forms.ModelForm):
    """A library script in the admin: the console's rules, and its shortcut
    free among the library's scripts and its librarians' own."""

    class Meta:
        model = Script
        fields = ["library", "title", "text", "shortcut"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A personal script's page shows its fields read-only: none of these.
        if "library" in self.fields:
            self.fields["library"].required = True

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        library = data.get("library")
        if library is None or self.errors:
            return data
        try:
            data.update(
                library_script_validate(
                    library=library,
                    title=data.get("title"),
                    text=data.get("text"),
                    shortcut=data.get("shortcut"),
                    script_id=self.instance.pk,
                )
            )
        except ChatError as refusal:
            self.add_error(FIELD_OF.get(refusal.code), refusal.message)
        return data


class SavedPageAdminForm(forms.ModelForm):
    # "library.example.org/hours" means https.
    url = forms.URLField(
        label="Address",
        max_length=500,
        assume_scheme="https",
        error_messages={"invalid": ADDRESS_RULE},
        help_text=SavedPage._meta.get_field("url").help_text,
    )

    class Meta:
        model = SavedPage
        fields = ["library", "title", "url"]

    def clean_url(self) -> str:
        value: str = self.cleaned_data["url"]
        scheme, sep, rest = value.partition(":")
        value = scheme.lower() + sep + rest  # "HTTPS://…" is https
        validate_page_address(value)
        return value
