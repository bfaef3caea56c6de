"""Lines per socket: a token bucket (issue 14, point 4).

A socket may send ``CHAT_LINES_BURST`` lines at once (20), then
``CHAT_LINES_PER_SECOND`` (5) a second: a patron socket that stored 500
lines in a burst now stores at most the burst and what refilled meanwhile;
every other line is refused as ``too_fast`` with its ``client_id``, and
nothing of it is stored, so the same line sent again later goes through.
The bucket is the socket's own (one per tab): the console's librarian lines
and IMs share one. Against the full ASGI app, on both databases.
"""

import asyncio
from typing import Any

import pytest
from django.conf import settings as django_settings

from chat.models import Message
from tests.sockets import (  # noqa: F401 - the fixture closes leftover sockets
    Socket,
    call,
    close_sockets_left_open,
    console_of,
    monitor,
    patron_of,
)

pytestmark = pytest.mark.django_db(transaction=True)

TOO_FAST = "You are sending too fast. Wait a moment and send it again."


async def _answers(socket: Socket, count: int) -> dict[str, dict[str, Any]]:
    """The answer to each of ``count`` lines, by client id: stored or refused."""
    answers: dict[str, dict[str, Any]] = {}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while len(answers) < count and loop.time() < deadline:
        frame = await socket.communicator.receive_json_from(timeout=10)
        if frame["type"] in {"message.stored", "im.message.stored", "error"}:
            assert frame["client_id"] not in answers, f"answered twice: {frame}"
            answers[frame["client_id"]] = frame
    assert len(answers) == count, f"{count - len(answers)} lines never answered"
    return answers


async def test_a_burst_of_500_patron_lines_stores_the_bucket_and_refuses_the_rest(ask):
    session = await call(ask)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")

    loop = asyncio.get_running_loop()
    started = loop.time()
    for n in range(500):
        await patron.send(type="message.send", text=f"Line {n}", client_id=f"p-{n}")
    answers = await _answers(patron, 500)
    elapsed = loop.time() - started

    stored = [cid for cid, a in answers.items() if a["type"] == "message.stored"]
    refused = [a for a in answers.values() if a["type"] == "error"]
    allowed = django_settings.CHAT_LINES_BURST + django_settings.CHAT_LINES_PER_SECOND * elapsed + 1
    assert django_settings.CHAT_LINES_BURST <= len(stored) <= allowed
    assert {(a["code"], a["message"]) for a in refused} == {("too_fast", TOO_FAST)}
    # The first lines went through; exactly those are stored, once each.
    burst = django_settings.CHAT_LINES_BURST
    assert stored[:burst] == [f"p-{n}" for n in range(burst)]
    in_database = await call(
        lambda: list(
            Message.objects.filter(session=session, client_id__isnull=False)
            .order_by("seq")
            .values_list("client_id", flat=True)
        )
    )
    assert in_database == stored

    # Nothing of a refused line was stored: sent again after a pause, it goes through.
    again = refused[-1]["client_id"]
    await asyncio.sleep(1 / django_settings.CHAT_LINES_PER_SECOND + 0.05)
    await patron.send(type="message.send", text="Sent again", client_id=again)
    await patron.expect("message.stored", client_id=again)
    await patron.close()


async def test_a_console_shares_one_bucket_between_its_lines_and_ims(
    chat, alice, bob, riverside, settings
):
    # Next to nothing refills during the test: exactly the burst goes through.
    settings.CHAT_LINES_PER_SECOND = 0.001
    await monitor(alice, riverside)
    await monitor(bob, riverside)
    session = await call(chat, alice)
    console = await console_of(alice)
    await console.send(type="im.open", librarian=bob.pk)
    im = (await console.expect("im.opened"))["im"]["id"]

    burst = settings.CHAT_LINES_BURST
    for n in range(burst):
        await console.send(
            type="message.send", session=session.pk, text=f"L{n}", client_id=f"a-{n}"
        )
    await console.send(type="im.send", im=im, text="Are you free?", client_id="i-1")
    answers = await _answers(console, burst + 1)
    refused = answers["i-1"]
    assert (refused["type"], refused["code"], refused["message"]) == ("error", "too_fast", TOO_FAST)
    assert [a["type"] for cid, a in answers.items() if cid != "i-1"] == ["message.stored"] * burst

    # Another tab of hers has its own bucket.
    other_tab = await console_of(alice)
    await other_tab.send(type="im.send", im=im, text="Are you free?", client_id="i-1")
    await other_tab.expect("im.message.stored", client_id="i-1")
    await console.close()
    await other_tab.close()
