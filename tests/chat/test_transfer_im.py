"""Librarian Notes by hand, the IM arranging a transfer, and the transfer in Chat History.

An IM opened from the Transfer dialog is tied to the session: its lines are
stored there as Librarian Notes as they are said, and a settled transfer
leaves the tie as the IM pane shows it (tests/im/test_im_about.py has the
About select that changes it).

The people are those of tests/chat/conftest.py: Alice holds Dana's session
in Ask Riverside (``held``), Bob monitors it too, Carol only the cooperative,
Dave only the archive. After every test the invariants hold (one primary per
active session, one open offer per session, from the librarian holding it).
"""

from typing import Any

import pytest

from accounts.models import Librarian
from chat import sessions, transfers
from chat.models import ChatSession, Message
from im import services as ims
from im.models import ImSession
from shifts import services as shifts
from tests.chat.helpers import NOTE, accept, group, notes_of, offer, say_im, state_of
from tests.helpers import fresh, lines_of, logged_in, refused
from tests.talk import librarian_notes, librarian_says, patron_says

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("one_primary_per_active_session")]


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
    say_im(im, alice, "Thanks Bob")  # after the OK: still about this session

    assert lines_of(held)[2:] == [
        (3, "patron", "Are you still there?"),
        (4, "note", "IM to Bob: Can you take a genealogy question?"),
        (5, "note", "IM to Alice: Sure, send it over"),
        (6, "librarian", "Getting a colleague for you."),
        (7, "note", f"Transfer request to Bob: {NOTE}"),
        (8, "note", "Bob accepted the transfer and took the session."),
        (9, "system", "Alice has passed your question to Bob."),
        (10, "note", "IM to Bob: Thanks Bob"),
    ]
    authors = dict(held.messages.filter(seq__in=[4, 5]).values_list("seq", "author__display_name"))
    assert authors == {4: "Alice", 5: "Bob"}
    assert not held.messages.patron_visible().filter(kind=Message.Kind.NOTE).exists()
    assert fresh_im(im).about_session_id == held.pk
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
def test_however_the_transfer_is_settled_the_im_stays_about_the_session_until_untied(
    held, alice, bob, clock, how
):
    im, _ = ims.im_open(initiator=alice, recipient_id=bob.pk, about_session_id=held.pk)
    say_im(im, bob, "Ready when you are")
    _settle(how, held, alice, bob, clock)
    notes = notes_of(held)
    assert notes[0] == "IM to Alice: Ready when you are"

    say_im(im, alice, "How did it go?")
    assert notes_of(held) == [*notes, "IM to Bob: How did it go?"]
    # "No patron session" in the About select: the rest stays private.
    ims.im_about_set(im_id=im.pk, librarian=bob, session_id=None)
    say_im(im, bob, "Lunch later?")
    say_im(im, alice, "Sure")
    assert notes_of(held) == [*notes, "IM to Bob: How did it go?"]
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
    assert refusal.message == (
        "An IM can be about a patron session you are chatting in, and this one is not."
    )
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
        ("system", "Alice has passed your question to Bob."),
        ("note", "Sent the census links"),
        ("system", "Librarian ended chat session"),
    ]
    assert [(m.kind, m.text) for m in held.messages.order_by("seq")] == expected
    assert shown == [(kind, kind == "note") for kind, _ in expected]
    for item, (_, text) in zip(items, expected, strict=True):
        assert text in item
