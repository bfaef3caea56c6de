"""The supervisor's admin: library scripts and saved pages, with the
console's rules; a librarian's own scripts only to read."""

import pytest
from django.test import Client

from scripts.models import SavedPage, Script
from scripts.services import script_create
from tests.conftest import World

pytestmark = pytest.mark.django_db


def add_script(sam: Client, world: World, **fields: str) -> str:
    form = {
        "library": str(world.riverside_library.pk),
        "title": "Hours",
        "text": "9-21",
        "shortcut": "",
        **fields,
    }
    response = sam.post("/admin/scripts/script/add/", form)
    return "" if response.status_code == 302 else response.content.decode()


def test_sam_adds_a_library_script(sam: Client, world: World) -> None:
    assert add_script(sam, world, shortcut="/Hours") == ""
    script = Script.objects.get()
    assert (script.library, script.owner, script.shortcut) == (
        world.riverside_library,
        None,
        "hours",
    )
    assert "Library: Riverside Public Library" in sam.get("/admin/scripts/script/").content.decode()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"text": ""}, "This field is required."),
        ({"text": "x" * 4001}, "A script can be at most 4,000 characters; this one has 4,001."),
        ({"shortcut": "two words"}, "A shortcut is one short word"),
        ({"shortcut": "hours"},
         "The shortcut /hours is taken: the library&#x27;s script “Our hours” has it."),
        ({"shortcut": "bob"},
         "The shortcut /bob is taken: Bob&#x27;s personal script “Bob&#x27;s” has it."),
    ],
)  # fmt: skip
def test_a_library_script_is_refused_as_in_the_console(
    sam: Client, world: World, fields: dict[str, str], message: str
) -> None:
    Script.objects.create(
        library=world.riverside_library, title="Our hours", text="x", shortcut="hours"
    )
    script_create(librarian=world.bob, title="Bob's", text="x", shortcut="bob")
    page = add_script(sam, world, title="New one", **fields)
    assert message in page
    assert Script.objects.count() == 2


def test_a_personal_script_is_shown_but_not_changed(sam: Client, world: World) -> None:
    script = script_create(librarian=world.alice, title="Alice's own", text="Mine", shortcut="mine")
    page = sam.get(f"/admin/scripts/script/{script.pk}/change/").content.decode()
    assert "Alice&#x27;s own" in page
    assert 'name="title"' not in page  # read-only
    sam.post(f"/admin/scripts/script/{script.pk}/change/", {"title": "Sam's now", "text": "x"})
    assert (
        sam.post(f"/admin/scripts/script/{script.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    sam.post(
        "/admin/scripts/script/",
        {"action": "delete_selected", "_selected_action": [str(script.pk)], "post": "yes"},
    )
    script.refresh_from_db()
    assert script.title == "Alice's own"


@pytest.mark.parametrize(
    "address",
    [
        "javascript:alert(1)",
        "data:text/html,<b>hi</b>",
        "file:///etc/passwd",
        "ftp://example.org/x",
    ],
)
def test_a_saved_page_is_an_http_address(sam: Client, world: World, address: str) -> None:
    response = sam.post(
        "/admin/scripts/savedpage/add/",
        {"library": world.riverside_library.pk, "title": "Bad", "url": address},
    )
    assert response.status_code == 200
    assert (
        "Only an http:// or https:// address (not javascript:, data: or file:)."
        in response.content.decode()
    )
    assert not SavedPage.objects.exists()


def test_a_saved_page_without_a_scheme_is_https(sam: Client, world: World) -> None:
    for typed, stored in [
        ("library.example.org/hours", "https://library.example.org/hours"),
        ("HTTP://library.example.org/cards", "http://library.example.org/cards"),
    ]:
        response = sam.post(
            "/admin/scripts/savedpage/add/",
            {"library": world.riverside_library.pk, "title": typed, "url": typed},
        )
        assert response.status_code == 302
        assert SavedPage.objects.get(title=typed).url == stored


def test_the_demo_has_scripts_and_saved_pages() -> None:
    from django.core.management import call_command

    call_command("seed_demo", password="x-test-pass")
    call_command("seed_demo_scripts")
    call_command("seed_demo_scripts")  # again: nothing doubled
    call_command("seed_demo_scripts", if_empty=True)
    riverside = Script.objects.filter(library__slug="riverside-public")
    assert riverside.get(shortcut="hours").title == "Opening hours"
    assert Script.objects.get(owner__user__username="alice").shortcut == "wait"
    assert SavedPage.objects.filter(library__slug="hillcrest-college").count() == 2
    for page in SavedPage.objects.all():
        page.full_clean()
    for script in Script.objects.all():
        script.full_clean()
