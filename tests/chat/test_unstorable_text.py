"""Text no database can store, on every path that takes text (issue 14, point 6).

PostgreSQL refuses U+0000 in a text column and neither database takes a
lone surrogate (valid JSON: ``"\\ud800"``). Such a line used to kill the
socket with 1011 (a DataError, or a UnicodeEncodeError on SQLite), and the
browser sent it again on every reconnect. Now every text is cleaned
(``core.text.text_clean``: NUL and the other C0 controls but tab, line
feed and carriage return dropped, a lone surrogate shown as U+FFFD) or, for
an address or an id, refused with a clear error; the socket stays open and
the next line goes through. Run on both databases (service mode is
PostgreSQL).
"""

import pytest
from django.test import Client

from chat.models import ChatSession, Message, TransferOffer
from im.models import ImMessage
from tests.sockets import (  # noqa: F401 - the fixture closes leftover sockets
    Socket,
    call,
    close_sockets_left_open,
    console_of,
    monitor,
    patron_of,
    reload,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("staffed")]

# What a careless client or an attacker sends, and what is stored of it.
DIRTY = "Is the\x00 branch\x01 open\ud800?\tYes\r\nor no\x1f"
CLEAN = "Is the branch open\ufffd?\tYes\r\nor no"


def _texts(session: ChatSession, kind: str) -> list[str]:
    return list(
        Message.objects.filter(session=session, kind=kind)
        .order_by("seq")
        .values_list("text", flat=True)
    )


async def _still_talks(socket: Socket, client_id: str, **frame: object) -> None:
    """The socket is open and the next line goes through."""
    await socket.send(type="message.send", text="Next line", client_id=client_id, **frame)
    await socket.expect("message.stored", client_id=client_id)


async def test_a_patron_line_is_stored_cleaned_and_the_socket_carries_on(ask):
    session = await call(ask)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")

    await patron.send(type="message.send", text=DIRTY, client_id="p-1")
    stored = await patron.expect("message.stored", client_id="p-1")
    created = await patron.expect("message.created", where=lambda e: e["message"]["seq"] == 2)
    assert (stored["seq"], created["message"]["text"]) == (2, CLEAN)
    await _still_talks(patron, "p-2")
    assert await call(_texts, session, "patron") == [session.question, CLEAN, "Next line"]
    await patron.close()


async def test_a_patron_line_of_nothing_but_control_characters_is_refused_as_empty(ask):
    session = await call(ask)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")

    await patron.send(type="message.send", text="\x00\x00\x07", client_id="p-1")
    refused = await patron.expect("error", client_id="p-1")
    assert (refused["code"], refused["message"]) == ("invalid_line", "A message can't be empty.")
    await _still_talks(patron, "p-2")
    assert await call(_texts, session, "patron") == [session.question, "Next line"]
    await patron.close()


async def test_a_client_id_no_database_can_store_is_refused_with_the_line(ask):
    session = await call(ask)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")

    for client_id in ("p\x00-1", "p\ud800-1"):
        await patron.send(type="message.send", text="Hello", client_id=client_id)
        refused = await patron.expect("error", client_id=client_id)
        assert refused["code"] == "bad_frame"
    await _still_talks(patron, "p-2")
    assert await call(_texts, session, "patron") == [session.question, "Next line"]
    await patron.close()


async def test_a_transcript_address_with_a_nul_is_refused(chat, alice):
    # Answered by a librarian: only then may an address typed at the end get
    # a transcript (tests/transcripts/test_transcript_relay.py).
    session = await call(chat, alice)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")
    await patron.send(type="session.end")
    await patron.expect("session.closed")

    for email in ("dana@example.org\x00", "da\ud800na@example.org"):
        await patron.send(type="transcript.request", email=email)
        refused = await patron.expect("error")
        assert refused["code"] == "invalid_email"
    await patron.send(type="transcript.request", email="dana@example.org")
    await patron.expect("transcript.sent", email="dana@example.org")
    await patron.close()


async def test_librarian_lines_and_notes_are_stored_cleaned(chat, alice):
    session = await call(chat, alice)
    console = await console_of(alice)

    await console.send(type="message.send", session=session.pk, text=DIRTY, client_id="a-1")
    await console.expect("message.stored", client_id="a-1")
    await console.send(
        type="message.send", session=session.pk, text=DIRTY, client_id="a-2", note=True
    )
    await console.expect("message.stored", client_id="a-2")
    await console.send(type="message.send", session=session.pk, text="\x00", client_id="a-3")
    assert (await console.expect("error", client_id="a-3"))["code"] == "invalid_line"
    await _still_talks(console, "a-4", session=session.pk)

    assert await call(_texts, session, "librarian") == [CLEAN, "Next line"]
    assert await call(_texts, session, "note") == [CLEAN]
    await console.close()


async def test_an_im_line_is_stored_cleaned(alice, bob, riverside):
    await monitor(alice, riverside)
    await monitor(bob, riverside)
    console = await console_of(alice)
    await console.send(type="im.open", librarian=bob.pk)
    im = (await console.expect("im.opened"))["im"]["id"]

    await console.send(type="im.send", im=im, text=DIRTY, client_id="i-1")
    await console.expect("im.message.stored", client_id="i-1")
    await console.send(type="im.send", im=im, text="\x00 \x00", client_id="i-2")
    assert (await console.expect("error", client_id="i-2"))["code"] == "invalid_line"
    await console.send(type="im.send", im=im, text="Next line", client_id="i-3")
    await console.expect("im.message.stored", client_id="i-3")

    texts = await call(
        lambda: list(
            ImMessage.objects.filter(im_id=im).order_by("seq").values_list("text", flat=True)
        )
    )
    assert texts == [CLEAN, "Next line"]
    await console.close()


async def test_transfer_notes_are_stored_cleaned(chat, alice, bob, riverside):
    await monitor(alice, riverside)
    await monitor(bob, riverside)
    session = await call(chat, alice)
    console = await console_of(alice)

    await console.send(
        type="transfer.offer", session=session.pk, librarian=bob.pk, note="Census\x00 records"
    )
    offer = (await console.expect("transfer.offered"))["offer"]
    assert offer["note"] == "Census records"
    await console.send(type="transfer.cancel", offer=offer["id"])
    await console.expect("transfer.cancelled")
    await console.send(type="transfer.to_queue", session=session.pk, note="Needs\ud800 Bob")
    await console.expect("session.requeued")

    stored = await call(lambda: TransferOffer.objects.get(pk=offer["id"]).note)
    assert stored == "Census records"
    session = await reload(session)
    assert session.requeue_note == "Needs\ufffd Bob"
    notes = await call(_texts, session, "note")
    assert "Transfer request to Bob: Census records" in notes
    await console.close()


def test_the_ask_form_cleans_the_name_and_question_and_refuses_such_an_address(world):
    client = Client()
    refused = client.post(
        "/ask/riverside/",
        {
            "patron_name": "Dana",
            "patron_email": "dana\x00@example.org",
            "library": world.riverside_library.pk,
            "question": "Hello",
        },
    )
    assert refused.status_code == 200
    assert "Enter a valid email address." in refused.content.decode()
    assert not ChatSession.objects.exists()

    asked = client.post(
        "/ask/riverside/",
        # A form post is UTF-8: it can't carry a lone surrogate.
        {
            "patron_name": "Da\x00na\x1b",
            "patron_email": "",
            "library": world.riverside_library.pk,
            "question": "Open\x00 on\x01 Sunday?",
        },
    )
    assert asked.status_code == 302
    session = ChatSession.objects.get()
    assert (session.patron_name, session.question) == ("Dana", "Open on Sunday?")
    assert _texts(session, "patron") == ["Open on Sunday?"]


def test_a_token_no_database_can_store_is_no_session(world):
    client = Client()
    assert client.get("/chat/ab%00cd/").status_code == 404
    response = client.get("/api/v1/chat/ab%00cd/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


def test_a_history_search_with_a_nul_is_a_clear_400(alice):
    client = Client()
    client.force_login(alice.user)
    response = client.get("/api/v1/sessions/", {"text": "census\x00"})
    assert response.status_code == 400
    assert "text" in response.json()


def test_a_question_as_long_as_the_browser_allows_keeps_its_line_breaks_as_line_feeds(world):
    # The textarea's maxlength counts a line break as one character; the
    # browser posts each as CR LF.
    typed = ("Do you have this in large print?\n" * 120)[:-1]  # 120 lines
    typed += "x" * (4000 - len(typed))
    assert len(typed) == 4000
    asked = Client().post(
        "/ask/riverside/",
        {
            "patron_name": "Dana",
            "patron_email": "",
            "library": world.riverside_library.pk,
            "question": typed.replace("\n", "\r\n"),
        },
    )
    assert asked.status_code == 302
    session = ChatSession.objects.get()
    assert session.question == typed
    assert _texts(session, "patron") == [typed]
