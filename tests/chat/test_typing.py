"""Typing indicators through real sockets (issue 15, point 4).

Dana chats with Alice in Ask Riverside; Bob monitors the queue too, and
Dave only the archive. A ``typing`` frame tells the other side, at most
once per ``TYPING_EVENT_SECONDS`` per socket, never stores anything and
never carries text. Against the full ASGI app, on both databases (and
across processes through Redis in service mode, like every other event).
"""

import asyncio
import json
from typing import Any

import pytest

from chat import sessions, transfers
from chat.models import Message
from tests.sockets import (  # noqa: F401 - the fixture closes leftover sockets
    TINY_HEARTBEAT,
    Socket,
    call,
    close_sockets_left_open,
    console_of,
    monitor,
    patron_of,
    rings_dropped,
)

pytestmark = pytest.mark.django_db(transaction=True)

DRAFT = "my secret draft about census records"
# Long enough for a socket to have answered anything it was going to.
SETTLE = 0.3


@pytest.fixture
def quick_typing(settings: Any) -> float:
    """A short rate-limit window, so a test can wait one out."""
    settings.TYPING_EVENT_SECONDS = 0.6
    return settings.TYPING_EVENT_SECONDS


@pytest.fixture
async def desk(alice, bob, dave, riverside, archive) -> None:
    await monitor(alice, riverside)
    await monitor(bob, riverside)
    await monitor(dave, archive)


def typing_events(received: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in received if e["type"].startswith("typing.")]


def told(received: list[dict[str, Any]]) -> list[str]:
    """What a socket heard, heartbeats aside."""
    return [e["type"] for e in received if not e["type"].endswith(".heartbeat")]


async def quiet(socket: Socket) -> list[dict[str, Any]]:
    await asyncio.sleep(SETTLE)
    return await socket.drain()


async def opened(session: Any) -> Socket:
    patron = await patron_of(session)
    await patron.expect("session.snapshot")
    return patron


async def test_each_side_sees_the_other_typing_and_never_the_text(desk, chat, alice):
    session = await call(chat, alice)
    patron = await opened(session)
    alices = await console_of(alice)
    lines_before = await call(Message.objects.count)

    # Dana types (the draft text is sent along by a careless client: it goes nowhere).
    await patron.send(type="typing", text=DRAFT)
    started = await alices.expect("typing.started")
    assert started == {"type": "typing.started", "session": session.pk}
    await patron.send(type="typing", state="stopped")
    assert await alices.expect("typing.stopped") == {
        "type": "typing.stopped",
        "session": session.pk,
    }

    # Alice types; Dana sees her display name, and nothing else about her.
    await alices.send(type="typing", session=session.pk, text=DRAFT)
    heard = await patron.expect("typing.started")
    assert heard == {"type": "typing.started", "librarian": {"display_name": "Alice"}}
    await alices.send(type="typing", session=session.pk, state="stopped")
    assert await patron.expect("typing.stopped") == {"type": "typing.stopped"}

    # Nothing answered the typing frames, nothing stored, no text anywhere.
    assert told(await quiet(patron) + await quiet(alices)) == []
    assert await call(Message.objects.count) == lines_before
    assert DRAFT not in json.dumps([started, heard])


async def test_a_flood_of_typing_frames_passes_one_event_per_window(
    desk, chat, alice, quick_typing
):
    session = await call(chat, alice)
    patron = await opened(session)
    alices = await console_of(alice)

    for _ in range(30):  # a client sending one per keystroke
        await patron.send(type="typing")
        await alices.send(type="typing", session=session.pk)
    # One event each way, and no error frames for the dropped ones.
    assert told(await quiet(alices)) == ["typing.started"]
    assert told(await quiet(patron)) == ["typing.started"]

    # Once the window has passed, the next one goes through again.
    await asyncio.sleep(quick_typing)
    await patron.send(type="typing")
    await alices.send(type="typing", session=session.pk)
    await alices.expect("typing.started")
    await patron.expect("typing.started")
    # A stop passes once per start; a stop with no start before it, never.
    for _ in range(5):
        await patron.send(type="typing", state="stopped")
    assert told(await quiet(alices)) == ["typing.stopped"]


async def test_only_the_librarian_holding_the_session_hears_or_is_heard(
    desk, chat, alice, bob, dave
):
    session = await call(chat, alice)
    patron = await opened(session)
    alices = await console_of(alice)
    bobs = await console_of(bob)
    daves = await console_of(dave)

    # Bob (same queue) and Dave (a stranger) type "in" Dana's session: Dana sees nothing.
    await bobs.send(type="typing", session=session.pk)
    await daves.send(type="typing", session=session.pk)
    await daves.send(type="typing", session=10**9)
    assert typing_events(await quiet(patron)) == []

    # Dana types: Alice hears it; Bob and Dave get nothing at all.
    await patron.send(type="typing")
    await alices.expect("typing.started", session=session.pk)
    assert typing_events(await quiet(bobs)) == []
    assert typing_events(await quiet(daves)) == []


async def test_every_tab_and_every_console_sees_it(desk, chat, alice):
    session = await call(chat, alice)
    tabs = [await opened(session), await opened(session)]
    consoles = [await console_of(alice), await console_of(alice)]

    await tabs[0].send(type="typing")
    for console in consoles:
        await console.expect("typing.started", session=session.pk)
    await consoles[1].send(type="typing", session=session.pk)
    for tab in tabs:
        await tab.expect("typing.started", librarian={"display_name": "Alice"})


async def test_a_note_line_tells_the_patron_nothing(desk, chat, alice):
    # The console sends no typing frame in note mode; a note itself is no typing either.
    session = await call(chat, alice)
    patron = await opened(session)
    alices = await console_of(alice)
    await alices.send(
        type="message.send", session=session.pk, text="Regular", client_id="n-1", note=True
    )
    await alices.expect("message.stored", client_id="n-1")
    assert told(await quiet(patron)) == []


async def test_a_waiting_patron_s_typing_reaches_nobody(desk, ask, alice, bob):
    session = await call(ask)
    patron = await opened(session)
    alices = await console_of(alice)
    await patron.send(type="typing")
    assert typing_events(await quiet(alices)) == []


async def test_after_a_transfer_the_patron_sees_the_new_librarian_typing(desk, chat, alice, bob):
    session = await call(chat, alice)
    patron = await opened(session)
    alices = await console_of(alice)
    bobs = await console_of(bob)
    offer = await call(
        transfers.transfer_offer, session_id=session.pk, sender=alice, receiver_id=bob.pk
    )
    await call(transfers.transfer_accept, offer_id=offer.pk, librarian=bob)
    await patron.expect("session.accepted", librarian={"display_name": "Bob"})

    await alices.send(type="typing", session=session.pk)  # no longer hers
    await bobs.send(type="typing", session=session.pk)
    shown = await patron.expect("typing.started")
    assert shown["librarian"] == {"display_name": "Bob"}
    assert typing_events(await quiet(patron)) == []
    await patron.send(type="typing")
    await bobs.expect("typing.started", session=session.pk)
    assert typing_events(await quiet(alices)) == []


async def test_a_lost_ring_of_the_transfer_is_made_good_by_the_heartbeat(
    desk, chat, alice, bob, settings
):
    settings.HEARTBEAT_SECONDS = TINY_HEARTBEAT
    session = await call(chat, alice)
    patron = await opened(session)
    bobs = await console_of(bob)
    with rings_dropped():  # Dana's socket never hears that Bob took over
        offer = await call(
            transfers.transfer_offer, session_id=session.pk, sender=alice, receiver_id=bob.pk
        )
        await call(transfers.transfer_accept, offer_id=offer.pk, librarian=bob)
    await asyncio.sleep(10 * TINY_HEARTBEAT)  # a few heartbeats, read after the transfer

    await bobs.send(type="typing", session=session.pk)
    shown = await patron.expect("typing.started")
    assert shown["librarian"] == {"display_name": "Bob"}


async def test_an_ended_session_carries_no_typing(desk, chat, alice):
    session = await call(chat, alice)
    patron = await opened(session)
    alices = await console_of(alice)
    await call(sessions.session_end_by_patron, session=session)
    await patron.expect("session.closed")
    await alices.expect("session.closed")
    await patron.send(type="typing")
    await alices.send(type="typing", session=session.pk)
    assert typing_events(await quiet(patron)) == []
    assert typing_events(await quiet(alices)) == []


async def test_a_bad_typing_state_is_a_bad_frame(desk, chat, alice):
    session = await call(chat, alice)
    patron = await opened(session)
    alices = await console_of(alice)
    await patron.send(type="typing", state="dancing")
    assert (await patron.expect("error"))["code"] == "bad_frame"
    await alices.send(type="typing")  # no session
    assert (await alices.expect("error"))["code"] == "bad_frame"
