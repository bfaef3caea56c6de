"""What storing one line costs, and what the cheap path still guarantees.

Every send goes through ``line_store``: the query counts below are pinned so
that one more query per line shows up here. Inside a test's transaction a
line's own BEGIN and COMMIT show as SAVEPOINT and RELEASE SAVEPOINT, so each
count is the line's round trips to the database.

Dana asks Ask Riverside and Alice holds the session; Bob belongs to the same
queue, Dave to another one only.
"""

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from accounts.models import Librarian
from chat import sessions
from chat.lines import line_store, system_line
from chat.models import ChatSession, Message
from chat.payloads import message_payload, patron_message_payload
from core import events
from core.errors import ChatError
from queues.models import Membership
from tests.helpers import at_once
from tests.talk import librarian_says, patron_says

# Round after round of pick-ups by the same librarians: no maximum.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_maximum")]

# On PostgreSQL the UPDATE that takes the numbers feeds the INSERT in one
# statement (WITH … UPDATE … INSERT); elsewhere they are two.
ONE_STATEMENT = connection.vendor == "postgresql"
ONE_LINE = ["SAVEPOINT", "WITH", "RELEASE"] if ONE_STATEMENT else [
    "SAVEPOINT", "UPDATE", "INSERT", "RELEASE"
]  # fmt: skip
# A retry: on PostgreSQL the statement finds the client id stored and takes
# no number (no failed statement, which PostgreSQL would log with the line's
# text); elsewhere the unique (session, client_id) constraint fails the
# INSERT and the transaction rolls back, number too. Then the stored line is
# read (a librarian's after the check that the session is theirs to see).
ONE_RETRY = ["SAVEPOINT", "WITH", "RELEASE"] if ONE_STATEMENT else [
    "SAVEPOINT", "UPDATE", "INSERT", "ROLLBACK", "RELEASE"
]  # fmt: skip


def one_retry(sender: str) -> list[str]:
    reads = ["SELECT"] if sender == "patron line" or not ONE_STATEMENT else ["SELECT", "SELECT"]
    return ONE_RETRY + reads


def statements(captured: Any) -> list[str]:
    return [query["sql"].split()[0] for query in captured.captured_queries]


def dana_says(session: ChatSession, client_id: str = "p-1") -> tuple[Message, bool]:
    return patron_says(session, "Is it in large print?", client_id=client_id)


def alice_says(
    session: ChatSession, alice: Librarian, client_id: str = "a-1", note: bool = False
) -> tuple[Message, bool]:
    return librarian_says(
        session=session.pk,
        librarian=alice,
        text="Yes, two copies.",
        client_id=client_id,
        note=note,
    )


def alice_notes(
    session: ChatSession, alice: Librarian, client_id: str = "n-1"
) -> tuple[Message, bool]:
    return alice_says(session, alice, client_id, note=True)


SENDERS: dict[str, Callable[..., tuple[Message, bool]]] = {
    "patron line": lambda session, alice, client_id: dana_says(session, client_id),
    "librarian line": lambda session, alice, client_id: alice_says(session, alice, client_id),
    "librarian note": lambda session, alice, client_id: alice_notes(session, alice, client_id),
}


@pytest.fixture
def held(chat: Callable[..., ChatSession], alice: Librarian) -> ChatSession:
    """Dana's session, picked up by Alice (lines 1 and 2: the question and the join)."""
    return chat(alice)


# --- What a line costs -----------------------------------------------------------


@pytest.mark.parametrize("sender", SENDERS)
def test_a_line_is_one_update_and_one_insert(held, alice, django_assert_num_queries, sender):
    with django_assert_num_queries(len(ONE_LINE)) as captured:
        message, created = SENDERS[sender](held, alice, "c-1")
    assert created
    assert message.seq == 3
    assert statements(captured) == ONE_LINE
    # What the socket sends is what a fresh read of the database finds.
    stored = Message.objects.get(pk=message.pk)
    assert message_payload(stored) == message_payload(message)
    assert (stored.session_id, stored.author_id) == (held.pk, message.author_id)
    assert stored.patron_seq == message.patron_seq


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not ONE_STATEMENT, reason="one statement on PostgreSQL only")
@pytest.mark.parametrize("sender", SENDERS)
def test_outside_a_transaction_a_line_is_one_statement_and_its_own_commit(
    held, alice, django_assert_num_queries, sender
):
    # How the sockets store lines: no BEGIN or COMMIT around the statement.
    with django_assert_num_queries(1) as captured:
        message, created = SENDERS[sender](held, alice, "c-1")
    assert statements(captured) == ["WITH"]
    assert created
    assert Message.objects.get(pk=message.pk).seq == 3
    # A retry is the statement that finds the line stored, and the read of it.
    expected = one_retry(sender)[1:2] + one_retry(sender)[3:]
    with django_assert_num_queries(len(expected)) as captured:
        again, created = SENDERS[sender](held, alice, "c-1")
    assert statements(captured) == expected
    assert (again.pk, created) == (message.pk, False)


@pytest.mark.parametrize("sender", SENDERS)
def test_a_retry_stores_nothing_publishes_nothing_and_returns_the_stored_line(
    held, alice, django_assert_num_queries, django_capture_on_commit_callbacks, sender
):
    first, _ = SENDERS[sender](held, alice, "c-1")
    with (
        django_capture_on_commit_callbacks() as callbacks,
        django_assert_num_queries(len(one_retry(sender))) as captured,
    ):
        again, created = SENDERS[sender](held, alice, "c-1")
    assert statements(captured) == one_retry(sender)
    assert (again.pk, again.seq, again.patron_seq, created) == (
        first.pk,
        first.seq,
        first.patron_seq,
        False,
    )
    assert callbacks == []
    session = ChatSession.objects.get(pk=held.pk)
    # The rolled-back increment left no gap: the next line is the next number.
    assert session.last_seq == 3
    assert SENDERS[sender](held, alice, "c-2")[0].seq == 4


@pytest.mark.parametrize("sender", SENDERS)
def test_a_retry_of_a_line_stored_before_the_session_ended_is_acknowledged(held, alice, sender):
    first, _ = SENDERS[sender](held, alice, "c-1")
    sessions.session_end_by_librarian(session_id=held.pk, librarian=alice)
    again, created = SENDERS[sender](held, alice, "c-1")
    assert (again.pk, created) == (first.pk, False)
    # And a new line is still refused.
    with pytest.raises(ChatError) as refused:
        SENDERS[sender](held, alice, "c-2")
    assert refused.value.code == "session_closed"


def test_the_same_client_id_in_another_session_is_another_line(chat, held, alice):
    other = chat(alice, name="Eve")
    first, _ = alice_says(held, alice, "c-1")
    second, created = alice_says(other, alice, "c-1")
    assert created
    assert second.pk != first.pk


# --- Who may write: the same answers as reading the session first ----------------


def test_a_librarian_outside_the_queue_is_told_there_is_no_such_session(held, dave):
    with pytest.raises(ChatError) as refused:
        alice_says(held, dave)
    assert refused.value.code == "not_found"


def test_an_outsider_retrying_a_stored_client_id_learns_nothing(held, alice, dave):
    alice_says(held, alice, "c-1")
    with pytest.raises(ChatError) as refused:
        alice_says(held, dave, "c-1")
    assert refused.value.code == "not_found"


@pytest.mark.parametrize("session_id", [999_999, -1, 0, 2**70, "12x", None])
def test_a_session_that_does_not_exist_is_not_found(alice, session_id):
    with pytest.raises(ChatError) as refused:
        librarian_says(session=session_id, librarian=alice, text="Hello", client_id=None)
    assert refused.value.code == "not_found"


def test_an_outsiders_empty_line_is_not_found_before_it_is_invalid(held, alice, dave):
    with pytest.raises(ChatError) as refused:
        librarian_says(session=held.pk, librarian=dave, text=" ", client_id=None)
    assert refused.value.code == "not_found"
    with pytest.raises(ChatError) as refused:
        librarian_says(session=held.pk, librarian=alice, text=" ", client_id=None)
    assert refused.value.code == "invalid_line"


def test_a_librarian_who_left_the_queue_can_no_longer_write_in_its_session(held, alice):
    Membership.objects.filter(librarian=alice).delete()
    with pytest.raises(ChatError) as refused:
        alice_says(held, alice)
    assert refused.value.code == "not_found"


def test_a_colleague_is_told_only_the_primary_writes(held, bob):
    with pytest.raises(ChatError) as refused:
        alice_says(held, bob)
    assert refused.value.code == "not_primary"
    assert refused.value.message == "Only the librarian chatting with this patron can write here."


def test_nobody_writes_in_a_session_nobody_picked_up(ask, alice):
    waiting = ask()
    with pytest.raises(ChatError) as refused:
        alice_says(waiting, alice)
    assert refused.value.code == "session_waiting"


@pytest.mark.parametrize("sender", SENDERS)
def test_a_refused_line_takes_no_number(held, alice, sender):
    sessions.session_end_by_patron(session=held)
    last = ChatSession.objects.get(pk=held.pk)
    with pytest.raises(ChatError) as refused:
        SENDERS[sender](held, alice, "c-1")
    assert refused.value.code == "session_closed"
    assert refused.value.message == "This chat session has ended."
    after = ChatSession.objects.get(pk=held.pk)
    assert (after.last_seq, after.last_patron_seq) == (last.last_seq, last.last_patron_seq)
    assert not Message.objects.filter(client_id="c-1").exists()


# --- What is published -----------------------------------------------------------


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[dict[str, Any], tuple[str, ...]]]:
    """What leaves for the channel layer, in order."""
    out: list[tuple[dict[str, Any], tuple[str, ...]]] = []
    monkeypatch.setattr(events, "_send", lambda event, groups: out.append((event, groups)))
    return out


def test_a_librarian_line_is_published_to_her_consoles_and_the_patron_after_commit(
    held, alice, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message, _ = alice_says(held, alice)
        assert sent == []
    assert sent == [
        (
            {"type": "message.created", "session": held.pk, "message": message_payload(message)},
            (f"librarian.{alice.pk}",),
        ),
        (
            {"type": "message.created", "message": patron_message_payload(message)},
            (f"patron.{held.pk}",),
        ),
    ]


def test_a_note_is_published_to_the_librarians_consoles_only(
    held, alice, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message, _ = alice_notes(held, alice)
    assert sent == [
        (
            {"type": "message.created", "session": held.pk, "message": message_payload(message)},
            (f"librarian.{alice.pk}",),
        )
    ]


def test_a_waiting_patrons_line_is_published_to_the_patron_only(
    ask, sent, django_capture_on_commit_callbacks
):
    waiting = ask()
    with django_capture_on_commit_callbacks(execute=True):
        message, _ = dana_says(waiting)
    assert sent == [
        (
            {"type": "message.created", "message": patron_message_payload(message)},
            (f"patron.{waiting.pk}",),
        )
    ]


def test_a_system_line_numbers_the_session_object_it_was_given(held):
    message, created = line_store(system_line(held, "Hello"))
    assert created
    assert held.last_seq == message.seq == 3
    assert message.patron_seq == 3


# --- Under concurrency -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_lines_sent_at_once_are_numbered_without_gaps(held, alice):
    per_sender = 5

    def patron() -> None:
        for n in range(per_sender):
            dana_says(held, f"p-{n}")

    def librarian() -> None:
        for n in range(per_sender):
            alice_says(held, alice, f"a-{n}")

    def notes() -> None:
        for n in range(per_sender):
            alice_notes(held, alice, f"n-{n}")

    outcomes = at_once(patron=patron, librarian=librarian, notes=notes)
    assert outcomes == {"patron": None, "librarian": None, "notes": None}
    lines = list(Message.objects.filter(session=held).order_by("seq"))
    assert [m.seq for m in lines] == list(range(1, 2 + 3 * per_sender + 1))
    visible = [m.patron_seq for m in lines if m.visibility == Message.Visibility.PATRON]
    assert visible == list(range(1, 2 + 2 * per_sender + 1))
    assert all(m.patron_seq is None for m in lines if m.kind == Message.Kind.NOTE)
    session = ChatSession.objects.get(pk=held.pk)
    assert (session.last_seq, session.last_patron_seq) == (len(lines), len(visible))


@pytest.mark.django_db(transaction=True)
def test_the_same_librarian_line_sent_twice_at_once_is_stored_once(chat, alice, sent):
    for round_ in range(10):
        session = chat(alice, name=f"Patron {round_}")
        sent.clear()

        def send(s: ChatSession = session) -> tuple[Message, bool]:
            return alice_says(s, alice, "c-1")

        outcomes = at_once(first=send, second=send)
        assert not [o for o in outcomes.values() if isinstance(o, Exception)], outcomes
        (one, one_new), (other, other_new) = outcomes.values()
        assert (one.pk, one.seq) == (other.pk, other.seq), f"round {round_}"
        assert sorted([one_new, other_new]) == [False, True]
        assert [groups for _, groups in sent] == [
            (f"librarian.{alice.pk}",),
            (f"patron.{session.pk}",),
        ], f"round {round_}"
        assert ChatSession.objects.get(pk=session.pk).last_seq == 3
