"""Colours a library sets in the admin (its brand, its widget), and whether
text stays readable on them: WCAG 2.2's contrast ratio, AA (4.5:1 for text).

    >>> round(contrast_ratio("#ffffff", "#000000"), 1)
    21.0
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
# WCAG 2.2, success criterion 1.4.3 (AA): normal text needs 4.5:1.
AA_TEXT = 4.5


def parse_hex(color: str) -> tuple[int, int, int]:
    """``#rrggbb`` as three 0–255 channels; ValueError for anything else."""
    if not HEX_COLOR.match(color or ""):
        raise ValueError(f"not a #rrggbb colour: {color!r}")
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def relative_luminance(color: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in parse_hex(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """From 1 (the same colour) to 21 (black on white), either order."""
    la, lb = relative_luminance(a), relative_luminance(b)
    lighter, darker = max(la, lb), min(la, lb)
    return (lighter + 0.05) / (darker + 0.05)


def validate_hex_color(value: str) -> None:
    if not HEX_COLOR.match(value or ""):
        raise ValidationError(
            _("Enter a colour as # and six hexadecimal digits, such as #1d4ed8."), code="color"
        )


def require_text_contrast(foreground: str, background: str, *, what: str) -> None:
    """Refuse a pair of colours whose text would fail WCAG AA (4.5:1).

    ``what`` names the pair for the message ("The button's text on its colour").
    """
    ratio = contrast_ratio(foreground, background)
    if ratio < AA_TEXT:
        raise ValidationError(
            _(
                "%(what)s has a contrast ratio of %(ratio).2f:1; text needs at least "
                "%(needed).1f:1 (WCAG AA). Choose a darker or lighter colour."
            ),
            code="contrast",
            params={"what": what, "ratio": ratio, "needed": AA_TEXT},
        )
