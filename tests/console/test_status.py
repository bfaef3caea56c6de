"""Available, Busy, Away on the console socket (chat/load.py)."""

import pytest

from accounts.models import Librarian
from tests.sockets import (  # noqa: F401 - the fixture closes leftover sockets
    call,
    close_sockets_left_open,
    console_of,
    monitor,
)

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_status_set_on_one_console_reaches_her_others_and_her_colleagues(
    alice, bob, riverside
):
    await monitor(alice, riverside)
    await monitor(bob, riverside)
    first, second = await console_of(alice), await console_of(alice)
    colleague = await console_of(bob)
    await first.send(type="status.set", status="away")
    for console in (first, second):
        assert (await console.expect("status.changed"))["status"] == "away"
    row = (await colleague.expect("librarian.updated"))["librarian"]
    assert (row["id"], row["status"]) == (alice.pk, "away")
    assert (await call(Librarian.objects.get, pk=alice.pk)).status == "away"

    # A reload finds it in the snapshot.
    third = await console_of(alice, snapshot=False)
    assert (await third.expect("console.snapshot"))["status"] == "away"

    await first.send(type="status.set", status="asleep")
    error = await first.expect("error")
    assert (error["code"], error["message"]) == (
        "invalid_status",
        'The status is one of "available", "busy" or "away".',
    )
    for console in (first, second, third, colleague):
        await console.close()
