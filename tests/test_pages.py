"""The pages people open: the chat form, the chat page, the console and Chat History."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from chat import sessions
from chat.lines import line_store, note_line
from chat.models import ChatSession
from core.models import ScheduledJob
from queues.models import Membership, Queue
from shifts import services as shifts
from tests.conftest import SERVICE_MODE
from tests.helpers import logged_in
from tests.talk import librarian_says

pytestmark = pytest.mark.django_db


# --- Patrons ----------------------------------------------------------------


def test_the_list_of_chat_services_shows_the_open_ones(client, world):
    Queue.objects.create(name="Summer Reading Help", slug="summer", is_open=False)
    response = client.get("/ask/")
    assert response.status_code == 200
    page = response.content.decode()
    for name in ["Ask Riverside", "Hillcrest Research Help", "County Libraries Cooperative"]:
        assert name in page
    assert 'href="/ask/riverside/"' in page
    assert "Summer Reading Help" not in page


def test_the_chat_form_asks_for_what_the_queue_needs(client, world):
    response = client.get("/ask/riverside/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Ask Riverside" in page
    for field in ['name="patron_name"', 'name="patron_email"', 'name="question"']:
        assert field in page
    # One library: chosen for the patron, not asked.
    assert '<select name="library"' not in page

    cooperative = client.get("/ask/cooperative/").content.decode()
    assert '<select name="library"' in cooperative
    assert "Hillcrest College Library" in cooperative

    hillcrest = client.get("/ask/hillcrest/").content.decode()
    assert "We send the transcript of the chat here." in hillcrest


def test_asking_leads_to_the_chat_page_with_the_question_as_line_one(
    client, riverside, riverside_library
):
    response = client.post(
        "/ask/riverside/",
        {
            "patron_name": "Dana",
            "patron_email": "",
            "library": riverside_library.pk,
            "question": "Can I renew a book twice?",
        },
    )
    session = ChatSession.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/chat/{session.token}/"
    assert session.queue == riverside
    assert session.state == ChatSession.State.WAITING
    assert list(session.messages.values_list("seq", "kind", "text")) == [
        (1, "patron", "Can I renew a book twice?")
    ]

    chat_page = client.get(response["Location"])
    assert chat_page.status_code == 200
    assert "Ask Riverside" in chat_page.content.decode()
    # The token in the URL is the patron's key: it never leaves as a Referer.
    assert chat_page["Referrer-Policy"] == "no-referrer"


def test_a_queue_that_needs_an_email_says_so_and_creates_nothing(client, hillcrest_library):
    response = client.post(
        "/ask/hillcrest/",
        {
            "patron_name": "Eli",
            "patron_email": "",
            "library": hillcrest_library.pk,
            "question": "Where are the theses?",
        },
    )
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not ChatSession.objects.exists()


def test_a_closed_service_says_it_is_closed(client, riverside):
    riverside.is_open = False
    riverside.save()
    response = client.get("/ask/riverside/")
    assert response.status_code == 503
    assert "Ask Riverside is closed" in response.content.decode()
    assert client.post("/ask/riverside/", {"patron_name": "Dana"}).status_code == 503
    assert not ChatSession.objects.exists()


def test_a_chat_page_with_an_unknown_token_is_not_found(client, world):
    assert client.get("/chat/not-a-real-token/").status_code == 404
    assert client.get("/ask/no-such-service/").status_code == 404


# --- The console ------------------------------------------------------------


def test_the_console_sends_anonymous_visitors_to_log_in(client, world):
    response = client.get("/console/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/console/"
    assert client.get("/login/").status_code == 200


def test_a_librarian_logs_in_and_gets_her_console(client, alice):
    response = client.post("/login/", {"username": "alice", "password": "x-test-pass"})
    assert response.status_code == 302
    assert response["Location"] == "/console/"
    console = client.get("/console/")
    assert console.status_code == 200
    page = console.content.decode()
    assert "Alice" in page
    assert "RPL-104" in page


def test_a_wrong_password_does_not_log_in(client, alice):
    response = client.post("/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert client.get("/console/").status_code == 302


def test_a_user_without_a_librarian_profile_is_told_why_there_is_no_console(frank):
    response = logged_in(frank).get("/console/")
    assert response.status_code == 403
    assert "no librarian profile" in response.content.decode()


def test_logging_off_stops_monitoring_and_ends_my_chats(chat, alice, riverside):
    shifts.monitoring_set(librarian=alice, queue_ids=[riverside.pk])
    session = chat(alice)
    client = logged_in(alice)
    response = client.post("/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    session.refresh_from_db()
    assert (session.state, session.closed_by) == ("closed", "librarian")
    assert session.messages.order_by("seq").last().text == "Librarian ended chat session"
    assert not Membership.objects.filter(librarian=alice, is_monitoring=True).exists()
    assert client.get("/console/").status_code == 302


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


# --- Health -------------------------------------------------------------------


def test_the_health_check_answers_when_the_database_does(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    expected = {"status": "ok", "database": "ok", "worker": "not started"}
    if SERVICE_MODE:
        expected["redis"] = "ok"
    assert response.json() == expected
    assert "no-cache" in response["Cache-Control"]


def test_the_health_check_says_whether_a_worker_ran_the_schedule_lately(client, db):
    ScheduledJob.objects.create(
        name="shifts.presence_sweep", next_run_at=timezone.now(), last_started_at=timezone.now()
    )
    assert client.get("/healthz").json()["worker"] == "ok"
    ScheduledJob.objects.update(last_started_at=timezone.now() - dt.timedelta(minutes=5))
    response = client.get("/healthz")
    # Said for monitoring; a late worker doesn't take the web process out of service.
    assert (response.status_code, response.json()["worker"]) == (200, "late")


def test_the_health_check_fails_when_redis_is_unreachable(client, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "down",
        "database": "ok",
        "redis": "down",
        "worker": "not started",
    }
