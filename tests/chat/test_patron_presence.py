"""The patron is there while any tab is open, and gone when the last one closes or dies.

Each patron socket (a tab) has a presence row named by its channel name and
refreshed by heartbeat. When the last tab closes (or its server process dies
and the sweep notices) the librarian hears "patron disconnected" with until
when the patron may come back (tests/chat/test_patron_lost.py: what happens
then).

Most tests call the services with the channel names a socket would have and
move the server's clock (the ``clock`` fixture); the last one uses real
sockets. The tabs and what the librarian hears are in tests/chat/helpers.py.
"""

from datetime import timedelta
from typing import Any

import pytest

from chat import patrons, sessions, steps
from chat.models import ChatSession, PatronPresence
from tests.chat.helpers import LOST, TEN_MINUTES, closed, left, opened, returned
from tests.helpers import fresh, lines_of
from tests.sockets import (  # noqa: F401 - the fixture closes leftover sockets
    call,
    close_sockets_left_open,
    console_of,
    patron_of,
    reload,
)
from tests.talk import patron_connected, patron_heartbeat, sweep_patrons, transcripts_delivered

pytestmark = pytest.mark.django_db


# --- Present, gone, back -------------------------------------------------------


@pytest.mark.parametrize("state", ["waiting", "active"])
def test_the_patron_is_there_while_either_tab_is_open_and_gone_when_the_last_closes(
    ask, alice, bob, riverside, heard_by, clock, state
):
    riverside.patron_grace_seconds = 120
    riverside.save()
    session = ask()
    if state == "active":
        sessions.session_accept(session_id=session.pk, librarian=alice)
    queue, alices, bobs = f"queue.{riverside.pk}", f"librarian.{alice.pk}", f"librarian.{bob.pk}"
    # A waiting patron's monitors are told; once picked up, only her librarian is.
    told = queue if state == "waiting" else alices

    def who_hears(act: Any) -> dict[str, list[dict[str, Any]]]:
        heard = heard_by([queue, alices, bobs], act)
        return {group: events for group, events in heard.items() if events}

    assert who_hears(lambda: opened(session, "tab-1")) == {told: [returned(session)]}
    assert who_hears(lambda: opened(session, "tab-2")) == {}
    assert who_hears(lambda: closed(session, "tab-1")) == {}
    assert fresh(session).patron_present

    clock.advance(5)
    gone_at = clock.now
    assert who_hears(lambda: closed(session, "tab-2")) == {
        told: [left(session, gone_at + timedelta(seconds=120))]
    }
    assert fresh(session).patron_gone_since == gone_at
    assert not fresh(session).patron_present

    clock.advance(30)
    assert who_hears(lambda: opened(session, "tab-3")) == {told: [returned(session)]}
    assert fresh(session).patron_present


def test_closing_the_window_after_the_chat_ended_tells_nobody(chat, alice, riverside, events_of):
    session = chat(alice)
    opened(session, "tab-1")
    sessions.session_end_by_patron(session=session)
    groups = [f"queue.{riverside.pk}", f"librarian.{alice.pk}"]
    assert events_of(groups, lambda: closed(session, "tab-1")) == []
    assert events_of(groups, lambda: opened(session, "tab-2")) == []


def test_a_patron_who_never_opened_the_chat_counts_as_gone_since_asking(
    ask, riverside, heard_by, mailoutbox
):
    assert riverside.patron_grace_seconds == 600  # ten minutes unless the queue says otherwise
    session = ask(email="dana@example.org")
    gone = fresh(session).patron_gone_since
    assert gone is not None
    assert abs(gone - session.created_at) < timedelta(seconds=1)

    assert sweep_patrons(now=gone + TEN_MINUTES - timedelta(seconds=1)) == []
    assert fresh(session).state == ChatSession.State.WAITING

    lost: list[int] = []
    heard = heard_by(
        [f"queue.{riverside.pk}"],
        lambda: lost.extend(sweep_patrons(now=gone + TEN_MINUTES + timedelta(seconds=1))),
    )
    assert lost == [session.pk]
    assert (fresh(session).state, fresh(session).closed_by) == ("closed", "system")
    assert lines_of(session)[1:] == [(2, "system", LOST)]
    closed_event = [e for e in heard[f"queue.{riverside.pk}"] if e["type"] == "session.closed"]
    assert [(e["session"], e["closed_by"]) for e in closed_event] == [(session.pk, "system")]
    transcripts_delivered()
    assert [m.to for m in mailoutbox] == [["dana@example.org"]]


def test_the_patron_is_present_while_any_of_their_windows_is_open(chat, alice, events_of):
    session = chat(alice)
    groups = [f"librarian.{alice.pk}"]

    def opened(tab: str) -> list:
        return events_of(groups, lambda: patron_connected(session, tab))

    def closed(tab: str) -> list:
        return events_of(
            groups,
            lambda: patrons.session_patron_disconnected(session=session, channel_name=tab),
        )

    assert [e["type"] for e in opened("tab-1")] == ["patron.returned"]
    assert opened("tab-2") == []
    assert fresh(session).patron_present

    assert closed("tab-1") == []
    assert fresh(session).patron_present

    both_closed = closed("tab-2")
    assert [(e["type"], e["session"]) for e in both_closed] == [("patron.left", session.pk)]
    # The librarian is told until when the patron may come back.
    gone = fresh(session).patron_gone_since
    assert gone is not None
    grace = timedelta(seconds=session.queue.patron_grace_seconds)
    assert both_closed[0]["grace_until"] == (gone + grace).isoformat()
    assert not fresh(session).patron_present

    # A stray extra close (a socket that never counted) changes nothing.
    assert closed("tab-3") == []
    assert not fresh(session).patron_present


def test_while_waiting_the_queue_monitors_hear_the_patron_leave(ask, riverside, events_of):
    session = ask()
    patron_connected(session, "tab")
    heard = events_of(
        [f"queue.{riverside.pk}"],
        lambda: patrons.session_patron_disconnected(session=session, channel_name="tab"),
    )
    assert [(e["type"], e["session"]) for e in heard] == [("patron.left", session.pk)]


# --- Sockets whose server process died --------------------------------------------


def test_a_socket_not_refreshed_for_30_seconds_is_dead_and_the_patron_gone_once(
    chat, alice, events_of, clock
):
    session = chat(alice)
    alices = [f"librarian.{alice.pk}"]
    opened(session, "tab-1")
    clock.advance(20)
    patron_heartbeat(session, "tab-1")
    clock.advance(29)
    assert events_of(alices, lambda: sweep_patrons(now=clock.now)) == []
    assert fresh(session).patron_present

    clock.advance(2)  # 31 s since the last heartbeat: its process is gone
    swept_at = clock.now
    heard = events_of(alices, lambda: sweep_patrons(now=swept_at))
    assert heard == [left(session, swept_at + TEN_MINUTES)]
    assert PatronPresence.objects.get(channel_name="tab-1").closed
    assert fresh(session).patron_gone_since == swept_at

    clock.advance(10)
    assert events_of(alices, lambda: sweep_patrons(now=clock.now)) == []
    assert fresh(session).patron_gone_since == swept_at
    assert fresh(session).state == ChatSession.State.ACTIVE


def test_a_heartbeat_that_lands_while_the_sweep_runs_keeps_the_socket_and_the_patron(
    chat, alice, events_of, clock, monkeypatch
):
    # Its process was stalled: the beat comes late, just after the worker's
    # sweep read the stale rows and before it closes them. The close is
    # decided by the UPDATE itself, which no longer matches the row.
    session = chat(alice)
    opened(session, "tab-1")
    clock.advance(60)
    lock = steps.session_lock

    def beat_lands_first(session_id: int, **kwargs: Any) -> bool:
        patron_heartbeat(session, "tab-1")
        return lock(session_id, **kwargs)

    monkeypatch.setattr(steps, "session_lock", beat_lands_first)
    heard = events_of([f"librarian.{alice.pk}"], lambda: sweep_patrons(now=clock.now))
    assert heard == []
    assert not PatronPresence.objects.get(channel_name="tab-1").closed
    assert fresh(session).patron_present


def test_a_dead_tab_leaves_the_patron_there_while_another_tab_is_alive(
    chat, alice, events_of, clock
):
    session = chat(alice)
    opened(session, "tab-dead")
    opened(session, "tab-alive")
    clock.advance(20)
    patron_heartbeat(session, "tab-alive")
    clock.advance(15)
    assert events_of([f"librarian.{alice.pk}"], lambda: sweep_patrons()) == []
    assert PatronPresence.objects.get(channel_name="tab-dead").closed
    assert not PatronPresence.objects.get(channel_name="tab-alive").closed
    assert fresh(session).patron_present


def test_a_heartbeat_from_a_socket_the_sweep_gave_up_on_brings_the_patron_back(
    chat, alice, events_of, clock
):
    session = chat(alice)
    opened(session, "tab-1")
    clock.advance(31)  # a long stall, not a death
    sweep_patrons()
    assert not fresh(session).patron_present

    clock.advance(1)
    heard = events_of(
        [f"librarian.{alice.pk}"],
        lambda: patron_heartbeat(session, "tab-1"),
    )
    assert heard == [returned(session)]
    assert fresh(session).patron_present
    assert not PatronPresence.objects.get(channel_name="tab-1").closed


# --- Through the sockets ----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_the_librarian_sees_the_patron_disconnected_until_when_and_back(chat, alice):
    session = await call(chat, alice)
    console = await console_of(alice)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")
    await console.expect("patron.returned", session=session.pk)
    await patron.send(type="message.send", text="I may lose signal", client_id="p-1")
    await patron.expect("message.stored")

    await patron.close()
    gone = await console.expect("patron.left", session=session.pk)
    gone_since = (await reload(session)).patron_gone_since
    assert gone == {
        "type": "patron.left",
        "session": session.pk,
        "grace_until": (gone_since + TEN_MINUTES).isoformat(),
    }
    # A console opened meanwhile shows the patron as gone too.
    other = await console_of(alice, snapshot=False)
    assert (await other.expect("console.snapshot"))["active"][0]["patron_present"] is False
    await console.send(
        type="message.send", session=session.pk, text="Are you there?", client_id="a-1"
    )
    await console.expect("message.stored")

    back = await patron_of(session)  # the page reloaded: no number to resume from
    assert await console.expect("patron.returned", session=session.pk) == {
        "type": "patron.returned",
        "session": session.pk,
    }
    snapshot = await back.expect("session.snapshot")
    assert snapshot["session"]["state"] == "active"
    assert [(m["seq"], m["text"]) for m in snapshot["messages"]] == [
        (1, "Do you have large-print copies of Middlemarch?"),
        (2, "Alice has joined the chat."),
        (3, "I may lose signal"),
        (4, "Are you there?"),
    ]
    assert (await reload(session)).patron_present
    for socket in (back, console, other):
        await socket.close()
