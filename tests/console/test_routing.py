"""Roll-over on the console socket: a request reaches each tier's consoles
when its tier's time comes, once, with its popup's event (chat/routing.py)."""

import pytest

from chat import routing
from queues.models import Membership
from tests.helpers import request_aged
from tests.sockets import (  # noqa: F401 - the fixture closes leftover sockets
    call,
    close_sockets_left_open,
    console_of,
    monitor,
)

pytestmark = pytest.mark.django_db(transaction=True)


async def test_each_tiers_consoles_hear_of_a_request_when_it_reaches_them_and_only_then(
    ask, alice, carol, dave, cooperative, riverside_library
):
    await call(Membership.objects.create, librarian=dave, queue=cooperative, is_backup=True)
    for librarian in (alice, carol, dave):
        await monitor(librarian, cooperative)
    consoles = {name: await console_of(who) for name, who in
                [("alice", alice), ("carol", carol), ("dave", dave)]}  # fmt: skip

    def created(name: str) -> list[dict]:
        """The session.created events received and not yet expected."""
        return [e for e in consoles[name].received if e["type"] == "session.created"]

    session = await call(ask, cooperative, library=riverside_library, name="Dana")
    first = await consoles["alice"].expect("session.created")
    assert (first["session"]["id"], first["session"]["rolled_over"]) == (session.pk, False)
    assert "to" not in first  # the routing stays on the server

    async def settle() -> None:
        # A frame each console answers: what was published before it is here.
        for console in consoles.values():
            await console.send(type="console.sync")
            await console.expect("console.snapshot")

    await settle()
    assert (created("carol"), created("dave")) == ([], [])

    await call(request_aged, session, 40)
    assert await call(routing.rollover_due) == 1
    rolled = await consoles["carol"].expect("session.created")
    assert (rolled["session"]["id"], rolled["session"]["rolled_over"]) == (session.pk, True)
    await settle()
    assert created("dave") == []
    assert created("alice") == []  # no second popup for the first tier

    await call(request_aged, session, 80)
    assert await call(routing.rollover_due) == 1
    backup = await consoles["dave"].expect("session.created")
    assert backup["session"]["rolled_over"] is True
    await settle()
    assert (created("alice"), created("carol")) == ([], [])

    # Carol's pick-up takes the row off every New list, Dave's included.
    await consoles["carol"].send(type="session.accept", session=session.pk)
    for name in ("alice", "dave"):
        taken = await consoles[name].expect("session.accepted")
        assert taken["session"] == session.pk
    for console in consoles.values():
        await console.close()


async def test_a_pick_up_before_ones_tier_is_refused_on_the_console_with_the_seconds_left(
    ask, alice, carol, cooperative, riverside_library
):
    await monitor(carol, cooperative)
    console = await console_of(carol)
    session = await call(ask, cooperative, library=riverside_library)
    await call(request_aged, session, 25)
    await console.send(type="session.accept", session=session.pk)
    error = await console.expect("error")
    assert (error["code"], error["message"]) == ("not_yet", "This request reaches you in 15 s.")
    await console.close()
