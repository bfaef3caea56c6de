"""The librarian's console socket (console/consumers.py), through the full ASGI application.

Who may open it (login, a librarian profile), its snapshot, picking a request
up, frames it refuses, and one librarian with several consoles. Each test
opens real sockets (``tests/sockets.py``) on ``reference_chat.asgi.application``
and a real channel layer (in-memory, or Redis in service mode).
"""

import pytest

from chat.models import ChatSession
from queues.models import Membership
from tests.sockets import (  # noqa: F401 - the fixture closes leftover sockets
    HOST,
    ORIGIN,
    Socket,
    call,
    close_sockets_left_open,
    console_of,
    login_headers,
    monitor,
    patron_of,
    reload,
)

pytestmark = pytest.mark.django_db(transaction=True)


# --- Who may open which socket -------------------------------------------


async def test_a_console_of_a_user_without_librarian_profile_is_closed_as_forbidden(frank):
    # Accepted, then closed with 4403 (a console without login: tests/console/test_access.py).
    socket = Socket("/ws/console/", await call(login_headers, frank))
    assert (await socket.open())[0]
    closed = await socket.communicator.receive_output(timeout=3)
    assert closed == {"type": "websocket.close", "code": 4403}


# --- Snapshots ------------------------------------------------------------


async def test_the_console_snapshot_has_my_queues_the_new_list_and_my_active_chats(
    ask, chat, alice, riverside, cooperative, archive
):
    await monitor(alice, riverside)
    waiting = await call(ask, name="Eli")
    await call(ask, cooperative, name="Fay")  # not monitored: not in New
    mine = await call(chat, alice, name="Gus")
    console = await console_of(alice, snapshot=False)
    snapshot = await console.expect("console.snapshot")
    assert snapshot["me"] == {"id": alice.pk, "display_name": "Alice", "staff_id": "RPL-104"}
    assert snapshot["settings"] == {"alert_sound": True, "alert_popup": True, "im_sound": True}
    assert (snapshot["status"], snapshot["max_sessions"]) == ("available", None)
    assert snapshot["queues"] == [
        {"id": riverside.pk, "name": "Ask Riverside", "monitoring": True, "busy_at": 3},
        {
            "id": cooperative.pk,
            "name": "County Libraries Cooperative",
            "monitoring": False,
            "busy_at": 3,
        },
    ]
    assert [row["id"] for row in snapshot["waiting"]] == [waiting.pk]
    assert snapshot["waiting"][0]["patron_name"] == "Eli"
    assert snapshot["waiting"][0]["patron_email"] is None
    assert [s["id"] for s in snapshot["active"]] == [mine.pk]
    active = snapshot["active"][0]
    assert active["policy"] == "Library cards are free to residents of Riverside County."
    assert [m["seq"] for m in active["messages"]] == [1, 2]
    await console.close()


# --- Pick-up ----------------------------------------------------------------


async def test_a_monitoring_librarian_hears_of_a_new_request(ask, alice, riverside):
    console = await console_of(alice)
    await console.send(type="monitoring.set", queues=[riverside.pk])
    snapshot = await console.expect("console.snapshot")
    assert snapshot["queues"][0] == {
        "id": riverside.pk,
        "name": "Ask Riverside",
        "monitoring": True,
        "busy_at": 3,
    }

    session = await call(ask, name="Dana", question="Is the library open on Sunday?")
    created = await console.expect("session.created")
    assert created["session"]["id"] == session.pk
    assert created["session"]["question_preview"] == "Is the library open on Sunday?"
    assert created["session"]["queue"] == {"id": riverside.pk, "name": "Ask Riverside"}
    await console.close()


async def test_a_pick_up_reaches_the_patron_and_takes_the_row_off_every_new_list(
    ask, alice, bob, riverside
):
    await monitor(alice, riverside)
    await monitor(bob, riverside)
    session = await call(ask)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")
    alices = await console_of(alice)
    bobs = await console_of(bob)

    await alices.send(type="session.accept", session=session.pk)
    mine = await alices.expect(
        "session.accepted", session=session.pk, where=lambda e: "detail" in e
    )
    assert mine["detail"]["state"] == "active"
    assert mine["detail"]["primary"]["display_name"] == "Alice"
    assert [m["text"] for m in mine["detail"]["messages"]][-1] == "Alice has joined the chat."

    theirs = await bobs.expect("session.accepted", session=session.pk)
    assert theirs["librarian"] == {"id": alice.pk, "display_name": "Alice"}
    assert "detail" not in theirs

    told = await patron.expect("session.accepted")
    assert told == {"type": "session.accepted", "librarian": {"display_name": "Alice"}}
    joined = await patron.expect("message.created")
    assert (joined["message"]["seq"], joined["message"]["kind"]) == (2, "system")

    # Bob's next look at New no longer has it; Alice's My Active does.
    bob_again = await console_of(bob, snapshot=False)
    assert (await bob_again.expect("console.snapshot"))["waiting"] == []
    alice_again = await console_of(alice, snapshot=False)
    assert [s["id"] for s in (await alice_again.expect("console.snapshot"))["active"]] == [
        session.pk
    ]

    await bobs.send(type="session.accept", session=session.pk, ref="r17")
    error = await bobs.expect("error")
    assert error == {
        "type": "error",
        "code": "already_taken",
        "message": "Alice already picked up this request.",
        "ref": "r17",
        "session": session.pk,
    }
    for socket in (patron, alices, bobs, bob_again, alice_again):
        await socket.close()


# --- Frames that can't be carried out ---------------------------------------


CONSOLE_BAD_FRAMES = [
    ("session not a number", {"type": "session.accept", "session": "12"}, "bad_frame"),
    ("queues not a list", {"type": "monitoring.set", "queues": 3}, "bad_frame"),
    (
        "settings not booleans",
        {"type": "settings.update", "alert_sound": "yes", "alert_popup": True},
        "bad_frame",
    ),
    ("text a list", {"type": "message.send", "session": 0, "text": ["hi"]}, "bad_frame"),
]


@pytest.mark.parametrize(
    ("frame", "code"), [f[1:] for f in CONSOLE_BAD_FRAMES], ids=[f[0] for f in CONSOLE_BAD_FRAMES]
)
async def test_a_bad_console_frame_gets_an_error_and_the_console_keeps_working(
    chat, alice, frame, code
):
    session = await call(chat, alice)
    console = await console_of(alice)
    if frame.get("session") == 0:
        frame = {**frame, "session": session.pk}
    await console.send(**frame, ref="bad")
    error = await console.expect("error")
    assert (error["code"], error["ref"]) == (code, "bad")

    await console.send(type="message.send", session=session.pk, text="Still here.", client_id="ok")
    assert (await console.expect("message.stored"))["seq"] == 3
    await console.close()


async def test_a_console_cannot_act_on_a_session_outside_its_queues(ask, chat, alice, dave):
    waiting = await call(ask)
    active = await call(chat, alice, name="Eli")
    console = await console_of(dave)
    for frame in [
        {"type": "session.accept", "session": waiting.pk},
        {"type": "session.fetch", "session": waiting.pk},
        {"type": "session.end", "session": active.pk},
        {"type": "message.send", "session": active.pk, "text": "Hi", "client_id": "d-1"},
    ]:
        await console.send(**frame)
        error = await console.expect("error")
        assert error["code"] == "not_found", frame
        assert error["message"] == "There is no such chat session in your queues."
    assert (await reload(waiting)).state == ChatSession.State.WAITING
    assert (await reload(active)).last_seq == 2
    await console.close()


async def test_a_console_fetches_any_session_of_its_queues(chat, alice, bob):
    session = await call(chat, bob)
    console = await console_of(alice)
    await console.send(type="session.fetch", session=session.pk)
    detail = (await console.expect("session.detail"))["session"]
    assert detail["id"] == session.pk
    assert detail["primary"]["display_name"] == "Bob"
    assert [m["seq"] for m in detail["messages"]] == [1, 2]
    await console.close()


# --- One librarian, several consoles -------------------------------------------


async def test_every_console_of_a_librarian_follows_her_monitoring(alice, riverside, cooperative):
    first = await console_of(alice)
    second = await console_of(alice)
    await first.send(type="monitoring.set", queues=[riverside.pk, cooperative.pk])
    for console in (first, second):
        snapshot = await console.expect("console.snapshot")
        assert [q["monitoring"] for q in snapshot["queues"]] == [True, True]
    monitored = Membership.objects.filter(librarian=alice, is_monitoring=True)
    monitoring = await call(lambda: set(monitored.values_list("queue", flat=True)))
    assert monitoring == {riverside.pk, cooperative.pk}

    await second.send(type="settings.update", alert_sound=False, alert_popup=True, im_sound=True)
    for console in (first, second):
        changed = await console.expect("settings.changed")
        assert changed["settings"] == {"alert_sound": False, "alert_popup": True, "im_sound": True}
    await first.close()
    await second.close()


async def test_a_console_that_stops_monitoring_stops_hearing_new_requests(ask, alice, riverside):
    await monitor(alice, riverside)
    console = await console_of(alice)
    await console.send(type="monitoring.set", queues=[])
    assert (await console.expect("console.snapshot"))["queues"][0]["monitoring"] is False
    await call(ask, name="Eli")
    # Published after the request: once it is here, the request would have been too.
    await console.send(type="settings.update", alert_sound=False, alert_popup=False, im_sound=False)
    await console.expect("settings.changed")
    assert [e for e in console.received if e["type"] == "session.created"] == []
    await console.close()
