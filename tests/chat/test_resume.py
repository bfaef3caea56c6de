"""A patron's socket across a drop: nothing lost, nothing said twice (numbers, resume, retries).

Against the full ASGI application, through the sockets of ``tests/sockets.py``.
The channel layer is a doorbell that may drop a ring: ``rings_dropped``
makes every event published meanwhile vanish on its way (the lines are
stored, nobody hears of them), which is what a Redis restart or a server
restart between two processes does to a client.

Dana asks Ask Riverside; Alice picks her up. Dana's lines are numbered by
the patron's own numbers (no gap where a Librarian Note is); Alice's
console sees every line by the staff number.
"""

from collections.abc import Callable
from typing import Any

import pytest

from accounts.models import Librarian
from chat import sessions
from chat.lines import line_store, note_line
from chat.models import ChatSession, Message
from core import events
from im import services as ims
from im.models import ImMessage
from shifts import services as shifts
from tests import talk
from tests.helpers import at_once
from tests.sockets import (  # noqa: F401 - the fixture closes leftover sockets
    HOST,
    ORIGIN,
    TINY_HEARTBEAT,
    Socket,
    call,
    close_sockets_left_open,
    console_of,
    created_texts,
    librarian_says,
    note,
    numbered,
    patron_of,
    patron_says,
    reload,
    rings_dropped,
)

# Round after round of pick-ups by the same librarians: no maximum.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_maximum")]


# --- Numbering ------------------------------------------------------------------


def test_the_patron_numbers_only_the_lines_they_see_and_staff_numbers_every_line(chat, alice):
    session = chat(alice)
    line_store(note_line(session, "Regular; large print", alice))
    talk.librarian_says(session, alice, "Hello!")
    talk.patron_says(session, "Hi")
    line_store(note_line(session, "Found it in LP", alice))
    sessions.session_end_by_patron(session=session)

    assert list(session.messages.order_by("seq").values_list("seq", "patron_seq", "kind")) == [
        (1, 1, "patron"),  # the question
        (2, 2, "system"),  # Alice has joined the chat.
        (3, None, "note"),
        (4, 3, "librarian"),
        (5, 4, "patron"),
        (6, None, "note"),
        (7, 5, "system"),  # Patron ended chat session
    ]
    session.refresh_from_db()
    assert (session.last_seq, session.last_patron_seq) == (7, 5)


# --- Resume -------------------------------------------------------------------------


async def dana_and_alice_talked(chat: Callable[..., ChatSession], alice: Librarian) -> ChatSession:
    """Patron numbers 1 question, 2 "Alice has joined", 3 Hello, 4 Hi; a note between 2 and 3."""
    session = await call(chat, alice)
    await note(session, alice, "Regular; prefers large print")
    await librarian_says(session, alice, "Hello")
    await patron_says(session, "Hi")
    return session


async def test_a_patron_reconnecting_after_n_gets_the_later_lines_then_live_ones(chat, alice):
    session = await dana_and_alice_talked(chat, alice)

    patron = await patron_of(session, after=3)
    snapshot = await patron.expect("session.snapshot")
    assert numbered(snapshot["messages"]) == [(4, "Hi")]
    assert snapshot["session"]["last_seq"] == 4

    await librarian_says(session, alice, "Here it is.")
    await note(session, alice, "Asked twice before")
    await patron_says(session, "Thanks!")
    first = await patron.expect("message.created")
    second = await patron.expect("message.created")
    assert numbered([first["message"], second["message"]]) == [(5, "Here it is."), (6, "Thanks!")]
    assert created_texts(await patron.drain()) == []
    await patron.close()


@pytest.mark.parametrize(
    ("after", "seqs"),
    [("0", [1, 2, 3, 4]), ("2", [3, 4]), ("4", []), ("99", []), ("x", [1, 2, 3, 4])],
    ids=["0", "2", "the last", "past the last", "not a number"],
)
async def test_after_in_the_address_says_which_lines_the_snapshot_holds(chat, alice, after, seqs):
    session = await dana_and_alice_talked(chat, alice)
    patron = Socket(f"/ws/chat/{session.token}/?after={after}", [ORIGIN, HOST])
    assert (await patron.open())[0]
    snapshot = await patron.expect("session.snapshot")
    assert [m["seq"] for m in snapshot["messages"]] == seqs
    assert "Regular; prefers large print" not in str(snapshot)
    await patron.close()


async def test_session_resume_answers_a_snapshot_of_the_lines_after_n(chat, alice):
    session = await dana_and_alice_talked(chat, alice)
    patron = await patron_of(session)
    assert [m["seq"] for m in (await patron.expect("session.snapshot"))["messages"]] == [1, 2, 3, 4]

    await patron.send(type="session.resume", after=2)
    again = await patron.expect("session.snapshot")
    assert numbered(again["messages"]) == [(3, "Hello"), (4, "Hi")]
    assert again["session"]["state"] == "active"
    assert again["session"]["last_seq"] == 4

    await patron.send(type="session.resume", after=4)
    assert (await patron.expect("session.snapshot"))["messages"] == []
    await patron.close()


@pytest.mark.parametrize(
    "after",
    ["2", -1, True, 2.5, None, [2]],
    ids=["text", "negative", "true", "2.5", "null", "list"],
)
async def test_session_resume_after_something_not_a_line_number_is_a_bad_frame(chat, alice, after):
    session = await dana_and_alice_talked(chat, alice)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")

    await patron.send(type="session.resume", after=after, ref="r1")
    error = await patron.expect("error")
    assert (error["code"], error["message"], error["ref"]) == (
        "bad_frame",
        '"after" must be a line number.',
        "r1",
    )
    # The socket still answers a good one.
    await patron.send(type="session.resume", after=3)
    assert numbered((await patron.expect("session.snapshot"))["messages"]) == [(4, "Hi")]
    await patron.close()


# --- Heartbeats and gaps -----------------------------------------------------------


async def test_the_patron_heartbeat_carries_the_state_and_the_last_line_they_may_see(
    ask, alice, settings
):
    settings.HEARTBEAT_SECONDS = TINY_HEARTBEAT
    session = await call(ask)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")
    assert await patron.expect("session.heartbeat") == {
        "type": "session.heartbeat",
        "state": "waiting",
        "last_seq": 1,
    }

    await call(sessions.session_accept, session_id=session.pk, librarian=alice)
    await patron.expect("session.heartbeat", state="active", last_seq=2)

    # A Librarian Note is no line of the patron's: their number stays.
    await note(session, alice, "Regular; prefers large print")
    patron.received.clear()
    for _ in range(3):
        assert (await patron.expect("session.heartbeat"))["last_seq"] == 2

    await librarian_says(session, alice, "Hello")
    await patron.expect("session.heartbeat", state="active", last_seq=3)

    await call(sessions.session_end_by_librarian, session_id=session.pk, librarian=alice)
    await patron.expect("session.heartbeat", state="closed", last_seq=4)
    await patron.close()


async def test_a_patron_who_missed_an_event_learns_it_from_the_heartbeat_and_catches_up(
    chat, alice, settings
):
    settings.HEARTBEAT_SECONDS = TINY_HEARTBEAT
    session = await call(chat, alice)
    patron = await patron_of(session)
    seen = (await patron.expect("session.snapshot"))["session"]["last_seq"]
    assert seen == 2

    with rings_dropped():
        await librarian_says(session, alice, "It is on shelf LP 823.")
    # The line's event never came; the heartbeat says there is a line 3 ...
    await patron.expect("session.heartbeat", last_seq=3)
    assert created_texts(patron.received) == []
    # ... so the page asks for everything after the last number it has.
    await patron.send(type="session.resume", after=seen)
    caught_up = await patron.expect("session.snapshot")
    assert numbered(caught_up["messages"]) == [(3, "It is on shelf LP 823.")]

    # Live events flow again as before.
    await librarian_says(session, alice, "Anything else?")
    live = await patron.expect("message.created")
    assert numbered([live["message"]]) == [(4, "Anything else?")]
    await patron.close()


async def test_lines_stored_while_the_patron_was_away_arrive_once_on_reconnect(chat, alice):
    session = await call(chat, alice)
    patron = await patron_of(session)
    last = (await patron.expect("session.snapshot"))["messages"][-1]["seq"]
    await patron.close()

    # Said while no socket of Dana's listened: nobody rang her bell.
    await librarian_says(session, alice, "Found it.")
    await note(session, alice, "Checked the catalogue")
    await librarian_says(session, alice, "Shelf LP 823.")

    again = await patron_of(session, after=last)
    snapshot = await again.expect("session.snapshot")
    assert numbered(snapshot["messages"]) == [(3, "Found it."), (4, "Shelf LP 823.")]
    await librarian_says(session, alice, "Anything else?")
    live = await again.expect("message.created")
    assert numbered([live["message"]]) == [(5, "Anything else?")]
    # The missed lines came once, in the snapshot, never again as events.
    assert created_texts(await again.drain()) == []
    await again.close()


# --- Sending again after a drop -------------------------------------------------


async def test_a_patron_line_resent_on_the_same_and_on_a_new_socket_is_stored_once(chat, alice):
    session = await call(chat, alice)
    console = await console_of(alice)
    first = await patron_of(session)
    await first.expect("session.snapshot")

    stored = {"type": "message.stored", "client_id": "p-1", "seq": 3}
    for _ in range(2):
        await first.send(type="message.send", text="Is it on the shelf?", client_id="p-1")
        assert await first.expect("message.stored") == stored
    assert created_texts(await first.drain()) == ["Is it on the shelf?"]
    await first.close()

    # The answer was lost with the connection: the page resends from a new socket.
    second = await patron_of(session, after=3)
    assert (await second.expect("session.snapshot"))["messages"] == []
    await second.send(type="message.send", text="Is it on the shelf?", client_id="p-1")
    assert await second.expect("message.stored") == stored

    await second.send(type="message.send", text="The large-print one", client_id="p-2")
    assert (await second.expect("message.stored", client_id="p-2"))["seq"] == 4
    await second.expect("message.created", where=lambda e: e["message"]["seq"] == 4)
    assert created_texts(await second.drain()) == []
    await console.expect(
        "message.created", where=lambda e: e["message"]["text"] == "The large-print one"
    )
    assert created_texts(await console.drain()) == ["Is it on the shelf?"]

    assert await call(Message.objects.filter(session=session, client_id="p-1").count) == 1
    assert (await reload(session)).last_seq == 4
    await second.close()
    await console.close()


async def test_a_retry_of_a_line_stored_before_the_chat_ended_is_acknowledged(chat, alice):
    session = await call(chat, alice)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")
    await patron.send(type="message.send", text="Thank you!", client_id="p-1")
    assert (await patron.expect("message.stored"))["seq"] == 3
    await call(sessions.session_end_by_librarian, session_id=session.pk, librarian=alice)
    await patron.expect("session.closed")
    await patron.close()

    again = await patron_of(session, after=3)
    assert (await again.expect("session.snapshot"))["session"]["state"] == "closed"
    # The page never saw its answer and resends: it is told the line is stored ...
    await again.send(type="message.send", text="Thank you!", client_id="p-1")
    assert await again.expect("message.stored") == {
        "type": "message.stored",
        "client_id": "p-1",
        "seq": 3,
    }
    # ... while a new line after the end is refused.
    await again.send(type="message.send", text="Hello?", client_id="p-2")
    error = await again.expect("error")
    assert (error["code"], error["client_id"]) == ("session_closed", "p-2")
    assert await call(Message.objects.filter(session=session, client_id="p-1").count) == 1
    await again.close()


@pytest.mark.parametrize("line", ["patron line", "IM line"])
def test_the_same_line_sent_twice_at_the_same_moment_is_stored_once(
    chat, alice, bob, riverside, monkeypatch, line
):
    shifts.monitoring_set(librarian=alice, queue_ids=[riverside.pk])
    shifts.monitoring_set(librarian=bob, queue_ids=[riverside.pk])
    sent: list[tuple[str, tuple[str, ...]]] = []
    # What leaves after commit, whichever thread commits it.
    monkeypatch.setattr(events, "_send", lambda event, groups: sent.append((event["type"], groups)))
    for round_ in range(10):
        if line == "patron line":
            session = chat(alice, name=f"Patron {round_}")

            def send(s: Any = session) -> Any:
                return talk.patron_says(s, "Hello?", client_id="c-1")

            heard: list[tuple[str, tuple[str, ...]]] = [
                ("message.created", (f"librarian.{alice.pk}",)),
                ("message.created", (f"patron.{session.pk}",)),
            ]
        else:
            im, _ = ims.im_open(initiator=alice, recipient_id=bob.pk)

            def send(s: Any = im) -> Any:
                return ims.im_post(im_id=s.pk, librarian=alice, text="Hello?", client_id="c-1")

            heard = [("im.message.created", (f"librarian.{alice.pk}", f"librarian.{bob.pk}"))]
        sent.clear()

        outcomes = at_once(first=send, second=send)
        assert not [o for o in outcomes.values() if isinstance(o, Exception)], outcomes
        (one, one_new), (other, other_new) = outcomes.values()
        assert one.pk == other.pk, f"round {round_}"
        assert sorted([one_new, other_new]) == [False, True]
        assert one.seq == other.seq
        assert sent == heard, f"round {round_}"
        if line == "patron line":
            assert session.messages.filter(client_id="c-1").count() == 1
            assert ChatSession.objects.get(pk=session.pk).last_seq == 3
        else:
            assert ImMessage.objects.filter(im=im).count() == 1
            ims.im_end(im_id=im.pk, librarian=alice)
