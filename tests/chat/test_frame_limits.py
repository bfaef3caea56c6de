"""Frames per socket besides lines: a flood of them does no work (docs/protocol.md).

Every frame that is not a line takes a token of the socket's frames bucket
(``CHAT_FRAMES_BURST``, then ``CHAT_FRAMES_PER_SECOND``), and one that asks
for a whole snapshot (``session.resume``, ``console.sync``) also one of the
snapshots' (``CHAT_SNAPSHOTS_BURST``, then ``CHAT_SNAPSHOTS_PER_MINUTE``).
Over either, the frame is refused as ``too_fast`` with its ``ref`` and
nothing is read or changed; lines keep their own bucket, so a flood never
keeps a line out. Against the full ASGI app, on both databases.
"""

import pytest

from chat.models import Message
from tests.sockets import (  # noqa: F401 - the fixture closes leftover sockets
    call,
    close_sockets_left_open,
    console_of,
    monitor,
    patron_of,
)

pytestmark = pytest.mark.django_db(transaction=True)

TOO_FAST = "You are sending too fast. Wait a moment and send it again."


@pytest.fixture
def tight(settings):
    settings.CHAT_FRAMES_BURST = 4
    settings.CHAT_FRAMES_PER_SECOND = 0.01
    settings.CHAT_SNAPSHOTS_BURST = 2
    settings.CHAT_SNAPSHOTS_PER_MINUTE = 0.5


async def test_a_patron_asking_for_snapshots_over_and_over_gets_two_then_too_fast(tight, ask):
    session = await call(ask)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")

    for n in range(4):
        await patron.send(type="session.resume", after=0, ref=f"r-{n}")
    await patron.expect("session.snapshot")
    await patron.expect("session.snapshot")
    for n in (2, 3):
        refused = await patron.expect("error", ref=f"r-{n}")
        assert (refused["code"], refused["message"]) == ("too_fast", TOO_FAST)
    assert not [e for e in await patron.drain() if e["type"] == "session.snapshot"]

    # The socket carries on, and its lines have a bucket of their own.
    await patron.send(type="message.send", text="Still here?", client_id="p-1")
    await patron.expect("message.stored", client_id="p-1")
    assert await call(lambda: Message.objects.filter(client_id="p-1").count()) == 1


async def test_a_console_flooding_frames_is_refused_but_its_lines_go_through(tight, chat, alice):
    session = await call(chat, alice)
    await monitor(alice, await call(lambda: session.queue))
    console = await console_of(alice)

    # Four frames take the burst (activity reports: no answer of their own) …
    for _ in range(4):
        await console.send(type="console.active")
    # … and the fifth, a snapshot, finds the frames' bucket empty: nothing is read.
    await console.send(type="console.sync", ref="sync-1")
    refused = await console.expect("error", ref="sync-1")
    assert (refused["code"], refused["message"]) == ("too_fast", TOO_FAST)
    assert not [e for e in await console.drain() if e["type"] == "console.snapshot"]

    await console.send(
        type="message.send", session=session.pk, text="Here is the link.", client_id="l-1"
    )
    await console.expect("message.stored", client_id="l-1")
