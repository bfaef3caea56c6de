"""How busy a librarian is (chat/load.py): Available, Busy or Away, and a
maximum of simultaneous chats, at pick-up, in transfers, in the Librarians
list and in whether a queue is open."""

import pytest

from accounts.models import Librarian
from chat import sessions
from chat.availability import queue_availability
from chat.load import librarian_status_set
from chat.models import ChatSession
from chat.roster import librarian_row, with_shift_figures
from console.selectors import transfer_targets_payload
from core.groups import librarian_group, queue_group
from tests.chat.helpers import offer
from tests.helpers import at_once, fresh, refused

pytestmark = pytest.mark.django_db

AT_MAXIMUM = "You are at your maximum of {}: end one before you pick up another."


def monitor(librarian, *queues) -> None:
    from shifts.services import monitoring_set

    monitoring_set(librarian=librarian, queue_ids=[q.pk for q in queues])


def row_of(librarian) -> dict:
    return librarian_row(with_shift_figures(Librarian.objects.filter(pk=librarian.pk)).get())


def test_at_the_queues_maximum_a_pick_up_is_refused_and_nothing_is_half_taken(
    riverside, alice, chat, ask
):
    riverside.busy_at = 2
    riverside.save()
    monitor(alice, riverside)
    first, _ = chat(alice), chat(alice)
    third = ask(name="Eli")
    with refused("at_maximum") as refusal:
        sessions.session_accept(session_id=third.pk, librarian=alice)
    assert refusal.message == AT_MAXIMUM.format("2 chats")
    assert (fresh(third).state, fresh(third).primary) == (ChatSession.State.WAITING, None)
    assert third.messages.count() == 1
    assert row_of(alice)["status"] == "busy"
    assert (row_of(alice)["active"], row_of(alice)["max_sessions"]) == (2, 2)

    sessions.session_end_by_librarian(session_id=first.pk, librarian=alice)
    assert sessions.session_accept(session_id=third.pk, librarian=alice).primary == alice
    assert row_of(alice)["status"] == "busy"  # two again: at her maximum


def test_a_librarians_own_maximum_is_hers_in_every_queue(riverside, alice, chat, ask):
    Librarian.objects.filter(pk=alice.pk).update(max_sessions=1)
    alice.refresh_from_db()
    monitor(alice, riverside)
    chat(alice)
    with refused("at_maximum") as refusal:
        sessions.session_accept(session_id=ask(name="Eli").pk, librarian=alice)
    assert refusal.message == AT_MAXIMUM.format("1 chat")


def test_a_request_already_taken_says_so_even_at_ones_maximum(riverside, alice, bob, chat, ask):
    Librarian.objects.filter(pk=alice.pk).update(max_sessions=1)
    chat(alice)
    taken = chat(bob, name="Eli")
    with refused("already_taken"):
        sessions.session_accept(session_id=taken.pk, librarian=alice)


@pytest.mark.django_db(transaction=True)
def test_two_pick_ups_of_one_librarian_at_once_never_pass_her_maximum(riverside, alice, ask):
    Librarian.objects.filter(pk=alice.pk).update(max_sessions=1)
    for round_ in range(8):
        a, b = ask(name=f"A{round_}"), ask(name=f"B{round_}")
        outcomes = at_once(
            a=lambda s=a: sessions.session_accept(session_id=s.pk, librarian=alice),
            b=lambda s=b: sessions.session_accept(session_id=s.pk, librarian=alice),
        )
        won = [k for k, v in outcomes.items() if isinstance(v, ChatSession)]
        assert len(won) == 1, outcomes
        (lost,) = {"a", "b"} - set(won)
        assert getattr(outcomes[lost], "code", None) == "at_maximum", outcomes
        assert ChatSession.objects.filter(primary=alice, state="active").count() == 1
        ChatSession.objects.filter(primary=alice).update(state="closed")


def test_status_is_set_from_the_console_and_heard_by_her_consoles_and_colleagues(
    riverside, alice, bob, heard_by
):
    monitor(alice, riverside)
    monitor(bob, riverside)
    groups = [librarian_group(alice.pk), queue_group(riverside.pk)]
    heard = heard_by(groups, lambda: librarian_status_set(librarian=alice, status="away"))
    assert [
        e["status"] for e in heard[librarian_group(alice.pk)] if e["type"] == "status.changed"
    ] == ["away"]
    (updated,) = [e for e in heard[queue_group(riverside.pk)] if e["type"] == "librarian.updated"]
    assert (updated["librarian"]["id"], updated["librarian"]["status"]) == (alice.pk, "away")
    with refused("invalid_status") as refusal:
        librarian_status_set(librarian=alice, status="gone fishing")
    assert refusal.message == 'The status is one of "available", "busy" or "away".'
    assert Librarian.objects.get(pk=alice.pk).status == "away"


def test_the_status_api_counts_only_librarians_who_can_take_a_chat(riverside, alice, bob, chat):
    riverside.busy_at = 1
    riverside.save()
    monitor(alice, riverside)
    monitor(bob, riverside)
    assert queue_availability(riverside).librarians_online == 2
    chat(alice)  # at her maximum
    assert (
        queue_availability(riverside).state,
        queue_availability(riverside).librarians_online,
    ) == (
        "open",
        1,
    )
    librarian_status_set(librarian=bob, status="busy")
    busy = queue_availability(riverside)
    assert (busy.state, busy.reason, busy.librarians_online) == ("busy", "all_busy", 0)
    librarian_status_set(librarian=bob, status="away")
    librarian_status_set(librarian=alice, status="away")
    away = queue_availability(riverside)
    assert (away.state, away.reason) == ("closed", "unstaffed")


def test_transfers_skip_the_away_and_those_at_their_maximum_saying_why(
    riverside, cooperative, alice, bob, carol, chat
):
    monitor(alice, riverside, cooperative)
    monitor(bob, riverside, cooperative)
    monitor(carol, cooperative)
    session = chat(alice, queue=cooperative, library=alice.library)
    librarian_status_set(librarian=carol, status="away")
    Librarian.objects.filter(pk=bob.pk).update(max_sessions=1)
    chat(bob, name="Eli")
    targets = {
        row["display_name"]: (row["can_take"], row["unavailable"])
        for row in transfer_targets_payload(session_id=session.pk, librarian=alice)["librarians"]
    }
    assert targets == {
        "Bob": (False, "Bob is at their maximum of 1 chat."),
        "Carol": (False, "Carol is away."),
    }
    with refused("receiver_unavailable") as refusal:
        offer(session, alice, carol)
    assert refusal.message == "Carol is away. Transfer to another librarian, or to the queue."
    with refused("receiver_unavailable"):
        offer(session, alice, bob)
    librarian_status_set(librarian=carol, status="available")
    assert offer(session, alice, carol).receiver == carol
