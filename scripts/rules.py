"""What a script and a saved page may be: the pure checks, no database.

The services, the console's forms and the admin all go through these, so a
script is refused for the same reason, in the same words, wherever it is typed.
"""

import re

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from core.errors import ChatError
from core.text import text_clean

TITLE_MAX_CHARS = 100
SCRIPT_MAX_CHARS = 4000
SHORTCUT_MAX_CHARS = 30

_SHORTCUT = re.compile(r"[a-z0-9_-]+")
_ADDRESS = URLValidator(schemes=["http", "https"])

SHORTCUT_RULE = (
    f"A shortcut is one short word: letters, digits, - and _ "
    f"(at most {SHORTCUT_MAX_CHARS} characters)."
)
ADDRESS_RULE = "Only an http:// or https:// address (not javascript:, data: or file:)."


def title_clean(title: object) -> str:
    """The title as stored, or ``invalid_title``."""
    cleaned = text_clean(title).strip() if isinstance(title, str) else ""
    if not cleaned:
        raise ChatError("invalid_title", "A script needs a title.")
    if len(cleaned) > TITLE_MAX_CHARS:
        raise ChatError(
            "invalid_title",
            f"A title can be at most {TITLE_MAX_CHARS} characters; this one has {len(cleaned)}.",
        )
    return cleaned


def script_text_clean(text: object) -> str:
    """The text as stored (line breaks as line feeds, trailing blanks gone), or ``invalid_text``."""
    cleaned = text_clean(text.replace("\r\n", "\n")).strip() if isinstance(text, str) else ""
    if not cleaned:
        raise ChatError("invalid_text", "A script's text can't be empty.")
    if len(cleaned) > SCRIPT_MAX_CHARS:
        raise ChatError(
            "invalid_text",
            f"A script can be at most {SCRIPT_MAX_CHARS:,} characters; "
            f"this one has {len(cleaned):,}.",
        )
    return cleaned


def shortcut_clean(shortcut: object) -> str:
    """The shortcut as stored: lowercased, without a leading "/"; "" for none; or
    ``invalid_shortcut``."""
    cleaned = shortcut.strip().removeprefix("/").lower() if isinstance(shortcut, str) else ""
    if cleaned and (len(cleaned) > SHORTCUT_MAX_CHARS or not _SHORTCUT.fullmatch(cleaned)):
        raise ChatError("invalid_shortcut", SHORTCUT_RULE)
    return cleaned


def validate_shortcut(value: str) -> None:
    """The model field's validator (the admin): :func:`shortcut_clean`'s rule."""
    try:
        shortcut_clean(value)
    except ChatError as refusal:
        raise ValidationError(refusal.message, code=refusal.code) from None


def validate_page_address(value: str) -> None:
    """A saved page's address is http(s), and well formed: never javascript:, data:, file:."""
    if not value.startswith(("http://", "https://")):
        raise ValidationError(ADDRESS_RULE, code="invalid_address")
    try:
        _ADDRESS(value)
    except ValidationError:
        raise ValidationError(ADDRESS_RULE, code="invalid_address") from None
