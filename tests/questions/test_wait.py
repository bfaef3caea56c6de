"""A waiting patron is never left guessing: their place in the queue and how
many librarians are on, over the patron socket (``session.wait``), on
connect and at every heartbeat while the session waits.

Dana asks Ask Riverside first, then Erin. Nobody is on; then Alice is.
"""

import pytest

from chat import sessions
from tests.sockets import (  # noqa: F401 - the fixture closes leftover sockets
    TINY_HEARTBEAT,
    call,
    close_sockets_left_open,
    monitor,
    patron_of,
)

pytestmark = pytest.mark.django_db(transaction=True)


async def test_the_wait_view_hears_its_place_and_who_is_on(ask, alice, bob, riverside, settings):
    settings.HEARTBEAT_SECONDS = TINY_HEARTBEAT
    dana = await call(ask)
    erin = await call(ask, name="Erin")
    patron = await patron_of(erin)
    await patron.expect("session.snapshot")
    assert await patron.expect("session.wait") == {
        "type": "session.wait",
        "position": 2,
        "librarians_online": 0,
    }

    await monitor(alice, riverside)
    await patron.expect("session.wait", position=2, librarians_online=1)
    await monitor(bob, riverside)
    await patron.expect("session.wait", position=2, librarians_online=2)

    # Alice picks Dana up: Erin is next.
    await call(sessions.session_accept, session_id=dana.pk, librarian=alice)
    await patron.expect("session.wait", position=1, librarians_online=2)

    # Picked up herself: no more waits.
    await call(sessions.session_accept, session_id=erin.pk, librarian=bob)
    await patron.expect("session.heartbeat", state="active")
    patron.received.clear()
    await patron.expect("session.heartbeat", state="active")
    assert not [e for e in patron.received if e["type"] == "session.wait"]
    await patron.close()
