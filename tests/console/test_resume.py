"""The console's side of a drop: lines sent again, the heartbeat's digest, console.sync, a reload.

Against the full ASGI application, through the sockets of ``tests/sockets.py``.
A console line or an IM line sent again from a new console is stored once;
the console heartbeat carries a digest of what the console should show, which
a fresh snapshot must match, so a console that lost events (``rings_dropped``)
or reconnected asks for a snapshot and shows everything again.

Dana asks Ask Riverside; Alice picks her up.
"""

from dataclasses import dataclass
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Librarian
from chat import transfers
from chat.models import ChatSession, Message
from console import selectors
from im import services as ims
from im.models import ImMessage
from queues.models import Queue
from shifts import services as shifts
from tests import talk
from tests.conftest import Ask
from tests.sockets import (  # noqa: F401 - the fixture closes leftover sockets
    TINY_HEARTBEAT,
    call,
    close_sockets_left_open,
    console_of,
    created_texts,
    monitor,
    note,
    numbered,
    patron_of,
    patron_says,
    rings_dropped,
)

pytestmark = pytest.mark.django_db(transaction=True)


# --- Sending again after a drop -------------------------------------------------


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
    fay = ask(cooperative, name="Fay", library=alice.library)
    # A Hillcrest patron of the cooperative: Alice's only 40 s on.
    ask(cooperative, name="Jo", library=carol.library)
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
    # The digest's parts are separate reads: a beat during the change's commit
    # may show part of it (the offer, not yet its note), as a console sees
    # and checks again 1.5 s later before it asks for a snapshot. A later
    # beat must show all of it, and nothing else (the failure lists them all).
    after = digest(await console.expect("console.heartbeat", where=lambda e: digest(e) == expected))
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
