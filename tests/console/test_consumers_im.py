"""The Librarians list and IM through real consoles: two librarians, two consoles each.

Against the full ASGI application, through the sockets of
``tests/sockets.py``. Alice and Bob both monitor Ask Riverside; each has
two consoles open (two tabs), and every tab must stay consistent.
"""

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from accounts.models import Librarian
from im.models import ImMessage, ImSession
from shifts import services as shifts
from shifts.models import ConsolePresence
from tests.sockets import (  # noqa: F401 - the fixture closes leftover sockets
    Socket,
    call,
    close_sockets_left_open,
    console_of,
    monitor,
    patron_of,
)

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Tabs:
    alice1: Socket
    alice2: Socket
    bob1: Socket
    bob2: Socket

    @property
    def alices(self) -> tuple[Socket, Socket]:
        return (self.alice1, self.alice2)

    @property
    def bobs(self) -> tuple[Socket, Socket]:
        return (self.bob1, self.bob2)

    @property
    def all(self) -> tuple[Socket, ...]:
        return (*self.alices, *self.bobs)


async def open_tabs(alice: Librarian, bob: Librarian) -> Tabs:
    return Tabs(
        alice1=await console_of(alice),
        alice2=await console_of(alice),
        bob1=await console_of(bob),
        bob2=await console_of(bob),
    )


@pytest.fixture
async def tabs(alice, bob, riverside) -> Tabs:
    await monitor(alice, riverside)
    await monitor(bob, riverside)
    return await open_tabs(alice, bob)


async def open_im(tabs: Tabs, bob: Librarian) -> int:
    """Alice opens an IM with Bob from her first tab; every tab has heard of it."""
    await tabs.alice1.send(type="im.open", librarian=bob.pk)
    opened = [await tab.expect("im.opened") for tab in tabs.all]
    return opened[0]["im"]["id"]


def of_type(events: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"].startswith(prefix)]


# --- The Librarians list ------------------------------------------------------


async def test_each_console_lists_the_other_librarian_on_connect(alice, bob, riverside):
    await monitor(alice, riverside)
    await monitor(bob, riverside)
    alice1 = await console_of(alice, snapshot=False)
    snapshot = await alice1.expect("console.snapshot")
    assert snapshot["librarians"] == [
        {
            "id": bob.pk,
            "display_name": "Bob",
            "staff_id": "RPL-117",
            "queues": 1,
            "monitoring": [riverside.pk],
            "active": 0,
            "max_sessions": 3,
            "status": "available",
            "primary_queue": None,
            "library": "Riverside Public Library",
        }
    ]
    assert snapshot["ims"] == []
    bob1 = await console_of(bob, snapshot=False)
    assert [r["display_name"] for r in (await bob1.expect("console.snapshot"))["librarians"]] == [
        "Alice"
    ]
    await alice1.close()
    await bob1.close()


async def test_a_monitoring_change_on_one_tab_reaches_all_four_consoles(
    tabs, alice, bob, riverside, cooperative
):
    await tabs.bob1.send(type="monitoring.set", queues=[riverside.pk, cooperative.pk])
    for tab in tabs.bobs:
        snapshot = await tab.expect("console.snapshot")
        assert [q["monitoring"] for q in snapshot["queues"]] == [True, True]
    for tab in tabs.alices:
        row = (
            await tab.expect("librarian.updated", where=lambda e: e["librarian"]["id"] == bob.pk)
        )["librarian"]
        assert (row["queues"], row["monitoring"]) == (2, sorted([riverside.pk, cooperative.pk]))

    # He stops: Alice's tabs hear that he monitors nothing now, so he leaves her list.
    await tabs.bob2.send(type="monitoring.set", queues=[])
    for tab in tabs.bobs:
        snapshot = await tab.expect(
            "console.snapshot", where=lambda e: not e["queues"][0]["monitoring"]
        )
        assert snapshot["librarians"] == []
    for tab in tabs.alices:
        row = (
            await tab.expect(
                "librarian.updated",
                where=lambda e: e["librarian"]["id"] == bob.pk and e["librarian"]["queues"] == 0,
            )
        )["librarian"]
        assert row["monitoring"] == []
    fresh = await console_of(alice, snapshot=False)
    assert (await fresh.expect("console.snapshot"))["librarians"] == []
    for tab in (*tabs.all, fresh):
        await tab.close()


async def test_picking_up_a_chat_updates_the_active_count_on_the_other_tabs(tabs, ask, bob):
    session = await call(ask)
    await tabs.bob1.send(type="session.accept", session=session.pk)
    for tab in tabs.alices:
        row = (
            await tab.expect("librarian.updated", where=lambda e: e["librarian"]["active"] == 1)
        )["librarian"]
        assert row["id"] == bob.pk
    await tabs.bob2.send(type="session.end", session=session.pk)
    for tab in tabs.alices:
        await tab.expect("librarian.updated", where=lambda e: e["librarian"]["active"] == 0)
    for tab in tabs.all:
        await tab.close()


# --- IM, tab by tab -------------------------------------------------------------


async def test_an_im_session_from_open_to_end_on_four_consoles(tabs, alice, bob):
    await tabs.alice1.send(type="im.open", librarian=bob.pk)
    opened = {}
    for name in ("alice1", "alice2", "bob1", "bob2"):
        opened[name] = (await getattr(tabs, name).expect("im.opened"))["im"]
    im_id = opened["alice1"]["id"]
    assert {o["id"] for o in opened.values()} == {im_id}
    for name in ("alice1", "alice2"):
        assert opened[name]["started_by_me"] is True
        assert opened[name]["with"]["display_name"] == "Bob"
    for name in ("bob1", "bob2"):
        assert opened[name]["started_by_me"] is False
        assert opened[name]["with"]["display_name"] == "Alice"
    assert "reused" not in opened["bob1"]

    # Bob answers from his second tab: all four tabs show the line, his tab gets its seq.
    await tabs.bob2.send(type="im.send", im=im_id, text="What's up?", client_id="b-1")
    assert await tabs.bob2.expect("im.message.stored") == {
        "type": "im.message.stored",
        "im": im_id,
        "client_id": "b-1",
        "seq": 1,
    }
    for tab in tabs.all:
        line = await tab.expect("im.message.created", im=im_id)
        assert (line["message"]["seq"], line["message"]["author"]) == (1, "Bob")
        assert line["message"]["text"] == "What's up?"

    # A resend (the network hiccuped) is acknowledged with the same seq and shown once.
    await tabs.bob2.send(type="im.send", im=im_id, text="What's up?", client_id="b-1")
    assert (await tabs.bob2.expect("im.message.stored", client_id="b-1"))["seq"] == 1
    await tabs.alice1.send(
        type="im.send", im=im_id, text="Can you cover the desk?", client_id="a-1"
    )
    assert (await tabs.alice1.expect("im.message.stored", client_id="a-1"))["seq"] == 2
    for tab in tabs.all:
        nxt = await tab.expect("im.message.created", im=im_id)
        assert nxt["message"]["seq"] == 2
    for name, tab in zip(("alice1", "alice2", "bob1", "bob2"), tabs.all, strict=True):
        left = await tab.drain()
        assert of_type(left, "im.message.created") == [], name
        assert of_type(left, "im.message.stored") == [], name  # only the sender's tab got it
    assert await call(ImMessage.objects.filter(im_id=im_id).count) == 2

    # Alice reads on one tab: her other tab clears its unread count, Bob's tabs hear nothing.
    await tabs.bob1.send(type="im.send", im=im_id, text="Sure.", client_id="b-2")
    for tab in tabs.all:
        await tab.expect("im.message.created", im=im_id)
    await tabs.alice1.send(type="im.read", im=im_id, seq=3)
    for tab in tabs.alices:
        assert await tab.expect("im.read") == {"type": "im.read", "im": im_id, "read_seq": 3}
    # Alice's end is the next thing everyone hears: nothing about reading came before it.
    await tabs.alice2.send(type="im.end", im=im_id)
    for tab in tabs.all:
        ended = await tab.expect("im.ended", im=im_id)
        assert ended["ended_by"] == {"id": alice.pk, "display_name": "Alice", "staff_id": "RPL-104"}
    for tab in tabs.bobs:
        assert of_type(tab.received, "im.read") == []
        await tab.drain()

    await tabs.bob1.send(type="im.send", im=im_id, text="One more thing", client_id="b-3")
    error = await tabs.bob1.expect("error")
    assert (error["code"], error["client_id"]) == ("im_ended", "b-3")
    await tabs.alice1.send(type="im.end", im=im_id)
    assert (await tabs.alice1.expect("error"))["code"] == "im_ended"

    # A fresh console shows no open IM sessions; the record is kept.
    again = await console_of(bob, snapshot=False)
    assert (await again.expect("console.snapshot"))["ims"] == []
    stored = await call(
        lambda: list(ImMessage.objects.filter(im_id=im_id).values_list("text", flat=True))
    )
    assert stored == ["What's up?", "Can you cover the desk?", "Sure."]
    for tab in (*tabs.all, again):
        await tab.close()


async def test_a_reload_shows_my_open_im_sessions_with_their_unread_lines(tabs, alice, bob):
    im_id = await open_im(tabs, bob)
    await tabs.bob1.send(type="im.send", im=im_id, text="Ping", client_id="b-1")
    await tabs.bob1.expect("im.message.stored")
    reloaded = await console_of(alice, snapshot=False)
    (im,) = (await reloaded.expect("console.snapshot"))["ims"]
    assert (im["id"], im["with"]["display_name"], im["last_seq"], im["read_seq"]) == (
        im_id,
        "Bob",
        1,
        0,
    )
    assert [m["text"] for m in im["messages"]] == ["Ping"]
    for tab in (*tabs.all, reloaded):
        await tab.close()


async def test_opening_an_im_that_is_already_open_shows_it_on_this_tab_only(tabs, alice, bob):
    im_id = await open_im(tabs, bob)
    await tabs.bob2.send(type="im.open", librarian=alice.pk)
    reused = await tabs.bob2.expect("im.opened")
    assert (reused["im"]["id"], reused["reused"]) == (im_id, True)
    assert reused["im"]["with"]["display_name"] == "Alice"
    # No New IM Request popup for Alice: her next event is the line that follows.
    await tabs.bob2.send(type="im.send", im=im_id, text="Same one", client_id="b-1")
    for tab in (*tabs.alices, tabs.bob1):
        await tab.expect("im.message.created", im=im_id)
        assert of_type(tab.received, "im.opened") == []
    assert await call(ImSession.objects.count) == 1
    for tab in tabs.all:
        await tab.close()


async def test_an_im_to_yourself_is_refused(tabs, alice):
    await tabs.alice1.send(type="im.open", librarian=alice.pk, ref="self")
    error = await tabs.alice1.expect("error")
    assert (error["code"], error["ref"]) == ("im_self", "self")
    assert error["message"] == "You can't send an IM to yourself."
    assert await call(ImSession.objects.count) == 0
    for tab in tabs.all:
        await tab.close()


async def test_carol_who_shares_no_monitored_queue_can_neither_reach_alice_nor_her_ims(
    tabs, alice, bob, carol, hillcrest
):
    await monitor(carol, hillcrest)
    carols = await console_of(carol, snapshot=False)
    assert (await carols.expect("console.snapshot"))["librarians"] == []
    await carols.send(type="im.open", librarian=alice.pk)
    error = await carols.expect("error")
    assert error["code"] == "not_available"
    assert error["message"].startswith("Alice is not monitoring any of your queues")

    im_id = await open_im(tabs, bob)  # the next thing Alice's tabs hear: nothing came before
    for tab in tabs.alices:
        assert tab.received == []  # Carol's attempt reached neither of Alice's tabs
    for frame in (
        {"type": "im.send", "im": im_id, "text": "Hi all", "client_id": "c-1"},
        {"type": "im.read", "im": im_id, "seq": 0},
        {"type": "im.end", "im": im_id},
    ):
        await carols.send(**frame)
        error = await carols.expect("error")
        assert error["code"] == "not_found", frame
        assert error["message"] == "There is no such IM session of yours."

    await tabs.bob1.send(type="im.send", im=im_id, text="Still just us", client_id="b-1")
    for tab in tabs.all:
        line = await tab.expect("im.message.created", im=im_id)
        assert line["message"]["seq"] == 1
    im = await call(ImSession.objects.get, pk=im_id)
    assert (im.last_seq, im.ended_at) == (1, None)
    assert of_type(await carols.drain(), "im.") == []
    for tab in (*tabs.all, carols):
        await tab.close()


async def test_a_patron_never_hears_an_im(tabs, chat, alice, bob):
    session = await call(chat, alice)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")

    im_id = await open_im(tabs, bob)
    await tabs.bob1.send(type="im.send", im=im_id, text="Is Dana the regular?", client_id="b-1")
    for tab in tabs.alices:
        await tab.expect("im.message.created", im=im_id)
    await tabs.alice1.send(type="im.read", im=im_id, seq=1)
    await tabs.alice1.expect("im.read")
    await tabs.alice1.send(type="im.end", im=im_id)
    await tabs.alice1.expect("im.ended")

    # A chat line after all that: once the patron has it, any IM event would be here too.
    await tabs.alice2.send(
        type="message.send", session=session.pk, text="Found it!", client_id="a-1"
    )
    heard = await patron.expect("message.created")
    assert heard["message"]["text"] == "Found it!"
    everything = [*patron.received, *await patron.drain()]
    assert of_type(everything, "im.") == []
    assert "Dana the regular" not in json.dumps(everything)
    for tab in (*tabs.all, patron):
        await tab.close()


BAD_IM_FRAMES = [
    ("im as a string", {"type": "im.send", "im": "1", "text": "hi", "client_id": "x-1"}),
    ("text a number", {"type": "im.send", "im": 0, "text": 42, "client_id": "x-2"}),
    ("librarian a name", {"type": "im.open", "librarian": "Bob"}),
    ("seq missing", {"type": "im.read", "im": 0}),
    ("im missing", {"type": "im.end"}),
]


@pytest.mark.parametrize("frame", [f[1] for f in BAD_IM_FRAMES], ids=[f[0] for f in BAD_IM_FRAMES])
async def test_a_bad_im_frame_gets_an_error_and_the_console_keeps_working(tabs, bob, frame):
    im_id = await open_im(tabs, bob)
    if frame.get("im") == 0:
        frame = {**frame, "im": im_id}
    await tabs.alice1.send(**frame, ref="bad")
    error = await tabs.alice1.expect("error")
    assert (error["code"], error["ref"]) == ("bad_frame", "bad")

    await tabs.alice1.send(type="im.send", im=im_id, text="Still here.", client_id="ok")
    assert (await tabs.alice1.expect("im.message.stored"))["seq"] == 1
    im = await call(ImSession.objects.get, pk=im_id)
    assert (im.last_seq, im.ended_at) == (1, None)
    for tab in tabs.all:
        await tab.close()


# --- Presence -----------------------------------------------------------------


async def test_a_console_is_present_while_open_and_marked_closed_after(alice):
    console = await console_of(alice)
    rows = await call(
        lambda: list(ConsolePresence.objects.filter(librarian=alice).values("closed"))
    )
    assert rows == [{"closed": False}]
    second = await console_of(alice)
    assert await call(ConsolePresence.objects.filter(librarian=alice, closed=False).count) == 2

    await console.close()
    closed = await call(
        lambda: list(ConsolePresence.objects.filter(librarian=alice).order_by("pk"))
    )
    assert [row.closed for row in closed] == [True, False]
    await second.close()
    assert await call(ConsolePresence.objects.filter(librarian=alice, closed=False).count) == 0


@database_sync_to_async
def sweep_later(seconds: int, *, still_beating: Librarian) -> list[int]:
    """The presence sweep ``seconds`` from now; ``still_beating``'s open consoles kept beating."""
    later = timezone.now() + timedelta(seconds=seconds)
    ConsolePresence.objects.filter(librarian=still_beating, closed=False).update(last_seen=later)
    return shifts.presence_sweep(now=later)


async def test_bob_leaves_alices_list_only_after_the_grace_period(tabs, alice, bob):
    await tabs.bob1.close()
    await tabs.bob2.close()

    assert await sweep_later(10, still_beating=alice) == []  # a reload takes less than that
    reloaded = await console_of(alice, snapshot=False)
    assert [r["id"] for r in (await reloaded.expect("console.snapshot"))["librarians"]] == [bob.pk]

    assert await sweep_later(31, still_beating=alice) == [bob.pk]
    for tab in (*tabs.alices, reloaded):
        gone = await tab.expect("librarian.updated")
        assert gone["librarian"]["id"] == bob.pk
        assert (gone["librarian"]["monitoring"], gone["librarian"]["queues"]) == ([], 0)
    for tab in tabs.alices:  # the sweep at +10 s sent nothing: that was the only update
        assert of_type(await tab.drain(), "librarian.updated") == []
    monitoring = await call(bob.memberships.filter(is_monitoring=True).count)
    assert monitoring == 0
    for tab in (*tabs.alices, reloaded):
        await tab.close()
