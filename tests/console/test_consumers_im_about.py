"""IM about a patron session, and IM sessions that end by themselves, through real consoles.

Against the full ASGI application (tests/sockets.py). Alice and Bob monitor
Ask Riverside, one console each; Alice holds Dana's session, whose patron
socket listens throughout.
"""

import json
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from chat.models import ChatSession, Message
from im import services as ims
from im.models import ImSession
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


@pytest.fixture
async def on_shift(alice, bob, riverside) -> None:
    await monitor(alice, riverside)
    await monitor(bob, riverside)


async def say(tab: Socket, im_id: int, text: str, client_id: str) -> int:
    await tab.send(type="im.send", im=im_id, text=text, client_id=client_id)
    return (await tab.expect("im.message.stored", client_id=client_id))["seq"]


def notes_of(session: ChatSession) -> list[str]:
    return list(
        Message.objects.filter(session=session, kind=Message.Kind.NOTE)
        .order_by("seq")
        .values_list("text", flat=True)
    )


async def test_an_im_from_the_im_tab_about_the_selected_session_lands_in_its_chat_history(
    on_shift, chat, alice, bob
):
    session = await call(chat, alice)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")
    alices, bobs = await console_of(alice), await console_of(bob)

    # The IM tab sends the session Alice has selected: Bob's New IM Request says what about.
    await alices.send(type="im.open", librarian=bob.pk, session=session.pk)
    opened = (await bobs.expect("im.opened"))["im"]
    assert opened["about"] == {"id": session.pk, "patron_name": "Dana"}
    im_id = opened["id"]
    await alices.expect("im.opened", where=lambda e: e["im"]["id"] == im_id)

    await say(alices, im_id, "Do you know the Middlemarch editions?", "a-1")
    line = await bobs.expect("im.message.created", im=im_id)
    assert line["message"]["noted_in"] == session.pk
    await say(bobs, im_id, "The 1871 one is in Special Collections", "b-1")

    # "No patron session": the next line stays between the two of them.
    await bobs.send(type="im.about", im=im_id, session=None)
    for tab in (alices, bobs):
        assert (await tab.expect("im.about.changed"))["about"] is None
    await say(alices, im_id, "Coffee later?", "a-2")
    line = await bobs.expect(
        "im.message.created", im=im_id, where=lambda e: e["message"]["seq"] == 3
    )
    assert line["message"]["noted_in"] is None

    # Bob can't tie it to Alice's session: it is not one he is chatting in.
    await bobs.send(type="im.about", im=im_id, session=session.pk)
    assert (await bobs.expect("error"))["code"] == "not_primary"

    # Alice's Chat History (the session as her console fetches it) has the two, in order.
    await alices.send(type="session.fetch", session=session.pk)
    detail = (await alices.expect("session.detail"))["session"]
    noted = [(m["seq"], m["text"]) for m in detail["messages"] if m["note"]]
    assert noted == [
        (3, "IM to Bob: Do you know the Middlemarch editions?"),
        (4, "IM to Alice: The 1871 one is in Special Collections"),
    ]
    # The patron heard none of it, live or on a fresh socket.
    await alices.send(type="message.send", session=session.pk, text="Found it!", client_id="p")
    assert (await patron.expect("message.created"))["message"]["text"] == "Found it!"
    again = await patron_of(session, after=0)
    snapshot = await again.expect("session.snapshot")
    heard = json.dumps([*patron.received, *await patron.drain(), snapshot])
    for text in ("Middlemarch editions", "Special Collections", "Coffee later"):
        assert text not in heard
    assert [m["text"] for m in snapshot["messages"]][-1] == "Found it!"
    for tab in (alices, bobs, patron, again):
        await tab.close()


@database_sync_to_async
def idle_sweep_later(minutes: int) -> list[int]:
    return ims.im_idle_sweep(now=timezone.now() + timedelta(minutes=minutes))


@database_sync_to_async
def alice_stays_bob_leaves() -> list[int]:
    """The presence sweep once Bob's console is gone past the grace period (Alice's beats on)."""
    later = timezone.now() + timedelta(seconds=31)
    ConsolePresence.objects.filter(librarian__display_name="Alice", closed=False).update(
        last_seen=later
    )
    return shifts.presence_sweep(now=later)


async def _log_off(bob: Any) -> None:
    await call(shifts.librarian_log_off, librarian=bob)


@pytest.mark.parametrize("how", ["idle", "logged_off", "left_shift"])
async def test_after_an_im_session_ends_by_itself_the_next_im_is_a_new_request(
    on_shift, alice, bob, riverside, how
):
    alices, bobs = await console_of(alice), await console_of(bob)
    await alices.send(type="im.open", librarian=bob.pk)
    first = (await bobs.expect("im.opened"))["im"]["id"]
    await say(alices, first, "Can you cover at noon?", "a-1")

    if how == "idle":
        assert await idle_sweep_later(10) == []
        assert await idle_sweep_later(31) == [first]
    elif how == "logged_off":
        await _log_off(bob)
    else:
        await bobs.close()
        assert await alice_stays_bob_leaves() == [bob.pk]
    ended = await alices.expect("im.ended", im=first)
    assert ended["reason"] == how
    assert ended["ended_by"] == (None if how == "idle" else {
        "id": bob.pk, "display_name": "Bob", "staff_id": "RPL-117"
    })  # fmt: skip

    if how != "idle":  # Bob comes back on shift in a fresh console
        if bobs.connected:
            await bobs.close()
        await monitor(bob, riverside)
        bobs = await console_of(bob)
    else:
        await bobs.expect("im.ended", im=first)

    # Alice IMs Bob again: a new IM session, and Bob's console is asked (its New IM Request).
    await alices.send(type="im.open", librarian=bob.pk)
    again = (await bobs.expect("im.opened"))["im"]
    assert again["id"] != first
    assert again["started_by_me"] is False
    assert "reused" not in (
        await alices.expect("im.opened", where=lambda e: e["im"]["id"] == again["id"])
    )
    ended_row = await call(ImSession.objects.get, pk=first)
    assert ended_row.end_reason == how
    for tab in (alices, bobs):
        await tab.close()
