"""Scripts: a librarian's own, added, edited and deleted from Settings, and
each refusal (an empty text, one of 4,001 characters, a shortcut taken
twice: among one's own, by the library's, or by a colleague's for the
library), and another librarian's script, which is never theirs to change.

Alice and Bob work at Riverside; Carol at Hillcrest.
"""

import pytest
from django.db import IntegrityError, transaction

from core.errors import ChatError
from scripts.models import Script
from scripts.selectors import picker_payload, scripts_for
from scripts.services import (
    library_script_validate,
    script_create,
    script_delete,
    script_update,
)
from tests.conftest import World

pytestmark = pytest.mark.django_db

HOURS = "Hi {patron}, {library} is open Monday to Friday 9:00-21:00."


def refused(code: str, act: object) -> str:
    with pytest.raises(ChatError) as caught:
        act()  # type: ignore[operator]
    assert caught.value.code == code
    return caught.value.message


def test_alice_adds_edits_and_deletes_a_script_of_her_own(world: World) -> None:
    script = script_create(
        librarian=world.alice, title="  Opening hours ", text=HOURS + "\r\n\n", shortcut="/Hours"
    )
    assert (script.owner, script.library, script.title) == (world.alice, None, "Opening hours")
    assert script.text == HOURS  # the trailing blank lines go, line breaks are line feeds
    assert script.shortcut == "hours"  # no slash, lowercase
    saved = script_update(
        librarian=world.alice,
        script_id=script.pk,
        title="Hours",
        text="We open at 9.\r\nWelcome, {patron}.",
        shortcut="",
    )
    assert (saved.title, saved.text, saved.shortcut) == (
        "Hours",
        "We open at 9.\nWelcome, {patron}.",
        "",
    )
    script_delete(librarian=world.alice, script_id=script.pk)
    assert not Script.objects.exists()


@pytest.mark.parametrize(
    ("fields", "code", "message"),
    [
        ({"text": ""}, "invalid_text", "A script's text can't be empty."),
        ({"text": " \n\t "}, "invalid_text", "A script's text can't be empty."),
        (
            {"text": "x" * 4001},
            "invalid_text",
            "A script can be at most 4,000 characters; this one has 4,001.",
        ),
        ({"title": ""}, "invalid_title", "A script needs a title."),
        ({"title": "t" * 101}, "invalid_title", "at most 100 characters"),
        ({"shortcut": "two words"}, "invalid_shortcut", "one short word"),
        ({"shortcut": "ça"}, "invalid_shortcut", "letters, digits, - and _"),
        ({"shortcut": "x" * 31}, "invalid_shortcut", "at most 30"),
    ],
)
def test_a_script_that_is_not_one_is_refused(
    world: World, fields: dict[str, str], code: str, message: str
) -> None:
    typed = {"title": "Hours", "text": HOURS, "shortcut": "hours", **fields}
    assert message in refused(code, lambda: script_create(librarian=world.alice, **typed))
    mine = script_create(librarian=world.alice, title="Hours", text=HOURS)
    assert message in refused(
        code, lambda: script_update(librarian=world.alice, script_id=mine.pk, **typed)
    )
    assert Script.objects.get().text == HOURS


def test_exactly_4000_characters_is_a_script(world: World) -> None:
    script = script_create(librarian=world.alice, title="Long", text="x" * 4000)
    assert len(script.text) == 4000


def test_a_shortcut_of_her_own_twice_is_refused(world: World) -> None:
    script_create(librarian=world.alice, title="Opening hours", text=HOURS, shortcut="hours")
    message = refused(
        "shortcut_taken",
        lambda: script_create(librarian=world.alice, title="Other", text="x", shortcut="HOURS"),
    )
    assert message == "The shortcut /hours is taken: your script “Opening hours” has it."
    other = script_create(librarian=world.alice, title="Other", text="x", shortcut="card")
    refused(
        "shortcut_taken",
        lambda: script_update(
            librarian=world.alice, script_id=other.pk, title="Other", text="x", shortcut="hours"
        ),
    )
    # Saving a script with its own shortcut is no conflict; Bob may have /hours too.
    script_update(
        librarian=world.alice, script_id=other.pk, title="Card", text="y", shortcut="card"
    )
    script_create(librarian=world.bob, title="Hours", text=HOURS, shortcut="hours")


def test_a_shortcut_her_library_has_is_refused(world: World) -> None:
    Script.objects.create(
        library=world.riverside_library, title="Our hours", text=HOURS, shortcut="hours"
    )
    message = refused(
        "shortcut_taken",
        lambda: script_create(librarian=world.alice, title="Mine", text="x", shortcut="hours"),
    )
    assert message == "The shortcut /hours is taken: your library's script “Our hours” has it."
    # Hillcrest's Carol is not of Riverside: /hours is hers to take.
    script_create(librarian=world.carol, title="Hours", text=HOURS, shortcut="hours")


def test_a_library_shortcut_a_librarian_of_it_has_is_refused(world: World) -> None:
    script_create(librarian=world.bob, title="Bob's hours", text=HOURS, shortcut="hours")
    message = refused(
        "shortcut_taken",
        lambda: library_script_validate(
            library=world.riverside_library,
            title="Hours",
            text=HOURS,
            shortcut="hours",
            script_id=None,
        ),
    )
    assert message == "The shortcut /hours is taken: Bob's personal script “Bob's hours” has it."
    ours = Script.objects.create(
        library=world.riverside_library, title="Cards", text="x", shortcut="card"
    )
    refused(
        "shortcut_taken",
        lambda: library_script_validate(
            library=world.riverside_library, title="Also", text="x", shortcut="card", script_id=None
        ),
    )
    # The script itself keeps its shortcut; Hillcrest may have /hours and /card.
    library_script_validate(
        library=world.riverside_library, title="Cards", text="y", shortcut="card", script_id=ours.pk
    )
    library_script_validate(
        library=world.hillcrest_library, title="Hours", text=HOURS, shortcut="hours", script_id=None
    )


def test_another_librarians_script_is_not_hers_to_change(world: World) -> None:
    bobs = script_create(librarian=world.bob, title="Bob's", text="Bob's text", shortcut="bob")
    ours = Script.objects.create(library=world.riverside_library, title="Ours", text="Ours")
    for script in (bobs, ours):
        refused(
            "not_found",
            lambda script=script: script_update(
                librarian=world.alice, script_id=script.pk, title="Mine now", text="x"
            ),
        )
        refused(
            "not_found",
            lambda script=script: script_delete(librarian=world.alice, script_id=script.pk),
        )
    assert Script.objects.get(pk=bobs.pk).title == "Bob's"
    assert Script.objects.get(pk=ours.pk).title == "Ours"
    refused("not_found", lambda: script_delete(librarian=world.alice, script_id=999_999))


def test_she_reads_her_own_and_her_librarys_only(world: World) -> None:
    mine = script_create(librarian=world.alice, title="Mine", text="x", shortcut="mine")
    script_create(librarian=world.bob, title="Bob's", text="x")
    script_create(librarian=world.carol, title="Carol's", text="x")
    ours = Script.objects.create(library=world.riverside_library, title="Ours", text="x")
    Script.objects.create(library=world.hillcrest_library, title="Hillcrest's", text="x")
    assert list(scripts_for(librarian=world.alice)) == [mine, ours]
    payload = picker_payload(librarian=world.alice)
    assert [(s["title"], s["kind"]) for s in payload["scripts"]] == [
        ("Mine", "personal"),
        ("Ours", "library"),
    ]


def test_the_database_holds_the_rules_too(world: World) -> None:
    def breaks(**fields: object) -> None:
        with pytest.raises(IntegrityError), transaction.atomic():
            Script.objects.create(**{"title": "T", "text": "x", **fields})

    breaks()  # neither a library's nor anyone's
    breaks(library=world.riverside_library, owner=world.alice)  # both
    breaks(owner=world.alice, text="")
    breaks(owner=world.alice, text="x" * 4001)
    breaks(owner=world.alice, shortcut="Hours")  # stored lowercase only
    Script.objects.create(owner=world.alice, title="A", text="x", shortcut="hours")
    breaks(owner=world.alice, shortcut="hours")
    Script.objects.create(library=world.riverside_library, title="A", text="x", shortcut="hours")
    breaks(library=world.riverside_library, shortcut="hours")
    # No shortcut is no conflict.
    Script.objects.create(owner=world.alice, title="B", text="x")
    Script.objects.create(owner=world.alice, title="C", text="x")
