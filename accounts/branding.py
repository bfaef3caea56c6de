"""A library's brand on its patron pages: its name, logo and colours.

Set by a supervisor in the admin (``Library``), all optional. The colours
reach a page only as a stylesheet of ours, ``/brand/<library-slug>.css``
(:func:`brand_css`: CSS custom properties that static/css/app.css uses, with
its own values as the defaults), never as style attributes: the
Content-Security-Policy allows no inline style. A logo is stored only as
Pillow wrote it (:func:`logo_clean`): PNG, JPEG or WebP, never SVG, never the
uploaded bytes themselves.

Pages get a :class:`Brand` as ``brand`` in their context and render it with
``patron/_brand_head.html`` (the stylesheet) and ``patron/_brand_mark.html``
(the logo and name); base.html does both when ``brand`` is set.
"""

import hashlib
from dataclasses import dataclass
from io import BytesIO
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy
from PIL import Image, UnidentifiedImageError

from core.colors import HEX_COLOR, contrast_ratio, relative_luminance, require_text_contrast

if TYPE_CHECKING:
    from accounts.models import Library

# What the link colour is read on in static/css/app.css: the page (--bg),
# cards (--card) and an outlined button under the pointer (--mine-bg).
PAGE_BACKGROUNDS = ("#f4f6f9", "#ffffff", "#e8f0fb")
# Pillow's name of each format a logo may be in, and the extension it is stored under.
LOGO_FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}
# Larger pictures are refused before they are decoded (a small file can
# unpack to gigabytes), and stored ones are scaled down to fit this box:
# ample for a logo shown at most 3.5 rem high on a screen of 3x density.
LOGO_MAX_PIXELS = 4096 * 4096
LOGO_BOX = (960, 320)


# ---------------------------------------------------------------- colours


def _valid(color: str) -> bool:
    return bool(HEX_COLOR.match(color or ""))


def brand_colors_errors(*, primary: str, text: str, link: str) -> dict[str, list[ValidationError]]:
    """The reasons a set of brand colours can't be used, by field; empty when they can.

    A colour that isn't #rrggbb is the field validator's to refuse; it is
    left out of the contrast checks here.
    """
    errors: dict[str, list[ValidationError]] = {}

    def refuse(field: str, error: ValidationError) -> None:
        errors.setdefault(field, []).append(error)

    if bool(primary) != bool(text):
        missing = "brand_text_color" if primary else "brand_color"
        refuse(
            missing,
            ValidationError(
                gettext_lazy("Set the primary colour and the text colour on it together."),
                code="pair",
            ),
        )
    if _valid(primary) and _valid(text):
        try:
            require_text_contrast(
                text, primary, what=gettext("The text colour on the primary colour")
            )
        except ValidationError as error:
            refuse("brand_text_color", error)
    # Links and outlined buttons use the link colour, or the primary one.
    on_page, field = (link, "link_color") if link else (primary, "brand_color")
    if _valid(on_page):
        worst = min(PAGE_BACKGROUNDS, key=lambda background: contrast_ratio(on_page, background))
        what = (
            gettext("The link colour on the page background")
            if link
            else gettext(
                "The primary colour, used for links on the page background (or set a link colour)"
            )
        )
        try:
            require_text_contrast(on_page, worst, what=what)
        except ValidationError as error:
            refuse(field, error)
    return errors


def _hover(primary: str, text: str) -> str:
    """The primary colour a little further from its text colour (a button
    under the pointer), so the text's contrast only grows."""
    toward = 0 if relative_luminance(text) > relative_luminance(primary) else 255
    channels = (int(primary[i : i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{round(c + (toward - c) * 0.15):02x}" for c in channels)


def brand_css(library: "Library") -> str:
    """The stylesheet of the library's colours: custom properties over app.css's defaults.

    Only colours that are #rrggbb reach it (a row written past the admin
    included), so nothing else can be injected into the CSS.
    """
    primary, text, link = library.brand_color, library.brand_text_color, library.link_color
    properties: list[tuple[str, str]] = []
    if _valid(primary) and _valid(text):
        properties += [
            ("--brand", primary),
            ("--brand-dark", _hover(primary, text)),
            ("--brand-ink", text),
            ("--header-bg", primary),
            ("--header-ink", text),
        ]
    if _valid(link):
        properties.append(("--link", link))
    elif _valid(primary):
        properties.append(("--link", primary))
    body = "".join(f"  {name}: {value};\n" for name, value in properties)
    return f"/* The colours of {library.slug}, set in the admin. */\n:root {{\n{body}}}\n"


def brand_version(library: "Library") -> str:
    """Changes whenever the stylesheet would: its URL carries it, so browsers may keep it."""
    key = f"{library.brand_color}{library.brand_text_color}{library.link_color}"
    return hashlib.sha256(key.encode()).hexdigest()[:12]


# ---------------------------------------------------------------- the logo


def logo_clean(upload: File, *, name: str) -> ContentFile:
    """The logo as Pillow re-encodes it, named ``<name>.<ext>``; ValidationError if it
    isn't a PNG, JPEG or WebP picture of a sensible size.

    Re-encoding drops whatever rode along with the picture (metadata, a
    second file glued to the end), and scales it down to :data:`LOGO_BOX`.
    """
    if upload.size is not None and upload.size > settings.BRAND_LOGO_MAX_BYTES:
        raise ValidationError(
            gettext_lazy("The logo is %(size)d KB; at most %(limit)d KB is accepted."),
            code="logo_size",
            params={
                "size": -(-upload.size // 1024),
                "limit": settings.BRAND_LOGO_MAX_BYTES // 1024,
            },
        )
    not_a_logo = ValidationError(
        gettext_lazy("Upload the logo as a PNG, JPEG or WebP picture (not SVG)."),
        code="logo_format",
    )
    upload.seek(0)
    try:
        with Image.open(upload) as image:
            if image.format not in LOGO_FORMATS:
                raise not_a_logo
            if image.width * image.height > LOGO_MAX_PIXELS:
                raise ValidationError(
                    gettext_lazy("The logo is %(width)d×%(height)d pixels; that is too large."),
                    code="logo_pixels",
                    params={"width": image.width, "height": image.height},
                )
            image_format = image.format
            image.load()  # decodes it all: a truncated or corrupt file fails here
            picture = image.copy()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise not_a_logo from None
    picture.thumbnail(LOGO_BOX)
    out = BytesIO()
    if image_format == "JPEG":
        picture.convert("RGB").save(out, "JPEG", quality=90, optimize=True)
    elif image_format == "WEBP":
        picture.save(out, "WEBP", quality=90)
    else:
        picture.save(out, "PNG", optimize=True)
    return ContentFile(out.getvalue(), name=f"{name}.{LOGO_FORMATS[image_format]}")


# ---------------------------------------------------------------- the pages


@dataclass(frozen=True)
class Brand:
    """What a patron page shows of a library: ``name`` always; the logo
    (``logo_url`` empty without one) and the stylesheet (``stylesheet_url``
    empty without colours) when set."""

    name: str
    slug: str
    website: str
    logo_url: str
    logo_alt: str
    logo_width: int | None
    logo_height: int | None
    stylesheet_url: str


def brand_for_library(library: "Library | None") -> Brand | None:
    """The brand of one library's patron pages (None: the neutral look)."""
    if library is None:
        return None
    has_colors = _valid(library.link_color) or (
        _valid(library.brand_color) and _valid(library.brand_text_color)
    )
    stylesheet_url = ""
    if has_colors:
        stylesheet_url = f"{reverse('brand-css', args=[library.slug])}?v={brand_version(library)}"
    return Brand(
        name=library.name,
        slug=library.slug,
        website=library.website,
        logo_url=library.logo.url if library.logo else "",
        # Typed by a supervisor: never translated; the default is ours.
        logo_alt=library.logo_alt or gettext("%(name)s logo") % {"name": library.name},
        logo_width=library.logo_width,
        logo_height=library.logo_height,
        stylesheet_url=stylesheet_url,
    )
