"""Nothing is lost and nothing is said twice across a drop: numbers, resume, heartbeats, retries.

Against the full ASGI application, through the sockets of ``tests/sockets.py``.
The channel layer is a doorbell that may drop a ring: :func:`rings_dropped`
makes every event published meanwhile vanish on its way (the lines are
stored, nobody hears of them), which is what a Redis restart or a server
restart between two processes does to a client.

Dana asks Ask Riverside; Alice picks her up. Dana's lines are numbered by
the patron's own numbers (no gap where a Librarian Note is); Alice's
console sees every line by the staff number.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Librarian
from chat import sessions, transfers
from chat.lines import line_store, note_line
from chat.models import ChatSession, Message
from console import selectors
from core import events
from im import services as ims
from im.models import ImMessage
from queues.models import Queue
from shifts import services as shifts
from tests import talk
from tests.conftest import Ask
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
    monitor,
    note,
    numbered,
    patron_of,
    patron_says,
    reload,
    rings_dropped,
)

pytestmark = pytest.mark.django_db(transaction=True)


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


@pytest.mark.parametrize("as_note", [False, True], ids=["line", "librarian note"])
async def test_a_console_line_resent_from_a_new_console_is_stored_once(chat, alice, as_note):
    session = await call(chat, alice)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")
    frame = {
        "type": "message.send",
        "session": session.pk,
        "text": "Shelf LP 823.",
        "client_id": "a-1",
        "note": as_note,
    }
    stored = {"type": "message.stored", "session": session.pk, "client_id": "a-1", "seq": 3}

    first = await console_of(alice)
    for _ in range(2):
        await first.send(**frame)
        assert await first.expect("message.stored") == stored
    assert created_texts(await first.drain()) == ["Shelf LP 823."]
    await first.close()

    second = await console_of(alice)
    await second.send(**frame)
    assert await second.expect("message.stored") == stored
    await second.send(
        type="message.send", session=session.pk, text="Anything else?", client_id="a-2"
    )
    assert (await second.expect("message.stored", client_id="a-2"))["seq"] == 4
    await second.expect("message.created", where=lambda e: e["message"]["text"] == "Anything else?")
    assert created_texts(await second.drain()) == []

    await patron.expect("message.created", where=lambda e: e["message"]["text"] == "Anything else?")
    assert created_texts(await patron.drain()) == ([] if as_note else ["Shelf LP 823."])
    assert await call(Message.objects.filter(session=session, client_id="a-1").count) == 1
    for socket in (patron, second):
        await socket.close()


async def test_an_im_line_resent_from_a_new_console_is_stored_once(alice, bob, riverside):
    await monitor(alice, riverside)
    await monitor(bob, riverside)
    im, _ = await call(ims.im_open, initiator=alice, recipient_id=bob.pk)
    bobs = await console_of(bob)
    frame = {"type": "im.send", "im": im.pk, "text": "Can you take a call?", "client_id": "i-1"}
    stored = {"type": "im.message.stored", "im": im.pk, "client_id": "i-1", "seq": 1}

    first = await console_of(alice)
    for _ in range(2):
        await first.send(**frame)
        assert await first.expect("im.message.stored") == stored
    await first.close()
    second = await console_of(alice)
    await second.send(**frame)
    assert await second.expect("im.message.stored") == stored
    await second.send(type="im.send", im=im.pk, text="Now?", client_id="i-2")
    assert (await second.expect("im.message.stored", client_id="i-2"))["seq"] == 2

    await bobs.expect("im.message.created", where=lambda e: e["message"]["text"] == "Now?")
    assert created_texts(await bobs.drain(), "im.message.created") == ["Can you take a call?"]
    assert await call(ImMessage.objects.filter(im=im, client_id="i-1").count) == 1
    for socket in (bobs, second):
        await socket.close()


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


# --- The console's digest and snapshot ----------------------------------------------


def digest(heartbeat: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in heartbeat.items() if key != "type"}


def digest_of(snapshot: dict[str, Any]) -> dict[str, Any]:
    """What a console that applied ``snapshot`` shows, in the heartbeat's terms."""
    return {
        "waiting": sorted(row["id"] for row in snapshot["waiting"]),
        "active": {str(s["id"]): s["last_seq"] for s in snapshot["active"]},
        "ims": {str(im["id"]): im["last_seq"] for im in snapshot["ims"]},
        "offers": sorted(offer["id"] for offer in snapshot["offers"]),
        "librarians": sorted(row["id"] for row in snapshot["librarians"]),
    }


def a_busy_shift(ask, chat, alice, bob, carol, cooperative, hillcrest) -> dict[str, Any]:
    """Alice's console has something in every part; what her digest should say."""
    eli = ask(name="Eli")
    fay = ask(cooperative, name="Fay")
    ask(hillcrest, name="Gus", email="gus@example.org")  # not Alice's queue
    dana = chat(alice, name="Dana")
    talk.patron_says(dana, "Still there?")
    hal = chat(alice, name="Hal")
    offer = transfers.transfer_offer(session_id=hal.pk, sender=alice, receiver_id=bob.pk)
    chat(bob, name="Ivy")  # Bob's, not Alice's
    im, _ = ims.im_open(initiator=carol, recipient_id=alice.pk)
    ims.im_post(im_id=im.pk, librarian=carol, text="Busy?", client_id=None)
    ims.im_post(im_id=im.pk, librarian=alice, text="Very", client_id=None)
    return {
        "waiting": sorted([eli.pk, fay.pk]),
        # Dana: question, joined, her line. Hal: question, joined, the transfer note.
        "active": {str(dana.pk): 3, str(hal.pk): 3},
        "ims": {str(im.pk): 2},
        "offers": [offer.pk],
        "librarians": sorted([bob.pk, carol.pk]),
    }


async def test_the_console_heartbeat_digest_is_what_a_fresh_snapshot_shows(
    ask, chat, alice, bob, carol, riverside, cooperative, hillcrest, settings
):
    settings.HEARTBEAT_SECONDS = TINY_HEARTBEAT
    await monitor(alice, riverside, cooperative)
    await monitor(bob, riverside)
    await monitor(carol, cooperative)
    expected = await call(a_busy_shift, ask, chat, alice, bob, carol, cooperative, hillcrest)
    console = await console_of(alice, snapshot=False)
    snapshot = await console.expect("console.snapshot")
    heartbeat = await console.expect("console.heartbeat")
    assert digest(heartbeat) == digest_of(snapshot) == expected
    await console.close()


async def test_the_digests_of_several_consoles_at_once_are_each_what_its_snapshot_shows(
    ask, chat, alice, bob, carol, dave, riverside, cooperative, hillcrest
):
    await monitor(alice, riverside, cooperative)
    await monitor(bob, riverside)
    await monitor(carol, cooperative)
    await call(a_busy_shift, ask, chat, alice, bob, carol, cooperative, hillcrest)
    everyone = [alice, bob, carol, dave]  # Dave monitors nothing

    @database_sync_to_async
    def digests() -> tuple[dict[int, dict[str, Any]], int]:
        with CaptureQueriesContext(connection) as queries:
            found = selectors.console_digests(everyone)
        return found, len(queries.captured_queries)

    found, queries = await digests()
    # One heartbeat tick's queries for all four consoles (six at most).
    assert queries <= 6
    for librarian in everyone:
        console = await console_of(librarian, snapshot=False)
        snapshot = await console.expect("console.snapshot")
        assert digest(found[librarian.pk]) == digest_of(snapshot), librarian.display_name
        await console.close()


@dataclass
class Desk:
    """Alice monitors Ask Riverside and the cooperative and holds Dana's chat; Bob
    monitors Ask Riverside; Carol monitors nothing yet."""

    ask: Ask
    alice: Librarian
    bob: Librarian
    carol: Librarian
    cooperative: Queue
    dana: ChatSession


def a_request_arrives(desk: Desk) -> dict[str, Any]:
    return {"waiting": [desk.ask(name="Eli").pk]}


def the_patron_says_a_line(desk: Desk) -> dict[str, Any]:
    talk.patron_says(desk.dana, "Still there?")
    return {"active": {str(desk.dana.pk): 3}}


def a_colleague_opens_an_im(desk: Desk) -> dict[str, Any]:
    im, _ = ims.im_open(initiator=desk.bob, recipient_id=desk.alice.pk)
    return {"ims": {str(im.pk): 0}}


def alice_offers_the_chat_to_bob(desk: Desk) -> dict[str, Any]:
    offer = transfers.transfer_offer(
        session_id=desk.dana.pk, sender=desk.alice, receiver_id=desk.bob.pk
    )
    # The offer, and its Librarian Note in Dana's chat.
    return {"offers": [offer.pk], "active": {str(desk.dana.pk): 3}}


def a_colleague_starts_monitoring(desk: Desk) -> dict[str, Any]:
    shifts.monitoring_set(librarian=desk.carol, queue_ids=[desk.cooperative.pk])
    return {"librarians": sorted([desk.bob.pk, desk.carol.pk])}


CHANGES = [
    a_request_arrives,
    the_patron_says_a_line,
    a_colleague_opens_an_im,
    alice_offers_the_chat_to_bob,
    a_colleague_starts_monitoring,
]


@pytest.mark.parametrize("change", CHANGES, ids=[c.__name__ for c in CHANGES])
async def test_the_console_heartbeat_changes_when(
    ask, chat, alice, bob, carol, riverside, cooperative, settings, change
):
    settings.HEARTBEAT_SECONDS = TINY_HEARTBEAT
    await monitor(alice, riverside, cooperative)
    await monitor(bob, riverside)
    desk = Desk(ask, alice, bob, carol, cooperative, dana=await call(chat, alice))
    console = await console_of(alice)
    before = digest(await console.expect("console.heartbeat"))
    assert before == {
        "waiting": [],
        "active": {str(desk.dana.pk): 2},
        "ims": {},
        "offers": [],
        "librarians": [bob.pk],
    }

    expected = {**before, **await call(change, desk)}
    after = digest(await console.expect("console.heartbeat", where=lambda e: digest(e) != before))
    assert after == expected
    # A console that asks for a snapshot then shows exactly that.
    await console.send(type="console.sync")
    assert digest_of(await console.expect("console.snapshot")) == after
    await console.close()


async def test_console_sync_brings_back_what_lost_events_would_have_shown(
    ask, chat, alice, riverside
):
    await monitor(alice, riverside)
    dana = await call(chat, alice)
    console = await console_of(alice)

    with rings_dropped():
        await patron_says(dana, "Are you still there?")
        eli = await call(ask, name="Eli")
    heard = [e["type"] for e in await console.drain()]
    assert "message.created" not in heard
    assert "session.created" not in heard

    await console.send(type="console.sync")
    snapshot = await console.expect("console.snapshot")
    assert [row["id"] for row in snapshot["waiting"]] == [eli.pk]
    [chat_pane] = snapshot["active"]
    assert chat_pane["last_seq"] == 3
    assert numbered(chat_pane["messages"])[-1] == (3, "Are you still there?")
    await console.close()


async def test_a_console_that_reconnects_gets_what_happened_while_it_was_away(
    ask, chat, alice, bob, riverside
):
    await monitor(alice, riverside)
    await monitor(bob, riverside)
    dana = await call(chat, alice)
    im, _ = await call(ims.im_open, initiator=bob, recipient_id=alice.pk)
    console = await console_of(alice)
    await console.close()

    # Alice's page is reloading.
    await patron_says(dana, "Are you still there?")
    await note(dana, alice, "Patron asked twice")
    eli = await call(ask, name="Eli")
    await call(ims.im_post, im_id=im.pk, librarian=bob, text="Need a hand?", client_id=None)

    again = await console_of(alice, snapshot=False)
    snapshot = await again.expect("console.snapshot")
    [chat_pane] = snapshot["active"]
    assert [(m["seq"], m["text"], m["note"]) for m in chat_pane["messages"]][2:] == [
        (3, "Are you still there?", False),
        (4, "Patron asked twice", True),
    ]
    assert chat_pane["last_seq"] == 4
    assert [row["id"] for row in snapshot["waiting"]] == [eli.pk]
    [im_pane] = snapshot["ims"]
    assert (im_pane["id"], im_pane["last_seq"]) == (im.pk, 1)
    assert [m["text"] for m in im_pane["messages"]] == ["Need a hand?"]
    await again.close()
