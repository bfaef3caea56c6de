"""Push a Page (chat/pages.py): a web page a librarian sends the patron, a line like any other.

The people are those of tests/chat/conftest.py: Alice holds Dana's session
in Ask Riverside (``held``: lines 1 and 2), Bob monitors it too, Dave only
the archive. Sam is a supervisor of Riverside who may watch it. A page is
stored by the one line path, numbered with the session's other lines,
patron-visible; a refused address stores nothing and says why.
"""

from typing import Any

import pytest
from django.db import connection

from accounts.models import Librarian
from chat import sessions, team, transfers
from chat.line_sql import line_statement
from chat.lines import librarian_line
from chat.models import ChatSession, Message
from chat.pages import page_line
from chat.selectors import patron_snapshot
from console.selectors import session_detail_for
from tests.chat.helpers import accept, group
from tests.helpers import fresh, lines_of, logged_in, refused
from tests.talk import librarian_pushes, librarian_says, transcripts_delivered

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("one_primary_per_active_session")]

HOURS = "https://riverside.example.org/hours"


@pytest.fixture
def sam(supervisor: Any, riverside_library: Any) -> Librarian:
    """Sam: a supervisor (the Supervisors group's watch permission) with a console."""
    return Librarian.objects.create(
        user=supervisor, library=riverside_library, display_name="Sam", staff_id="RPL-001"
    )


# --- Stored as a line ---------------------------------------------------------------


def test_a_pushed_page_is_the_next_line_and_both_sides_hear_it_with_its_address(
    held, alice, heard_by
):
    patron = f"patron.{held.pk}"
    heard = heard_by(
        [group(alice), patron],
        lambda: librarian_pushes(held, alice, HOURS, "Opening hours", client_id="p-1"),
    )
    page = Message.objects.get(session=held, kind=Message.Kind.PAGE)
    assert (page.seq, page.patron_seq, page.visibility) == (3, 3, Message.Visibility.PATRON)
    assert (page.text, page.url, page.author, page.author_name) == (
        "Opening hours",
        HOURS,
        alice,
        "Alice",
    )
    assert fresh(held).last_seq == 3
    (to_alice,) = heard[group(alice)]
    assert to_alice["message"] | {"created_at": None} == {
        "seq": 3,
        "kind": "page",
        "note": False,
        "author": "Alice",
        "text": "Opening hours",
        "url": HOURS,
        "created_at": None,
        "client_id": "p-1",
    }
    (to_dana,) = heard[patron]
    assert to_dana["message"] | {"created_at": None} == {
        "seq": 3,
        "kind": "page",
        "author": "Alice",
        "text": "Opening hours",
        "url": HOURS,
        "created_at": None,
        "client_id": "p-1",
    }
    # The next line takes the next number: one numbering for every line.
    said, _ = librarian_says(held, alice, "It opens at nine.")
    assert (said.seq, said.url) == (4, "")


def test_a_page_is_in_the_patrons_resume_and_the_consoles_session_detail(held, alice):
    librarian_pushes(held, alice, HOURS, "Opening hours")
    resumed = patron_snapshot(session_id=held.pk, after=2)
    assert [(m["kind"], m["text"], m.get("url")) for m in resumed["messages"]] == [
        ("page", "Opening hours", HOURS)
    ]
    detail = session_detail_for(session_id=held.pk, librarian=alice)
    assert detail["messages"][-1]["url"] == HOURS
    # Other lines carry no address at all.
    assert all("url" not in m for m in detail["messages"][:-1])


def test_the_title_defaults_to_the_address_and_white_space_is_tidied(held, alice):
    untitled, _ = librarian_pushes(held, alice, f"  {HOURS}\n")
    assert (untitled.url, untitled.text) == (HOURS, HOURS)
    spaced, _ = librarian_pushes(held, alice, HOURS, "  Opening\n\thours ")
    assert spaced.text == "Opening hours"
    long_address = "https://riverside.example.org/" + "a" * 300
    long_one, _ = librarian_pushes(held, alice, long_address, None)
    assert long_one.url == long_address
    assert long_one.text == long_address[:199] + "…"


def test_a_retry_with_the_same_client_id_stores_nothing_new(held, alice):
    first, created = librarian_pushes(held, alice, HOURS, "Opening hours", client_id="p-7")
    again, created_again = librarian_pushes(held, alice, HOURS, "Opening hours", client_id="p-7")
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert Message.objects.filter(session=held, kind=Message.Kind.PAGE).count() == 1
    assert fresh(held).last_seq == 3


def test_an_ordinary_lines_statement_is_as_it_was_and_only_a_pages_names_the_address(alice):
    column = connection.ops.quote_name("url")
    line = librarian_line(session_id=1, librarian=alice, text="Hello", client_id="c-1")
    page = page_line(session_id=1, librarian=alice, url=HOURS, title="", client_id="c-1")
    line_sql, line_params = line_statement(line, None)
    page_sql, page_params = line_statement(page, None)
    assert column not in line_sql
    assert column in page_sql
    # The same parameters, the page's kind and title for the line's, and its address after.
    assert page_params == [
        *line_params[:-7], "page", "patron", alice.pk, "Alice", HOURS, None, "c-1", HOURS
    ]  # fmt: skip
    assert line_params[-7:] == ["librarian", "patron", alice.pk, "Alice", "Hello", None, "c-1"]


# --- Refused addresses --------------------------------------------------------------

RIVERSIDE = "https://riverside.example.org"
WHOLE = "Type the whole address, starting with https:// or http://."
NO_HOST = "The address has no host name (such as www.example.org)."
NO_ADDRESS = "That isn't a web address: check the host name and the port."
CONTROLS = "The address can't contain control characters."
EMPTY = "Type the address of the page, starting with https:// or http://."


def not_web(scheme: str) -> str:
    return (
        f"Only a web page can be pushed, not a {scheme}: address:"
        " it must start with https:// or http://."
    )


@pytest.mark.parametrize(
    ("url", "title", "message"),
    [
        ("javascript:alert(document.cookie)", "", not_web("javascript")),
        ("JavaScript:alert(1)", "", not_web("javascript")),
        ("data:text/html,<script>alert(1)</script>", "", not_web("data")),
        ("file:///etc/passwd", "", not_web("file")),
        ("ftp://ftp.example.org/pub", "", not_web("ftp")),
        ("/hours", "", WHOLE),
        ("riverside.example.org/hours", "", WHOLE),
        ("https://", "", NO_HOST),
        ("http:riverside.example.org", "", NO_HOST),
        (
            "https://alice:secret@riverside.example.org/",
            "",
            "An address with a user name or password in it can't be pushed: remove them.",
        ),
        (f"{RIVERSIDE}:99999/", "", NO_ADDRESS),
        ("https://riverside", "", NO_ADDRESS),
        (
            f"{RIVERSIDE}/" + "a" * 1971,
            "",
            "An address can be at most 2,000 characters; this one has 2,001.",
        ),
        (HOURS, "t" * 201, "A title can be at most 200 characters; this one has 201."),
        (HOURS + "\x00", "", CONTROLS),
        (f"{RIVERSIDE}/\x85hours", "", CONTROLS),
        (
            f"{RIVERSIDE}/opening hours",
            "",
            "The address can't contain spaces: check it and paste it again.",
        ),
        (HOURS, "Opening\x00hours", "The title can't contain control characters."),
        (HOURS, "Opening\x1bhours", "The title can't contain control characters."),
        ("", "Opening hours", EMPTY),
        ("   ", "", EMPTY),
        (None, "", "The address must be text."),
        (["https://x.org"], "", "The address must be text."),
        (HOURS, 42, "The title must be text."),
    ],
)
def test_an_address_that_is_no_web_page_is_refused_with_why_and_nothing_is_stored(
    held, alice, url, title, message
):
    before = lines_of(held)
    with refused("invalid_page") as refusal:
        librarian_pushes(held, alice, url, title, client_id="p-1")
    assert refusal.message == message
    assert lines_of(held) == before
    assert fresh(held).last_seq == 2


def test_a_session_one_cant_see_is_not_found_whatever_the_address(held, dave):
    with refused("not_found"):
        librarian_pushes(held, dave, "javascript:alert(1)")
    with refused("not_found"):
        librarian_pushes(held, dave, HOURS)
    with refused("not_found"):
        librarian_pushes(2**70, dave, HOURS)


# --- Who may push ---------------------------------------------------------------------


def test_a_librarian_who_joined_pushes_a_page_and_it_carries_their_name(held, alice, bob):
    accept(
        transfers.transfer_offer(session_id=held.pk, sender=alice, receiver_id=bob.pk, join=True),
        bob,
    )
    page, _ = librarian_pushes(held, bob, HOURS, "Opening hours")
    assert (page.author_name, page.visibility) == ("Bob", Message.Visibility.PATRON)


def test_a_colleague_not_in_the_chat_a_watcher_and_a_closed_chat_cant_take_a_page(
    held, alice, bob, sam, riverside
):
    with refused("not_primary"):
        librarian_pushes(held, bob, HOURS)
    team.watch_start(session_id=held.pk, librarian=sam)
    with refused("watching"):
        librarian_pushes(held, sam, HOURS)
    sessions.session_end_by_librarian(session_id=held.pk, librarian=alice)
    with refused("session_closed"):
        librarian_pushes(held, alice, HOURS)
    assert not Message.objects.filter(session=held, kind=Message.Kind.PAGE).exists()


def test_nobody_pushes_to_a_waiting_request(on_shift, ask, alice):
    waiting = ask()
    with refused("session_waiting"):
        librarian_pushes(waiting, alice, HOURS)
    assert fresh(waiting).state == ChatSession.State.WAITING


# --- Everywhere lines are read ------------------------------------------------------


def test_the_transcript_email_has_the_pages_title_and_whole_address(
    on_shift, chat, alice, mailoutbox, django_capture_on_commit_callbacks
):
    session = chat(alice, email="dana@example.org")
    librarian_pushes(session, alice, HOURS + "?branch=main#sunday", "Opening hours")
    with django_capture_on_commit_callbacks(execute=True):
        sessions.session_end_by_librarian(session_id=session.pk, librarian=alice)
    assert transcripts_delivered() == [session.pk]
    body = mailoutbox[0].body
    assert "Alice sent you a page: Opening hours\n" in body
    assert f"    <{HOURS}?branch=main#sunday>\n" in body


def test_the_api_shows_the_page_to_the_patron_and_to_staff(held, alice, client):
    librarian_pushes(held, alice, HOURS, "Opening hours")
    mine = client.get(f"/api/v1/chat/{held.token}/").json()["messages"]
    assert [(m["kind"], m["text"], m["url"]) for m in mine][-1] == (
        "page",
        "Opening hours",
        HOURS,
    )
    assert {m["url"] for m in mine[:-1]} == {None}
    staff = logged_in(alice).get(f"/api/v1/sessions/{held.pk}/").json()["messages"]
    assert (staff[-1]["kind"], staff[-1]["note"], staff[-1]["url"]) == ("page", False, HOURS)
    assert {m["url"] for m in staff[:-1]} == {None}


def test_chat_history_shows_the_page_as_a_link_to_a_new_tab(held, alice):
    librarian_pushes(held, alice, HOURS, "Opening <hours>")
    page = logged_in(alice).get(f"/console/history/{held.pk}/").content.decode()
    assert (
        f'<a class="page-link" href="{HOURS}" target="_blank" rel="noopener noreferrer">'
        '<span class="page-title">Opening &lt;hours&gt;</span>'
        f'<span class="page-host">{HOURS}</span>'
    ) in page
    assert "Pushed page" in page
