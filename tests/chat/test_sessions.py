"""A chat session's life, move by move: what each person may do and what they are told otherwise.

Asking, the pick-up, lines both ways and the end of the chat, through the
services of chat/sessions.py and the line store. The transcript the end
makes due is in tests/transcripts/test_transcript.py.
"""

import pytest

from chat import sessions
from chat.models import ChatSession, Message
from tests.helpers import fresh, lines_of, refused, request_aged
from tests.talk import librarian_says, patron_says

pytestmark = pytest.mark.django_db


# --- A patron asks --------------------------------------------------------


def test_asking_makes_a_waiting_session_whose_first_line_is_the_question(
    ask, riverside, riverside_library, events_of
):
    made = []
    heard = events_of(
        [f"queue.{riverside.pk}"],
        lambda: made.append(ask(name="  Dana   K ", question="Where is the  tax form?  ")),
    )
    session = fresh(made[0])
    assert session.state == ChatSession.State.WAITING
    assert session.primary is None
    assert session.patron_name == "Dana K"
    assert session.library == riverside_library
    assert lines_of(session) == [(1, "patron", "Where is the  tax form?")]
    assert session.messages.get().author_name == "Dana K"
    assert [e["type"] for e in heard] == ["session.created"]
    assert heard[0]["session"]["id"] == session.pk
    assert heard[0]["session"]["patron_email"] is None


def test_a_cooperative_queue_takes_patrons_of_each_of_its_libraries(
    ask, cooperative, hillcrest_library
):
    session = ask(cooperative, library=hillcrest_library)
    assert session.library == hillcrest_library
    assert session.state == ChatSession.State.WAITING


def test_a_closed_queue_takes_no_requests(ask, riverside):
    riverside.is_open = False
    riverside.save()
    with refused("queue_closed") as refusal:
        ask(riverside)
    assert refusal.message == "This chat service is closed right now."
    assert not ChatSession.objects.exists()


def test_a_queue_that_requires_email_refuses_a_patron_without_one(ask, hillcrest):
    with refused("email_required"):
        ask(hillcrest, email="   ")
    assert not ChatSession.objects.exists()
    assert ask(hillcrest, email="dana@example.org").patron_email == "dana@example.org"


def test_an_email_that_is_not_an_address_is_refused(ask):
    with refused("invalid_email"):
        ask(email="dana at home")
    assert not ChatSession.objects.exists()


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("", "A message can't be empty."),
        ("   \n\t ", "A message can't be empty."),
        ("x" * 4001, "A message can be at most 4,000 characters; this one has 4,001."),
    ],
    ids=["empty", "white-space", "4001-chars"],
)
def test_an_empty_or_oversized_question_is_refused(ask, question, message):
    with refused("invalid_line") as refusal:
        ask(question=question)
    assert refusal.message == message
    assert not ChatSession.objects.exists()


def test_a_question_of_exactly_4000_characters_is_taken(ask):
    session = ask(question="q" * 4000)
    assert len(session.messages.get().text) == 4000


def test_a_library_the_queue_does_not_serve_is_refused(ask, riverside, hillcrest_library):
    with refused("invalid_library"):
        ask(riverside, library=hillcrest_library)
    assert not ChatSession.objects.exists()


# --- A librarian picks the request up --------------------------------------


def test_a_member_picks_up_a_waiting_request(ask, alice, riverside, events_of):
    session = ask()
    heard = events_of(
        [f"queue.{riverside.pk}", f"patron.{session.pk}", f"librarian.{alice.pk}"],
        lambda: sessions.session_accept(session_id=session.pk, librarian=alice),
    )
    session = fresh(session)
    assert session.state == ChatSession.State.ACTIVE
    assert session.primary == alice
    assert session.accepted_at is not None
    assert lines_of(session)[-1] == (2, "system", "Alice has joined the chat.")
    accepted = [e for e in heard if e["type"] == "session.accepted"]
    # One for the queue's monitors, one for the patron, one (with the whole
    # session) for Alice's own consoles.
    assert len(accepted) == 3
    assert [e["librarian"]["display_name"] for e in accepted] == ["Alice"] * 3
    with_detail = [e for e in accepted if "detail" in e]
    assert len(with_detail) == 1
    assert [m["seq"] for m in with_detail[0]["detail"]["messages"]] == [1, 2]


def test_a_colleague_in_a_cooperative_queue_picks_up_from_another_library_once_it_rolls_over(
    ask, cooperative, hillcrest_library, alice
):
    # A Hillcrest patron: Alice of Riverside is the cooperative's, 40 s on.
    session = ask(cooperative, library=hillcrest_library)
    with refused("not_yet") as refusal:
        sessions.session_accept(session_id=session.pk, librarian=alice)
    assert refusal.message == "This request reaches you in 40 s."
    assert fresh(session).state == ChatSession.State.WAITING
    request_aged(session, 40)
    assert sessions.session_accept(session_id=session.pk, librarian=alice).primary == alice


@pytest.mark.parametrize("outsider", ["carol", "dave"])
def test_a_librarian_outside_the_queue_is_told_there_is_no_such_session(ask, outsider, request):
    session = ask()
    with refused("not_found") as refusal:
        sessions.session_accept(session_id=session.pk, librarian=request.getfixturevalue(outsider))
    assert refusal.message == "There is no such chat session in your queues."
    assert fresh(session).state == ChatSession.State.WAITING


@pytest.mark.parametrize("session_id", [987654, "42abc", None])
def test_accepting_a_session_that_does_not_exist_is_not_found(alice, session_id):
    with refused("not_found"):
        sessions.session_accept(session_id=session_id, librarian=alice)


def test_the_second_librarian_is_told_who_picked_it_up(ask, alice, bob):
    session = ask()
    sessions.session_accept(session_id=session.pk, librarian=alice)
    with refused("already_taken") as refusal:
        sessions.session_accept(session_id=session.pk, librarian=bob)
    assert refusal.message == "Alice already picked up this request."
    assert fresh(session).primary == alice
    assert session.messages.filter(kind="system").count() == 1


def test_a_double_click_on_pick_up_says_it_is_already_yours(ask, alice):
    session = ask()
    sessions.session_accept(session_id=session.pk, librarian=alice)
    with refused("already_yours"):
        sessions.session_accept(session_id=session.pk, librarian=alice)
    assert session.messages.filter(kind="system").count() == 1


def test_a_request_the_patron_ended_cannot_be_picked_up(ask, alice):
    session = ask()
    sessions.session_end_by_patron(session=session)
    with refused("session_closed") as refusal:
        sessions.session_accept(session_id=session.pk, librarian=alice)
    assert refusal.message == "The patron ended this request before it was picked up."
    assert fresh(session).primary is None


# --- Lines ----------------------------------------------------------------


def test_a_waiting_patron_can_add_lines(ask):
    session = ask()
    message, created = patron_says(session=session, text="Hello?", client_id=None)
    assert created
    assert (message.seq, message.kind, message.author_name) == (2, "patron", "Dana")
    assert fresh(session).last_seq == 2


def test_lines_go_both_ways_once_picked_up_and_are_numbered_in_order(chat, alice):
    session = chat(alice)
    patron_says(session=session, text="Hi Alice", client_id=None)
    librarian_says(session=session, librarian=alice, text="Hi Dana, one moment.", client_id=None)
    assert lines_of(session) == [
        (1, "patron", "Do you have large-print copies of Middlemarch?"),
        (2, "system", "Alice has joined the chat."),
        (3, "patron", "Hi Alice"),
        (4, "librarian", "Hi Dana, one moment."),
    ]
    assert session.messages.get(seq=4).author == alice


def test_a_librarian_cannot_write_before_anyone_picked_the_request_up(ask, alice):
    session = ask()
    with refused("session_waiting"):
        librarian_says(session=session, librarian=alice, text="Hi", client_id=None)
    assert session.messages.count() == 1


def test_only_the_primary_librarian_writes_in_a_session(chat, alice, bob):
    session = chat(alice)
    with refused("not_primary") as refusal:
        librarian_says(session=session, librarian=bob, text="Hi!", client_id=None)
    assert refusal.message == "Only the librarian chatting with this patron can write here."
    assert session.messages.count() == 2


def test_nobody_writes_after_the_session_ended(chat, alice):
    session = chat(alice)
    sessions.session_end_by_patron(session=session)
    with refused("session_closed"):
        patron_says(session=session, text="One more thing", client_id=None)
    with refused("session_closed"):
        librarian_says(session=session, librarian=alice, text="Bye", client_id=None)
    assert lines_of(session)[-1] == (3, "system", "Patron ended chat session")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "A message can't be empty."),
        ("  \n ", "A message can't be empty."),
        ("y" * 4001, "A message can be at most 4,000 characters; this one has 4,001."),
    ],
    ids=["empty", "white-space", "4001-chars"],
)
def test_an_empty_or_oversized_line_is_refused_with_a_clear_message(chat, alice, text, message):
    session = chat(alice)
    with refused("invalid_line") as refusal:
        patron_says(session=session, text=text, client_id=None)
    assert refusal.message == message
    with refused("invalid_line"):
        librarian_says(session=session, librarian=alice, text=text, client_id=None)
    assert session.messages.count() == 2


def test_a_line_of_exactly_4000_characters_is_stored_whole(chat, alice):
    session = chat(alice)
    message, _ = librarian_says(session=session, librarian=alice, text="z" * 4000, client_id=None)
    assert len(Message.objects.get(pk=message.pk).text) == 4000


def test_sending_a_line_again_with_the_same_client_id_stores_it_once(chat, alice):
    session = chat(alice)
    first, created = patron_says(session=session, text="Thanks!", client_id="c-1")
    again, created_again = patron_says(session=session, text="Thanks!", client_id="c-1")
    assert created and not created_again
    assert again.pk == first.pk and again.seq == first.seq == 3
    assert session.messages.filter(client_id="c-1").count() == 1
    assert fresh(session).last_seq == 3
    # The same client id in another session is another line.
    other = chat(alice, name="Eli")
    assert patron_says(session=other, text="Thanks!", client_id="c-1")[1]


# --- Ending a session -----------------------------------------------------


def test_a_waiting_patron_can_give_up(ask, riverside, events_of):
    session = ask()
    heard = events_of(
        [f"queue.{riverside.pk}", f"patron.{session.pk}"],
        lambda: sessions.session_end_by_patron(session=session),
    )
    session = fresh(session)
    assert session.state == ChatSession.State.CLOSED
    assert session.closed_by == ChatSession.ClosedBy.PATRON
    assert session.closed_at is not None
    assert lines_of(session)[-1] == (2, "system", "Patron ended chat session")
    closed = [e for e in heard if e["type"] == "session.closed"]
    assert len(closed) == 2  # the New lists drop it, the patron's page shows it ended
    assert all(e["closed_by"] == "patron" and e["has_email"] is False for e in closed)


def test_a_patron_ends_an_active_chat(chat, alice):
    session = chat(alice)
    sessions.session_end_by_patron(session=session)
    session = fresh(session)
    assert (session.state, session.closed_by) == ("closed", "patron")
    assert lines_of(session)[-1] == (3, "system", "Patron ended chat session")


def test_the_primary_librarian_ends_a_chat(chat, alice, riverside, events_of):
    session = chat(alice)
    heard = events_of(
        [f"patron.{session.pk}", f"librarian.{alice.pk}", f"queue.{riverside.pk}"],
        lambda: sessions.session_end_by_librarian(session_id=session.pk, librarian=alice),
    )
    session = fresh(session)
    assert (session.state, session.closed_by) == ("closed", "librarian")
    assert lines_of(session)[-1] == (3, "system", "Librarian ended chat session")
    # Alice's console hears her hold end first: it offers her the wrap-up (wrapup/).
    assert [e["type"] for e in heard] == ["message.created"] * 2 + ["hold.ended"] + [
        "session.closed"
    ] * 3


def test_a_colleague_cannot_end_someone_elses_chat(chat, alice, bob):
    session = chat(alice)
    with refused("not_primary") as refusal:
        sessions.session_end_by_librarian(session_id=session.pk, librarian=bob)
    assert refusal.message == "Only the librarian chatting with this patron can end it."
    assert fresh(session).state == ChatSession.State.ACTIVE


def test_a_librarian_outside_the_queue_cannot_end_it(chat, alice, dave):
    session = chat(alice)
    with refused("not_found"):
        sessions.session_end_by_librarian(session_id=session.pk, librarian=dave)
    assert fresh(session).state == ChatSession.State.ACTIVE


def test_a_librarian_cannot_end_a_request_nobody_picked_up(ask, alice):
    session = ask()
    with refused("session_waiting"):
        sessions.session_end_by_librarian(session_id=session.pk, librarian=alice)
    assert fresh(session).state == ChatSession.State.WAITING


def test_ending_twice_is_refused_and_writes_one_closing_line(chat, alice):
    session = chat(alice)
    sessions.session_end_by_librarian(session_id=session.pk, librarian=alice)
    with refused("session_closed") as refusal:
        sessions.session_end_by_librarian(session_id=session.pk, librarian=alice)
    assert refusal.message == "This chat session has already ended."
    with refused("session_closed"):
        sessions.session_end_by_patron(session=fresh(session))
    assert session.messages.filter(text="Librarian ended chat session").count() == 1
    assert session.messages.filter(kind="system").count() == 2  # joined, ended
