"""``console.outcomes``: what became of the boxes a console showed while it was away.

Bob's console shows a New Transferred Chat Session box or a New Patron
Request popup; its socket drops; the offer is cancelled, the request picked
up, and the event that said so reached nobody. The next snapshot no longer
has them, and the console asks: the answer says what happened and who has
the session now. Against the full ASGI application (tests/sockets.py).
"""

import pytest

from chat import sessions, transfers
from tests.sockets import (  # noqa: F401 - the fixture closes leftover sockets
    call,
    close_sockets_left_open,
    console_of,
    monitor,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def desk(alice, bob, riverside) -> None:
    await monitor(alice, riverside)
    await monitor(bob, riverside)


async def test_an_offer_cancelled_while_bobs_console_was_away_says_alice_has_dana(
    desk, chat, alice, bob
):
    session = await call(chat, alice, name="Dana")
    offer = await call(
        transfers.transfer_offer, session_id=session.pk, sender=alice, receiver_id=bob.pk, note=""
    )
    # Bob's console was away (no socket open) when Alice cancelled.
    await call(transfers.transfer_cancel, offer_id=offer.pk, librarian=alice)

    bobs = await console_of(bob, snapshot=False)
    assert (await bobs.expect("console.snapshot"))["offers"] == []
    await bobs.send(type="console.outcomes", offers=[offer.pk], sessions=[])
    told = await bobs.expect("console.outcomes")
    [gone] = told["offers"]
    assert (gone["id"], gone["state"]) == (offer.pk, "cancelled")
    assert (gone["sender"]["display_name"], gone["session"]["patron_name"]) == ("Alice", "Dana")
    assert gone["now"] == {
        "state": "active",
        "primary": {"id": alice.pk, "display_name": "Alice", "staff_id": "RPL-104"},
        "closed_by": None,
    }
    assert told["sessions"] == []
    await bobs.close()


async def test_a_request_picked_up_while_bobs_console_was_away_names_who_has_it(
    desk, ask, alice, bob
):
    dana = await call(ask, name="Dana")
    erin = await call(ask, name="Erin")
    await call(sessions.session_accept, session_id=dana.pk, librarian=alice)
    await call(sessions.session_end_by_patron, session=erin)

    bobs = await console_of(bob)
    await bobs.send(type="console.outcomes", sessions=[dana.pk, erin.pk])
    told = await bobs.expect("console.outcomes")
    assert told["offers"] == []
    assert [
        (s["patron_name"], s["state"], s["primary"] and s["primary"]["display_name"])
        for s in told["sessions"]
    ] == [("Dana", "active", "Alice"), ("Erin", "closed", None)]
    await bobs.close()


async def test_nothing_is_told_about_offers_or_sessions_that_are_not_yours(
    desk, chat, ask, alice, bob, carol, dave, archive, hillcrest
):
    # Alice offers Dana to Bob: Carol is neither sender nor receiver.
    session = await call(chat, alice, name="Dana")
    offer = await call(
        transfers.transfer_offer, session_id=session.pk, sender=alice, receiver_id=bob.pk, note=""
    )
    # A request of the archive's queue: Carol is no member of it.
    archived = await call(ask, archive, name="Ola")
    carols = await console_of(carol)
    await carols.send(type="console.outcomes", offers=[offer.pk], sessions=[archived.pk])
    told = await carols.expect("console.outcomes")
    assert (told["offers"], told["sessions"]) == ([], [])
    await carols.close()


@pytest.mark.parametrize(
    "frame",
    [
        {"offers": "5"},
        {"offers": [True]},
        {"sessions": ["7"]},
        {"sessions": [99999999999999999999]},
        {"offers": list(range(1, 102))},
    ],
)
async def test_a_bad_outcomes_frame_is_refused_with_a_clear_error(desk, bob, frame):
    bobs = await console_of(bob)
    await bobs.send(type="console.outcomes", ref="r1", **frame)
    error = await bobs.expect("error")
    assert (error["code"], error["ref"]) == ("bad_frame", "r1")
    assert "list of at most 100 ids" in error["message"]
    await bobs.close()
