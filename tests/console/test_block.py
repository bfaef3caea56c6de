"""Block: a librarian ends an abusive patron's session and keeps their address from a new chat.

Through the full ASGI application: the console's ``session.block`` frame,
what the patron's socket hears (an ended chat, in neutral words, nothing of
the reason), and the chat form refusing that address, and only it, until
the block expires (``PATRON_BLOCK_HOURS``).
"""

import json
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from chat.blocks import patron_blocks_prune
from chat.models import ChatSession, Message, PatronBlock
from core.clients import address_hash
from tests.sockets import call, close_sockets_left_open, console_of, patron_of  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("staffed")]

ADDRESS = "192.0.2.66"
BLOCKED = "You can&#x27;t start a new chat from this connection right now."  # as HTML
REASON = "Abusive language, three times"


def ask_form(library, *, address=ADDRESS, name="Troll"):
    """The chat form from ``address``; returns the response."""
    return Client(REMOTE_ADDR=address).post(
        "/ask/riverside/",
        {"patron_name": name, "patron_email": "", "library": library.pk, "question": "Hello?"},
    )


def notes_of(session):
    return list(Message.objects.filter(session=session, kind="note").values_list("text", flat=True))


def picked_up(library, librarian):
    from chat import sessions

    ask_form(library)
    session = ChatSession.objects.get(patron_name="Troll", state=ChatSession.State.WAITING)
    return sessions.session_accept(session_id=session.pk, librarian=librarian)


async def test_a_block_ends_the_chat_and_keeps_the_address_from_asking_again(
    alice, riverside_library
):
    session = await call(picked_up, riverside_library, alice)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")
    console = await console_of(alice)

    await console.send(type="session.block", session=session.pk, reason=REASON, ref="r1")
    blocked = await console.expect("session.blocked", session=session.pk)
    until = timezone.now() + timedelta(hours=24)
    assert abs(datetime.fromisoformat(blocked["until"]) - until) < timedelta(minutes=1)
    await console.expect("session.closed", session=session.pk)

    # The patron reads an ended chat, nothing about the block, and is offered no transcript.
    closed = await patron.expect("session.closed")
    assert closed == {
        "type": "session.closed",
        "closed_by": "librarian",
        "has_email": False,
        "transcript_offered": False,
    }
    heard = json.dumps(await patron.drain())
    assert REASON not in heard and "block" not in heard.lower()

    block = await call(PatronBlock.objects.get)
    assert block.address_hash == address_hash(ADDRESS)
    assert (block.blocked_by_id, block.session_id, block.reason) == (alice.pk, session.pk, REASON)
    notes = await call(notes_of, session)
    assert [t for t in notes if REASON in t and t.startswith("Alice blocked this patron")]

    refused = await call(ask_form, riverside_library)
    assert BLOCKED in refused.content.decode()
    assert await call(ChatSession.objects.filter(patron_name="Troll").count) == 1
    assert (await call(ask_form, riverside_library, address="192.0.2.67")).status_code == 302


async def test_only_the_librarian_chatting_may_block_and_a_reason_is_needed(
    alice, bob, riverside_library
):
    session = await call(picked_up, riverside_library, alice)
    bobs = await console_of(bob)
    await bobs.send(type="session.block", session=session.pk, reason=REASON, ref="r1")
    assert (await bobs.expect("error", ref="r1"))["code"] == "not_primary"

    alices = await console_of(alice)
    await alices.send(type="session.block", session=session.pk, reason="   ", ref="r2")
    error = await alices.expect("error", ref="r2")
    assert (error["code"], error["message"]) == (
        "invalid_reason",
        "Please say why you are blocking this patron.",
    )
    await alices.send(type="session.block", session=session.pk, ref="r3")
    assert (await alices.expect("error", ref="r3"))["code"] == "bad_frame"
    assert (await call(ChatSession.objects.get, pk=session.pk)).state == ChatSession.State.ACTIVE
    assert not await call(PatronBlock.objects.exists)


async def test_the_block_expires_after_its_time(alice, riverside_library, settings):
    settings.PATRON_BLOCK_HOURS = 2
    session = await call(picked_up, riverside_library, alice)
    console = await console_of(alice)
    await console.send(type="session.block", session=session.pk, reason=REASON)
    await console.expect("session.blocked", session=session.pk)
    assert BLOCKED in (await call(ask_form, riverside_library)).content.decode()

    block = await call(PatronBlock.objects.get)
    assert abs(block.expires_at - block.created_at - timedelta(hours=2)) < timedelta(seconds=5)
    await call(
        PatronBlock.objects.filter(pk=block.pk).update,
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    assert (await call(ask_form, riverside_library)).status_code == 302
    # The hash goes with the block: the worker's prune blanks it, and the
    # ended session kept none past its close.
    assert await call(patron_blocks_prune) == 1
    assert (await call(PatronBlock.objects.get)).address_hash == ""
    assert (await call(ChatSession.objects.get, pk=session.pk)).patron_address_hash == ""
