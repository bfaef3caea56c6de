"""A library's brand: set by a supervisor in the admin, shown on its patron pages.

The admin refuses colours a patron couldn't read (WCAG AA, 4.5:1) and any
logo that isn't a PNG, JPEG or WebP picture; the colours reach the pages as
our stylesheet ``/brand/<slug>.css``, never as style attributes.
"""

import re
from io import BytesIO

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from PIL import Image

from accounts.branding import logo_clean
from accounts.models import Library
from core.colors import contrast_ratio

pytestmark = pytest.mark.django_db


@pytest.fixture
def sam(world) -> Client:
    client = Client()
    client.force_login(world.supervisor)
    return client


def picture(fmt: str = "PNG", size: tuple[int, int] = (120, 40), **save: object) -> bytes:
    out = BytesIO()
    Image.new("RGB", size, "#0b5d3b").save(out, fmt, **save)
    return out.getvalue()


def upload(name: str, content: bytes) -> ContentFile:
    return ContentFile(content, name=name)


def change(sam: Client, library: Library, **fields: object):
    """The supervisor saves the library's admin page with ``fields`` changed."""
    data: dict[str, object] = {
        "name": library.name,
        "slug": library.slug,
        "kind": library.kind,
        "website": library.website,
        "policy": library.policy,
        "logo_alt": library.logo_alt,
        "brand_color": library.brand_color,
        "brand_text_color": library.brand_text_color,
        "link_color": library.link_color,
        "time_zone": library.time_zone,
        # The hours' inlines on the same page, left as they are (none).
        "opening_periods-TOTAL_FORMS": "0",
        "opening_periods-INITIAL_FORMS": "0",
        "special_days-TOTAL_FORMS": "0",
        "special_days-INITIAL_FORMS": "0",
        **fields,
    }
    return sam.post(f"/admin/accounts/library/{library.pk}/change/", data)


def errors_of(response) -> str:
    page = response.content.decode()
    return " ".join(re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', page, re.S))


# ---------------------------------------------------------------- colours


def test_the_supervisor_sets_colours_that_pass_aa(sam, riverside_library):
    response = change(sam, riverside_library, brand_color="#0b5d3b", brand_text_color="#ffffff")
    assert response.status_code == 302
    riverside_library.refresh_from_db()
    assert (riverside_library.brand_color, riverside_library.brand_text_color) == (
        "#0b5d3b",
        "#ffffff",
    )


def test_text_that_fails_aa_on_the_primary_colour_is_refused_with_its_ratio(sam, riverside_library):
    response = change(sam, riverside_library, brand_color="#0b5d3b", brand_text_color="#3a7d5f")
    assert response.status_code == 200
    errors = errors_of(response)
    ratio = contrast_ratio("#3a7d5f", "#0b5d3b")
    assert f"The text colour on the primary colour has a contrast ratio of {ratio:.2f}:1" in errors
    assert "text needs at least 4.5:1 (WCAG AA)" in errors
    riverside_library.refresh_from_db()
    assert riverside_library.brand_color == ""


def test_a_light_link_colour_is_refused_on_the_page_background(sam, riverside_library):
    response = change(sam, riverside_library, link_color="#7fb2e5")
    assert response.status_code == 200
    assert "The link colour on the page background has a contrast ratio of" in errors_of(response)
    riverside_library.refresh_from_db()
    assert riverside_library.link_color == ""


def test_a_light_primary_colour_needs_a_darker_link_colour(sam, riverside_library):
    light = {"brand_color": "#ffd54f", "brand_text_color": "#1d1600"}
    refused = change(sam, riverside_library, **light)
    assert refused.status_code == 200
    assert "or set a link colour" in errors_of(refused)
    accepted = change(sam, riverside_library, **light, link_color="#6b4e00")
    assert accepted.status_code == 302


def test_a_primary_colour_without_its_text_colour_is_refused(sam, riverside_library):
    response = change(sam, riverside_library, brand_color="#0b5d3b")
    assert "Set the primary colour and the text colour on it together." in errors_of(response)


def test_a_colour_that_is_not_hex_is_refused(sam, riverside_library):
    response = change(sam, riverside_library, link_color="red;}a{")
    assert "Enter a colour as # and six hexadecimal digits" in errors_of(response)


# ---------------------------------------------------------------- the logo


def test_a_png_logo_is_stored_as_pillow_wrote_it(sam, riverside_library):
    response = change(sam, riverside_library, logo=upload("my logo.png", picture("PNG")))
    assert response.status_code == 302
    riverside_library.refresh_from_db()
    assert re.fullmatch(r"logos/riverside-public(_\w+)?\.png", riverside_library.logo.name)
    assert (riverside_library.logo_width, riverside_library.logo_height) == (120, 40)


def test_a_jpeg_logo_loses_its_metadata_and_a_big_one_is_scaled_down(sam, riverside_library):
    exif = Image.Exif()
    exif[0x010E] = "taken at the director's house"  # ImageDescription
    big = picture("JPEG", size=(2400, 800), exif=exif.tobytes())
    assert change(sam, riverside_library, logo=upload("logo.jpeg", big)).status_code == 302
    riverside_library.refresh_from_db()
    assert riverside_library.logo.name.endswith(".jpg")
    with Image.open(riverside_library.logo.path) as stored:
        assert stored.size == (960, 320)
        assert not stored.getexif()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.png", b"This is not a picture at all."),
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        ),
        ("logo.gif", picture("GIF")),
    ],
    ids=["text", "svg", "gif"],
)
def test_a_logo_that_is_not_a_png_jpeg_or_webp_is_refused(sam, riverside_library, name, content):
    response = change(sam, riverside_library, logo=upload(name, content))
    assert response.status_code == 200
    errors = errors_of(response)
    assert "Upload a valid image" in errors or "Upload the logo as a PNG, JPEG or WebP" in errors
    riverside_library.refresh_from_db()
    assert not riverside_library.logo


def test_a_logo_over_the_size_limit_is_refused(sam, riverside_library, settings):
    settings.BRAND_LOGO_MAX_BYTES = 1024
    noise = Image.effect_noise((200, 200), 100).convert("RGB")
    out = BytesIO()
    noise.save(out, "PNG")
    response = change(sam, riverside_library, logo=upload("logo.png", out.getvalue()))
    assert "at most 1 KB is accepted" in errors_of(response)


def test_a_huge_picture_is_refused_before_it_is_decoded():
    # 5000×5000 pixels in a few kilobytes of PNG: refused by its header alone.
    with pytest.raises(Exception, match="too large"):
        logo_clean(upload("bomb.png", picture("PNG", size=(5000, 5000))), name="x")


def test_the_admin_page_offers_the_brand_fields(sam, riverside_library):
    page = sam.get(f"/admin/accounts/library/{riverside_library.pk}/change/").content.decode()
    assert "Brand on the patron pages" in page
    assert 'accept="image/png,image/jpeg,image/webp"' in page


# ---------------------------------------------------------------- the stylesheet


def brand(library: Library, **colours: str) -> Library:
    for field, value in colours.items():
        setattr(library, field, value)
    library.save()
    return library


def test_the_brand_stylesheet_sets_the_librarys_colours(client, riverside_library):
    brand(riverside_library, brand_color="#0b5d3b", brand_text_color="#ffffff")
    page = client.get("/ask/riverside/", follow=True).content.decode()
    href = re.search(r'<link rel="stylesheet" href="(/brand/riverside-public\.css\?v=\w+)">', page)
    assert href, "the ask form links the library's stylesheet"
    response = client.get(href.group(1))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/css; charset=utf-8"
    assert "max-age=86400" in response["Cache-Control"]
    css = response.content.decode()
    for declaration in [
        "--brand: #0b5d3b;",
        "--brand-ink: #ffffff;",
        "--header-bg: #0b5d3b;",
        "--link: #0b5d3b;",
        "--brand-dark: #094f32;",
    ]:
        assert declaration in css


def test_new_colours_are_a_new_stylesheet_url(client, riverside_library):
    brand(riverside_library, brand_color="#0b5d3b", brand_text_color="#ffffff")

    def page() -> str:
        return client.get("/ask/riverside/", follow=True).content.decode()

    before = re.search(r"/brand/[^\"]+", page())
    brand(riverside_library, brand_color="#7a1f2b")
    after = re.search(r"/brand/[^\"]+", page())
    assert before and after and before.group() != after.group()
    stale = client.get(before.group())
    assert "--brand: #7a1f2b;" in stale.content.decode()
    assert "max-age=60" in stale["Cache-Control"]


def test_a_colour_written_past_the_admin_never_reaches_the_css(client, riverside_library):
    Library.objects.filter(pk=riverside_library.pk).update(
        link_color="red}*{x", brand_color="#0b5d3b", brand_text_color="#ffffff"
    )
    css = client.get("/brand/riverside-public.css").content.decode()
    assert "red" not in css and "{x" not in css
    assert "--link: #0b5d3b;" in css


def test_no_stylesheet_for_a_library_without_colours_or_for_an_unknown_one(
    client, riverside_library
):
    assert "/brand/" not in client.get("/ask/riverside/", follow=True).content.decode()
    assert "--" not in client.get("/brand/riverside-public.css").content.decode()
    assert client.get("/brand/nowhere.css").status_code == 404


# ---------------------------------------------------------------- the pages


def test_the_ask_form_and_chat_page_show_the_librarys_logo_and_name(client, riverside_library, ask):
    riverside_library.logo = logo_clean(upload("l.png", picture()), name="riverside-public")
    riverside_library.save()
    form = client.get("/ask/riverside/", follow=True).content.decode()
    logo = (
        f'<img class="brand-logo" src="/media/{riverside_library.logo.name}" '
        'alt="Riverside Public Library logo" width="120" height="40">'
    )
    assert logo in form
    assert '<span class="brand-name">Riverside Public Library</span>' in form
    assert "style=" not in form
    session = ask()
    assert logo in client.get(f"/chat/{session.token}/").content.decode()
    served = client.get(f"/media/{riverside_library.logo.name}")
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"


def test_the_logo_text_alternative_set_in_the_admin_is_used(client, riverside_library):
    riverside_library.logo = logo_clean(upload("l.png", picture()), name="riverside-public")
    riverside_library.logo_alt = "Riverside Public Library: a book over the river"
    riverside_library.save()
    page = client.get("/ask/riverside/", follow=True).content.decode()
    assert 'alt="Riverside Public Library: a book over the river"' in page


def test_a_cooperative_form_is_neutral_and_its_chat_page_is_the_patrons_library(client, world, ask):
    brand(world.riverside_library, brand_color="#0b5d3b", brand_text_color="#ffffff")
    brand(world.hillcrest_library, brand_color="#7a1f2b", brand_text_color="#ffffff")
    form = client.get("/ask/cooperative/", follow=True).content.decode()
    assert "/brand/" not in form
    assert ">Reference Chat</a>" in form
    session = ask(world.cooperative, library=world.hillcrest_library)
    page = client.get(f"/chat/{session.token}/").content.decode()
    assert "/brand/hillcrest-college.css" in page
    assert '<span class="brand-name">Hillcrest College Library</span>' in page


def test_media_serves_only_logo_pictures(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "logos").mkdir()
    (tmp_path / "logos" / "page.html").write_text("<script>alert(1)</script>")
    assert client.get("/media/logos/page.html").status_code == 404
    assert client.get("/media/../secret_key.png").status_code == 404
