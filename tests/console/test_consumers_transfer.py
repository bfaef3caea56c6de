"""Transfers through real sockets: Alice's and Bob's consoles and Dana's chat page.

Against the full ASGI application, through the sockets of
``tests/sockets.py``. Alice and Bob monitor Ask Riverside; Alice holds
Dana's session. What the patron's socket receives is checked whole: every
event up to a later marker line, so anything about the negotiation that
leaked would be caught, not only the events a test looks for.
"""

import json
from datetime import timedelta
from typing import Any

import pytest

from accounts.models import Librarian
from chat import transfers
from chat.models import ChatSession, Message, TransferOffer
from tests.sockets import (  # noqa: F401 - the fixture closes leftover sockets
    Socket,
    call,
    close_sockets_left_open,
    console_of,
    monitor,
    patron_of,
    reload,
)

pytestmark = pytest.mark.django_db(transaction=True)

NOTE = "Wants 1900s census records; Bob knows the genealogy databases."
IM_ASK = "Can you take a genealogy question?"
IM_REPLY = "Yes, send it over"


async def heard_until(patron: Socket, marker: str) -> list[dict[str, Any]]:
    """Everything the patron's socket received before the line ``marker`` (which a test sent)."""
    await patron.expect("message.created", where=lambda e: e["message"]["text"] == marker)
    return await patron.drain()


def leaked(events: list[dict[str, Any]], *secrets: str) -> list[str]:
    """What of the staff side a patron's events give away (nothing, if all is well)."""
    text = json.dumps(events)
    found = [s for s in ("transfer", "offer", "note", *secrets) if s in text]
    found += [e["type"] for e in events if e["type"] not in {"message.created", "session.accepted"}]
    return found


@pytest.fixture
async def desk(alice, bob, riverside) -> None:
    """Alice and Bob monitor Ask Riverside."""
    await monitor(alice, riverside)
    await monitor(bob, riverside)


async def open_offer(alices: Socket, bobs: Socket, session: ChatSession, bob: Librarian) -> int:
    """Alice offers Dana's session to Bob; both consoles show it. Returns the offer id."""
    await alices.send(type="transfer.offer", session=session.pk, librarian=bob.pk, note=NOTE)
    offered = await bobs.expect("transfer.offered")
    await alices.expect(
        "transfer.offered", where=lambda e: e["offer"]["id"] == offered["offer"]["id"]
    )
    return offered["offer"]["id"]


# --- The whole hand-over ----------------------------------------------------------


async def test_alice_asks_bob_over_im_offers_dana_and_bob_takes_her(
    desk, chat, alice, bob, riverside
):
    await call(chat, bob, name="Eli")  # Bob already chats with someone: Active 1
    session = await call(chat, alice, name="Dana", question="Census records for 1910?")
    patron = await patron_of(session)
    await patron.expect("session.snapshot")
    alices = await console_of(alice)
    bobs = await console_of(bob)

    # The Transfer dialog lists Bob with his Active count, and the queue.
    await alices.send(type="transfer.targets", session=session.pk)
    targets = await alices.expect("transfer.targets")
    assert targets["session"] == session.pk
    assert targets["queue"] == {"id": riverside.pk, "name": "Ask Riverside"}
    assert [(r["display_name"], r["active"]) for r in targets["librarians"]] == [("Bob", 1)]

    # From the dialog Alice IMs Bob; both lines land in Dana's session as notes.
    await alices.send(type="im.open", librarian=bob.pk, session=session.pk)
    im_id = (await alices.expect("im.opened"))["im"]["id"]
    assert (await bobs.expect("im.opened"))["im"]["with"]["display_name"] == "Alice"
    await alices.send(type="im.send", im=im_id, text=IM_ASK, client_id="a-im-1")
    await alices.expect("im.message.stored", client_id="a-im-1")
    assert (await bobs.expect("im.message.created", im=im_id))["message"]["text"] == IM_ASK
    copied = await alices.expect("message.created", session=session.pk)
    assert (copied["message"]["note"], copied["message"]["text"]) == (True, f"IM to Bob: {IM_ASK}")
    await bobs.send(type="im.send", im=im_id, text=IM_REPLY, client_id="b-im-1")
    reply = await alices.expect(
        "im.message.created", where=lambda e: e["message"]["author"] == "Bob"
    )
    assert reply["message"]["text"] == IM_REPLY
    copied = await alices.expect("message.created", session=session.pk)
    assert copied["message"]["text"] == f"IM to Alice: {IM_REPLY}"

    # Transfer: Bob's console shows the New Transferred Chat Session box.
    await patron.drain()
    await alices.send(type="transfer.offer", session=session.pk, librarian=bob.pk, note=NOTE)
    box = (await bobs.expect("transfer.offered"))["offer"]
    assert box["session"]["patron_name"] == "Dana"
    assert box["session"]["question"] == "Census records for 1910?"
    assert (box["note"], box["sender"]["display_name"]) == (NOTE, "Alice")
    await alices.expect("transfer.offered")

    # Until OK the session stays Alice's: she still chats with Dana.
    await alices.send(
        type="message.send", session=session.pk, text="A colleague will join.", client_id="a-1"
    )
    assert (await alices.expect("message.stored", client_id="a-1"))["seq"] == 6

    await bobs.send(type="transfer.accept", offer=box["id"])
    taken = await bobs.expect("transfer.accepted")
    detail = taken["detail"]
    assert (detail["id"], detail["state"]) == (session.pk, "active")
    assert detail["primary"]["display_name"] == "Bob"
    assert [(m["kind"], m["text"]) for m in detail["messages"]] == [
        ("patron", "Census records for 1910?"),
        ("system", "Alice has joined the chat."),
        ("note", f"IM to Bob: {IM_ASK}"),
        ("note", f"IM to Alice: {IM_REPLY}"),
        ("note", f"Transfer request to Bob: {NOTE}"),
        ("librarian", "A colleague will join."),
        ("note", "Bob accepted the transfer and took the session."),
        ("system", "Alice has passed your question to Bob."),
    ]
    told = await alices.expect("transfer.accepted")
    assert told["line"]["text"] == "Bob accepted the transfer and took the session."
    assert "detail" not in told

    # Dana hears Alice's line, then who passed her question to whom, and nothing of the rest.
    await bobs.send(
        type="message.send", session=session.pk, text="Hi Dana, Bob here.", client_id="b-1"
    )
    heard = await heard_until(patron, "Hi Dana, Bob here.")
    lines = [e["message"]["text"] for e in heard if e["type"] == "message.created"]
    assert lines == ["A colleague will join.", "Alice has passed your question to Bob."]
    assert [e for e in heard if e["type"] == "session.accepted"] == [
        {"type": "session.accepted", "librarian": {"display_name": "Bob"}}
    ]
    assert leaked(heard, NOTE, IM_ASK, IM_REPLY, "accepted the transfer") == []

    # Alice's view is read-only now: the server refuses her line.
    await alices.send(type="message.send", session=session.pk, text="Still here", client_id="a-2")
    refused = await alices.expect("error", client_id="a-2")
    assert refused["code"] == "not_primary"
    assert (await reload(session)).primary_id == bob.pk

    # Reloaded, Bob's My Active has Dana and Eli; Alice's has nobody.
    bob_again = await console_of(bob, snapshot=False)
    active = (await bob_again.expect("console.snapshot"))["active"]
    assert sorted(s["patron_name"] for s in active) == ["Dana", "Eli"]
    alice_again = await console_of(alice, snapshot=False)
    assert (await alice_again.expect("console.snapshot"))["active"] == []
    for socket in (patron, alices, bobs, bob_again, alice_again):
        await socket.close()


async def test_a_reloaded_console_shows_the_open_offer_again(desk, chat, alice, bob):
    session = await call(chat, alice)
    alices = await console_of(alice)
    bobs = await console_of(bob)
    offer_id = await open_offer(alices, bobs, session, bob)
    for person in (alice, bob):
        again = await console_of(person, snapshot=False)
        offers = (await again.expect("console.snapshot"))["offers"]
        assert [(o["id"], o["state"], o["note"]) for o in offers] == [(offer_id, "open", NOTE)]
        await again.close()
    await bobs.send(type="transfer.decline", offer=offer_id)
    await alices.expect("transfer.declined")
    again = await console_of(bob, snapshot=False)
    assert (await again.expect("console.snapshot"))["offers"] == []
    for socket in (alices, bobs, again):
        await socket.close()


# --- Decline, Cancel, expiry: Alice keeps Dana ---------------------------------------


async def test_bob_declines_and_alice_keeps_chatting(desk, chat, alice, bob):
    session = await call(chat, alice)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")
    alices = await console_of(alice)
    bobs = await console_of(bob)
    offer_id = await open_offer(alices, bobs, session, bob)

    await bobs.send(type="transfer.decline", offer=offer_id)
    for console in (alices, bobs):
        declined = await console.expect("transfer.declined")
        assert (declined["offer"]["id"], declined["offer"]["state"]) == (offer_id, "declined")
    note = await alices.expect(
        "message.created", where=lambda e: e["message"]["text"] == "Bob declined the transfer."
    )
    assert note["message"]["note"] is True

    await alices.send(type="message.send", session=session.pk, text="Back to you.", client_id="a-1")
    heard = await heard_until(patron, "Back to you.")
    assert leaked(heard, NOTE, "declined") == []

    # A late OK from Bob's other tab changes nothing.
    await bobs.send(type="transfer.accept", offer=offer_id, ref="ok-1")
    error = await bobs.expect("error", ref="ok-1")
    assert (error["code"], error["message"]) == ("offer_declined", "Bob declined this transfer.")
    assert (await reload(session)).primary_id == alice.pk
    for socket in (patron, alices, bobs):
        await socket.close()


async def test_alice_cancels_and_only_she_may(desk, chat, alice, bob):
    session = await call(chat, alice)
    alices = await console_of(alice)
    bobs = await console_of(bob)
    offer_id = await open_offer(alices, bobs, session, bob)

    await bobs.send(type="transfer.cancel", offer=offer_id, ref="c-1")
    assert (await bobs.expect("error", ref="c-1"))["code"] == "not_yours"
    # One open offer per session: a second one must wait.
    await alices.send(
        type="transfer.offer", session=session.pk, librarian=bob.pk, note="", ref="o-2"
    )
    assert (await alices.expect("error", ref="o-2"))["code"] == "offer_open"

    await alices.send(type="transfer.cancel", offer=offer_id)
    for console in (alices, bobs):
        cancelled = await console.expect("transfer.cancelled")
        assert (cancelled["offer"]["state"], cancelled["reason"]) == (
            "cancelled",
            "Alice cancelled it.",
        )
    await bobs.send(type="transfer.accept", offer=offer_id, ref="ok-1")
    error = await bobs.expect("error", ref="ok-1")
    assert (error["code"], error["message"]) == (
        "offer_cancelled",
        "This transfer offer was cancelled.",
    )
    assert (await reload(session)).primary_id == alice.pk
    for socket in (alices, bobs):
        await socket.close()


async def test_an_offer_nobody_answers_expires_and_both_are_told(desk, chat, alice, bob):
    session = await call(chat, alice)
    alices = await console_of(alice)
    bobs = await console_of(bob)
    offer_id = await open_offer(alices, bobs, session, bob)

    def sweep_after_the_deadline() -> list[int]:
        expires_at = TransferOffer.objects.get(pk=offer_id).expires_at
        return transfers.transfer_expire_due(now=expires_at + timedelta(seconds=1))

    assert await call(sweep_after_the_deadline) == [offer_id]
    for console in (alices, bobs):
        assert (await console.expect("transfer.expired"))["offer"]["id"] == offer_id
    await bobs.send(type="transfer.accept", offer=offer_id, ref="ok-1")
    assert (await bobs.expect("error", ref="ok-1"))["code"] == "offer_expired"
    await alices.send(type="message.send", session=session.pk, text="Still me.", client_id="a-1")
    assert (await alices.expect("message.stored", client_id="a-1"))["seq"] == 5
    for socket in (alices, bobs):
        await socket.close()


# --- Back to the queue ------------------------------------------------------------------


async def test_transfer_to_the_queue_shows_it_under_new_marked_for_every_monitor(
    chat, alice, bob, carol, cooperative
):
    await monitor(bob, cooperative)
    await monitor(carol, cooperative)
    session = await call(chat, alice, queue=cooperative)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")
    alices = await console_of(alice)
    bobs = await console_of(bob)
    carols = await console_of(carol)

    await alices.send(type="transfer.targets", session=session.pk)
    targets = await alices.expect("transfer.targets")
    assert targets["queue"]["name"] == "County Libraries Cooperative"
    assert [r["display_name"] for r in targets["librarians"]] == ["Bob", "Carol"]

    await alices.send(type="transfer.to_queue", session=session.pk, note="Needs a Spanish speaker")
    assert await alices.expect("session.requeued") == {
        "type": "session.requeued",
        "session": session.pk,
        "queue": cooperative.pk,
    }
    for console in (bobs, carols):
        row = (await console.expect("session.created"))["session"]
        assert (row["id"], row["state"], row["primary"]) == (session.pk, "waiting", None)
        assert row["transfer"] == {
            "from": "Alice",
            "from_id": alice.pk,
            "note": "Needs a Spanish speaker",
        }

    # Dana hears that she waits for the next librarian, and nothing of the note;
    # her own line goes through while she waits.
    told = await patron.expect("message.created")
    assert told["message"]["text"] == (
        "Alice has passed your question to the next available librarian."
    )
    assert await patron.expect("session.requeued") == {"type": "session.requeued"}
    await patron.send(type="message.send", text="Hello?", client_id="p-1")
    await patron.expect("message.stored", client_id="p-1")
    assert await heard_until(patron, "Hello?") == []

    await carols.send(type="session.accept", session=session.pk)
    mine = await carols.expect("session.accepted", where=lambda e: "detail" in e)
    assert [m["text"] for m in mine["detail"]["messages"]][-2:] == [
        "Carol picked the session up from the queue.",
        "Carol has joined the chat.",
    ]
    assert mine["detail"]["transfer"] is None
    assert (await patron.expect("session.accepted"))["librarian"] == {"display_name": "Carol"}
    joined = await patron.expect("message.created")
    assert joined["message"]["text"] == "Carol has joined the chat."
    assert leaked(await patron.drain(), "Spanish", "picked") == []
    for socket in (patron, alices, bobs, carols):
        await socket.close()


# --- Notes by hand ---------------------------------------------------------------------


async def test_a_note_from_the_console_reaches_the_librarian_and_never_the_patron(chat, alice):
    session = await call(chat, alice)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")
    alices = await console_of(alice)

    await alices.send(
        type="message.send",
        session=session.pk,
        text="Regular; prefers large print",
        client_id="n-1",
        note=True,
    )
    assert (await alices.expect("message.stored", client_id="n-1"))["seq"] == 3
    live = await alices.expect("message.created", session=session.pk)
    assert (live["message"]["kind"], live["message"]["note"]) == ("note", True)
    assert live["message"]["author"] == "Alice"

    await alices.send(type="message.send", session=session.pk, text="Found it.", client_id="a-1")
    heard = await heard_until(patron, "Found it.")
    assert leaked(heard, "large print") == []
    stored = await call(lambda: Message.objects.get(session=session, seq=3))
    assert (stored.kind, stored.visibility) == ("note", "staff")

    await alices.send(
        type="message.send", session=session.pk, text="Hmm", client_id="n-2", note="yes"
    )
    error = await alices.expect("error", client_id="n-2")
    assert error["code"] == "bad_frame"
    assert error["message"] == '"note" must be true or false.'
    assert (await reload(session)).last_seq == 4
    for socket in (patron, alices):
        await socket.close()


# --- Frames that can't be carried out ------------------------------------------------------


BAD_TRANSFER_FRAMES = [
    ("offer session a string", {"type": "transfer.offer", "session": "1", "librarian": 0}),
    ("offer librarian missing", {"type": "transfer.offer", "session": 0}),
    ("offer note a number", {"type": "transfer.offer", "session": 0, "librarian": 0, "note": 5}),
    ("accept offer a string", {"type": "transfer.accept", "offer": "1"}),
    ("decline without offer", {"type": "transfer.decline"}),
    ("cancel offer a bool", {"type": "transfer.cancel", "offer": True}),
    ("to_queue note a list", {"type": "transfer.to_queue", "session": 0, "note": ["x"]}),
    ("targets without session", {"type": "transfer.targets"}),
]


@pytest.mark.parametrize(
    "frame", [f[1] for f in BAD_TRANSFER_FRAMES], ids=[f[0] for f in BAD_TRANSFER_FRAMES]
)
async def test_a_bad_transfer_frame_is_refused_and_nothing_moves(desk, chat, alice, bob, frame):
    session = await call(chat, alice)
    alices = await console_of(alice)
    filled = {k: (session.pk if k == "session" and v == 0 else v) for k, v in frame.items()}
    filled = {k: (bob.pk if k == "librarian" and v == 0 else v) for k, v in filled.items()}
    await alices.send(**filled, ref="bad")
    error = await alices.expect("error", ref="bad")
    assert error["code"] == "bad_frame"
    after = await reload(session)
    assert (after.state, after.primary_id, after.last_seq) == ("active", alice.pk, 2)
    assert not await call(TransferOffer.objects.exists)
    await alices.close()
