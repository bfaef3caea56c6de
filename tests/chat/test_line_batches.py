"""Lines that arrive at the same moment are stored together, and each still gets its own answer.

A process's sockets hand their lines to one writer (``chat/writer.py``):
the lines that queue up while a batch is stored go together in the next one
(one database call; on PostgreSQL one transaction). What a patron or a
librarian notices must not change: every line is stored once, numbered in
the order it arrived with no gaps, heard once by the other side, and a
refusal or a retry answers only its own line.

Dana asks Ask Riverside and Alice holds the session (lines 1 and 2: the
question and the join).
"""

import asyncio
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from channels.layers import get_channel_layer
from django.db import IntegrityError, connection

from accounts.models import Librarian
from chat import lines, sessions, writer
from chat.line import LineWrite
from chat.models import ChatSession, Message
from core import db
from core.errors import ChatError
from tests.conftest import QUIET_SECONDS
from tests.sockets import (  # noqa: F401 - the fixture closes leftover sockets
    call,
    close_sockets_left_open,
    console_of,
    patron_of,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of each batch the writer stored."""
    sizes: list[int] = []
    call = writer._lines.call

    async def counting(posts: list[Any]) -> Any:
        sizes.append(len(posts))
        return await call(posts)

    monkeypatch.setattr(writer._lines, "call", counting)
    return sizes


def patron_line(session: ChatSession, client_id: str) -> Callable[[], Any]:
    return partial(
        lines.patron_line, session=session, text=f"{client_id} here", client_id=client_id
    )


def librarian_line(
    session: ChatSession, librarian: Librarian, client_id: str, note: bool = False
) -> Callable[[], Any]:
    return partial(
        lines.librarian_line,
        session_id=session.pk,
        librarian=librarian,
        text=f"{client_id} there",
        client_id=client_id,
        note=note,
    )


async def all_at_once(*posts: Callable[[], Any]) -> list[Any]:
    """Hand the posts to the writer at the same moment, as many sockets would."""
    return await asyncio.gather(*(writer.post_line(post) for post in posts), return_exceptions=True)


async def listen(*groups: str) -> Callable[[], Any]:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    for group in groups:
        await layer.group_add(group, channel)

    async def heard() -> list[dict[str, Any]]:
        events = []
        while True:
            try:
                events.append(await asyncio.wait_for(layer.receive(channel), QUIET_SECONDS))
            except TimeoutError:
                return events

    return heard


def stored(session: ChatSession) -> list[tuple[int, int | None, str | None]]:
    return list(
        Message.objects.filter(session=session)
        .order_by("seq")
        .values_list("seq", "patron_seq", "client_id")
    )


async def test_lines_sent_at_once_are_stored_in_order_and_each_heard_once(
    chat, alice, batches, caplog
):
    caplog.set_level(logging.INFO, logger="chat.writer")
    session = await call(chat, alice)
    heard_by_patron = await listen(session.patron_group())
    heard_by_alice = await listen(f"librarian.{alice.pk}")
    posts = [
        patron_line(session, "p-1"),
        librarian_line(session, alice, "a-1"),
        librarian_line(session, alice, "n-1", note=True),
        patron_line(session, "p-2"),
        librarian_line(session, alice, "a-2"),
    ]
    answers = await all_at_once(*posts)
    assert batches == [5]  # one call for the five
    assert [(m.seq, m.patron_seq, created) for m, created in answers] == [
        (3, 3, True),
        (4, 4, True),
        (5, None, True),  # the note: no patron number
        (6, 5, True),
        (7, 6, True),
    ]
    assert await call(stored, session) == [
        (1, 1, None),
        (2, 2, None),
        (3, 3, "p-1"),
        (4, 4, "a-1"),
        (5, None, "n-1"),
        (6, 5, "p-2"),
        (7, 6, "a-2"),
    ]
    patron_heard = [event["message"]["client_id"] for event in await heard_by_patron()]
    assert patron_heard == ["p-1", "a-1", "p-2", "a-2"]  # never the note
    alice_heard = [event["message"]["seq"] for event in await heard_by_alice()]
    assert alice_heard == [3, 4, 5, 6, 7]
    # Stored as one batch, not line by line after a failed one.
    assert "the long way" not in caplog.text


async def test_a_refused_line_in_a_batch_fails_alone(chat, alice, bob, batches):
    held = await call(chat, alice)
    other = await call(chat, alice, name="Eve")
    await call(sessions.session_end_by_librarian, session_id=other.pk, librarian=alice)
    answers = await all_at_once(
        patron_line(held, "p-1"),
        patron_line(other, "late"),  # that chat has ended
        librarian_line(held, bob, "b-1"),  # Bob doesn't hold it
        librarian_line(held, alice, "a-1"),
    )
    assert batches == [4]
    assert [answer.code for answer in answers[1:3]] == ["session_closed", "not_primary"]
    assert [(answers[i][0].seq, answers[i][1]) for i in (0, 3)] == [(3, True), (4, True)]
    assert [row[2] for row in await call(stored, held)] == [None, None, "p-1", "a-1"]


async def test_a_retry_in_a_batch_is_acknowledged_and_costs_no_number(chat, alice, batches, caplog):
    caplog.set_level(logging.INFO, logger="chat.writer")
    session = await call(chat, alice)
    first = await call(lines.line_store, patron_line(session, "p-1")())
    heard = await listen(session.patron_group())
    answers = await all_at_once(
        patron_line(session, "p-2"),
        patron_line(session, "p-1"),  # resent after a reconnect: stored before
        librarian_line(session, alice, "a-1"),
    )
    (two, new_two), (again, new_again), (three, new_three) = answers
    assert (again.pk, again.seq, new_again) == (first[0].pk, 3, False)
    # The retry took no number: the new lines are 4 and 5.
    assert [(two.seq, new_two), (three.seq, new_three)] == [(4, True), (5, True)]
    assert [row[0] for row in await call(stored, session)] == [1, 2, 3, 4, 5]
    # Each new line heard once; the retry not at all.
    assert [event["message"]["client_id"] for event in await heard()] == ["p-2", "a-1"]
    # The retry didn't fail the batch.
    assert "the long way" not in caplog.text


async def test_a_database_error_in_a_batch_fails_only_its_line(chat, alice, batches, caplog):
    caplog.set_level(logging.INFO, logger="chat.writer")
    session = await call(chat, alice)
    heard = await listen(session.patron_group())

    def broken() -> LineWrite:
        # A line by a librarian who no longer exists: its INSERT fails.
        write = patron_line(session, "ghost")()
        write.author = Librarian(pk=10**9)
        return write

    answers = await all_at_once(
        patron_line(session, "p-1"), broken, librarian_line(session, alice, "a-1")
    )
    assert batches == [3]
    assert isinstance(answers[1], IntegrityError)
    assert [(answers[i][0].seq, answers[i][1]) for i in (0, 2)] == [(3, True), (4, True)]
    # Nothing of the failed batch was kept twice or heard twice.
    assert [row[2] for row in await call(stored, session)] == [None, None, "p-1", "a-1"]
    assert [event["message"]["client_id"] for event in await heard()] == ["p-1", "a-1"]
    if connection.vendor == "postgresql":
        assert "a batch of 3 lines is stored the long way" in caplog.text


async def test_an_invalid_line_is_refused_alone(chat, alice, batches):
    session = await call(chat, alice)
    answers = await all_at_once(
        partial(lines.patron_line, session=session, text="   ", client_id="blank"),
        patron_line(session, "p-1"),
    )
    assert isinstance(answers[0], ChatError) and answers[0].code == "invalid_line"
    assert answers[1][0].seq == 3


async def test_a_line_whose_socket_went_away_is_stored_and_the_others_answered(
    chat, alice, batches
):
    session = await call(chat, alice)
    gone = asyncio.ensure_future(writer.post_line(patron_line(session, "p-1")))
    staying = asyncio.ensure_future(writer.post_line(patron_line(session, "p-2")))
    await asyncio.sleep(0)
    gone.cancel()
    _, created = await staying
    assert created
    # The client resends p-1 after reconnecting; the server has it already.
    assert [row[2] for row in await call(stored, session)][2:] == ["p-1", "p-2"]


async def test_lines_typed_on_both_sides_at_once_reach_the_other_side_through_the_sockets(
    chat, alice
):
    session = await call(chat, alice)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")
    console = await console_of(alice)
    for n in range(10):
        await patron.send(type="message.send", text=f"patron {n}", client_id=f"p-{n}")
        await console.send(
            type="message.send", session=session.pk, text=f"alice {n}", client_id=f"a-{n}"
        )
    patron_acks = [(await patron.expect("message.stored"))["client_id"] for _ in range(10)]
    console_acks = [(await console.expect("message.stored"))["client_id"] for _ in range(10)]
    assert patron_acks == [f"p-{n}" for n in range(10)]
    assert console_acks == [f"a-{n}" for n in range(10)]
    at_patron = [await patron.expect("message.created") for _ in range(20)]
    at_console = [await console.expect("message.created") for _ in range(20)]
    # Everyone sees the same order, numbered without gaps.
    assert [e["message"]["seq"] for e in at_patron] == list(range(3, 23))
    assert [e["message"]["seq"] for e in at_console] == list(range(3, 23))
    assert [e["message"]["client_id"] for e in at_patron] == [
        e["message"]["client_id"] for e in at_console
    ]
    await patron.close()
    await console.close()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
async def test_on_postgresql_lines_are_stored_from_the_event_loop_and_refusals_go_the_long_way(
    chat, alice, monkeypatch
):
    # The long way: the lines' database thread, as on SQLite.
    long_way: list[list[str | None]] = []
    one_by_one = writer.lines_store_one_by_one

    def counted(writes: list[Any]) -> list[Any]:
        long_way.append([write.client_id for write in writes])
        return one_by_one(writes)

    monkeypatch.setattr(writer, "lines_store_one_by_one", counted)
    held = await call(chat, alice)
    ended = await call(chat, alice, name="Eve")
    await call(sessions.session_end_by_librarian, session_id=ended.pk, librarian=alice)
    answers = await all_at_once(
        patron_line(held, "p-1"),
        patron_line(ended, "late"),
        librarian_line(held, alice, "a-1"),
    )
    assert [(answers[i][0].seq, answers[i][1]) for i in (0, 2)] == [(3, True), (4, True)]
    assert answers[1].code == "session_closed"
    # Only the refused line went to the database thread, to learn why.
    assert long_way == [["late"]]
    # A resend of a stored line goes the long way too, to be found and acknowledged.
    [(again, created)] = await all_at_once(patron_line(held, "p-1"))
    assert (again.seq, created) == (3, False)
    assert long_way[-1] == ["p-1"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
@pytest.mark.parametrize("prepared", [True, False])
async def test_the_line_statement_is_prepared_once_it_is_in_use_unless_turned_off(
    chat, alice, settings, prepared
):
    settings.CHAT_LINES_PREPARED = prepared
    session = await call(chat, alice)
    for n in range(6):
        [(_, created)] = await all_at_once(patron_line(session, f"p-{n}"))
        assert created
    conn = await db.lines_connection()
    cursor = await conn.execute("SELECT count(*) FROM pg_prepared_statements")
    [count] = await cursor.fetchone()
    assert (count > 0) is prepared
