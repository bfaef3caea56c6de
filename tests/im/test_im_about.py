"""An IM about a patron session: its lines are Librarian Notes of that session, as they are said.

The help page: ask a colleague with "either the IM tab or the Transfer
button", and "the IM messages … will appear in the Chat History as
Librarian Notes". An IM session is tied to a patron session when it is
opened (the session selected in My Active, or the one being transferred) or
in the About select of the IM pane; untied, it stays private.

Alice holds Dana's session in Ask Riverside (``held``); Alice and Bob
monitor Ask Riverside and the cooperative, Carol only the cooperative, Dave
only the archive (tests/chat/conftest.py's people, here by hand).
"""

import pytest

from chat import sessions
from chat.models import ChatSession, Message
from im import services as ims
from im.models import ImMessage, ImSession
from shifts import services as shifts
from tests.helpers import lines_of, refused
from tests.talk import librarian_says, patron_says

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_shift(alice, bob, carol, dave, riverside, cooperative, archive) -> None:
    shifts.monitoring_set(librarian=alice, queue_ids=[riverside.pk, cooperative.pk])
    shifts.monitoring_set(librarian=bob, queue_ids=[riverside.pk, cooperative.pk])
    shifts.monitoring_set(librarian=carol, queue_ids=[cooperative.pk])
    shifts.monitoring_set(librarian=dave, queue_ids=[archive.pk])


@pytest.fixture
def held(on_shift, chat, alice) -> ChatSession:
    """Dana's session, picked up by Alice (lines 1 and 2)."""
    return chat(alice)


def say(im: ImSession, who, text: str) -> ImMessage:
    message, _ = ims.im_post(im_id=im.pk, librarian=who, text=text, client_id=None)
    return message


def notes_of(session: ChatSession) -> list[str]:
    return list(
        session.messages.filter(kind=Message.Kind.NOTE)
        .order_by("seq")
        .values_list("text", flat=True)
    )


def about_of(im: ImSession) -> int | None:
    return ImSession.objects.values_list("about_session_id", flat=True).get(pk=im.pk)


def test_an_im_from_the_im_tab_about_the_selected_session_is_kept_as_notes_in_order(
    held, alice, bob
):
    # The IM tab opens the IM with the session Alice has selected in My Active.
    im, created = ims.im_open(initiator=alice, recipient_id=bob.pk, about_session_id=held.pk)
    assert created
    patron_says(session=held, text="Is it the 1871 edition?", client_id=None)
    first = say(im, alice, "Do you know the Middlemarch editions?")
    second = say(im, bob, "The 1871 one is in Special Collections")
    librarian_says(session=held, librarian=alice, text="One moment, please.", client_id=None)
    third = say(im, alice, "Thanks!")

    assert lines_of(held)[2:] == [
        (3, "patron", "Is it the 1871 edition?"),
        (4, "note", "IM to Bob: Do you know the Middlemarch editions?"),
        (5, "note", "IM to Alice: The 1871 one is in Special Collections"),
        (6, "librarian", "One moment, please."),
        (7, "note", "IM to Bob: Thanks!"),
    ]
    authors = list(
        held.messages.filter(kind=Message.Kind.NOTE)
        .order_by("seq")
        .values_list("author__display_name", flat=True)
    )
    assert authors == ["Alice", "Bob", "Alice"]
    assert [m.noted_in_id for m in (first, second, third)] == [held.pk] * 3
    assert not held.messages.patron_visible().filter(kind=Message.Kind.NOTE).exists()


def test_an_im_tied_to_nothing_stays_private(held, alice, bob):
    im, _ = ims.im_open(initiator=alice, recipient_id=bob.pk)
    line = say(im, alice, "Lunch at one?")
    say(im, bob, "Sure")
    assert notes_of(held) == []
    assert line.noted_in_id is None
    assert lines_of(held)[2:] == []


def test_the_about_select_ties_unties_and_retargets_and_both_sides_hear_it(
    held, chat, alice, bob, events_of
):
    im, _ = ims.im_open(initiator=alice, recipient_id=bob.pk)
    say(im, alice, "Quiet evening")  # private

    heard = events_of(
        [f"librarian.{alice.pk}", f"librarian.{bob.pk}"],
        lambda: ims.im_about_set(im_id=im.pk, librarian=alice, session_id=held.pk),
    )
    tied = {
        "type": "im.about.changed",
        "im": im.pk,
        "about": {"id": held.pk, "patron_name": "Dana"},
    }
    assert heard == [tied, tied]
    say(im, bob, "What does she need?")

    ims.im_about_set(im_id=im.pk, librarian=bob, session_id=None)  # "No patron session"
    say(im, alice, "Never mind, private again")
    assert about_of(im) is None

    # Bob ties it to a session of his own: now his lines and Alice's go there.
    his = chat(bob, name="Eli")
    ims.im_about_set(im_id=im.pk, librarian=bob, session_id=his.pk)
    say(im, alice, "About Eli then")

    assert notes_of(held) == ["IM to Alice: What does she need?"]
    assert notes_of(his) == ["IM to Bob: About Eli then"]


def test_an_im_is_only_about_a_session_you_are_chatting_in(held, ask, alice, bob, dave):
    im, _ = ims.im_open(initiator=alice, recipient_id=bob.pk)
    with refused("not_primary") as refusal:
        ims.im_about_set(im_id=im.pk, librarian=bob, session_id=held.pk)
    assert refusal.message == (
        "An IM can be about a patron session you are chatting in, and this one is not."
    )
    with refused("not_primary"):
        ims.im_about_set(im_id=im.pk, librarian=alice, session_id=ask(name="Eli").pk)
    with refused("not_found"):
        ims.im_about_set(im_id=im.pk, librarian=alice, session_id=10**6)
    with refused("not_found"):  # not Dave's IM session
        ims.im_about_set(im_id=im.pk, librarian=dave, session_id=None)
    with refused("not_found"):
        ims.im_about_set(im_id=im.pk, librarian=alice, session_id="twelve")
    assert about_of(im) is None

    ims.im_end(im_id=im.pk, librarian=bob)
    with refused("im_ended"):
        ims.im_about_set(im_id=im.pk, librarian=alice, session_id=held.pk)
    assert about_of(im) is None


def test_opening_again_with_another_selected_session_retargets_the_tie(held, chat, alice, bob):
    im, _ = ims.im_open(initiator=alice, recipient_id=bob.pk, about_session_id=held.pk)
    other = chat(alice, name="Eli")
    again, created = ims.im_open(initiator=alice, recipient_id=bob.pk, about_session_id=other.pk)
    assert (again.pk, created) == (im.pk, False)
    say(im, bob, "Eli's turn")
    assert notes_of(held) == []
    assert notes_of(other) == ["IM to Alice: Eli's turn"]


def test_a_settled_transfer_leaves_the_tie_as_the_pane_shows_it(held, alice, bob):
    from chat import transfers

    im, _ = ims.im_open(initiator=alice, recipient_id=bob.pk, about_session_id=held.pk)
    say(im, alice, "Can you take Dana?")
    offer = transfers.transfer_offer(session_id=held.pk, sender=alice, receiver_id=bob.pk)
    transfers.transfer_accept(offer_id=offer.pk, librarian=bob)
    say(im, bob, "Got her, thanks")
    assert about_of(im) == held.pk
    assert notes_of(held)[0] == "IM to Bob: Can you take Dana?"
    assert notes_of(held)[-1] == "IM to Alice: Got her, thanks"


def test_once_the_patron_session_ends_the_im_goes_on_privately_and_both_sides_hear_it(
    held, alice, bob, events_of
):
    im, _ = ims.im_open(initiator=alice, recipient_id=bob.pk, about_session_id=held.pk)
    sessions.session_end_by_patron(session=held)
    made: list[ImMessage] = []
    heard = events_of(
        [f"librarian.{bob.pk}"], lambda: made.append(say(im, alice, "She left, never mind"))
    )
    assert [e["type"] for e in heard] == ["im.about.changed", "im.message.created"]
    assert heard[0]["about"] is None
    assert heard[1]["message"]["noted_in"] is None
    assert made[0].noted_in_id is None
    assert notes_of(held) == []
    assert about_of(im) is None
