"""Hand-back (chat/handback.py): a Riverside patron's session that Carol of
Hillcrest took when it rolled over goes back to Riverside when it is back."""

from datetime import timedelta

import pytest
from django.db.models import F

from chat import handback, transfers
from chat.load import librarian_status_set
from chat.models import ChatSession, TransferOffer
from chat.payloads import session_detail
from queues.models import Membership
from shifts.services import monitoring_set
from tests.helpers import lines_of, refused

pytestmark = pytest.mark.django_db

HANDED_BACK = (
    "Carol has passed your question to Alice, a librarian of your own library, "
    "Riverside Public Library."
)


@pytest.fixture
def held_by_carol(chat, cooperative, riverside_library, carol) -> ChatSession:
    """Carol (Hillcrest) holds a Riverside patron's cooperative session."""
    monitoring_set(librarian=carol, queue_ids=[cooperative.pk])
    return chat(carol, queue=cooperative, library=riverside_library, name="Dana")


def test_the_holder_hands_it_back_and_the_patron_is_told_in_their_words(
    held_by_carol, cooperative, alice, carol
):
    assert session_detail(held_by_carol, [])["held_away"] is True
    monitoring_set(librarian=alice, queue_ids=[cooperative.pk])  # Riverside is back
    offer = handback.hand_back(session_id=held_by_carol.pk, sender=carol)
    assert (offer.receiver, offer.note) == (
        alice,
        "Hand-back to Riverside Public Library (their library is back).",
    )
    taken = transfers.transfer_accept(offer_id=offer.pk, librarian=alice)
    assert taken.primary == alice
    assert session_detail(taken, [])["held_away"] is False
    patron_lines = [text for _, kind, text in lines_of(taken) if kind == "system"]
    assert patron_lines[-1] == HANDED_BACK


def test_the_least_busy_librarian_of_the_library_who_can_take_it_gets_the_offer(
    held_by_carol, chat, cooperative, riverside, alice, bob, carol
):
    monitoring_set(librarian=alice, queue_ids=[cooperative.pk, riverside.pk])
    monitoring_set(librarian=bob, queue_ids=[cooperative.pk])
    chat(alice, name="Eli")  # Alice holds one, Bob none
    assert handback.hand_back(session_id=held_by_carol.pk, sender=carol).receiver == bob


def test_with_nobody_of_the_library_able_to_take_it_the_holder_is_told(
    held_by_carol, cooperative, alice, bob, carol
):
    with refused("no_home_librarian") as refusal:
        handback.hand_back(session_id=held_by_carol.pk, sender=carol)
    assert refusal.message == (
        "Nobody of Riverside Public Library who can take a chat monitors "
        "County Libraries Cooperative now."
    )
    monitoring_set(librarian=alice, queue_ids=[cooperative.pk])
    librarian_status_set(librarian=alice, status="away")
    with refused("no_home_librarian"):
        handback.hand_back(session_id=held_by_carol.pk, sender=carol)
    assert not TransferOffer.objects.exists()


def test_a_session_already_home_is_not_handed_back(chat, alice):
    session = chat(alice)
    with refused("already_home") as refusal:
        handback.hand_back(session_id=session.pk, sender=alice)
    assert refusal.message == "This patron is of your own library already."


def test_the_queue_may_offer_it_back_by_itself_once_per_holder(
    held_by_carol, cooperative, alice, carol
):
    cooperative.handback_after_seconds = 60
    cooperative.save()
    monitoring_set(librarian=alice, queue_ids=[cooperative.pk])
    assert handback.handback_due() == 0  # held for less than a minute
    ChatSession.objects.filter(pk=held_by_carol.pk).update(
        accepted_at=F("accepted_at") - timedelta(seconds=61)
    )
    assert handback.handback_due() == 1
    (offer,) = TransferOffer.objects.all()
    assert (offer.sender, offer.receiver) == (carol, alice)
    assert offer.note == "Hand-back to Riverside Public Library (automatically, after a while)."
    assert handback.handback_due() == 0  # an offer is open
    transfers.transfer_decline(offer_id=offer.pk, librarian=alice)
    assert handback.handback_due() == 0  # once per holder: Carol keeps it
    assert Membership.objects.filter(librarian=alice, is_monitoring=True).exists()
