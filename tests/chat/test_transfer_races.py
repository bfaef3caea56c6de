"""Two people click at the same moment on one transfer: one wins, never both.

Real threads released together (``tests.helpers.at_once``), ten rounds each,
the invariants checked after every round.

The people are those of tests/chat/conftest.py: Alice holds Dana's session
in Ask Riverside (``held``), Bob monitors it too, Carol only the cooperative,
Dave only the archive. After every test the invariants hold (one primary per
active session, one open offer per session, from the librarian holding it).
"""

import time
from collections.abc import Callable

import pytest
from django.db.models import Q

from chat import sessions, transfers
from chat.models import ChatSession, TransferOffer
from core import events
from core.errors import ChatError
from tests.chat.helpers import accept, assert_invariants, group, notes_of, offer
from tests.helpers import at_once, fresh, lines_of

ROUNDS = 10

# Round after round of pick-ups by the same librarians: no maximum.
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("one_primary_per_active_session"),
    pytest.mark.usefixtures("no_maximum"),
]


# --- Races: two people click at the same moment -----------------------------------------------


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[str, ...]]]:
    """What leaves after commit, whichever thread commits it: (type, groups)."""
    out: list[tuple[str, tuple[str, ...]]] = []
    monkeypatch.setattr(events, "_send", lambda event, groups: out.append((event["type"], groups)))
    return out


def refusal_of(outcome: object, round_: int) -> str:
    assert isinstance(outcome, ChatError), f"round {round_}: {outcome!r}"
    return outcome.code


def handicap(round_: int, move: Callable[..., object]) -> Callable[[], object]:
    """``move``, started a few milliseconds after the barrier in odd rounds.

    OK does a lookup before its transaction, so an End Session or Cancel
    released at the same instant nearly always gets in first; the handicap
    lets the rounds try the other interleaving too.
    """

    def run() -> object:
        time.sleep(0.004 * (round_ % 2) * (1 + round_ % 3))
        return move()

    return run


PASSED_TO_BOB = "Alice has passed your question to Bob."


def joined_lines(session: ChatSession) -> list[str]:
    """The patron's lines about who has their question, in order."""
    told = Q(text__endswith="has joined the chat.") | Q(text__contains="passed your question")
    return list(
        session.messages.filter(told, kind="system").order_by("seq").values_list("text", flat=True)
    )


@pytest.mark.django_db(transaction=True)
def test_ok_and_cancel_at_once_one_wins_never_both(on_shift, chat, alice, bob, sent):
    for round_ in range(ROUNDS):
        session = chat(alice, name=f"Patron {round_}")
        made = offer(session, alice, bob)
        outcomes = at_once(
            ok=lambda o=made: accept(o, bob),
            cancel=handicap(
                round_, lambda o=made: transfers.transfer_cancel(offer_id=o.pk, librarian=alice)
            ),
        )
        session = fresh(session)
        made.refresh_from_db()
        if isinstance(outcomes["ok"], ChatSession):
            assert refusal_of(outcomes["cancel"], round_) == "offer_accepted"
            assert (made.state, session.primary) == ("accepted", bob)
            assert joined_lines(session) == ["Alice has joined the chat.", PASSED_TO_BOB]
        else:
            assert refusal_of(outcomes["ok"], round_) == "offer_cancelled"
            assert isinstance(outcomes["cancel"], TransferOffer)
            assert (made.state, session.primary) == ("cancelled", alice)
            assert joined_lines(session) == ["Alice has joined the chat."]
        settled = [n for n in notes_of(session) if "accepted" in n or "cancelled" in n]
        assert len(settled) == 1, f"round {round_}: {settled}"
        assert_invariants()


@pytest.mark.django_db(transaction=True)
def test_ok_and_the_expiry_sweep_at_the_deadline_one_wins(on_shift, chat, alice, bob, sent):
    for round_ in range(ROUNDS):
        session = chat(alice, name=f"Patron {round_}")
        made = offer(session, alice, bob)
        # OK is clicked in time; the sweep runs at the deadline, in another process.
        outcomes = at_once(
            ok=lambda o=made: accept(o, bob),
            sweep=handicap(round_, lambda o=made: transfers.transfer_expire_due(now=o.expires_at)),
        )
        session = fresh(session)
        made.refresh_from_db()
        assert not isinstance(outcomes["sweep"], Exception), f"round {round_}: {outcomes}"
        if isinstance(outcomes["ok"], ChatSession):
            assert outcomes["sweep"] == []
            assert (made.state, session.primary) == ("accepted", bob)
            assert len(joined_lines(session)) == 2
        else:
            assert refusal_of(outcomes["ok"], round_) == "offer_expired"
            assert outcomes["sweep"] == [made.pk]
            assert (made.state, session.primary) == ("expired", alice)
            assert len(joined_lines(session)) == 1
        assert_invariants()


@pytest.mark.django_db(transaction=True)
def test_ok_and_the_patron_ending_at_once_end_the_session_and_tell_both_librarians(
    on_shift, chat, alice, bob, sent
):
    for round_ in range(ROUNDS):
        session = chat(alice, name=f"Patron {round_}")
        made = offer(session, alice, bob)
        sent.clear()
        outcomes = at_once(
            ok=lambda o=made: accept(o, bob),
            end=handicap(
                round_,
                lambda s=session: sessions.session_end_by_patron(
                    session=ChatSession.objects.get(pk=s.pk)
                ),
            ),
        )
        # The patron's End Session always works.
        assert isinstance(outcomes["end"], ChatSession), f"round {round_}: {outcomes}"
        session = fresh(session)
        made.refresh_from_db()
        assert (session.state, session.closed_by) == ("closed", "patron")
        texts = [text for _, _, text in lines_of(session)]
        assert texts.count("Patron ended chat session") == 1
        if isinstance(outcomes["ok"], ChatSession):
            assert (made.state, session.primary) == ("accepted", bob)
            assert texts[-3:] == [
                "Bob accepted the transfer and took the session.",
                PASSED_TO_BOB,
                "Patron ended chat session",
            ]
        else:
            assert refusal_of(outcomes["ok"], round_) == "session_closed"
            assert (made.state, session.primary) == ("cancelled", alice)
            assert texts[-2:] == [
                "Patron ended chat session",
                "The transfer request to Bob was withdrawn: the session ended.",
            ]
            assert PASSED_TO_BOB not in texts
            # Bob's box closes and Alice's "waiting for an answer" ends.
            withdrawn = [groups for kind, groups in sent if kind == "transfer.cancelled"]
            assert withdrawn == [(group(alice), group(bob))], f"round {round_}"
        closed = [groups for kind, groups in sent if kind == "session.closed"]
        assert len(closed) == 1, f"round {round_}"
        assert session.primary is not None
        assert group(session.primary) in closed[0]
        assert_invariants()


@pytest.mark.django_db(transaction=True)
def test_two_offers_for_one_session_at_once_make_one(
    on_shift, chat, alice, bob, carol, cooperative, sent
):
    # Alice clicks Transfer in two tabs: to Bob in one, to Carol in the other.
    for round_ in range(ROUNDS):
        coop = chat(alice, name=f"Patron {round_}", queue=cooperative)
        outcomes = at_once(
            to_bob=lambda s=coop: offer(s, alice, bob),
            to_carol=lambda s=coop: offer(s, alice, carol),
        )
        made = [o for o in outcomes.values() if isinstance(o, TransferOffer)]
        assert len(made) == 1, f"round {round_}: {outcomes}"
        (other,) = [o for o in outcomes.values() if not isinstance(o, TransferOffer)]
        assert refusal_of(other, round_) == "offer_open"
        assert list(coop.offers.values_list("pk", flat=True)) == [made[0].pk]
        requests = [n for n in notes_of(coop) if n.startswith("Transfer request")]
        assert len(requests) == 1, f"round {round_}: {requests}"
        assert_invariants()


@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_ok_takes_the_session_once(on_shift, chat, alice, bob, sent):
    for round_ in range(ROUNDS):
        session = chat(alice, name=f"Patron {round_}")
        made = offer(session, alice, bob)
        sent.clear()
        outcomes = at_once(
            first=lambda o=made: accept(o, bob), second=lambda o=made: accept(o, bob)
        )
        won = [name for name, o in outcomes.items() if isinstance(o, ChatSession)]
        assert len(won) == 1, f"round {round_}: {outcomes}"
        (lost,) = set(outcomes) - set(won)
        assert refusal_of(outcomes[lost], round_) == "offer_accepted"
        session = fresh(session)
        assert session.primary == bob
        assert joined_lines(session) == ["Alice has joined the chat.", PASSED_TO_BOB]
        assert notes_of(session).count("Bob accepted the transfer and took the session.") == 1
        # The patron was told once.
        patron_events = [t for t, groups in sent if f"patron.{session.pk}" in groups]
        assert patron_events.count("session.accepted") == 1
        assert_invariants()


@pytest.mark.django_db(transaction=True)
def test_an_offer_and_the_patron_ending_at_once_leave_no_offer_open(
    on_shift, chat, alice, bob, sent
):
    for round_ in range(ROUNDS):
        session = chat(alice, name=f"Patron {round_}")
        outcomes = at_once(
            offer=lambda s=session: offer(s, alice, bob),
            end=lambda s=session: sessions.session_end_by_patron(
                session=ChatSession.objects.get(pk=s.pk)
            ),
        )
        assert isinstance(outcomes["end"], ChatSession), f"round {round_}: {outcomes}"
        if isinstance(outcomes["offer"], TransferOffer):
            # Made just before the end: the end withdrew it, and Bob's box closed.
            made = outcomes["offer"]
            made.refresh_from_db()
            assert made.state == TransferOffer.State.CANCELLED, f"round {round_}"
        else:
            assert refusal_of(outcomes["offer"], round_) == "session_closed"
            assert not TransferOffer.objects.filter(session=session).exists()
        assert_invariants()


@pytest.mark.django_db(transaction=True)
def test_an_offer_and_a_return_to_the_queue_at_once_do_not_both_happen(
    on_shift, chat, alice, bob, sent
):
    # Alice's two tabs: Transfer to Bob in one, Transfer to the queue in the other.
    for round_ in range(ROUNDS):
        session = chat(alice, name=f"Patron {round_}")
        outcomes = at_once(
            offer=lambda s=session: offer(s, alice, bob),
            requeue=lambda s=session: transfers.transfer_to_queue(session_id=s.pk, sender=alice),
        )
        done = [name for name, o in outcomes.items() if not isinstance(o, Exception)]
        assert len(done) == 1, f"round {round_}: {outcomes}"
        refusal = outcomes["requeue" if done == ["offer"] else "offer"]
        assert refusal_of(refusal, round_) in {"offer_open", "not_primary"}
        assert_invariants()
