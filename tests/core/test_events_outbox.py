"""Events of a consumer's service call leave from the event loop, after commit, in order.

A consumer calls a service through ``events.call_service``: what the service
publishes is collected on the database thread as its transactions commit,
and sent from the event loop once the call has returned, so the one thread
Channels runs database calls on never waits for the channel layer. A
transaction that rolls back sends nothing. Anywhere else (views, management
commands, these tests calling services directly) an event is sent by the
thread that commits it, as it always was.
"""

import asyncio
import logging
import threading
from typing import Any

import pytest
from channels.layers import get_channel_layer
from django.db import transaction

from chat import sessions
from chat.models import ChatSession
from core import events
from core.errors import ChatError
from core.events import call_service, publish
from tests.conftest import QUIET_SECONDS
from tests.sockets import (  # noqa: F401 - the fixture closes leftover sockets
    call,
    close_sockets_left_open,
    console_of,
    monitor,
    patron_of,
    reload,
)


class RecordingLayer:
    """The real channel layer, noting each group_send and the thread it ran on."""

    def __init__(self, log: list[Any]) -> None:
        self.layer = get_channel_layer()
        self.log = log
        self.fail_group: str | None = None

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        self.log.append(("sent", message["type"], group, threading.get_ident()))
        if group == self.fail_group:
            raise ConnectionError("Redis is restarting")
        await self.layer.group_send(group, message)


@pytest.fixture
def layer_log(monkeypatch: pytest.MonkeyPatch) -> tuple[list[Any], RecordingLayer]:
    log: list[Any] = []
    recording = RecordingLayer(log)
    monkeypatch.setattr(events, "get_channel_layer", lambda *args: recording)
    return log, recording


@pytest.fixture
def sent_by_a_sync_thread(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[str, ...]]]:
    """Events sent the old way, by the thread that committed them (installed when asked for)."""
    sent: list[tuple[str, tuple[str, ...]]] = []
    monkeypatch.setattr(events, "_send", lambda event, groups: sent.append((event["type"], groups)))
    return sent


def sends(log: list[Any]) -> list[tuple[str, str]]:
    return [(entry[1], entry[2]) for entry in log if entry[0] == "sent"]


# --- The helper -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_a_service_calls_events_leave_from_the_event_loop_after_it_returned(
    layer_log, sent_by_a_sync_thread
):
    log, _ = layer_log

    def service() -> str:
        with transaction.atomic():
            publish({"type": "first"}, "g.one")
            publish({"type": "second"}, "g.one", "g.two")
        publish({"type": "third"}, "g.two")  # no transaction: at once, as ever
        log.append(("returned", threading.get_ident()))
        return "done"

    assert await call_service(service) == "done"
    [(_, db_thread)] = [entry for entry in log if entry[0] == "returned"]
    assert log[0][0] == "returned"  # nothing was sent while the database thread worked
    assert sends(log) == [
        ("first", "g.one"),
        ("second", "g.one"),
        ("second", "g.two"),
        ("third", "g.two"),
    ]
    loop_thread = threading.get_ident()
    assert db_thread != loop_thread
    assert {entry[3] for entry in log if entry[0] == "sent"} == {loop_thread}
    assert sent_by_a_sync_thread == []


@pytest.mark.django_db(transaction=True)
async def test_a_rolled_back_transaction_sends_nothing_and_a_committed_one_still_does(layer_log):
    log, _ = layer_log

    def service() -> None:
        with transaction.atomic():
            publish({"type": "kept"}, "g.one")
            try:
                with transaction.atomic():
                    publish({"type": "undone savepoint"}, "g.one")
                    raise ValueError("changed my mind")
            except ValueError:
                pass
            publish({"type": "kept too"}, "g.one")
        with transaction.atomic():
            publish({"type": "undone"}, "g.two")
            raise ChatError("refused", "Not allowed.")

    with pytest.raises(ChatError):
        await call_service(service)
    assert sends(log) == [("kept", "g.one"), ("kept too", "g.one")]


@pytest.mark.django_db(transaction=True)
async def test_the_events_reach_the_groups_listeners(layer_log):
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("patron.1", channel)

    def service() -> None:
        with transaction.atomic():
            publish({"type": "message.created", "n": 1}, "patron.1")
            publish({"type": "message.created", "n": 2}, "patron.1")

    await call_service(service)
    heard = [await asyncio.wait_for(layer.receive(channel), 3) for _ in range(2)]
    assert [event["n"] for event in heard] == [1, 2]
    await layer.group_discard("patron.1", channel)


@pytest.mark.django_db(transaction=True)
async def test_a_lost_ring_is_logged_and_never_fails_the_committed_call(layer_log, caplog):
    log, recording = layer_log
    recording.fail_group = "g.down"

    def service() -> int:
        with transaction.atomic():
            publish({"type": "first"}, "g.down", "g.up")
            publish({"type": "second"}, "g.up")
        return 7

    with caplog.at_level(logging.ERROR, logger="core.events"):
        assert await call_service(service) == 7
    # The failed event's other groups go with it, as before; the next event goes out.
    assert sends(log) == [("first", "g.down"), ("second", "g.up")]
    assert [r.getMessage() for r in caplog.records] == ["publish of first to 2 groups failed"]


@pytest.mark.django_db
def test_outside_a_consumer_an_event_leaves_at_commit_as_before(
    sent_by_a_sync_thread, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            publish({"type": "first"}, "g.one")
            assert sent_by_a_sync_thread == []
        publish({"type": "second"}, "g.two")
    assert sent_by_a_sync_thread == [("first", ("g.one",)), ("second", ("g.two",))]


@pytest.mark.django_db
def test_a_call_inside_a_transaction_opened_before_it_publishes_at_that_commit(
    sent_by_a_sync_thread, django_capture_on_commit_callbacks
):
    def service() -> None:
        with transaction.atomic():
            publish({"type": "first"}, "g.one")

    # This test runs inside a transaction of its own, as a caller's would be:
    # the service's commit is a savepoint, and its event must wait for the
    # real commit, whoever makes it. (call_service's database thread runs
    # this part; Channels' database_sync_to_async never runs inside an open
    # transaction, so that is checked here, on this thread.)
    outbox: events.Outbox = []
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        events._collecting(outbox, service)
    assert (outbox, sent_by_a_sync_thread) == ([], [])
    for callback in callbacks:
        callback()
    assert sent_by_a_sync_thread == [("first", ("g.one",))]


# --- Through the sockets ----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_a_line_sent_on_a_socket_reaches_the_right_sockets_from_the_event_loop(
    chat, alice, bob, riverside, monkeypatch
):
    await monitor(bob, riverside)
    session = await call(chat, alice)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")
    alices = await console_of(alice)
    bobs = await console_of(bob)
    await alices.drain()
    await bobs.drain()
    sent: list[str] = []
    monkeypatch.setattr(events, "_send", lambda event, groups: sent.append(event["type"]))

    await patron.send(type="message.send", text="Is it at the main branch?", client_id="p-1")
    await patron.expect("message.stored", seq=3)
    await patron.expect("message.created", where=lambda e: e["message"]["seq"] == 3)
    await alices.expect("message.created", session=session.pk)
    await alices.send(type="message.send", session=session.pk, text="Let me look", client_id="a-1")
    await alices.expect("message.stored", seq=4)
    await patron.expect("message.created", where=lambda e: e["message"]["seq"] == 4)
    await alices.send(type="session.end", session=session.pk)
    await patron.expect("session.closed", closed_by="librarian")
    await alices.expect("session.closed", session=session.pk)

    # Bob monitors the queue: he hears it closed, and no line of a chat he is not in.
    assert [e["type"] for e in await bobs.drain() if e["type"] != "librarian.updated"] == [
        "session.closed"
    ]
    assert sent == []  # nothing went out from the database thread
    for socket in (patron, alices, bobs):
        await socket.close()


@pytest.mark.django_db(transaction=True)
async def test_a_socket_action_that_rolls_back_rings_nobody(
    ask, alice, bob, riverside, monkeypatch
):
    await monitor(alice, riverside)
    await monitor(bob, riverside)
    session = await call(ask)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")
    await patron.expect("session.wait")  # where the waiting patron is in the queue
    alices = await console_of(alice)
    bobs = await console_of(bob)
    await bobs.drain()

    def fails_after_publishing(librarian_id: int, **kwargs: Any) -> None:
        # session.accepted has been published by now; this rolls the pick-up back.
        raise ChatError("unavailable", "Try again.")

    monkeypatch.setattr(sessions, "librarian_updated", fails_after_publishing)
    await alices.send(type="session.accept", session=session.pk)
    assert (await alices.expect("error"))["code"] == "unavailable"
    await asyncio.sleep(QUIET_SECONDS)
    assert [e["type"] for e in await patron.drain()] == []
    assert [e["type"] for e in await bobs.drain()] == []
    assert [e["type"] for e in await alices.drain()] == []
    assert (await reload(session)).state == ChatSession.State.WAITING

    monkeypatch.undo()
    await alices.send(type="session.accept", session=session.pk)
    await patron.expect("session.accepted")
    await bobs.expect("session.accepted", session=session.pk)
    for socket in (patron, alices, bobs):
        await socket.close()
