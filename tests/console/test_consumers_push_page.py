"""Push a Page through real sockets: Alice's console sends ``page.push``, Dana's page gets it.

Against the full ASGI application (``tests/sockets.py``). Alice holds Dana's
session in Ask Riverside (lines 1 and 2). The page goes the way of every
line (the sockets' writer, chat/writer.py): ``message.stored`` to the
console that sent it, ``message.created`` with the address to both sides.
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

CATALOGUE = "https://catalogue.riverside.example.org/search?q=middlemarch&format=large-print"


async def test_alice_pushes_a_page_and_dana_gets_it_with_its_address(chat, alice, riverside):
    await monitor(alice, riverside)
    session = await call(chat, alice, name="Dana")
    patron = await patron_of(session)
    await patron.expect("session.snapshot")
    console = await console_of(alice)

    title = "Middlemarch in large print"
    await console.send(type="page.push", session=session.pk, url=CATALOGUE, title=title,
                       client_id="push-1", ref="r1")  # fmt: skip
    stored = await console.expect("message.stored", client_id="push-1")
    assert stored == {
        "type": "message.stored",
        "session": session.pk,
        "client_id": "push-1",
        "seq": 3,
    }
    created = await console.expect("message.created", session=session.pk)
    assert (created["message"]["kind"], created["message"]["url"]) == ("page", CATALOGUE)
    told = await patron.expect("message.created")
    assert told["message"] | {"created_at": None} == {
        "seq": 3,
        "kind": "page",
        "author": "Alice",
        "text": title,
        "url": CATALOGUE,
        "created_at": None,
        "client_id": "push-1",
    }

    # Sent again (the socket dropped before the answer): the same line, nothing new.
    await console.send(type="page.push", session=session.pk, url=CATALOGUE, title="",
                       client_id="push-1")  # fmt: skip
    assert (await console.expect("message.stored", client_id="push-1"))["seq"] == 3
    assert await patron.drain() == []
    assert await call(Message.objects.filter(session=session, kind="page").count) == 1

    # A patron coming back after line 2 finds the page, address and all.
    await patron.close()
    back = await patron_of(session, after=2)
    snapshot = await back.expect("session.snapshot")
    assert [(m["kind"], m.get("url")) for m in snapshot["messages"]] == [("page", CATALOGUE)]
    await back.close()
    await console.close()


async def test_a_refused_address_is_an_error_about_that_frame_and_dana_hears_nothing(
    chat, alice, riverside
):
    await monitor(alice, riverside)
    session = await call(chat, alice, name="Dana")
    patron = await patron_of(session)
    await patron.expect("session.snapshot")
    console = await console_of(alice)

    await console.send(type="page.push", session=session.pk, url="javascript:alert(1)",
                       title="Hours", client_id="push-2", ref="r2")  # fmt: skip
    error = await console.expect("error", ref="r2")
    assert error == {
        "type": "error",
        "code": "invalid_page",
        "message": "Only a web page can be pushed, not a javascript: address: it must start"
        " with https:// or http://.",
        "ref": "r2",
        "session": session.pk,
        "client_id": "push-2",
    }
    # A frame without a session, or with a client id no database stores.
    await console.send(type="page.push", url=CATALOGUE, title="", client_id="push-3", ref="r3")
    assert (await console.expect("error", ref="r3"))["code"] == "bad_frame"
    await console.send(type="page.push", session=session.pk, url=CATALOGUE, title="",
                       client_id="bad\x00id", ref="r4")  # fmt: skip
    assert (await console.expect("error", ref="r4"))["code"] == "bad_frame"

    assert await patron.drain() == []
    assert await call(Message.objects.filter(session=session, kind="page").exists) is False
    await patron.close()
    await console.close()


async def test_bob_not_in_the_chat_cant_push_to_alices_patron(chat, alice, bob, riverside):
    await monitor(alice, riverside)
    await monitor(bob, riverside)
    session = await call(chat, alice, name="Dana")
    bobs = await console_of(bob)
    await bobs.send(type="page.push", session=session.pk, url=CATALOGUE, title="",
                    client_id="push-4", ref="r5")  # fmt: skip
    error = await bobs.expect("error", ref="r5")
    assert (error["code"], error["message"]) == (
        "not_primary",
        "Only the librarian chatting with this patron can write here.",
    )
    await bobs.close()
