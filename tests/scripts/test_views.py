"""Settings → Scripts and the reply box's list, over HTTP: Alice sees and
changes only her own scripts, reads her library's, and never sees Bob's or
Carol's; each refusal comes back in the form, with what she typed.
"""

import json
import re

import pytest
from django.test import Client

from accounts.models import Librarian
from scripts.models import SavedPage, Script
from scripts.services import script_create
from tests.conftest import World

pytestmark = pytest.mark.django_db

HOURS = "Hi {patron}, {library} opens at 9."


def logged_in(librarian: Librarian) -> Client:
    client = Client()
    client.force_login(librarian.user)
    return client


@pytest.fixture
def alice_client(world: World) -> Client:
    return logged_in(world.alice)


@pytest.fixture
def scripts_of_everyone(world: World) -> dict[str, Script]:
    return {
        "alice": script_create(
            librarian=world.alice, title="Alice's greeting", text="Hello {patron}!", shortcut="hi"
        ),
        "bob": script_create(
            librarian=world.bob, title="Bob's secret", text="Bob only", shortcut="bob"
        ),
        "carol": script_create(librarian=world.carol, title="Carol's", text="Carol only"),
        "riverside": Script.objects.create(
            library=world.riverside_library, title="Riverside hours", text=HOURS, shortcut="hours"
        ),
        "hillcrest": Script.objects.create(
            library=world.hillcrest_library, title="Hillcrest hours", text="Hillcrest only"
        ),
    }


def test_the_picker_lists_her_own_her_librarys_and_its_saved_pages(
    world: World, alice_client: Client, scripts_of_everyone: dict[str, Script]
) -> None:
    SavedPage.objects.create(
        library=world.riverside_library,
        title="Catalogue",
        url="https://library.example.org/catalogue",
    )
    SavedPage.objects.create(
        library=world.hillcrest_library, title="Hillcrest", url="https://lib.hillcrest.example.edu/"
    )
    response = alice_client.get("/console/scripts/picker/")
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    body = json.loads(response.content)
    alices, ours = scripts_of_everyone["alice"], scripts_of_everyone["riverside"]
    assert body["scripts"] == [
        {"id": alices.pk, "kind": "personal", "title": "Alice's greeting", "shortcut": "hi",
         "text": "Hello {patron}!"},
        {"id": ours.pk, "kind": "library", "title": "Riverside hours", "shortcut": "hours",
         "text": HOURS},
    ]  # fmt: skip
    assert [(p["title"], p["url"]) for p in body["pages"]] == [
        ("Catalogue", "https://library.example.org/catalogue")
    ]


def test_nobody_else_reads_the_lists(world: World) -> None:
    assert Client().get("/console/scripts/picker/").status_code == 302  # to the login
    assert Client().get("/console/scripts/").status_code == 302
    frank = Client()
    frank.force_login(world.frank)  # type: ignore[arg-type]  # no librarian profile
    assert frank.get("/console/scripts/picker/").status_code == 403
    assert frank.get("/console/scripts/").status_code == 404


def test_settings_shows_hers_to_edit_and_her_librarys_to_read(
    alice_client: Client, scripts_of_everyone: dict[str, Script]
) -> None:
    page = alice_client.get("/console/scripts/?fragment=1").content.decode()
    assert "Alice&#x27;s greeting" in page
    assert f"/console/scripts/{scripts_of_everyone['alice'].pk}/edit/" in page
    assert "Riverside hours" in page
    assert f"/console/scripts/{scripts_of_everyone['riverside'].pk}/edit/" not in page
    for other in ("Bob&#x27;s secret", "Carol&#x27;s", "Hillcrest hours"):
        assert other not in page
    assert "<html" not in page  # a fragment; without ?fragment the whole page
    assert "<html" in alice_client.get("/console/scripts/").content.decode()


def test_another_librarians_script_is_neither_shown_nor_changed(
    alice_client: Client, scripts_of_everyone: dict[str, Script]
) -> None:
    for whose in ("bob", "carol", "riverside"):
        script = scripts_of_everyone[whose]
        assert alice_client.get(f"/console/scripts/{script.pk}/edit/").status_code == 404
        edit = alice_client.post(
            f"/console/scripts/{script.pk}/edit/?fragment=1", {"title": "Mine", "text": "Mine"}
        )
        assert edit.status_code == 404
        assert alice_client.post(f"/console/scripts/{script.pk}/delete/").status_code == 404
        script.refresh_from_db()
        assert script.title != "Mine"


def test_she_adds_edits_and_deletes_hers(world: World, alice_client: Client) -> None:
    added = alice_client.post(
        "/console/scripts/add/?fragment=1",
        {"title": "Cards", "text": "Cards are free, {patron}.", "shortcut": "card"},
    )
    assert added.status_code == 200
    assert "Script “Cards” added." in added.content.decode()
    script = Script.objects.get(owner=world.alice)
    edit_form = alice_client.get(f"/console/scripts/{script.pk}/edit/?fragment=1").content.decode()
    assert "Edit “Cards”" in edit_form
    assert "Cards are free, {patron}." in edit_form
    saved = alice_client.post(
        f"/console/scripts/{script.pk}/edit/?fragment=1",
        {"title": "Library cards", "text": "Free.", "shortcut": "cards"},
    )
    assert "Script “Library cards” saved." in saved.content.decode()
    assert (
        "Delete “Library cards”?"
        in alice_client.get(f"/console/scripts/{script.pk}/delete/?fragment=1").content.decode()
    )
    deleted = alice_client.post(f"/console/scripts/{script.pk}/delete/?fragment=1")
    assert "Script “Library cards” deleted." in deleted.content.decode()
    assert not Script.objects.exists()
    # Without the console: a redirect back to the page.
    plain = alice_client.post("/console/scripts/add/", {"title": "T", "text": "x"})
    assert plain.status_code == 302
    assert plain["Location"] == "/console/scripts/"


@pytest.mark.parametrize(
    ("typed", "field", "message"),
    [
        ({"text": ""}, "text", "A script&#x27;s text can&#x27;t be empty."),
        ({"text": "y" * 4001}, "text",
         "A script can be at most 4,000 characters; this one has 4,001."),
        ({"shortcut": "hours"}, "shortcut",
         "The shortcut /hours is taken: your library&#x27;s script “Riverside hours” has it."),
        ({"shortcut": "hi"}, "shortcut",
         "The shortcut /hi is taken: your script “Alice&#x27;s greeting” has it."),
        ({"title": ""}, "title", "A script needs a title."),
    ],
)  # fmt: skip
def test_a_refusal_is_shown_at_its_field_with_what_she_typed(
    alice_client: Client,
    scripts_of_everyone: dict[str, Script],
    typed: dict[str, str],
    field: str,
    message: str,
) -> None:
    form = {"title": "Greeting 2", "text": "Welcome to {library}", "shortcut": "", **typed}
    response = alice_client.post("/console/scripts/add/?fragment=1", form)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert f'id="script-{field}_error"' in page
    [tag] = re.findall(rf'<(?:input|textarea)[^>]*id="script-{field}"[^>]*>', page)
    assert f"script-{field}_error" in tag  # the message is read at the field
    assert 'aria-invalid="true"' in tag
    for value in form.values():
        if value and len(value) < 100:
            assert value in page  # nothing typed is lost
    assert ("y" * 4001) in page or typed.get("text") != "y" * 4001
    assert Script.objects.filter(owner__user__username="alice").count() == 1


def test_an_edit_refused_keeps_the_script_and_what_was_typed(
    alice_client: Client, scripts_of_everyone: dict[str, Script]
) -> None:
    mine = scripts_of_everyone["alice"]
    response = alice_client.post(
        f"/console/scripts/{mine.pk}/edit/?fragment=1",
        {"title": "Changed title", "text": "", "shortcut": "hi"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Changed title" in page
    assert "Edit “Alice&#x27;s greeting”" in page
    mine.refresh_from_db()
    assert mine.title == "Alice's greeting"


def test_every_field_wrong_is_said_at_once(alice_client: Client) -> None:
    response = alice_client.post(
        "/console/scripts/add/?fragment=1", {"title": "", "text": "  ", "shortcut": "two words"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    for message in (
        "A script needs a title.",
        "A script&#x27;s text can&#x27;t be empty.",
        "A shortcut is one short word",
    ):
        assert message in page
