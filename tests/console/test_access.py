"""Access that follows the account: a console closes (4403) when the login behind it ends.

Log-out in another tab or client (the console's Log Off, the admin's), a
deleted or expired login, a password changed elsewhere, a deactivated
account, a removed membership: each closes every open console of that
login or person, at once (the event ``access.ended``) or, when nothing was
heard (a lost ring, a bulk change in the admin that sends no signal), at
the next heartbeat. The sessions they held end (log-out) or go back to the
queue (deactivation, removal) with a line saying so; their offers are
withdrawn. Real sockets on the full ASGI application (``tests/sockets.py``).
"""

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from accounts.models import Librarian
from chat import transfers
from chat.models import ChatSession, Message, TransferOffer
from core.errors import ChatError
from queues.models import Membership
from tests.sockets import (  # noqa: F401 - the fixture closes leftover sockets
    HOST,
    ORIGIN,
    TIMEOUT,
    Socket,
    call,
    close_sockets_left_open,
    console_of,
    monitor,
    patron_of,
    reload,
    rings_dropped,
)

pytestmark = pytest.mark.django_db(transaction=True)

User = get_user_model()
# A heartbeat period a test can wait a few of (the close comes within one).
BEAT = 0.3


async def closed_with(socket: Socket, *, timeout: float = TIMEOUT) -> int:
    """Wait for the server to close ``socket``; the close code (frames before it are skipped)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        left = deadline - loop.time()
        if left <= 0 or await socket.communicator.receive_nothing(timeout=left, interval=0.01):
            pytest.fail(f"the socket was not closed within {timeout}s")
        output = await socket.communicator.receive_output(timeout=TIMEOUT)
        if output["type"] == "websocket.close":
            socket.connected = False
            Socket.still_open.remove(socket)
            await socket.communicator.disconnect(timeout=TIMEOUT)
            return int(output.get("code", 1000))


def logged_in(librarian: Librarian) -> tuple[Client, list[tuple[bytes, bytes]]]:
    """A browser logged in as ``librarian``: its client (another tab) and a socket's headers."""
    client = Client()
    client.force_login(librarian.user)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    return client, [ORIGIN, HOST, (b"cookie", cookie.encode())]


async def console_with(headers: list[tuple[bytes, bytes]]) -> Socket:
    socket = Socket("/ws/console/", headers)
    connected, code = await socket.open()
    assert connected, f"console refused with {code}"
    await socket.expect("console.snapshot")
    return socket


def lines(session: ChatSession, **filters: Any) -> list[tuple[str, str]]:
    return [
        (m.visibility, m.text)
        for m in Message.objects.filter(session=session, **filters).order_by("seq")
    ]


# --- No login ---------------------------------------------------------------


async def test_a_console_without_login_is_accepted_then_closed_4403(world):
    # Refused at the handshake, the browser would see a plain failure and retry forever.
    socket = Socket("/ws/console/", [ORIGIN, HOST])
    connected, _ = await socket.open()
    assert connected
    assert await closed_with(socket) == 4403


# --- Log-out ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/logout/", "/admin/logout/"])
async def test_logging_out_in_another_tab_closes_every_console_of_that_login(
    path, chat, alice, bob, riverside
):
    if path.startswith("/admin/"):  # the admin lets only staff in, log-out included
        alice.user.is_staff = True
        await call(alice.user.save)
    await monitor(alice, riverside)
    await monitor(bob, riverside)
    session = await call(chat, alice, name="Eli")
    bobs_session = await call(chat, bob, name="Fay")
    offer = await call(transfers.transfer_offer, session_id=bobs_session.pk, sender=bob,
                       receiver_id=alice.pk)  # fmt: skip
    client, headers = await call(logged_in, alice)
    first, second = await console_with(headers), await console_with(headers)
    _, elsewhere = await call(logged_in, alice)  # her office PC: another login
    office = await console_with(elsewhere)

    response = await call(client.post, path)
    assert response.status_code == 302

    assert await closed_with(first) == 4403
    assert await closed_with(second) == 4403
    # As Log Off always did: the session she held ended, with its closing line.
    assert (await reload(session)).state == ChatSession.State.CLOSED
    assert ("patron", "Librarian ended chat session") in await call(lines, session)
    # The offer Bob made her is withdrawn: he keeps Fay.
    assert (await call(TransferOffer.objects.get, pk=offer.pk)).state == "cancelled"
    assert (await reload(bobs_session)).primary_id == bob.pk
    # The other login is not this one: its console stays, off shift.
    await office.expect("console.snapshot", where=lambda e: not any(
        q["monitoring"] for q in e["queues"]))  # fmt: skip
    await office.close()


async def test_a_login_deleted_without_a_word_closes_its_consoles_at_the_next_heartbeat(
    settings, alice
):
    settings.HEARTBEAT_SECONDS = BEAT
    client, headers = await call(logged_in, alice)
    console = await console_with(headers)
    with rings_dropped():
        await call(Session.objects.filter(session_key=client.session.session_key).delete)
    assert await closed_with(console, timeout=BEAT * 4) == 4403


async def test_a_password_changed_elsewhere_closes_the_console_at_the_next_heartbeat(
    settings, alice
):
    settings.HEARTBEAT_SECONDS = BEAT
    _, headers = await call(logged_in, alice)
    console = await console_with(headers)

    def change_password() -> None:
        alice.user.set_password("a-new-pass-2026")
        alice.user.save()

    await call(change_password)
    assert await closed_with(console, timeout=BEAT * 4) == 4403


# --- Idle time (the server's own) ----------------------------------------------


async def test_a_login_idle_past_its_time_closes_the_console_at_the_next_heartbeat(settings, alice):
    settings.HEARTBEAT_SECONDS = BEAT
    client, headers = await call(logged_in, alice)
    console = await console_with(headers)
    key = client.session.session_key
    await call(
        Session.objects.filter(session_key=key).update,
        expire_date=timezone.now() - timedelta(seconds=1),
    )
    assert await closed_with(console, timeout=BEAT * 4) == 4403


async def test_typing_in_the_console_keeps_the_login_a_whole_idle_time(settings, alice):
    settings.HEARTBEAT_SECONDS = BEAT
    settings.STAFF_IDLE_SECONDS = 600
    client, headers = await call(logged_in, alice)
    console = await console_with(headers)
    rows = Session.objects.filter(session_key=client.session.session_key)
    soon = timezone.now() + timedelta(seconds=30)
    await call(rows.update, expire_date=soon)

    await asyncio.sleep(BEAT * 3)  # beats without activity change nothing
    assert await call(lambda: rows.get().expire_date) == soon
    await console.send(type="console.active")
    await asyncio.sleep(BEAT * 3)
    expires = await call(lambda: rows.get().expire_date)
    assert expires > timezone.now() + timedelta(seconds=590)
    await console.close()


# --- Deactivation ---------------------------------------------------------------


async def held_with_offers(ask, chat, alice, bob, carol, cooperative) -> dict[str, Any]:
    """Alice holds Eli's session (offered to Bob) and Fay's; Carol offers Gus to Alice."""
    await monitor(alice, cooperative)
    await monitor(bob, cooperative)
    await monitor(carol, cooperative)
    eli = await call(chat, alice, queue=cooperative, name="Eli")
    fay = await call(chat, alice, queue=cooperative, name="Fay")
    gus = await call(chat, carol, queue=cooperative, name="Gus")
    sent = await call(transfers.transfer_offer, session_id=eli.pk, sender=alice,
                      receiver_id=bob.pk)  # fmt: skip
    received = await call(transfers.transfer_offer, session_id=gus.pk, sender=carol,
                          receiver_id=alice.pk)  # fmt: skip
    return {"eli": eli, "fay": fay, "gus": gus, "sent": sent, "received": received}


async def test_deactivating_a_librarian_closes_her_consoles_and_requeues_her_sessions(
    ask, chat, alice, bob, carol, riverside, cooperative
):
    world = await held_with_offers(ask, chat, alice, bob, carol, cooperative)
    eli_patron = await patron_of(world["eli"])
    await eli_patron.expect("session.snapshot")
    _, headers = await call(logged_in, alice)
    first, second = await console_with(headers), await console_with(headers)
    bobs = await console_of(bob)

    def deactivate() -> None:
        alice.user.is_active = False
        alice.user.save()

    await call(deactivate)

    assert await closed_with(first) == 4403
    assert await closed_with(second) == 4403
    for name in ("eli", "fay"):
        session = await reload(world[name])
        assert (session.state, session.primary_id) == (ChatSession.State.WAITING, None)
        said = await call(lines, session)
        assert (
            "patron",
            "Alice is no longer available; your question is back in the queue.",
        ) in said
        assert (
            "staff",
            "Alice can no longer take this session (account deactivated): it went back to "
            "County Libraries Cooperative.",
        ) in said
    told = await eli_patron.expect("message.created")
    assert told["message"]["text"] == (
        "Alice is no longer available; your question is back in the queue."
    )
    # The patron's page stops saying "You are chatting with Alice": waiting
    # again, for the next librarian (as after a return to the queue).
    assert await eli_patron.expect("session.requeued") == {"type": "session.requeued"}
    # Both offers withdrawn: Bob's box closes, Carol keeps Gus.
    for offer in (world["sent"], world["received"]):
        assert (await call(TransferOffer.objects.get, pk=offer.pk)).state == "cancelled"
    withdrawn = await bobs.expect("transfer.cancelled")
    assert withdrawn["reason"] == "Alice's access ended."
    assert (await reload(world["gus"])).primary_id == carol.pk
    # A colleague picks Eli up from New.
    await bobs.expect("session.created", where=lambda e: e["session"]["id"] == world["eli"].pk)
    assert not await call(Membership.objects.monitoring().filter(librarian=alice).exists)
    await bobs.close()
    await eli_patron.close()


async def test_a_bulk_deactivation_that_sends_no_signal_is_caught_by_the_heartbeat(
    settings, chat, alice
):
    settings.HEARTBEAT_SECONDS = BEAT
    session = await call(chat, alice, name="Eli")
    _, headers = await call(logged_in, alice)
    console = await console_with(headers)
    await call(User.objects.filter(pk=alice.user_id).update, is_active=False)
    assert await closed_with(console, timeout=BEAT * 4) == 4403
    assert (await reload(session)).state == ChatSession.State.WAITING


async def test_removing_a_librarian_closes_his_consoles(dave):
    _, headers = await call(logged_in, dave)
    console = await console_with(headers)
    await call(lambda: get_user_model().objects.get(pk=dave.user_id).delete())
    assert await closed_with(console) == 4403


# --- Membership removal -----------------------------------------------------------


async def test_removing_a_membership_closes_her_consoles_and_requeues_what_she_held_there(
    chat, alice, bob, riverside, cooperative
):
    await monitor(alice, riverside, cooperative)
    there = await call(chat, alice, queue=riverside, name="Eli")
    elsewhere = await call(chat, alice, queue=cooperative, name="Fay")
    _, headers = await call(logged_in, alice)
    console = await console_with(headers)

    await call(lambda: Membership.objects.get(librarian=alice, queue=riverside).delete())

    assert await closed_with(console) == 4403
    requeued = await reload(there)
    assert requeued.state == ChatSession.State.WAITING
    assert (
        "staff",
        "Alice can no longer take this session (removed from Ask Riverside): it went back to "
        "Ask Riverside.",
    ) in await call(lines, requeued)
    kept = await reload(elsewhere)
    assert (kept.state, kept.primary_id) == (ChatSession.State.ACTIVE, alice.pk)
    # She logs in again: her console shows what she still may do.
    console = await console_of(alice, snapshot=False)
    snapshot = await console.expect("console.snapshot")
    assert [q["id"] for q in snapshot["queues"]] == [cooperative.pk]
    assert [s["id"] for s in snapshot["active"]] == [elsewhere.pk]
    await console.close()


async def test_the_admins_bulk_delete_of_memberships_closes_the_console(alice, riverside):
    _, headers = await call(logged_in, alice)
    console = await console_with(headers)
    # The admin's "delete selected": a queryset delete (which still sends signals).
    await call(Membership.objects.filter(librarian=alice, queue=riverside).delete)
    assert await closed_with(console) == 4403


async def test_a_membership_moved_by_a_bulk_update_is_caught_by_the_heartbeat(
    settings, chat, alice, riverside, archive
):
    settings.HEARTBEAT_SECONDS = BEAT
    session = await call(chat, alice, queue=riverside, name="Eli")
    _, headers = await call(logged_in, alice)
    console = await console_with(headers)
    await call(Membership.objects.filter(librarian=alice, queue=riverside).update, queue=archive)
    assert await closed_with(console, timeout=BEAT * 4) == 4403
    assert (await reload(session)).state == ChatSession.State.WAITING


# --- The receiver of a transfer -----------------------------------------------------


@pytest.mark.parametrize("change", ["membership", "account"])
async def test_a_transfer_is_refused_to_a_receiver_who_lost_access_unheard(
    change, chat, alice, bob, riverside
):
    await monitor(bob, riverside)
    session = await call(chat, alice, name="Eli")
    offer = await call(transfers.transfer_offer, session_id=session.pk, sender=alice,
                       receiver_id=bob.pk)  # fmt: skip
    # Changed without a signal: the offer is still open when Bob clicks OK.
    if change == "membership":
        rows = Membership.objects.filter(librarian=bob, queue=riverside)
        await call(rows._raw_delete, "default")  # a DELETE no receiver hears
    else:
        await call(User.objects.filter(pk=bob.user_id).update, is_active=False)

    with pytest.raises(ChatError) as refused:
        await call(transfers.transfer_accept, offer_id=offer.pk, librarian=bob)
    assert refused.value.code == "not_member"
    kept = await reload(session)
    assert kept.primary_id == alice.pk
    assert (await call(TransferOffer.objects.get, pk=offer.pk)).state == "open"
