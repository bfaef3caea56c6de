"""Join and watch through real sockets: Alice's, Bob's and Sam's consoles, Dana's chat page.

Against the full ASGI application (``tests/sockets.py``). Alice holds Dana's
session in Ask Riverside; Bob monitors it; Sam is a supervisor of Riverside
with a console. What the patron's socket receives is checked whole: nothing
of the invitation or the watch reaches it.
"""

import json

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import Group

from accounts.models import Librarian
from accounts.services import SUPERVISORS
from chat.models import Participant
from tests.sockets import (  # noqa: F401 - the fixture closes leftover sockets
    call,
    close_sockets_left_open,
    console_of,
    monitor,
    patron_of,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def desk(alice, bob, riverside) -> None:
    await monitor(alice, riverside)
    await monitor(bob, riverside)


@pytest.fixture
def sam(supervisor, riverside_library) -> Librarian:
    return Librarian.objects.create(
        user=supervisor, library=riverside_library, display_name="Sam", staff_id="RPL-001"
    )


async def test_bob_joins_by_invitation_and_both_write_to_dana(desk, chat, alice, bob):
    session = await call(chat, alice, name="Dana")
    patron = await patron_of(session)
    await patron.expect("session.snapshot")
    alices, bobs = await console_of(alice), await console_of(bob)

    await alices.send(type="transfer.offer", session=session.pk, librarian=bob.pk, join="yes",
                      ref="bad")  # fmt: skip
    assert (await alices.expect("error", ref="bad"))["code"] == "bad_frame"
    await alices.send(type="transfer.offer", session=session.pk, librarian=bob.pk, join=True)
    offered = await bobs.expect("transfer.offered")
    assert offered["offer"]["kind"] == "join"
    await bobs.send(type="transfer.accept", offer=offered["offer"]["id"])
    joined = await bobs.expect("transfer.accepted")
    assert joined["detail"]["primary"]["display_name"] == "Alice"
    assert [p["display_name"] for p in joined["detail"]["team"]] == ["Bob"]
    team = await alices.expect("session.team")
    assert [(p["display_name"], p["role"]) for p in team["team"]] == [("Bob", "joined")]

    await bobs.send(type="message.send", session=session.pk, text="I know the census.",
                    client_id="b-1")  # fmt: skip
    await bobs.expect("message.stored", client_id="b-1")
    heard = await alices.expect(
        "message.created", where=lambda e: e["message"]["text"] == "I know the census."
    )
    assert heard["message"]["author"] == "Bob"
    await bobs.send(type="message.send", session=session.pk, text="Census 1900, reel 4",
                    client_id="b-2", note=True)  # fmt: skip
    await alices.expect("message.created", where=lambda e: e["message"]["note"])
    # Bob may not end it; Alice does, and Bob's pane hears it.
    await bobs.send(type="session.end", session=session.pk, ref="end")
    assert (await bobs.expect("error", ref="end"))["code"] == "not_primary"
    await alices.send(type="message.send", session=session.pk, text="Marker", client_id="a-1")
    await patron.expect("message.created", where=lambda e: e["message"]["text"] == "Marker")
    await alices.send(type="session.end", session=session.pk)
    await bobs.expect("session.closed")

    said = [e["message"] for e in await patron.drain() if e["type"] == "message.created"]
    everything = json.dumps(said)
    assert "reel 4" not in everything and "invitation" not in everything.lower()
    assert not await sync_to_async(
        Participant.objects.filter(session=session, ended_at__isnull=True).exists
    )()


async def test_sam_watches_unseen_and_loses_the_watch_with_the_permission(
    desk, chat, alice, sam, supervisor
):
    session = await call(chat, alice, name="Dana")
    patron = await patron_of(session)
    await patron.expect("session.snapshot")
    alices = await console_of(alice)
    sams = await console_of(sam, snapshot=False)
    assert (await sams.expect("console.snapshot"))["can_watch"] is True

    await sams.send(type="live.list")
    live = await sams.expect("live.sessions")
    assert [(s["patron_name"], s["primary"]["display_name"]) for s in live["sessions"]] == [
        ("Dana", "Alice")
    ]
    await sams.send(type="session.watch", session=session.pk)
    watching = await sams.expect("watch.started")
    assert watching["detail"]["id"] == session.pk
    await alices.send(type="message.send", session=session.pk, text="Here it is", client_id="a-1")
    await sams.expect("message.created", where=lambda e: e["message"]["text"] == "Here it is")
    await sams.send(type="message.send", session=session.pk, text="Hi", client_id="s-1")
    assert (await sams.expect("error", client_id="s-1"))["code"] == "watching"

    # The patron heard Alice's line and nothing of Sam.
    await patron.expect("message.created", where=lambda e: e["message"]["text"] == "Here it is")
    assert "Sam" not in json.dumps(await patron.drain())

    # The permission withdrawn in the admin: the watch ends on the open socket.
    await call(lambda: Group.objects.get(name=SUPERVISORS).user_set.remove(supervisor))
    await sams.expect("session.left")
    await sams.send(type="live.list", ref="l-2")
    assert (await sams.expect("error", ref="l-2"))["code"] == "not_allowed"
