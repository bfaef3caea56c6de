"""Bob clicks OK: he takes the session, with the whole conversation.

A late or wrong OK is refused with a clear error and changes nothing; an
open offer is withdrawn when the session ends. The patron only ever hears
who joined, never the negotiation.

The people are those of tests/chat/conftest.py: Alice holds Dana's session
in Ask Riverside (``held``), Bob monitors it too, Carol only the cooperative,
Dave only the archive. After every test the invariants hold (one primary per
active session, one open offer per session, from the librarian holding it).
"""

import pytest

from chat import selectors, sessions, transfers
from chat.models import ChatSession, TransferOffer
from tests.chat.helpers import (
    NOTE,
    accept,
    group,
    nothing_happened,
    of_type,
    offer,
    offer_accepted,
    offer_cancelled,
    offer_declined,
    offer_expired,
    offer_expired_and_swept,
    session_ended_by_patron,
    state_of,
    types,
)
from tests.helpers import fresh, lines_of, refused
from tests.talk import librarian_says, patron_says

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("one_primary_per_active_session")]


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
        (6, "system", "Alice has passed your question to Bob."),
    ]

    # The patron hears who passed the question to whom, and nothing of the negotiation.
    assert sorted(types(heard[patron])) == ["message.created", "session.accepted"]
    (joined,) = of_type(heard[patron], "message.created")
    # The patron's numbering skips the notes: question, "Alice has joined", a line, this.
    assert (joined["message"]["seq"], joined["message"]["text"]) == (
        4,
        "Alice has passed your question to Bob.",
    )
    (told,) = of_type(heard[patron], "session.accepted")
    assert told["librarian"] == {"id": bob.pk, "display_name": "Bob"}

    # Alice's view turns read-only with the line saying who took it; her
    # console offers her the wrap-up of her part (wrapup/).
    assert types(heard[group(alice)]) == ["hold.ended", "transfer.accepted"]
    (for_alice,) = of_type(heard[group(alice)], "transfer.accepted")
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
EXPIRED = "This transfer offer has expired."
LATE_OR_WRONG_OK = [
    # (what happened first, who clicks OK, code, message)
    ("expired", offer_expired, "bob", "offer_expired", "This transfer offer has expired."),
    (
        "expired-swept",
        offer_expired_and_swept,
        "bob",
        "offer_expired",
        "This transfer offer has expired.",
    ),
    (
        "cancelled",
        offer_cancelled,
        "bob",
        "offer_cancelled",
        "This transfer offer was cancelled.",
    ),
    ("declined", offer_declined, "bob", "offer_declined", "Bob declined this transfer."),
    (
        "patron-ended",
        session_ended_by_patron,
        "bob",
        "session_closed",
        "The patron's session ended before you took it.",
    ),
    ("twice", offer_accepted, "bob", "offer_accepted", "Bob already took this session."),
    (
        "by-the-sender",
        nothing_happened,
        "alice",
        "not_yours",
        "This transfer offer is not for you.",
    ),
    (
        "by-carol",
        nothing_happened,
        "carol",
        "not_found",
        "There is no such transfer offer of yours.",
    ),
    ("by-dave", nothing_happened, "dave", "not_found", "There is no such transfer offer of yours."),
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
