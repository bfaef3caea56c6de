"""Offering a patron session to a colleague: who may offer it, to whom, with what note.

The handshake is enforced: the session stays Alice's until Bob clicks OK,
and a refused move changes nothing. The offer's note is kept in the
session's Chat History as a Librarian Note; the patron hears nothing of it.

The people are those of tests/chat/conftest.py: Alice holds Dana's session
in Ask Riverside (``held``), Bob monitors it too, Carol only the cooperative,
Dave only the archive. After every test the invariants hold (one primary per
active session, one open offer per session, from the librarian holding it).
"""

from datetime import timedelta

import pytest

from chat import sessions, transfers
from chat.models import ChatSession, TransferOffer
from shifts import services as shifts
from tests.chat.helpers import NOTE, group, of_type, offer, state_of, types
from tests.helpers import fresh, lines_of, refused
from tests.talk import librarian_says, patron_says

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("one_primary_per_active_session")]


# --- Offering --------------------------------------------------------------------


def test_alice_offers_the_session_to_bob_and_both_consoles_hear_of_it(
    held, alice, bob, carol, riverside, clock, heard_by
):
    riverside.transfer_offer_seconds = 90
    riverside.save()
    made: list[TransferOffer] = []
    groups = [group(alice), group(bob), group(carol), f"patron.{held.pk}", f"queue.{riverside.pk}"]
    heard = heard_by(groups, lambda: made.append(offer(held, alice, bob)))

    (made_offer,) = made
    assert made_offer.state == TransferOffer.State.OPEN
    assert made_offer.expires_at == clock.now + timedelta(seconds=90)
    assert lines_of(held)[-1] == (3, "note", f"Transfer request to Bob: {NOTE}")
    assert fresh(held).primary == alice

    for librarian in (alice, bob):
        (offered,) = of_type(heard[group(librarian)], "transfer.offered")
        box = offered["offer"]
        assert box["id"] == made_offer.pk
        assert box["state"] == "open"
        assert box["session"]["id"] == held.pk
        assert box["session"]["patron_name"] == "Dana"
        assert box["session"]["question"] == "Do you have large-print copies of Middlemarch?"
        assert box["session"]["queue"] == {"id": riverside.pk, "name": "Ask Riverside"}
        assert box["note"] == NOTE
        assert (box["sender"]["display_name"], box["receiver"]["display_name"]) == ("Alice", "Bob")
        assert box["expires_at"] == made_offer.expires_at.isoformat()
    # The request note is Alice's (she holds the session); Bob only gets the box.
    assert types(heard[group(alice)]) == ["message.created", "transfer.offered"]
    assert heard[group(alice)][0]["message"]["note"] is True
    assert types(heard[group(bob)]) == ["transfer.offered"]
    assert heard[group(carol)] == []
    assert heard[f"patron.{held.pk}"] == []
    assert heard[f"queue.{riverside.pk}"] == []


def test_an_offer_without_a_note_says_so_plainly_and_a_note_is_tidied(held, alice, bob):
    made = offer(held, alice, bob, note="")
    assert made.note == ""
    assert lines_of(held)[-1] == (3, "note", "Transfer request to Bob.")
    transfers.transfer_cancel(offer_id=made.pk, librarian=alice)

    spaced = offer(held, alice, bob, note="  needs \n\n a  Spanish\tspeaker ")
    assert spaced.note == "needs a Spanish speaker"


def test_a_note_of_500_characters_is_taken_and_501_refused(held, alice, bob):
    before = state_of(held)
    with refused("invalid_line") as refusal:
        offer(held, alice, bob, note="n" * 501)
    assert refusal.message == "A transfer note can be at most 500 characters."
    assert state_of(held) == before
    assert len(offer(held, alice, bob, note="n" * 500).note) == 500


def test_a_note_that_is_not_text_is_a_bad_frame(held, alice, bob):
    before = state_of(held)
    with refused("bad_frame"):
        offer(held, alice, bob, note=["census"])  # type: ignore[arg-type]
    assert state_of(held) == before


def test_only_the_librarian_holding_the_session_may_offer_it(held, alice, bob):
    before = state_of(held)
    with refused("not_primary") as refusal:
        offer(held, bob, alice)
    assert refusal.message == "Only the librarian chatting with this patron can transfer it."
    assert state_of(held) == before


def test_a_waiting_request_cannot_be_offered(on_shift, ask, alice, bob):
    session = ask()
    with refused("not_primary"):
        offer(session, alice, bob)
    assert not TransferOffer.objects.exists()
    assert fresh(session).state == ChatSession.State.WAITING


def test_an_ended_session_cannot_be_offered(held, alice, bob):
    sessions.session_end_by_patron(session=held)
    before = state_of(held)
    with refused("session_closed") as refusal:
        offer(held, alice, bob)
    assert refusal.message == "This chat session has ended."
    assert state_of(held) == before


def test_only_a_librarian_monitoring_the_queue_can_receive_it(held, alice, bob, carol, riverside):
    shifts.monitoring_set(librarian=bob, queue_ids=[])
    before = state_of(held)
    with refused("not_available") as refusal:
        offer(held, alice, bob)
    assert refusal.message == (
        "Bob is not monitoring Ask Riverside: "
        "transfer to a librarian monitoring it, or to the queue."
    )
    # Carol monitors the cooperative, not this queue (she isn't even a member).
    with refused("not_available"):
        offer(held, alice, carol)
    assert state_of(held) == before


def test_an_offer_to_yourself_or_to_nobody_is_refused(held, alice):
    before = state_of(held)
    with refused("transfer_self") as refusal:
        offer(held, alice, alice)
    assert refusal.message == "You already have this session."
    with refused("not_found") as refusal:
        transfers.transfer_offer(session_id=held.pk, sender=alice, receiver_id=987654, note="")
    assert refusal.message == "There is no such librarian."
    assert state_of(held) == before


def test_dave_outside_the_queue_cannot_offer_or_even_see_the_session(held, alice, dave):
    before = state_of(held)
    with refused("not_found") as refusal:
        offer(held, dave, alice)
    assert refusal.message == "There is no such chat session in your queues."
    assert state_of(held) == before


def test_one_open_offer_per_session_until_it_is_answered(
    on_shift, chat, alice, bob, carol, cooperative
):
    session = chat(alice, queue=cooperative)
    first = offer(session, alice, bob)
    before = state_of(session)
    with refused("offer_open") as refusal:
        offer(session, alice, carol, note="Or Carol?")
    assert refusal.message == "This session already has an open transfer offer: cancel it first."
    with refused("offer_open"):
        offer(session, alice, bob, note="Again")
    assert state_of(session) == before

    transfers.transfer_decline(offer_id=first.pk, librarian=bob)
    second = offer(session, alice, bob, note="Please, it is a quick one")
    assert second.state == TransferOffer.State.OPEN


def test_while_the_offer_is_open_alice_still_chats_and_bob_cannot(held, alice, bob):
    made = offer(held, alice, bob)
    line, _ = librarian_says(
        session=held, librarian=alice, text="A colleague will help you shortly.", client_id=None
    )
    assert line.seq == 4
    patron_says(session=held, text="Thank you", client_id=None)
    with refused("not_primary"):
        librarian_says(session=held, librarian=bob, text="Hi", client_id=None)
    with refused("not_primary"):
        sessions.session_end_by_librarian(session_id=held.pk, librarian=bob)
    assert fresh(held).primary == alice
    made.refresh_from_db()
    assert made.state == TransferOffer.State.OPEN
