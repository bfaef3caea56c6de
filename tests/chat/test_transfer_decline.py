"""Decline, Cancel, expiry, and back to the queue: Alice keeps the session, or the queue gets it.

Each settles the offer once and is recorded as a Librarian Note; the patron
hears nothing of an offer, and of a return to the queue only that they wait
for the next librarian.

The people are those of tests/chat/conftest.py: Alice holds Dana's session
in Ask Riverside (``held``), Bob monitors it too, Carol only the cooperative,
Dave only the archive. After every test the invariants hold (one primary per
active session, one open offer per session, from the librarian holding it).
"""

import json

import pytest

from chat import selectors, sessions, transfers
from chat.models import ChatSession, TransferOffer
from chat.payloads import session_row
from tests.chat.helpers import (
    group,
    notes_of,
    nothing_happened,
    of_type,
    offer,
    offer_accepted,
    offer_cancelled,
    offer_declined,
    offer_expired,
    state_of,
    types,
)
from tests.helpers import fresh, lines_of, refused
from tests.talk import librarian_says, patron_says

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("one_primary_per_active_session")]


# --- Decline, Cancel, expiry --------------------------------------------------------


def test_bob_declines_and_alice_keeps_the_session_and_is_told(held, alice, bob, heard_by):
    made = offer(held, alice, bob)
    patron = f"patron.{held.pk}"
    heard = heard_by(
        [group(alice), group(bob), patron],
        lambda: transfers.transfer_decline(offer_id=made.pk, librarian=bob),
    )
    made.refresh_from_db()
    assert made.state == TransferOffer.State.DECLINED
    assert fresh(held).primary == alice
    assert lines_of(held)[-1] == (4, "note", "Bob declined the transfer.")
    for librarian in (alice, bob):
        (declined,) = of_type(heard[group(librarian)], "transfer.declined")
        assert (declined["offer"]["id"], declined["offer"]["state"]) == (made.pk, "declined")
    assert heard[patron] == []
    librarian_says(session=held, librarian=alice, text="Still with you.", client_id=None)


@pytest.mark.parametrize(
    ("before", "clicker", "code"),
    [
        (nothing_happened, "alice", "not_yours"),
        (nothing_happened, "carol", "not_found"),
        (offer_declined, "bob", "offer_declined"),
        (offer_accepted, "bob", "offer_accepted"),
        (offer_cancelled, "bob", "offer_cancelled"),
        (offer_expired, "bob", "offer_expired"),
    ],
    ids=["by-the-sender", "by-carol", "twice", "after-ok", "after-cancel", "after-expiry"],
)
def test_a_decline_that_is_not_allowed_changes_nothing(
    on_shift, chat, cooperative, clock, request, before, clicker, code
):
    alice, bob = request.getfixturevalue("alice"), request.getfixturevalue("bob")
    session = chat(alice, queue=cooperative)
    made = offer(session, alice, bob)
    before({"clock": clock, "offer": made, "alice": alice, "bob": bob, "session": session})
    unchanged = state_of(session)
    with refused(code):
        transfers.transfer_decline(offer_id=made.pk, librarian=request.getfixturevalue(clicker))
    assert state_of(session) == unchanged


def test_alice_cancels_her_offer_and_both_are_told(held, alice, bob, heard_by):
    made = offer(held, alice, bob)
    heard = heard_by(
        [group(alice), group(bob), f"patron.{held.pk}"],
        lambda: transfers.transfer_cancel(offer_id=made.pk, librarian=alice),
    )
    made.refresh_from_db()
    assert made.state == TransferOffer.State.CANCELLED
    assert fresh(held).primary == alice
    assert lines_of(held)[-1] == (4, "note", "Alice cancelled the transfer request.")
    for librarian in (alice, bob):
        (cancelled,) = of_type(heard[group(librarian)], "transfer.cancelled")
        assert cancelled["reason"] == "Alice cancelled it."
    assert heard[f"patron.{held.pk}"] == []


@pytest.mark.parametrize(
    ("before", "clicker", "code", "message"),
    [
        (
            nothing_happened,
            "bob",
            "not_yours",
            "Only the librarian who offered the session can cancel it.",
        ),
        (nothing_happened, "carol", "not_found", "There is no such transfer offer of yours."),
        (offer_accepted, "alice", "offer_accepted", "Bob already took this session."),
        (offer_declined, "alice", "offer_declined", "Bob declined this transfer."),
        (offer_cancelled, "alice", "offer_cancelled", "This transfer offer was cancelled."),
    ],
    ids=["by-the-receiver", "by-carol", "after-ok", "after-decline", "twice"],
)
def test_a_cancel_that_is_not_allowed_changes_nothing(
    on_shift, chat, cooperative, clock, request, before, clicker, code, message
):
    alice, bob = request.getfixturevalue("alice"), request.getfixturevalue("bob")
    session = chat(alice, queue=cooperative)
    made = offer(session, alice, bob)
    before({"clock": clock, "offer": made, "alice": alice, "bob": bob, "session": session})
    unchanged = state_of(session)
    with refused(code) as refusal:
        transfers.transfer_cancel(offer_id=made.pk, librarian=request.getfixturevalue(clicker))
    assert refusal.message == message
    assert state_of(session) == unchanged


def test_the_sweep_expires_only_offers_past_their_time_and_only_once(
    on_shift, chat, alice, bob, carol, cooperative, clock, heard_by
):
    dana = chat(alice, name="Dana")
    to_bob = offer(dana, alice, bob)
    clock.advance(30)
    eli = chat(alice, name="Eli", queue=cooperative)
    to_carol = offer(eli, alice, carol)
    clock.advance(31)  # Bob's offer is 61 s old, Carol's 31 s

    swept: list[list[int]] = []
    groups = [group(alice), group(bob), group(carol)]
    heard = heard_by(groups, lambda: swept.append(transfers.transfer_expire_due()))
    assert swept == [[to_bob.pk]]
    to_bob.refresh_from_db()
    to_carol.refresh_from_db()
    assert (to_bob.state, to_carol.state) == ("expired", "open")
    assert fresh(dana).primary == alice
    expiry = "The transfer request to Bob expired without an answer."
    assert lines_of(dana)[-1] == (4, "note", expiry)
    for librarian in (alice, bob):
        (expired,) = of_type(heard[group(librarian)], "transfer.expired")
        assert expired["offer"]["id"] == to_bob.pk
    assert heard[group(carol)] == []

    # Every process sweeps: the next sweep finds nothing more to do.
    assert transfers.transfer_expire_due() == []
    assert notes_of(dana).count(expiry) == 1

    clock.advance(30)
    assert transfers.transfer_expire_due() == [to_carol.pk]


def test_after_an_expiry_alice_may_offer_again(held, alice, bob, clock):
    offer(held, alice, bob)
    clock.advance(61)
    transfers.transfer_expire_due()
    assert offer(held, alice, bob, note="Trying again").state == TransferOffer.State.OPEN


# --- Back to the queue --------------------------------------------------------------


def test_alice_returns_the_session_to_the_queue_marked_as_a_transfer(
    held, alice, bob, riverside, clock, heard_by
):
    clock.advance(300)
    patron = f"patron.{held.pk}"
    queue = f"queue.{riverside.pk}"
    heard = heard_by(
        [group(alice), group(bob), patron, queue],
        lambda: transfers.transfer_to_queue(
            session_id=held.pk, sender=alice, note="Needs someone who reads Spanish"
        ),
    )
    session = fresh(held)
    assert (session.state, session.primary) == (ChatSession.State.WAITING, None)
    assert session.waiting_since == clock.now
    assert (session.requeued_by, session.requeue_note) == (alice, "Needs someone who reads Spanish")
    assert lines_of(session)[-2:] == [
        (3, "note", "Alice returned the session to Ask Riverside: Needs someone who reads Spanish"),
        (4, "system", "Alice has passed your question to the next available librarian."),
    ]

    (created,) = of_type(heard[queue], "session.created")
    row = created["session"]
    assert (row["id"], row["state"], row["primary"]) == (held.pk, "waiting", None)
    assert row["waiting_since"] == clock.now.isoformat()
    assert row["transfer"] == {
        "from": "Alice",
        "from_id": alice.pk,
        "note": "Needs someone who reads Spanish",
    }
    assert {
        (e["librarian"]["display_name"], e["librarian"]["active"]) for e in heard[queue][1:]
    } >= {("Alice", 0)}
    assert of_type(heard[group(alice)], "session.requeued") == [
        {"type": "session.requeued", "session": held.pk, "queue": riverside.pk}
    ]
    # The patron hears that they wait for the next librarian, and nothing of the note.
    assert types(heard[patron]) == ["message.created", "session.requeued"]
    told = of_type(heard[patron], "message.created")[0]["message"]
    assert (told["seq"], told["text"]) == (
        3,
        "Alice has passed your question to the next available librarian.",
    )
    assert of_type(heard[patron], "session.requeued") == [{"type": "session.requeued"}]
    assert "Spanish" not in json.dumps(heard[patron])
    # Bob's New list has it, marked, and the patron may still write meanwhile.
    (waiting,) = [session_row(s) for s in selectors.waiting_sessions_for(bob)]
    assert waiting["transfer"]["from"] == "Alice"
    patron_says(session=held, text="Hello?", client_id=None)


def test_bob_picks_the_returned_session_up_and_the_patron_sees_him_join(held, alice, bob, heard_by):
    transfers.transfer_to_queue(session_id=held.pk, sender=alice, note="")
    assert lines_of(held)[-2:] == [
        (3, "note", "Alice returned the session to Ask Riverside."),
        (4, "system", "Alice has passed your question to the next available librarian."),
    ]
    patron = f"patron.{held.pk}"
    heard = heard_by([patron], lambda: sessions.session_accept(session_id=held.pk, librarian=bob))
    session = fresh(held)
    assert (session.state, session.primary) == (ChatSession.State.ACTIVE, bob)
    assert lines_of(session)[-2:] == [
        (5, "note", "Bob picked the session up from the queue."),
        (6, "system", "Bob has joined the chat."),
    ]
    assert session_row(session)["transfer"] is None
    assert sorted(types(heard[patron])) == ["message.created", "session.accepted"]
    assert "queue" not in of_type(heard[patron], "message.created")[0]["message"]["text"]


def test_a_session_cannot_go_back_to_the_queue_while_an_offer_is_open(held, alice, bob):
    made = offer(held, alice, bob)
    before = state_of(held)
    with refused("offer_open"):
        transfers.transfer_to_queue(session_id=held.pk, sender=alice, note="")
    assert state_of(held) == before
    transfers.transfer_cancel(offer_id=made.pk, librarian=alice)
    assert transfers.transfer_to_queue(session_id=held.pk, sender=alice).state == "waiting"


def test_only_the_librarian_holding_an_active_session_returns_it_to_the_queue(
    held, ask, alice, bob, dave
):
    before = state_of(held)
    with refused("not_primary"):
        transfers.transfer_to_queue(session_id=held.pk, sender=bob)
    with refused("not_found"):
        transfers.transfer_to_queue(session_id=held.pk, sender=dave)
    with refused("invalid_line"):
        transfers.transfer_to_queue(session_id=held.pk, sender=alice, note="n" * 501)
    assert state_of(held) == before
    with refused("not_primary"):
        transfers.transfer_to_queue(session_id=ask(name="Eli").pk, sender=alice)
    transfers.transfer_to_queue(session_id=held.pk, sender=alice)
    with refused("not_primary"):
        transfers.transfer_to_queue(session_id=held.pk, sender=alice)  # twice
