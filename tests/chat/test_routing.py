"""Roll-over: who sees a waiting request, from when (chat/routing.py, queues/tiers.py).

The test world's cooperative queue keeps the default tiers: the patron's
own library at once, the cooperative's other librarians after 40 s, backup
librarians after 120 s. The rule runs on the database's clock, which a test
can't move: ``request_aged`` moves the request's stored times back instead,
which is the same as the time passing (on SQLite and on PostgreSQL alike).
"""

from typing import Any

import pytest

from chat import routing, sessions
from chat.models import ChatSession
from chat.selectors import waiting_sessions_for
from console.selectors import console_digests, console_snapshot_for
from core.errors import ChatError
from core.groups import queue_group
from queues.hours import queue_tiers
from queues.models import Membership, QueueTier
from queues.tiers import BACKUP, COOPERATIVE, HOME, Tier
from tests.helpers import at_once, fresh, refused, request_aged

pytestmark = pytest.mark.django_db


@pytest.fixture
def coop_shift(world) -> dict[str, Any]:
    """Alice and Bob (Riverside), Carol (Hillcrest) and Dave (Riverside,
    backup in the cooperative) all monitor the cooperative queue."""
    Membership.objects.create(librarian=world.dave, queue=world.cooperative, is_backup=True)
    Membership.objects.filter(queue=world.cooperative).update(is_monitoring=True)
    return {"alice": world.alice, "carol": world.carol, "dave": world.dave}


def new_list(librarian) -> list[int]:
    return list(waiting_sessions_for(librarian).values_list("pk", flat=True))


def test_a_request_reaches_its_library_at_once_the_cooperative_at_40_s_backup_at_120_s(
    coop_shift, ask, cooperative, riverside_library, alice, carol, dave
):
    session = ask(cooperative, library=riverside_library)
    assert (new_list(alice), new_list(carol), new_list(dave)) == ([session.pk], [], [])
    request_aged(session, 39)
    assert (new_list(carol), new_list(dave)) == ([], [])
    request_aged(session, 1)
    assert (new_list(carol), new_list(dave)) == ([session.pk], [])
    request_aged(session, 80)
    assert (new_list(alice), new_list(carol), new_list(dave)) == ([session.pk],) * 3


def test_each_new_list_says_the_library_and_whether_it_rolled_over(
    coop_shift, ask, cooperative, riverside_library, alice, carol, dave
):
    session = ask(cooperative, library=riverside_library)
    request_aged(session, 120)

    def row(librarian) -> dict[str, Any]:
        _, snapshot = console_snapshot_for(librarian.pk)
        (only,) = snapshot["waiting"]
        return only

    assert row(alice)["library"] == {"id": riverside_library.pk, "name": riverside_library.name}
    assert (row(alice)["rolled_over"], row(carol)["rolled_over"], row(dave)["rolled_over"]) == (
        False,
        True,
        True,
    )


def test_a_pick_up_before_ones_tier_is_refused_with_the_seconds_left_and_changes_nothing(
    coop_shift, ask, cooperative, riverside_library, carol, dave
):
    session = ask(cooperative, library=riverside_library)
    request_aged(session, 10)
    with refused("not_yet") as refusal:
        sessions.session_accept(session_id=session.pk, librarian=carol)
    assert refusal.message == "This request reaches you in 30 s."
    with refused("not_yet") as refusal:
        sessions.session_accept(session_id=session.pk, librarian=dave)
    assert refusal.message == "This request reaches you in 110 s."
    assert (fresh(session).state, fresh(session).primary) == (ChatSession.State.WAITING, None)
    assert session.messages.count() == 1

    request_aged(session, 30)
    assert sessions.session_accept(session_id=session.pk, librarian=carol).primary == carol


def test_a_group_no_tier_names_never_sees_the_request(
    coop_shift, ask, cooperative, riverside_library, carol, dave
):
    QueueTier.objects.create(queue=cooperative, after_seconds=0, home=True)
    QueueTier.objects.create(queue=cooperative, after_seconds=30, backup=True)
    cooperative.refresh_from_db()  # its page version moved: the tiers are read again
    assert queue_tiers(cooperative) == (
        Tier(0, frozenset({HOME})),
        Tier(30, frozenset({BACKUP})),
    )
    session = ask(cooperative, library=riverside_library)
    request_aged(session, 3600)
    assert (new_list(carol), new_list(dave)) == ([], [session.pk])
    with refused("not_routed") as refusal:
        sessions.session_accept(session_id=session.pk, librarian=carol)
    assert refusal.message == "This request goes to other librarians of the queue, not to you."


def test_one_tier_may_hold_several_groups(
    coop_shift, ask, cooperative, riverside_library, alice, carol, dave
):
    QueueTier.objects.create(queue=cooperative, after_seconds=0, home=True, cooperative=True)
    QueueTier.objects.create(queue=cooperative, after_seconds=15, backup=True)
    cooperative.refresh_from_db()
    session = ask(cooperative, library=riverside_library)
    assert (new_list(alice), new_list(carol), new_list(dave)) == ([session.pk], [session.pk], [])


def test_a_hillcrest_patron_reaches_carol_first_and_riverside_later(
    coop_shift, ask, cooperative, hillcrest_library, alice, carol
):
    session = ask(cooperative, library=hillcrest_library)
    assert (new_list(carol), new_list(alice)) == ([session.pk], [])


def test_the_first_tier_hears_of_a_request_and_each_later_one_once_when_its_time_comes(
    coop_shift, ask, cooperative, riverside_library, heard_by
):
    group = queue_group(cooperative.pk)
    made: list[ChatSession] = []
    heard = heard_by([group], lambda: made.append(ask(cooperative, library=riverside_library)))
    (created,) = heard[group]
    assert (created["to"], created["session"]["rolled_over"]) == ([HOME], False)
    session = made[0]

    # Nothing is due before 40 s, and a second look publishes nothing twice.
    assert heard_by([group], routing.rollover_due)[group] == []
    request_aged(session, 40)
    (rolled,) = heard_by([group], routing.rollover_due)[group]
    assert rolled["type"] == "session.created"
    assert (rolled["to"], rolled["session"]["id"], rolled["session"]["rolled_over"]) == (
        [COOPERATIVE],
        session.pk,
        True,
    )
    assert heard_by([group], routing.rollover_due)[group] == []
    request_aged(session, 80)
    (backup,) = heard_by([group], routing.rollover_due)[group]
    assert backup["to"] == [BACKUP]
    assert routing.rollover_due() == 0


def test_a_worker_down_past_two_tiers_publishes_both_in_one_event(
    coop_shift, ask, cooperative, riverside_library, heard_by
):
    session = ask(cooperative, library=riverside_library)
    request_aged(session, 200)
    group = queue_group(cooperative.pk)
    (rolled,) = heard_by([group], routing.rollover_due)[group]
    assert rolled["to"] == [BACKUP, COOPERATIVE]


def test_a_request_picked_up_or_ended_does_not_roll_over(
    coop_shift, ask, chat, cooperative, riverside_library, alice
):
    taken = chat(alice, queue=cooperative, library=riverside_library)
    ended = ask(cooperative, library=riverside_library, name="Eli")
    sessions.session_end_by_patron(session=ended)
    for session in (taken, ended):
        request_aged(session, 200)
    assert routing.rollover_due() == 0


def test_a_session_returned_to_the_queue_reaches_every_tier_at_once(
    coop_shift, chat, cooperative, riverside_library, alice, carol, dave, heard_by
):
    from chat import transfers

    session = chat(alice, queue=cooperative, library=riverside_library)
    group = queue_group(cooperative.pk)
    heard = heard_by(
        [group], lambda: transfers.transfer_to_queue(session_id=session.pk, sender=alice)
    )
    (created,) = (e for e in heard[group] if e["type"] == "session.created")
    assert created["to"] == [BACKUP, COOPERATIVE, HOME]
    assert (new_list(carol), new_list(dave)) == ([session.pk], [session.pk])
    assert routing.rollover_due() == 0


def test_the_console_digest_lists_only_what_reached_each_librarian(
    coop_shift, ask, cooperative, riverside_library, alice, carol, dave
):
    session = ask(cooperative, library=riverside_library)
    digests = console_digests([alice, carol, dave])
    assert [digests[x.pk]["waiting"] for x in (alice, carol, dave)] == [[session.pk], [], []]
    request_aged(session, 40)
    digests = console_digests([alice, carol, dave])
    assert [digests[x.pk]["waiting"] for x in (alice, carol, dave)] == [
        [session.pk],
        [session.pk],
        [],
    ]


@pytest.mark.django_db(transaction=True)
def test_two_tiers_clicking_as_it_rolls_over_one_wins_and_nothing_is_half_taken(
    coop_shift, no_maximum, ask, cooperative, riverside_library, alice, carol
):
    """Carol's tier comes as she and Alice click, with the worker's
    roll-over on a third thread: one of them holds the session, the other
    is told why, and the roll-over never publishes a taken request."""
    outcomes_seen = set()
    for round_ in range(12):
        session = ask(cooperative, library=riverside_library, name=f"Patron {round_}")
        # Carol's tier comes within a few milliseconds of the clicks.
        request_aged(session, 39.995)
        outcomes = at_once(
            alice=lambda s=session: sessions.session_accept(session_id=s.pk, librarian=alice),
            carol=lambda s=session: sessions.session_accept(session_id=s.pk, librarian=carol),
            worker=routing.rollover_due,
        )
        won = [n for n in ("alice", "carol") if isinstance(outcomes[n], ChatSession)]
        assert len(won) == 1, f"round {round_}: {outcomes}"
        (lost,) = {"alice", "carol"} - set(won)
        assert isinstance(outcomes[lost], ChatError), outcomes
        assert outcomes[lost].code in {"already_taken", "not_yet"}, outcomes
        outcomes_seen.add((won[0], outcomes[lost].code))
        fresh_session = fresh(session)
        assert fresh_session.state == ChatSession.State.ACTIVE
        assert fresh_session.primary_id == {"alice": alice, "carol": carol}[won[0]].pk
        assert fresh_session.messages.count() == 2  # the question, who joined
    assert routing.rollover_due() == 0


def test_on_the_real_clock_the_roll_over_comes_on_time_and_once(
    coop_shift, ask, cooperative, riverside_library, carol
):
    """No aged times here: the times as the database wrote them (on SQLite,
    text in two precisions), compared as the worker compares them."""
    import time

    QueueTier.objects.create(queue=cooperative, after_seconds=0, home=True)
    QueueTier.objects.create(queue=cooperative, after_seconds=1, cooperative=True)
    cooperative.refresh_from_db()
    started = time.monotonic()
    session = ask(cooperative, library=riverside_library)
    published = []
    while time.monotonic() - started < 2.5:
        if routing.rollover_due():
            published.append(time.monotonic() - started)
        time.sleep(0.05)
    assert len(published) == 1, published
    assert 0.95 <= published[0] < 1.5
    assert new_list(carol) == [session.pk]
