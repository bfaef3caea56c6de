"""Chat History (transcripts/views.py): the sessions of my queues, filtered, and each one whole."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from chat import sessions
from chat.lines import line_store, note_line
from chat.models import ChatSession
from tests.helpers import logged_in
from tests.talk import librarian_says

pytestmark = pytest.mark.django_db


# --- Chat History -------------------------------------------------------------


@pytest.fixture
def history(ask, chat, alice, bob, dave, archive, cooperative, hillcrest_library):
    """Sessions across the queues: Alice's (ended), Bob's (last year), one waiting, Dave's."""
    by_alice = chat(alice, name="Dana", question="Large-print Middlemarch?")
    librarian_says(session=by_alice, librarian=alice, text="Try interlibrary loan.", client_id=None)
    line_store(note_line(by_alice, "Asked twice this week", alice))
    sessions.session_end_by_librarian(session_id=by_alice.pk, librarian=alice)
    by_bob = chat(bob, name="Eli", question="Where are the tax forms?")
    waiting = ask(cooperative, library=hillcrest_library, name="Fay", question="Theses on JSTOR?")
    elsewhere = ask(archive, name="Gus", question="Old maps of the harbour?")
    last_year = timezone.now() - dt.timedelta(days=400)
    ChatSession.objects.filter(pk=by_bob.pk).update(created_at=last_year)
    return {"by_alice": by_alice, "by_bob": by_bob, "waiting": waiting, "elsewhere": elsewhere}


def names_listed(response) -> set[str]:
    assert response.status_code == 200
    page = response.content.decode()
    return {name for name in ["Dana", "Eli", "Fay", "Gus"] if f"{name}<br>" in page}


def test_history_lists_the_sessions_of_my_queues_only(history, alice):
    assert names_listed(logged_in(alice).get("/console/history/")) == {"Dana", "Eli", "Fay"}


def test_dave_sees_only_his_archive(history, dave):
    assert names_listed(logged_in(dave).get("/console/history/")) == {"Gus"}


def test_history_filters_by_queue_librarian_date_and_text(history, alice, bob, cooperative):
    client = logged_in(alice)
    assert names_listed(client.get("/console/history/", {"queue": cooperative.pk})) == {"Fay"}
    assert names_listed(client.get("/console/history/", {"librarian": bob.pk})) == {"Eli"}
    a_month_ago = (timezone.now() - dt.timedelta(days=30)).date().isoformat()
    assert names_listed(client.get("/console/history/", {"date_from": a_month_ago})) == {
        "Dana",
        "Fay",
    }
    assert names_listed(client.get("/console/history/", {"date_to": a_month_ago})) == {"Eli"}
    # Text matches any line, not only the question.
    assert names_listed(client.get("/console/history/", {"text": "INTERLIBRARY"})) == {"Dana"}
    assert names_listed(client.get("/console/history/", {"text": "tax forms"})) == {"Eli"}
    nothing = client.get("/console/history/", {"text": "zebra"})
    assert names_listed(nothing) == set()
    assert "No chat sessions match." in nothing.content.decode()


def test_history_does_not_offer_filters_outside_my_queues(history, alice, archive, dave):
    client = logged_in(alice)
    page = client.get("/console/history/").content.decode()
    assert "County Libraries Cooperative" in page and "Bob (RPL-117)" in page
    assert "Riverside Local History Archive" not in page
    assert "Dave (RPL-150)" not in page
    # Choosing them anyway filters nothing in: the form refuses the choice.
    assert names_listed(client.get("/console/history/", {"queue": archive.pk})) == {
        "Dana",
        "Eli",
        "Fay",
    }


def test_history_detail_shows_every_line_with_its_time_and_marks_notes(history, alice):
    session = history["by_alice"]
    response = logged_in(alice).get(f"/console/history/{session.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    lines = list(session.messages.order_by("seq"))
    assert [line.text for line in lines] == [
        "Large-print Middlemarch?",
        "Alice has joined the chat.",
        "Try interlibrary loan.",
        "Asked twice this week",
        "Librarian ended chat session",
    ]
    positions = []
    for line in lines:
        stamp = timezone.localtime(line.created_at).strftime("%Y-%m-%d %H:%M:%S")
        assert stamp in page
        positions.append(page.index(line.text))
    assert positions == sorted(positions), "lines are shown in the order they were said"
    assert page.count("Librarian Note") == 1
    note_at = page.index("Librarian Note")
    assert page.rindex("<li", 0, note_at) == page.rindex("<li", 0, page.index("Asked twice"))


def test_a_colleague_in_the_queue_reads_the_detail_an_outsider_does_not(history, bob, dave, frank):
    session = history["by_alice"]
    assert logged_in(bob).get(f"/console/history/{session.pk}/").status_code == 200
    assert logged_in(dave).get(f"/console/history/{session.pk}/").status_code == 404
    assert logged_in(frank).get(f"/console/history/{session.pk}/").status_code == 404
    assert logged_in(frank).get("/console/history/").status_code == 404
    assert Client().get(f"/console/history/{session.pk}/").status_code == 302


def test_history_fragments_render_without_the_page_around_them(history, alice):
    client = logged_in(alice)
    whole = client.get("/console/history/").content.decode()
    fragment = client.get("/console/history/", {"fragment": 1}).content.decode()
    assert "<html" in whole
    assert "<html" not in fragment
    assert "Chat History" in fragment
    assert "Dana<br>" in fragment
    detail = client.get(f"/console/history/{history['by_alice'].pk}/", {"fragment": 1})
    assert detail.status_code == 200
    assert "<html" not in detail.content.decode()
    assert "Try interlibrary loan." in detail.content.decode()


def test_html_in_a_question_is_shown_as_text(ask, alice):
    session = ask(name="<b>Mallory</b>", question="<script>alert('hi')</script> opening hours?")
    client = logged_in(alice)
    for url in ["/console/history/", f"/console/history/{session.pk}/"]:
        page = client.get(url).content.decode()
        assert "&lt;script&gt;" in page
        assert "<script>alert" not in page
        assert "<b>Mallory</b>" not in page
