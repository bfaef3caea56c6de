"""Patron sockets that open at the same moment are opened together; each gets only its own.

After a server restart a thousand patrons reconnect at once. A socket's two
database steps (its token looked up, then the session locked, the presence
row inserted and the snapshot read) go in batches with the other sockets
opening at that moment (``core/batches.py``): a constant number
of queries a batch. What a patron notices must not change: each socket gets
its own session and exactly its own lines after the number it asked from,
never another patron's, an unknown token is refused on its own, and the
librarian hears a patron who had gone come back.
"""

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat import consumers
from chat.models import ChatSession, PatronPresence
from core.sockets import CLOSE_NOT_FOUND
from tests.sockets import (  # noqa: F401 - the fixture closes leftover sockets
    HOST,
    ORIGIN,
    Socket,
    call,
    close_sockets_left_open,
    console_of,
)
from tests.talk import librarian_says, patron_says

# Round after round of pick-ups by the same librarians: no maximum.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_maximum")]


@pytest.fixture
def open_batches(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Each batch of opens: its size and the statements it took."""
    seen: list[dict[str, Any]] = []
    store = consumers._opens.store

    def counted(opens: list[Any]) -> Any:
        with CaptureQueriesContext(connection) as queries:
            try:
                return store(opens)
            finally:
                statements = [q["sql"].split()[0] for q in queries.captured_queries]
                seen.append({"size": len(opens), "statements": statements})

    monkeypatch.setattr(consumers._opens, "store", counted)
    return seen


def talk(session: ChatSession, librarian: Any, lines: int) -> None:
    """``lines`` lines each way after the question and the join (patron lines 1 and 2)."""
    for i in range(lines):
        patron_says(session=session, text=f"{session.patron_name} asks {i}", client_id=None)
        librarian_says(
            session=session,
            librarian=librarian,
            text=f"to {session.patron_name} {i}",
            client_id=None,
        )


async def open_at_once(paths: list[str]) -> list[Socket]:
    sockets = [Socket(path, [ORIGIN, HOST]) for path in paths]
    results = await asyncio.gather(*(socket.open() for socket in sockets))
    assert all(connected for connected, _ in results), results
    return sockets


async def test_patrons_opening_at_once_each_get_their_own_session_and_lines(
    chat, alice, open_batches
):
    sessions = []
    for i in range(12):
        session = await call(chat, alice, name=f"Patron {i}")
        await call(talk, session, alice, i % 3)
        sessions.append(session)
    # Each resumes from a different place: from the start, after the join, or
    # after everything.
    afters = [(0, 2, 2 + 2 * (i % 3))[i % 3] for i in range(12)]
    paths = [f"/ws/chat/{s.token}/?after={a}" for s, a in zip(sessions, afters, strict=True)]
    sockets = await open_at_once(paths)

    for session, after, socket in zip(sessions, afters, sockets, strict=True):
        snapshot = await socket.expect("session.snapshot")
        assert snapshot["session"]["patron_name"] == session.patron_name
        assert snapshot["session"]["last_seq"] == 2 + 2 * ((sessions.index(session)) % 3)
        texts = [m["text"] for m in snapshot["messages"]]
        seqs = [m["seq"] for m in snapshot["messages"]]
        assert seqs == list(range(after + 1, snapshot["session"]["last_seq"] + 1))
        # Nothing of another patron's conversation.
        others = {s.patron_name for s in sessions} - {session.patron_name}
        assert not [t for t in texts if any(f"{name} " in t for name in others)]
    assert await call(PatronPresence.objects.filter(closed=False).count) == 12

    # They went in batches, and a batch of many took the statements of a batch of one.
    assert sum(batch["size"] for batch in open_batches) == 12
    assert max(batch["size"] for batch in open_batches) > 1
    assert len({tuple(batch["statements"]) for batch in open_batches}) == 1, open_batches
    for socket in sockets:
        await socket.close()


async def test_two_tabs_of_one_session_opening_together_each_get_their_snapshot(chat, alice):
    session = await call(chat, alice)
    await call(talk, session, alice, 2)  # patron lines 3-6
    first, second = await open_at_once(
        [f"/ws/chat/{session.token}/?after=4", f"/ws/chat/{session.token}/"]
    )
    assert [m["seq"] for m in (await first.expect("session.snapshot"))["messages"]] == [5, 6]
    assert [m["seq"] for m in (await second.expect("session.snapshot"))["messages"]] == [
        1, 2, 3, 4, 5, 6,
    ]  # fmt: skip
    assert await call(PatronPresence.objects.filter(session=session, closed=False).count) == 2

    # Closing one tab leaves the patron there; a line still reaches the other.
    await first.close()
    assert (await call(ChatSession.objects.get, pk=session.pk)).patron_present
    await call(
        librarian_says,
        session=session,
        librarian=alice,
        text="Still here?",
        client_id=None,
    )
    created = await second.expect("message.created")
    assert created["message"]["text"] == "Still here?"
    await second.close()


async def test_an_unknown_token_among_good_ones_is_refused_alone(ask, world):
    sessions = [await call(ask, name=f"Patron {i}") for i in range(4)]
    paths = [f"/ws/chat/{s.token}/" for s in sessions]
    bad = [Socket(path, [ORIGIN, HOST]) for path in ("/ws/chat/no-such-token/", "/ws/chat/%00/")]
    good = [Socket(path, [ORIGIN, HOST]) for path in paths]
    await asyncio.gather(*(socket.open() for socket in bad + good))
    for socket in bad:
        assert await socket.communicator.receive_output(timeout=3) == {
            "type": "websocket.close",
            "code": CLOSE_NOT_FOUND,
        }
        Socket.still_open.remove(socket)
        socket.connected = False
    for session, socket in zip(sessions, good, strict=True):
        snapshot = await socket.expect("session.snapshot")
        assert snapshot["session"]["patron_name"] == session.patron_name
        await socket.close()


async def test_a_session_deleted_between_lookup_and_open_is_not_found(ask, monkeypatch):
    session = await call(ask)
    pk = session.pk
    lookup = consumers._lookups.store

    def then_deleted(tokens: list[str]) -> Any:
        found = lookup(tokens)
        ChatSession.objects.filter(pk=pk).delete()
        return found

    monkeypatch.setattr(consumers._lookups, "store", then_deleted)
    socket = Socket(f"/ws/chat/{session.token}/", [ORIGIN, HOST])
    connected, _ = await socket.open()
    assert connected
    assert await socket.communicator.receive_output(timeout=3) == {
        "type": "websocket.close",
        "code": CLOSE_NOT_FOUND,
    }
    Socket.still_open.remove(socket)
    assert not await call(PatronPresence.objects.exists)


async def test_patrons_who_had_gone_come_back_together_and_the_librarian_hears_each(chat, alice):
    sessions = [await call(chat, alice, name=f"Patron {i}") for i in range(3)]
    gone_since = timezone.now() - timedelta(seconds=20)
    await call(
        ChatSession.objects.filter(pk__in=[s.pk for s in sessions]).update,
        patron_gone_since=gone_since,
    )
    console = await console_of(alice)
    sockets = await open_at_once([f"/ws/chat/{s.token}/" for s in sessions])
    for session in sessions:
        await console.expect("patron.returned", session=session.pk)
    for socket in sockets:
        assert (await socket.expect("session.snapshot"))["session"]["state"] == "active"
        await socket.close()
    await console.close()
