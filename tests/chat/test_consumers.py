"""The patron's socket (chat/consumers.py), spoken to through the full ASGI application.

Who may open it (origin check, routing), the snapshot it opens with, lines
both ways with their numbers, frames it refuses, and the end of the chat.
Each test opens real sockets (``tests/sockets.py``) on
``reference_chat.asgi.application`` and a real channel layer (in-memory, or
Redis in service mode).
"""

import json

import pytest
from channels.db import database_sync_to_async

from chat.lines import line_store, note_line
from chat.models import ChatSession, Message, PatronPresence
from tests.sockets import (  # noqa: F401 - the fixture closes leftover sockets
    HOST,
    ORIGIN,
    TIMEOUT,
    Socket,
    call,
    close_sockets_left_open,
    console_of,
    patron_of,
    reload,
)
from tests.talk import librarian_says, patron_says, transcripts_delivered

pytestmark = pytest.mark.django_db(transaction=True)


# --- Who may open which socket -------------------------------------------


async def test_a_patron_socket_with_an_unknown_token_is_closed_as_not_found(world):
    # Accepted, then closed with 4404 (a refused handshake would reach the
    # browser only as 1006, and it would keep retrying); nothing is sent.
    socket = Socket("/ws/chat/no-such-token/", [ORIGIN, HOST])
    assert await socket.open() == (True, None)
    assert await socket.communicator.receive_output(timeout=TIMEOUT) == {
        "type": "websocket.close",
        "code": 4404,
    }


async def test_a_page_from_another_site_cannot_open_a_socket(ask):
    session = await call(ask)
    socket = Socket(f"/ws/chat/{session.token}/", [(b"origin", b"https://evil.example"), HOST])
    connected, _ = await socket.open()
    assert not connected
    assert await call(lambda: PatronPresence.objects.filter(session=session).count()) == 0


# --- Snapshots ------------------------------------------------------------


async def test_the_patron_gets_their_session_on_connect(ask, alice):
    session = await call(ask, name="Dana", email="dana@example.org")
    patron = await patron_of(session)
    snapshot = await patron.expect("session.snapshot")
    assert snapshot["session"] == {
        "state": "waiting",
        "patron_name": "Dana",
        "queue": "Ask Riverside",
        "library": "Riverside Public Library",
        "librarian": None,
        "requeued": False,
        "created_at": session.created_at.isoformat(),
        "closed_by": None,
        "has_email": True,
        "transcript_sent": False,
        "transcript_offered": False,
        "last_seq": 1,
    }
    assert [(m["seq"], m["kind"], m["author"], m["text"]) for m in snapshot["messages"]] == [
        (1, "patron", "Dana", "Do you have large-print copies of Middlemarch?")
    ]
    assert "note" not in snapshot["messages"][0]
    assert snapshot["server_time"]
    assert (await reload(session)).patron_present
    await patron.close()
    assert not (await reload(session)).patron_present


# --- Lines ------------------------------------------------------------------


async def test_lines_go_both_ways_with_sequence_numbers(chat, alice):
    session = await call(chat, alice)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")
    console = await console_of(alice)

    await patron.send(type="message.send", text="Is it at the main branch?", client_id="p-1")
    assert await patron.expect("message.stored") == {
        "type": "message.stored",
        "client_id": "p-1",
        "seq": 3,
    }
    echoed = await patron.expect("message.created")
    assert echoed["message"]["seq"] == 3
    heard = await console.expect("message.created", session=session.pk)
    assert heard["message"] == {
        **heard["message"],
        "seq": 3,
        "kind": "patron",
        "note": False,
        "author": "Dana",
        "text": "Is it at the main branch?",
        "client_id": "p-1",
    }

    await console.send(
        type="message.send", session=session.pk, text="Yes, shelf LP 823.", client_id="a-1"
    )
    assert await console.expect("message.stored") == {
        "type": "message.stored",
        "session": session.pk,
        "client_id": "a-1",
        "seq": 4,
    }
    answer = await patron.expect("message.created")
    assert "session" not in answer  # the patron has one session, and no need of its id
    assert (answer["message"]["seq"], answer["message"]["author"]) == (4, "Alice")
    assert answer["message"]["text"] == "Yes, shelf LP 823."
    assert "note" not in answer["message"]
    await patron.close()
    await console.close()


async def test_a_resent_line_is_acknowledged_with_its_first_seq_and_not_repeated(chat, alice):
    session = await call(chat, alice)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")
    console = await console_of(alice)

    await patron.send(type="message.send", text="Thanks!", client_id="p-9")
    assert (await patron.expect("message.stored"))["seq"] == 3
    await console.expect("message.created", session=session.pk)
    await patron.drain()

    await patron.send(type="message.send", text="Thanks!", client_id="p-9")
    assert (await patron.expect("message.stored", client_id="p-9"))["seq"] == 3
    # A later line is the next thing Alice hears: the resend made no event.
    await patron.send(type="message.send", text="Bye", client_id="p-10")
    assert (await patron.expect("message.stored", client_id="p-10"))["seq"] == 4
    nxt = await console.expect("message.created", session=session.pk)
    assert nxt["message"]["text"] == "Bye"
    assert [e for e in await console.drain() if e["type"] == "message.created"] == []
    echoed = [e["message"]["text"] for e in await patron.drain() if e["type"] == "message.created"]
    assert echoed == ["Bye"]
    count = await call(Message.objects.filter(session=session, client_id="p-9").count)
    assert count == 1
    await patron.close()
    await console.close()


async def test_a_librarian_note_reaches_the_console_but_never_the_patron(chat, alice):
    session = await call(chat, alice)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")
    console = await console_of(alice)

    await call(line_store, note_line(session, "Regular; prefers large print", alice))
    note = await console.expect("message.created", session=session.pk)
    assert note["message"]["note"] is True
    assert note["message"]["kind"] == "note"
    assert note["message"]["text"] == "Regular; prefers large print"

    # Events reach one socket in the order they were published: the line
    # after the note is the first thing the patron hears.
    await console.send(type="message.send", session=session.pk, text="Found it.", client_id="a-2")
    heard = await patron.expect("message.created")
    assert heard["message"]["text"] == "Found it."
    # The patron's own numbering has no gap where the note is.
    assert heard["message"]["seq"] == 3
    everything = json.dumps(await patron.drain())
    assert "prefers large print" not in everything

    # A reconnecting patron doesn't get it either.
    again = await patron_of(session)
    snapshot = await again.expect("session.snapshot")
    # Patron numbering: no gap where the note is, so nothing hints at it.
    assert [m["seq"] for m in snapshot["messages"]] == [1, 2, 3]
    assert "prefers large print" not in json.dumps(snapshot)
    for socket in (patron, again, console):
        await socket.close()


async def test_a_patron_resuming_after_n_gets_only_later_lines_they_may_see(chat, alice):
    session = await call(chat, alice)

    @database_sync_to_async
    def talk() -> None:
        line_store(note_line(session, "note", alice))  # staff 3
        librarian_says(session=session, librarian=alice, text="Hello", client_id=None)
        patron_says(session=session, text="Hi", client_id=None)  # staff 5, patron 4

    await talk()
    # Patron numbering: 1 question, 2 "Alice has joined", 3 Hello, 4 Hi (no gap at the note).
    patron = await patron_of(session, after=2)
    snapshot = await patron.expect("session.snapshot")
    assert [(m["seq"], m["text"]) for m in snapshot["messages"]] == [(3, "Hello"), (4, "Hi")]
    assert snapshot["session"]["last_seq"] == 4
    await patron.close()

    caught_up = await patron_of(session, after=4)
    assert (await caught_up.expect("session.snapshot"))["messages"] == []
    await caught_up.close()


# --- Frames that can't be carried out ---------------------------------------


BAD_FRAMES = [
    ("not JSON", {"text": "{type: message.send"}, "bad_frame"),
    ("JSON array", {"text": '[{"type": "message.send"}]'}, "bad_frame"),
    ("no type", {"text": '{"text": "hello"}'}, "bad_frame"),
    ("type not a string", {"text": '{"type": 7}'}, "bad_frame"),
    ("unknown type", {"text": '{"type": "message.delete", "ref": 5}'}, "unknown_type"),
    ("binary frame", {"data": b'{"type": "message.send"}'}, "bad_frame"),
    (
        "over 64 KiB",
        {"text": json.dumps({"type": "message.send", "text": "x" * 70_000, "client_id": "big"})},
        "frame_too_large",
    ),
    ("text a number", {"text": '{"type": "message.send", "text": 42}'}, "bad_frame"),
    (
        "client_id a number",
        {"text": '{"type": "message.send", "text": "hi", "client_id": 5}'},
        "bad_frame",
    ),
    (
        "transcript email a list",
        {"text": '{"type": "transcript.request", "email": []}'},
        "bad_frame",
    ),
]


@pytest.mark.parametrize(
    ("raw", "code"), [f[1:] for f in BAD_FRAMES], ids=[f[0] for f in BAD_FRAMES]
)
async def test_a_bad_patron_frame_gets_an_error_and_the_socket_keeps_working(
    chat, alice, raw, code
):
    session = await call(chat, alice)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")

    await patron.send_raw(**raw)
    error = await patron.expect("error")
    assert error["code"] == code
    assert error["message"]
    if code == "unknown_type":
        assert error["ref"] == 5

    await patron.send(type="message.send", text="Still there?", client_id="after-bad")
    assert (await patron.expect("message.stored"))["seq"] == 3
    texts = await call(lambda: list(session.messages.values_list("text", flat=True)))
    assert texts[-1] == "Still there?"
    assert len(texts) == 3
    await patron.close()


async def test_an_empty_or_too_long_line_is_refused_with_a_reason(chat, alice):
    session = await call(chat, alice)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")
    await patron.send(type="message.send", text="   ", client_id="e-1")
    empty = await patron.expect("error")
    assert (empty["code"], empty["message"], empty["client_id"]) == (
        "invalid_line",
        "A message can't be empty.",
        "e-1",
    )
    await patron.send(type="message.send", text="w" * 4001, client_id="e-2")
    long = await patron.expect("error")
    assert long["code"] == "invalid_line"
    assert long["message"] == "A message can be at most 4,000 characters; this one has 4,001."
    await patron.send(type="message.send", text="w" * 4000, client_id="e-3")
    assert (await patron.expect("message.stored"))["seq"] == 3
    await patron.close()


async def test_a_patron_socket_does_not_take_console_frames(ask):
    session = await call(ask)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")
    await patron.send(type="session.accept", session=session.pk)
    error = await patron.expect("error")
    assert error["code"] == "unknown_type"
    assert (await reload(session)).state == ChatSession.State.WAITING
    await patron.close()


# --- Leaving and ending ------------------------------------------------------


async def test_the_librarian_sees_the_patron_leave_and_come_back(chat, alice):
    session = await call(chat, alice)
    console = await console_of(alice)
    patron = await patron_of(session)
    await console.expect("patron.returned", session=session.pk)
    await patron.close()
    await console.expect("patron.left", session=session.pk)
    assert not (await reload(session)).patron_present
    await console.close()


@pytest.mark.parametrize("who_ends", ["patron", "librarian"])
async def test_ending_from_either_side_tells_both(chat, alice, who_ends):
    session = await call(chat, alice)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")
    console = await console_of(alice)

    if who_ends == "patron":
        await patron.send(type="session.end")
    else:
        await console.send(type="session.end", session=session.pk)

    assert await patron.expect("session.closed") == {
        "type": "session.closed",
        "closed_by": who_ends,
        "has_email": False,
        "transcript_offered": True,
    }
    closed = await console.expect("session.closed", session=session.pk)
    assert closed["closed_by"] == who_ends
    assert (await reload(session)).state == ChatSession.State.CLOSED

    # Ending again from the other side is refused; nothing more is written.
    if who_ends == "patron":
        await console.send(type="session.end", session=session.pk)
        assert (await console.expect("error"))["code"] == "session_closed"
    else:
        await patron.send(type="session.end")
        assert (await patron.expect("error"))["code"] == "session_closed"
    assert (await reload(session)).last_seq == 3
    await patron.close()
    await console.close()


async def test_after_the_end_the_patron_asks_for_the_transcript(chat, alice, mailoutbox):
    session = await call(chat, alice)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")
    await patron.send(type="session.end")
    await patron.expect("session.closed")
    await patron.send(type="transcript.request", email="dana@example.org")
    assert await patron.expect("transcript.sent") == {
        "type": "transcript.sent",
        "email": "dana@example.org",
    }
    await patron.send(type="transcript.request", email="dana@example.org")
    assert (await patron.expect("error"))["code"] == "transcript_sent"
    await call(transcripts_delivered)
    assert [m.to for m in mailoutbox] == [["dana@example.org"]]
    await patron.close()
