"""The one cleaning of text people type, before anything stores it.

PostgreSQL can't store U+0000 in a text column (psycopg refuses the
parameter, and the socket died with it), and neither database can take a
lone surrogate (``"\\ud800"`` is valid JSON, but not UTF-8). The other C0
control characters are storable but never meant: a paste from a terminal
or a PDF. So every text input is cleaned here, the same way on both
databases (docs/protocol.md, "Text"):

- U+0000 and the other C0 controls except tab, line feed and carriage
  return are dropped;
- a lone surrogate becomes U+FFFD, the replacement character, so the reader
  sees that something was there.

What is left may be empty: each caller decides what that means (an empty
line is ``invalid_line``).
"""

import re

from django import forms

# One class for both, so the common case (nothing to clean) is one scan.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def _replace(match: re.Match[str]) -> str:
    return "" if match.group() < "\x20" else "\ufffd"


def text_clean(text: str) -> str:
    """``text`` without the characters no database here can store (see above)."""
    if _UNSTORABLE.search(text) is None:
        return text
    return _UNSTORABLE.sub(_replace, text)


def text_storable(text: str) -> bool:
    """True if ``text`` is left as it is by :func:`text_clean` (for values
    refused rather than cleaned: ids, addresses)."""
    return _UNSTORABLE.search(text) is None


class CleanCharField(forms.CharField):
    """A form's text field that cleans what was typed (:func:`text_clean`)
    before its other checks, so a stray control character is dropped, not
    refused as Django's "Null characters are not allowed." would.

    Its line breaks become line feeds, as a line from the socket has them: a
    browser posts a textarea's every line break as CR LF (HTML's form
    submission), while its ``maxlength`` counts each as one character, so a
    question the browser let the patron finish would otherwise be refused
    as too long, and be stored unlike the chat's other lines."""

    def to_python(self, value: object) -> str | None:
        # Cleaned first: what it leaves is then stripped and checked as typed.
        if isinstance(value, str):
            value = text_clean(value.replace("\r\n", "\n"))
        return super().to_python(value)
