"""The REST API under /api/v1/: who may read what (docs/api.md).

- the status is public and counts only;
- a patron reads their own session by its token, patron-visible lines only;
- a librarian reads Chat History of their own queues, Librarian Notes included;
  frank (no librarian profile) and anonymous callers are refused.
"""

import datetime as dt
import json
import logging

import pytest
from django.test import Client
from django.utils import timezone

from chat import sessions
from chat.models import ChatSession, Message
from core.logging import MaskPatronTokens
from shifts import services as shifts
from tests.helpers import logged_in
from tests.talk import librarian_notes, librarian_says, patron_says

pytestmark = pytest.mark.django_db


def monitor(librarian, *queues) -> None:
    shifts.monitoring_set(librarian=librarian, queue_ids=[q.pk for q in queues])


def a_conversation(chat, alice):
    """Dana asks, Alice picks up, they talk, and Alice writes a note between the lines."""
    session = chat(alice, email="dana@example.org")  # 1 question, 2 "Alice has joined"
    librarian_says(session=session, librarian=alice, text="Hello Dana", client_id=None)
    librarian_notes(session_id=session.pk, librarian=alice, text="Regular; large print")
    patron_says(session=session, text="Thank you", client_id=None)  # 5
    return session


# --- GET /api/v1/status/ ---------------------------------------------------------


def status_of(client: Client) -> dict:
    response = client.get("/api/v1/status/")
    assert response.status_code == 200
    return {queue["slug"]: queue for queue in response.json()["queues"]}


def test_the_status_counts_librarians_online_and_patrons_waiting(
    client, ask, chat, alice, bob, riverside
):
    monitor(alice, riverside)
    ask()
    ask(name="Eli")
    chat(bob)  # picked up: no longer waiting

    queues = status_of(client)

    riverside = queues["riverside"]
    assert riverside == {
        "slug": "riverside",
        "name": "Ask Riverside",
        "libraries": [{"slug": "riverside-public", "name": "Riverside Public Library"}],
        "state": "open",
        "open": True,
        "reason": "staffed",
        "message": "Chat is open.",
        "next_opening": None,
        "time_zone": "UTC",
        "librarians_online": 1,
        "waiting": 2,
        "ask_url": "http://testserver/ask/riverside/",
    }
    # Bob is a member but doesn't monitor: nobody is online for the cooperative.
    assert queues["cooperative"]["librarians_online"] == 0
    assert queues["cooperative"]["open"] is False
    assert queues["cooperative"]["waiting"] == 0
    assert [lib["slug"] for lib in queues["cooperative"]["libraries"]] == [
        "hillcrest-college",
        "riverside-public",
    ]


def test_the_status_follows_monitoring_as_it_changes(client, world, alice, bob, riverside):
    monitor(alice, riverside)
    monitor(bob, riverside, world.cooperative)
    queues = status_of(client)
    assert queues["riverside"]["librarians_online"] == 2
    assert queues["cooperative"]["librarians_online"] == 1

    shifts.librarian_log_off(librarian=alice)
    assert status_of(client)["riverside"]["librarians_online"] == 1


def test_closed_queues_are_not_in_the_status(client, archive):
    archive.is_open = False
    archive.save()
    assert set(status_of(client)) == {"riverside", "hillcrest", "cooperative"}


def test_the_status_carries_no_personal_data(client, chat, ask, alice, bob, riverside):
    monitor(alice, riverside)
    ask(name="Quentin Private", email="quentin@example.org", question="My card number is 123")
    a_conversation(chat, bob)

    text = client.get("/api/v1/status/").content.decode()

    for personal in [
        "Quentin",
        "quentin@example.org",
        "card number",
        "Dana",
        "dana@example.org",
        "Alice",
        "RPL-104",
        "Bob",
        "Regular; large print",
        "Hello Dana",
    ]:
        assert personal not in text


def test_the_status_is_public_and_briefly_cacheable(client, world):
    response = client.get("/api/v1/status/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert set(response["Cache-Control"].split(", ")) == {"public", "max-age=15"}
    assert response["Access-Control-Allow-Origin"] == "*"
    # Not personalised: nothing for a shared cache to key on, no cookie set.
    assert "Cookie" not in response.get("Vary", "")
    assert not response.cookies


def test_the_status_is_the_same_for_a_logged_in_librarian(world, alice):
    assert status_of(logged_in(alice)) == status_of(Client())


# --- GET /api/v1/chat/<token>/ -------------------------------------------------------


def test_the_patron_reads_their_own_session_without_the_notes(client, chat, alice):
    session = a_conversation(chat, alice)

    response = client.get(f"/api/v1/chat/{session.token}/")

    assert response.status_code == 200
    body = response.json()
    assert body == {
        "state": "active",
        "patron_name": "Dana",
        "queue": "Ask Riverside",
        "library": "Riverside Public Library",
        "librarian": "Alice",
        "created_at": body["created_at"],
        "closed_by": None,
        "has_email": True,
        "transcript_sent": False,
        "messages": body["messages"],
    }
    assert [(m["seq"], m["kind"], m["author"], m["text"]) for m in body["messages"]] == [
        (1, "patron", "Dana", "Do you have large-print copies of Middlemarch?"),
        (2, "system", "", "Alice has joined the chat."),
        (3, "librarian", "Alice", "Hello Dana"),
        # The patron's own numbering: no gap where Alice's note is.
        (4, "patron", "Dana", "Thank you"),
    ]
    assert all(
        set(m) == {"seq", "kind", "author", "text", "url", "created_at"} for m in body["messages"]
    )
    assert {m["url"] for m in body["messages"]} == {None}  # no page pushed in this chat
    text = response.content.decode()
    assert "Regular; large print" not in text
    assert "dana@example.org" not in text
    assert "RPL-104" not in text


def test_the_patron_endpoint_is_never_cached_nor_passes_the_token_on(client, ask):
    session = ask()
    response = client.get(f"/api/v1/chat/{session.token}/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"


def test_a_wrong_token_is_not_found(client, ask):
    session = ask()
    response = client.get(f"/api/v1/chat/{session.token[:-2]}xx/")
    assert response.status_code == 404
    assert response.json() == {"detail": "There is no chat session with this token."}
    assert response["Referrer-Policy"] == "no-referrer"


def test_a_librarian_logged_in_gets_nothing_more_from_the_patron_endpoint(chat, alice):
    session = a_conversation(chat, alice)
    body = logged_in(alice).get(f"/api/v1/chat/{session.token}/").json()
    assert [m["seq"] for m in body["messages"]] == [1, 2, 3, 4]
    assert "note" not in json.dumps(body["messages"][0])


def test_the_patron_sees_the_session_close(client, chat, alice, mailoutbox):
    session = a_conversation(chat, alice)
    sessions.session_end_by_librarian(session_id=session.pk, librarian=alice)
    body = client.get(f"/api/v1/chat/{session.token}/").json()
    assert body["state"] == "closed"
    assert body["closed_by"] == "librarian"
    assert body["messages"][-1]["text"] == "Librarian ended chat session"


def test_a_not_found_on_the_patron_endpoint_logs_no_token(client, db):
    token = "no-such-token-bbbbbbbbbbbb"
    seen: list[str] = []
    handler = logging.StreamHandler()
    handler.addFilter(MaskPatronTokens())
    handler.emit = lambda record: seen.append(handler.format(record))  # type: ignore[method-assign]
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        assert client.get(f"/api/v1/chat/{token}/").status_code == 404
    finally:
        logger.removeHandler(handler)
    assert seen, "Django logged the 404"
    assert all(token not in line for line in seen)


# --- GET /api/v1/sessions/ and /api/v1/sessions/<id>/ -------------------------------


def ids_in(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_a_librarian_lists_the_sessions_of_their_queues_newest_first(ask, chat, alice, world):
    first = a_conversation(chat, alice)
    cooperative = ask(world.cooperative, library=world.hillcrest_library, name="Hana")
    hillcrest = ask(world.hillcrest, name="Ivo", email="ivo@example.org")
    archive = ask(world.archive, name="Jo")

    response = logged_in(alice).get("/api/v1/sessions/")

    assert ids_in(response) == [cooperative.pk, first.pk]
    body = response.json()
    assert body["count"] == 2
    assert body["next"] is None
    row = body["results"][1]
    assert row == {
        "id": first.pk,
        "state": "active",
        "patron_name": "Dana",
        "patron_email": "dana@example.org",
        "question": "Do you have large-print copies of Middlemarch?",
        "queue": {"id": world.riverside.pk, "slug": "riverside", "name": "Ask Riverside"},
        "library": {
            "id": world.riverside_library.pk,
            "slug": "riverside-public",
            "name": "Riverside Public Library",
        },
        "primary": {"id": alice.pk, "display_name": "Alice", "staff_id": "RPL-104"},
        "created_at": row["created_at"],
        "accepted_at": row["accepted_at"],
        "closed_at": None,
        "closed_by": None,
        "transcript_sent_at": None,
        "last_seq": 5,
        "patron_rating": None,  # tests/surveys/test_staff.py: an answered one
    }
    assert body["results"][0]["patron_email"] is None  # anonymous
    assert hillcrest.pk not in ids_in(response)
    assert archive.pk not in ids_in(response)


def test_dave_sees_only_his_own_queue(chat, ask, alice, dave, world):
    riverside = a_conversation(chat, alice)
    archive = ask(world.archive, name="Jo")
    client = logged_in(dave)

    assert ids_in(client.get("/api/v1/sessions/")) == [archive.pk]
    response = client.get(f"/api/v1/sessions/{riverside.pk}/")
    assert response.status_code == 404
    assert response.json() == {"detail": "There is no such chat session in your queues."}
    # The same answer as for a session that doesn't exist at all.
    missing = client.get(f"/api/v1/sessions/{riverside.pk + 1000}/")
    assert missing.status_code == 404
    assert missing.json() == response.json()


def test_the_detail_is_the_staff_record_with_notes_marked(chat, alice):
    session = a_conversation(chat, alice)

    response = logged_in(alice).get(f"/api/v1/sessions/{session.pk}/")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    assert body["id"] == session.pk
    assert body["patron_email"] == "dana@example.org"
    assert [(m["seq"], m["kind"], m["note"], m["author"], m["text"]) for m in body["messages"]] == [
        (1, "patron", False, "Dana", "Do you have large-print copies of Middlemarch?"),
        (2, "system", False, "", "Alice has joined the chat."),
        (3, "librarian", False, "Alice", "Hello Dana"),
        (4, "note", True, "Alice", "Regular; large print"),
        (5, "patron", False, "Dana", "Thank you"),
    ]
    assert [m["author_id"] for m in body["messages"]] == [None, None, alice.pk, alice.pk, None]


def test_any_member_of_the_queue_reads_the_record(chat, alice, bob, carol, world):
    session = a_conversation(chat, alice)
    cooperative = chat(alice, queue=world.cooperative)
    assert logged_in(bob).get(f"/api/v1/sessions/{session.pk}/").status_code == 200
    assert logged_in(carol).get(f"/api/v1/sessions/{session.pk}/").status_code == 404
    assert logged_in(carol).get(f"/api/v1/sessions/{cooperative.pk}/").status_code == 200


def test_the_list_filters_like_chat_history(ask, chat, alice, bob, world):
    mine = a_conversation(chat, alice)
    bobs = chat(bob, name="Kim", question="Opening hours on Sunday?")
    cooperative = ask(world.cooperative, name="Lee")
    old = ask(name="Old")
    ChatSession.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=30))
    client = logged_in(alice)

    def ids(**query) -> set[int]:
        return set(ids_in(client.get("/api/v1/sessions/", query)))

    assert ids(queue=world.cooperative.pk) == {cooperative.pk}
    assert ids(librarian=bob.pk) == {bobs.pk}
    assert ids(librarian=alice.pk) == {mine.pk}
    assert ids(text="sunday") == {bobs.pk}
    # Librarian Notes are searched too: this is the staff record.
    assert ids(text="large print") == {mine.pk}
    today = timezone.localdate()
    assert old.pk not in ids(date_from=today.isoformat())
    assert ids(date_to=(today - dt.timedelta(days=1)).isoformat()) == {old.pk}
    assert ids(queue=world.archive.pk) == set()  # not a queue of hers: nothing, no hint


def test_bad_filters_are_refused_with_a_clear_message(world, alice):
    client = logged_in(alice)
    response = client.get("/api/v1/sessions/", {"date_from": "yesterday", "queue": "x"})
    assert response.status_code == 400
    body = response.json()
    assert "Date has wrong format" in body["date_from"][0]
    assert body["queue"] == ["A valid integer is required."]
    backwards = client.get(
        "/api/v1/sessions/", {"date_from": "2026-02-01", "date_to": "2026-01-01"}
    )
    assert backwards.status_code == 400
    assert backwards.json() == {"date_to": ["date_to is before date_from."]}


def test_the_list_is_paginated(ask, alice):
    asked = [ask(name=f"Patron {n}") for n in range(3)]
    client = logged_in(alice)
    first = client.get("/api/v1/sessions/", {"page_size": 2})
    assert ids_in(first) == [asked[2].pk, asked[1].pk]
    assert first.json()["count"] == 3
    second = client.get(first.json()["next"])
    assert ids_in(second) == [asked[0].pk]
    assert second.json()["next"] is None
    assert client.get("/api/v1/sessions/", {"page": 9}).status_code == 404


def test_a_user_without_a_librarian_profile_is_refused(chat, alice, frank, supervisor):
    session = a_conversation(chat, alice)
    for person in (frank, supervisor):
        client = logged_in(person)
        for url in ("/api/v1/sessions/", f"/api/v1/sessions/{session.pk}/"):
            response = client.get(url)
            assert response.status_code == 403
            assert response.json() == {
                "detail": "Only librarians can read Chat History: "
                "this account has no librarian profile."
            }


def test_anonymous_callers_are_refused(client, chat, alice):
    session = a_conversation(chat, alice)
    for url in ("/api/v1/sessions/", f"/api/v1/sessions/{session.pk}/"):
        response = client.get(url)
        assert response.status_code in (401, 403)
        assert response.json() == {"detail": "Authentication credentials were not provided."}
        assert "Regular" not in response.content.decode()


def test_the_api_is_read_only(chat, alice):
    session = a_conversation(chat, alice)
    client = logged_in(alice)
    for url in ("/api/v1/sessions/", f"/api/v1/sessions/{session.pk}/"):
        assert client.delete(url).status_code == 405
    assert Client().post(f"/api/v1/chat/{session.token}/", {}).status_code == 405
    assert Message.objects.filter(session=session).count() == 5


# --- GET /api/v1/schema/ --------------------------------------------------------


def test_the_schema_lists_every_endpoint(client, db):
    response = client.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/api/v1/status/",
        "/api/v1/status/{slug}/",
        "/api/v1/chat/{token}/",
        "/api/v1/sessions/",
        "/api/v1/sessions/{session_id}/",
        "/api/v1/statistics/",
        "/api/v1/queues/",
        "/api/v1/queues/{queue}/",
        "/api/v1/queues/{queue}/open/",
        "/api/v1/queues/{queue}/close/",
    }
    patron_line = schema["components"]["schemas"]["PatronLine"]["properties"]
    assert "note" not in patron_line
    assert "note" in schema["components"]["schemas"]["StaffLine"]["properties"]


def test_the_schema_names_every_status_and_the_cookie_as_security_not_a_parameter(client, db):
    schema = client.get("/api/v1/schema/", {"format": "json"}).json()
    operations = {path: item.get("get") or item["post"] for path, item in schema["paths"].items()}
    assert {path: set(op["responses"]) for path, op in operations.items()} == {
        "/api/v1/status/": {"200", "304", "429"},
        "/api/v1/status/{slug}/": {"200", "304", "404", "429"},
        "/api/v1/chat/{token}/": {"200", "404", "429"},
        "/api/v1/sessions/": {"200", "400", "403", "404", "429"},
        "/api/v1/sessions/{session_id}/": {"200", "403", "404", "429"},
        "/api/v1/statistics/": {"200", "400", "401", "403", "429"},
        "/api/v1/queues/": {"200", "401", "403", "429"},
        "/api/v1/queues/{queue}/": {"200", "401", "403", "404", "429"},
        "/api/v1/queues/{queue}/open/": {"200", "401", "403", "404", "429"},
        "/api/v1/queues/{queue}/close/": {"200", "401", "403", "404", "429"},
    }
    # The librarian's session cookie and a library's API key are security
    # schemes: no operation takes them as parameters, and the public ones need none.
    schemes = schema["components"]["securitySchemes"]
    assert schemes["cookieAuth"] == {"type": "apiKey", "in": "cookie", "name": "sessionid"}
    assert {k: v for k, v in schemes["apiKeyAuth"].items() if k != "description"} == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
    }
    for path, operation in operations.items():
        assert all(p["in"] != "cookie" for p in operation.get("parameters", [])), path
        staff = path.startswith("/api/v1/sessions/")
        keyed = path == "/api/v1/statistics/" or path.startswith("/api/v1/queues/")
        wanted: list[dict[str, list[str]]] | None = (
            [{"apiKeyAuth": []}, {"cookieAuth": []}] if keyed else None
        )
        assert operation["security"] == (wanted or ([{"cookieAuth": []}] if staff else [{}])), path


def test_the_schema_is_also_yaml_and_its_pages_load_nothing_from_another_site(client, db):
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert b"openapi: 3." in response.content
    for page in ("/api/v1/docs/", "/api/v1/redoc/"):
        html = client.get(page).content.decode()
        # Every script and stylesheet is ours (drf-spectacular-sidecar's static files).
        assert "http://" not in html and "https://" not in html and "<script>" not in html
    script = client.get("/api/v1/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content and b"/api/v1/schema/" in script.content
    assert "/api/v1/schema/" in client.get("/api/v1/redoc/").content.decode()
