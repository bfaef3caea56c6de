"""Handing a patron session to a colleague: offer, OK, Decline, Cancel, expiry, back to the queue.

Alice holds Dana's session in Ask Riverside unless a test says otherwise.
Alice and Bob monitor Ask Riverside and the cooperative, Carol monitors only
the cooperative, Dave only the archive (he shares nothing with the others).
The handshake is enforced: the session stays Alice's until Bob clicks OK,
and a refused move changes nothing. The negotiation is recorded in the
session's Chat History as Librarian Notes; the patron only ever hears who
joined.
"""

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Count

from accounts.models import Librarian
from chat import selectors, sessions, transfers
from chat.models import ChatSession, Message, TransferOffer
from chat.payloads import session_row
from core import events
from core.errors import ChatError
from im import services as ims
from im.models import ImSession
from shifts import services as shifts
from tests.helpers import at_once, fresh, lines_of, logged_in, refused
from tests.talk import librarian_notes, librarian_says, patron_says

pytestmark = pytest.mark.django_db

NOTE = "Wants 1900s census records; Bob knows the genealogy databases."
ROUNDS = 10


# --- People and helpers -----------------------------------------------------------


@pytest.fixture
def on_shift(alice, bob, carol, dave, riverside, cooperative, archive) -> None:
    shifts.monitoring_set(librarian=alice, queue_ids=[riverside.pk, cooperative.pk])
    shifts.monitoring_set(librarian=bob, queue_ids=[riverside.pk, cooperative.pk])
    shifts.monitoring_set(librarian=carol, queue_ids=[cooperative.pk])
    shifts.monitoring_set(librarian=dave, queue_ids=[archive.pk])


@pytest.fixture
def held(on_shift, chat, alice) -> ChatSession:
    """Dana's session in Ask Riverside, picked up by Alice (lines 1 and 2)."""
    return chat(alice)


@pytest.fixture(autouse=True)
def one_primary_per_active_session(request: pytest.FixtureRequest) -> Any:
    """After every test: the invariants of the issue hold in the database."""
    yield
    if "world" in request.fixturenames:
        assert_invariants()


def assert_invariants() -> None:
    """Every active session has exactly one primary, a waiting one none; an open offer
    is one of its kind for its session, and comes from the librarian holding it."""
    for session in ChatSession.objects.all():
        if session.state == ChatSession.State.ACTIVE:
            assert session.primary_id is not None, f"active session {session.pk} has no primary"
        if session.state == ChatSession.State.WAITING:
            assert session.primary_id is None, f"waiting session {session.pk} has a primary"
    open_offers = TransferOffer.objects.filter(state=TransferOffer.State.OPEN)
    assert not open_offers.values("session").annotate(n=Count("pk")).filter(n__gt=1).exists()
    for offer in open_offers.select_related("session"):
        assert offer.session.state == ChatSession.State.ACTIVE, f"open offer {offer.pk}"
        assert offer.session.primary_id == offer.sender_id, f"open offer {offer.pk}"


def offer(
    session: ChatSession, sender: Librarian, receiver: Librarian, note: str = NOTE
) -> TransferOffer:
    return transfers.transfer_offer(
        session_id=session.pk, sender=sender, receiver_id=receiver.pk, note=note
    )


def accept(made: TransferOffer, librarian: Librarian) -> ChatSession:
    return transfers.transfer_accept(offer_id=made.pk, librarian=librarian)


def group(librarian: Librarian) -> str:
    return f"librarian.{librarian.pk}"


def types(heard: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in heard]


def of_type(heard: list[dict[str, Any]], type_: str) -> list[dict[str, Any]]:
    return [e for e in heard if e["type"] == type_]


def state_of(session: ChatSession) -> tuple[Any, ...]:
    """What a refused move must leave as it was: who holds it, every line, every offer."""
    session = fresh(session)
    return (
        session.state,
        session.primary_id,
        lines_of(session),
        list(session.offers.order_by("pk").values_list("pk", "state")),
        list(ImSession.objects.order_by("pk").values_list("pk", "about_session_id")),
    )


def notes_of(session: ChatSession) -> list[str]:
    return list(session.messages.filter(kind=Message.Kind.NOTE).values_list("text", flat=True))


def say_im(im: ImSession, who: Librarian, text: str) -> None:
    ims.im_post(im_id=im.pk, librarian=who, text=text, client_id=None)


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


# --- OK --------------------------------------------------------------------------


def test_bob_clicks_ok_and_takes_the_session_with_the_whole_conversation(
    held, alice, bob, riverside, heard_by
):
    patron_says(session=held, text="I'm looking for my great-grandfather", client_id=None)
    made = offer(held, alice, bob)
    patron = f"patron.{held.pk}"
    groups = [group(alice), group(bob), patron, f"queue.{riverside.pk}"]
    heard = heard_by(groups, lambda: accept(made, bob))

    session = fresh(held)
    assert (session.state, session.primary) == (ChatSession.State.ACTIVE, bob)
    made.refresh_from_db()
    assert made.state == TransferOffer.State.ACCEPTED
    assert made.resolved_at is not None
    assert lines_of(session)[-3:] == [
        (4, "note", f"Transfer request to Bob: {NOTE}"),
        (5, "note", "Bob accepted the transfer and took the session."),
        (6, "system", "Bob has joined the chat."),
    ]

    # The patron hears who joined, and nothing of the negotiation.
    assert sorted(types(heard[patron])) == ["message.created", "session.accepted"]
    (joined,) = of_type(heard[patron], "message.created")
    # The patron's numbering skips the notes: question, "Alice has joined", a line, this.
    assert (joined["message"]["seq"], joined["message"]["text"]) == (4, "Bob has joined the chat.")
    (told,) = of_type(heard[patron], "session.accepted")
    assert told["librarian"] == {"id": bob.pk, "display_name": "Bob"}

    # Alice's view turns read-only with the line saying who took it.
    (for_alice,) = heard[group(alice)]
    assert for_alice["type"] == "transfer.accepted"
    assert for_alice["offer"]["state"] == "accepted"
    assert (for_alice["line"]["seq"], for_alice["line"]["note"]) == (5, True)
    assert for_alice["line"]["text"] == "Bob accepted the transfer and took the session."
    assert "detail" not in for_alice

    # Bob's console opens it under My Active, every line included.
    (for_bob,) = of_type(heard[group(bob)], "transfer.accepted")
    detail = for_bob["detail"]
    assert detail["id"] == held.pk
    assert detail["state"] == "active"
    assert detail["primary"]["display_name"] == "Bob"
    assert [(m["seq"], m["kind"], m["text"]) for m in detail["messages"]] == lines_of(session)
    assert "line" not in for_bob

    # The Librarians lists show the new Active counts.
    rows = [e["librarian"] for e in of_type(heard[f"queue.{riverside.pk}"], "librarian.updated")]
    assert {(r["display_name"], r["active"]) for r in rows} == {("Alice", 0), ("Bob", 1)}
    assert [s.pk for s in selectors.active_sessions_for(bob)] == [held.pk]
    assert list(selectors.active_sessions_for(alice)) == []


def test_after_ok_only_bob_chats_ends_or_transfers(held, alice, bob):
    accept(offer(held, alice, bob), bob)
    with refused("not_primary"):
        librarian_says(session=held, librarian=alice, text="Still me", client_id=None)
    with refused("not_primary"):
        sessions.session_end_by_librarian(session_id=held.pk, librarian=alice)
    with refused("not_primary"):
        offer(held, alice, bob)
    with refused("not_primary"):
        transfers.transfer_to_queue(session_id=held.pk, sender=alice)

    librarian_says(session=held, librarian=bob, text="Hi Dana, Bob here.", client_id=None)
    back = offer(held, bob, alice, note="Back to you")
    assert accept(back, alice).primary == alice
    sessions.session_end_by_librarian(session_id=held.pk, librarian=alice)
    assert fresh(held).closed_by == ChatSession.ClosedBy.LIBRARIAN


def test_with_join_lines_turned_off_the_patron_only_learns_the_new_name(
    on_shift, chat, alice, bob, riverside, heard_by
):
    riverside.announce_join = False
    riverside.save()
    session = chat(alice)
    made = offer(session, alice, bob)
    patron = f"patron.{session.pk}"
    heard = heard_by([patron], lambda: accept(made, bob))
    assert heard[patron] == [
        {
            "type": "session.accepted",
            "session": session.pk,
            "queue": riverside.pk,
            "librarian": {"id": bob.pk, "display_name": "Bob"},
        }
    ]
    assert lines_of(session)[-1] == (3, "note", "Bob accepted the transfer and took the session.")
    assert not session.messages.filter(text__endswith="has joined the chat.").exists()


# Each late or wrong OK is refused with a clear error and changes nothing.
def _expired_not_yet_swept(ctx: dict[str, Any]) -> None:
    ctx["clock"].advance(61)


def _expired_and_swept(ctx: dict[str, Any]) -> None:
    ctx["clock"].advance(61)
    assert transfers.transfer_expire_due() == [ctx["offer"].pk]


def _cancelled(ctx: dict[str, Any]) -> None:
    transfers.transfer_cancel(offer_id=ctx["offer"].pk, librarian=ctx["alice"])


def _declined(ctx: dict[str, Any]) -> None:
    transfers.transfer_decline(offer_id=ctx["offer"].pk, librarian=ctx["bob"])


def _patron_ended(ctx: dict[str, Any]) -> None:
    sessions.session_end_by_patron(session=ctx["session"])


def _accepted(ctx: dict[str, Any]) -> None:
    accept(ctx["offer"], ctx["bob"])


def _nothing(ctx: dict[str, Any]) -> None:
    pass


EXPIRED = "This transfer offer has expired."
LATE_OR_WRONG_OK = [
    # (what happened first, who clicks OK, code, message)
    ("expired", _expired_not_yet_swept, "bob", "offer_expired", "This transfer offer has expired."),
    (
        "expired-swept",
        _expired_and_swept,
        "bob",
        "offer_expired",
        "This transfer offer has expired.",
    ),
    ("cancelled", _cancelled, "bob", "offer_cancelled", "This transfer offer was cancelled."),
    ("declined", _declined, "bob", "offer_declined", "Bob declined this transfer."),
    (
        "patron-ended",
        _patron_ended,
        "bob",
        "session_closed",
        "The patron's session ended before you took it.",
    ),
    ("twice", _accepted, "bob", "offer_accepted", "Bob already took this session."),
    ("by-the-sender", _nothing, "alice", "not_yours", "This transfer offer is not for you."),
    ("by-carol", _nothing, "carol", "not_found", "There is no such transfer offer of yours."),
    ("by-dave", _nothing, "dave", "not_found", "There is no such transfer offer of yours."),
]


@pytest.mark.parametrize(
    ("before_ok", "clicker", "code", "message"),
    [case[1:] for case in LATE_OR_WRONG_OK],
    ids=[case[0] for case in LATE_OR_WRONG_OK],
)
def test_a_late_or_wrong_ok_is_refused_and_changes_nothing(
    on_shift, chat, cooperative, clock, request, before_ok, clicker, code, message, heard_by
):
    alice, bob = request.getfixturevalue("alice"), request.getfixturevalue("bob")
    # The cooperative: Carol monitors it and may read the session, yet it isn't her offer.
    session = chat(alice, queue=cooperative)
    made = offer(session, alice, bob)
    before_ok({"clock": clock, "offer": made, "alice": alice, "bob": bob, "session": session})
    before = state_of(session)
    who = request.getfixturevalue(clicker)

    groups = [group(alice), group(bob), f"patron.{session.pk}"]
    refusal = refused(code)

    def click_ok() -> None:
        with refusal:
            accept(made, who)

    heard = heard_by(groups, click_ok)
    assert refusal.message == message
    assert state_of(session) == before
    assert heard == {g: [] for g in groups}


def test_ok_at_the_very_moment_of_expiry_is_too_late(held, alice, bob, clock):
    made = offer(held, alice, bob)
    clock.advance(59.999)
    assert transfers.transfer_expire_due() == []
    clock.advance(0.001)
    with refused("offer_expired"):
        accept(made, bob)
    assert fresh(held).primary == alice
    assert transfers.transfer_expire_due() == [made.pk]


def test_when_the_patron_leaves_the_open_offer_is_withdrawn_and_both_are_told(
    held, alice, bob, heard_by
):
    made = offer(held, alice, bob)
    heard = heard_by(
        [group(alice), group(bob)], lambda: sessions.session_end_by_patron(session=held)
    )
    made.refresh_from_db()
    assert made.state == TransferOffer.State.CANCELLED
    for librarian in (alice, bob):
        (withdrawn,) = of_type(heard[group(librarian)], "transfer.cancelled")
        assert withdrawn["offer"]["id"] == made.pk
        assert withdrawn["reason"] == "The session ended."
    assert of_type(heard[group(alice)], "session.closed")
    assert lines_of(held)[-2:] == [
        (4, "system", "Patron ended chat session"),
        (5, "note", "The transfer request to Bob was withdrawn: the session ended."),
    ]


def test_when_alice_ends_the_session_herself_the_offer_is_withdrawn_too(held, alice, bob):
    made = offer(held, alice, bob)
    sessions.session_end_by_librarian(session_id=held.pk, librarian=alice)
    made.refresh_from_db()
    assert made.state == TransferOffer.State.CANCELLED
    with refused("session_closed"):
        accept(made, bob)


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
        (_nothing, "alice", "not_yours"),
        (_nothing, "carol", "not_found"),
        (_declined, "bob", "offer_declined"),
        (_accepted, "bob", "offer_accepted"),
        (_cancelled, "bob", "offer_cancelled"),
        (_expired_not_yet_swept, "bob", "offer_expired"),
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
            _nothing,
            "bob",
            "not_yours",
            "Only the librarian who offered the session can cancel it.",
        ),
        (_nothing, "carol", "not_found", "There is no such transfer offer of yours."),
        (_accepted, "alice", "offer_accepted", "Bob already took this session."),
        (_declined, "alice", "offer_declined", "Bob declined this transfer."),
        (_cancelled, "alice", "offer_cancelled", "This transfer offer was cancelled."),
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
    assert lines_of(session)[-1] == (
        3,
        "note",
        "Alice returned the session to Ask Riverside: Needs someone who reads Spanish",
    )

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
    assert heard[patron] == []
    # Bob's New list has it, marked, and the patron may still write meanwhile.
    (waiting,) = [session_row(s) for s in selectors.waiting_sessions_for(bob)]
    assert waiting["transfer"]["from"] == "Alice"
    patron_says(session=held, text="Hello?", client_id=None)


def test_bob_picks_the_returned_session_up_and_the_patron_sees_him_join(held, alice, bob, heard_by):
    transfers.transfer_to_queue(session_id=held.pk, sender=alice, note="")
    assert lines_of(held)[-1] == (3, "note", "Alice returned the session to Ask Riverside.")
    patron = f"patron.{held.pk}"
    heard = heard_by([patron], lambda: sessions.session_accept(session_id=held.pk, librarian=bob))
    session = fresh(held)
    assert (session.state, session.primary) == (ChatSession.State.ACTIVE, bob)
    assert lines_of(session)[-2:] == [
        (4, "note", "Bob picked the session up from the queue."),
        (5, "system", "Bob has joined the chat."),
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


# --- Librarian Notes written by hand ----------------------------------------------------


def test_the_primary_writes_a_note_the_patron_never_sees(held, alice, heard_by):
    made: list[tuple[Message, bool]] = []
    patron = f"patron.{held.pk}"
    heard = heard_by(
        [group(alice), patron],
        lambda: made.append(
            librarian_notes(
                session_id=held.pk,
                librarian=alice,
                text="Regular; prefers large print",
                client_id="n-1",
            )
        ),
    )
    ((note, created),) = made
    assert created
    assert (note.seq, note.kind, note.visibility, note.author) == (3, "note", "staff", alice)
    (live,) = heard[group(alice)]
    assert live["type"] == "message.created"
    assert (live["message"]["note"], live["message"]["text"]) == (
        True,
        "Regular; prefers large print",
    )
    assert heard[patron] == []
    assert not held.messages.patron_visible().filter(pk=note.pk).exists()

    again, created_again = librarian_notes(
        session_id=held.pk, librarian=alice, text="Regular; prefers large print", client_id="n-1"
    )
    assert (again.pk, created_again) == (note.pk, False)
    assert fresh(held).last_seq == 3


def test_a_note_follows_the_same_rules_as_a_line(held, ask, alice, bob, dave):
    before = state_of(held)
    with refused("not_primary"):
        librarian_notes(session_id=held.pk, librarian=bob, text="Hi")
    with refused("not_found"):
        librarian_notes(session_id=held.pk, librarian=dave, text="Hi")
    for text in ["", "   ", "x" * 4001]:
        with refused("invalid_line"):
            librarian_notes(session_id=held.pk, librarian=alice, text=text)
    assert state_of(held) == before
    note, _ = librarian_notes(session_id=held.pk, librarian=alice, text="x" * 4000)
    assert len(note.text) == 4000

    with refused("session_waiting"):
        librarian_notes(session_id=ask(name="Eli").pk, librarian=alice, text="Hi")
    sessions.session_end_by_patron(session=held)
    with refused("session_closed"):
        librarian_notes(session_id=held.pk, librarian=alice, text="Afterwards")


# --- IM from the Transfer dialog ---------------------------------------------------------


def test_the_im_arranging_a_transfer_is_kept_as_notes_in_time_order(held, alice, bob):
    im, created = ims.im_open(initiator=alice, recipient_id=bob.pk, about_session_id=held.pk)
    assert created
    assert fresh_im(im).about_session_id == held.pk

    patron_says(session=held, text="Are you still there?", client_id=None)
    say_im(im, alice, "Can you take a genealogy question?")
    say_im(im, bob, "Sure, send it over")
    librarian_says(
        session=held, librarian=alice, text="Getting a colleague for you.", client_id=None
    )
    accept(offer(held, alice, bob), bob)
    say_im(im, alice, "Thanks Bob")  # after the OK: no longer about this session

    assert lines_of(held)[2:] == [
        (3, "patron", "Are you still there?"),
        (4, "note", "IM to Bob: Can you take a genealogy question?"),
        (5, "note", "IM to Alice: Sure, send it over"),
        (6, "librarian", "Getting a colleague for you."),
        (7, "note", f"Transfer request to Bob: {NOTE}"),
        (8, "note", "Bob accepted the transfer and took the session."),
        (9, "system", "Bob has joined the chat."),
    ]
    authors = dict(held.messages.filter(seq__in=[4, 5]).values_list("seq", "author__display_name"))
    assert authors == {4: "Alice", 5: "Bob"}
    assert not held.messages.patron_visible().filter(kind=Message.Kind.NOTE).exists()
    assert fresh_im(im).about_session_id is None
    assert fresh_im(im).last_seq == 3


def fresh_im(im: ImSession) -> ImSession:
    return ImSession.objects.get(pk=im.pk)


def _settle(how: str, session: ChatSession, alice: Librarian, bob: Librarian, clock: Any) -> None:
    if how == "requeued":
        transfers.transfer_to_queue(session_id=session.pk, sender=alice)
        return
    made = offer(session, alice, bob)
    if how == "accepted":
        accept(made, bob)
    elif how == "declined":
        transfers.transfer_decline(offer_id=made.pk, librarian=bob)
    elif how == "cancelled":
        transfers.transfer_cancel(offer_id=made.pk, librarian=alice)
    elif how == "expired":
        clock.advance(61)
        assert transfers.transfer_expire_due() == [made.pk]


@pytest.mark.parametrize("how", ["accepted", "declined", "expired", "cancelled", "requeued"])
def test_once_the_transfer_is_settled_later_im_lines_stay_out_of_the_session(
    held, alice, bob, clock, how
):
    im, _ = ims.im_open(initiator=alice, recipient_id=bob.pk, about_session_id=held.pk)
    say_im(im, bob, "Ready when you are")
    _settle(how, held, alice, bob, clock)
    notes = notes_of(held)
    assert notes[0] == "IM to Alice: Ready when you are"

    say_im(im, bob, "Lunch later?")
    say_im(im, alice, "Sure")
    assert notes_of(held) == notes
    assert fresh_im(im).about_session_id is None


def test_an_im_already_open_is_linked_when_opened_again_from_the_dialog(held, alice, bob):
    first, _ = ims.im_open(initiator=alice, recipient_id=bob.pk)
    say_im(first, bob, "Quiet evening")
    again, created = ims.im_open(initiator=alice, recipient_id=bob.pk, about_session_id=held.pk)
    assert (again.pk, created) == (first.pk, False)
    say_im(first, alice, "Could you take a patron?")
    assert notes_of(held) == ["IM to Bob: Could you take a patron?"]


def test_the_dialog_ims_anyone_monitoring_the_sessions_queue(
    on_shift, chat, alice, carol, riverside, cooperative
):
    # Alice monitors only Ask Riverside now but holds a cooperative session;
    # Carol monitors only the cooperative: they share no monitored queue.
    session = chat(alice, queue=cooperative)
    shifts.monitoring_set(librarian=alice, queue_ids=[riverside.pk])
    with refused("not_available"):
        ims.im_open(initiator=alice, recipient_id=carol.pk)

    im, created = ims.im_open(initiator=alice, recipient_id=carol.pk, about_session_id=session.pk)
    assert created
    say_im(im, carol, "I can take it")
    assert notes_of(session) == ["IM to Alice: I can take it"]


def test_the_dialog_ims_only_about_a_session_you_hold(held, ask, alice, bob, dave):
    with refused("not_primary") as refusal:
        ims.im_open(initiator=bob, recipient_id=alice.pk, about_session_id=held.pk)
    assert refusal.message == "Only the librarian chatting with this patron can transfer it."
    with refused("not_primary"):
        ims.im_open(initiator=alice, recipient_id=bob.pk, about_session_id=ask(name="Eli").pk)
    with refused("not_found"):
        ims.im_open(initiator=dave, recipient_id=alice.pk, about_session_id=held.pk)
    assert not ImSession.objects.exists()


# --- Chat History ---------------------------------------------------------------------------


def test_chat_history_shows_the_transfer_as_librarian_notes_in_order(held, alice, bob):
    im, _ = ims.im_open(initiator=alice, recipient_id=bob.pk, about_session_id=held.pk)
    say_im(im, alice, "Can you take a genealogy question?")
    say_im(im, bob, "Sure, send it over")
    made = offer(held, alice, bob, note="Census records 1900 to 1920")
    transfers.transfer_decline(offer_id=made.pk, librarian=bob)
    accept(offer(held, alice, bob, note="Second try"), bob)
    librarian_notes(session_id=held.pk, librarian=bob, text="Sent the census links")
    sessions.session_end_by_librarian(session_id=held.pk, librarian=bob)

    page = logged_in(alice).get(f"/console/history/{held.pk}/").content.decode()
    items = page.split('<li class="line line-')[1:]
    shown = [(item.split('"')[0], "Librarian Note" in item) for item in items]
    expected = [
        ("patron", "Do you have large-print copies of Middlemarch?"),
        ("system", "Alice has joined the chat."),
        ("note", "IM to Bob: Can you take a genealogy question?"),
        ("note", "IM to Alice: Sure, send it over"),
        ("note", "Transfer request to Bob: Census records 1900 to 1920"),
        ("note", "Bob declined the transfer."),
        ("note", "Transfer request to Bob: Second try"),
        ("note", "Bob accepted the transfer and took the session."),
        ("system", "Bob has joined the chat."),
        ("note", "Sent the census links"),
        ("system", "Librarian ended chat session"),
    ]
    assert [(m.kind, m.text) for m in held.messages.order_by("seq")] == expected
    assert shown == [(kind, kind == "note") for kind, _ in expected]
    for item, (_, text) in zip(items, expected, strict=True):
        assert text in item


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


ALICE_JOINED = "Alice has joined the chat."
BOB_JOINED = "Bob has joined the chat."


def joined_lines(session: ChatSession) -> list[str]:
    return list(
        session.messages.filter(text__endswith="has joined the chat.").values_list(
            "text", flat=True
        )
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
            assert joined_lines(session) == [
                "Alice has joined the chat.",
                "Bob has joined the chat.",
            ]
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
                "Bob has joined the chat.",
                "Patron ended chat session",
            ]
        else:
            assert refusal_of(outcomes["ok"], round_) == "session_closed"
            assert (made.state, session.primary) == ("cancelled", alice)
            assert texts[-2:] == [
                "Patron ended chat session",
                "The transfer request to Bob was withdrawn: the session ended.",
            ]
            assert "Bob has joined the chat." not in texts
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
        assert joined_lines(session) == ["Alice has joined the chat.", "Bob has joined the chat."]
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
