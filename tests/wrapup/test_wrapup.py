"""The wrap-up: when a chat ends for the librarian who held it, they record
its resolution, the effort on the READ scale, subjects and a private comment.

Alice holds Dana's chat in Ask Riverside. However it leaves her hands — she
ends it, Dana ends it, Dana's connection is lost, Alice transfers it to Bob
or returns it to the queue, Sam takes it over, Alice's access ends — Alice
owes its wrap-up: her console hears ``hold.ended`` and the chat is on her
list until she wraps it up (a skip counts, and keeps it there). Bob, who
never held it, can't; nor can anyone use another library's codes or
subjects.
"""

from collections.abc import Callable
from typing import Any

import pytest

from accounts.models import Librarian
from chat import departures, sessions, takeover, transfers
from chat.models import ChatSession, Hold
from queues.models import Membership
from shifts import services as shifts
from tests.helpers import refused
from wrapup.models import ResolutionCode, SubjectTag, Wrapup
from wrapup.selectors import wrapups_due, wrapups_due_count
from wrapup.services import wrapup_save, wrapup_skip

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_maximum")]


@pytest.fixture
def on_shift(alice, bob, carol, riverside, cooperative) -> None:
    shifts.monitoring_set(librarian=alice, queue_ids=[riverside.pk, cooperative.pk])
    shifts.monitoring_set(librarian=bob, queue_ids=[riverside.pk, cooperative.pk])
    shifts.monitoring_set(librarian=carol, queue_ids=[cooperative.pk])


@pytest.fixture
def held(on_shift, chat, alice) -> ChatSession:
    return chat(alice)


@pytest.fixture
def subjects(riverside_library, hillcrest_library) -> None:
    for name in ("Genealogy", "Local history", "Databases"):
        SubjectTag.objects.create(library=riverside_library, name=name)
    SubjectTag.objects.create(library=hillcrest_library, name="Chemistry")


def code(librarian: Librarian, label: str) -> ResolutionCode:
    return ResolutionCode.objects.get(library_id=librarian.library_id, label=label)


def ends_by_librarian(session: ChatSession, alice: Librarian, **_: Any) -> None:
    sessions.session_end_by_librarian(session_id=session.pk, librarian=alice)


def ends_by_patron(session: ChatSession, **_: Any) -> None:
    sessions.session_end_by_patron(session=session)


def ends_lost(session: ChatSession, **_: Any) -> None:
    sessions.session_close(session=session, closed_by=ChatSession.ClosedBy.SYSTEM)


def transferred(session: ChatSession, alice: Librarian, bob: Librarian, **_: Any) -> None:
    offer = transfers.transfer_offer(session_id=session.pk, sender=alice, receiver_id=bob.pk)
    transfers.transfer_accept(offer_id=offer.pk, librarian=bob)


def requeued(session: ChatSession, alice: Librarian, **_: Any) -> None:
    transfers.transfer_to_queue(session_id=session.pk, sender=alice)


def taken_over(session: ChatSession, sam: Librarian, **_: Any) -> None:
    takeover.take_over(session_id=session.pk, librarian=sam)


def access_ended(session: ChatSession, alice: Librarian, **_: Any) -> None:
    departures.departed_sessions_requeue(librarian=alice, why="account deactivated")


ENDINGS: dict[str, tuple[Callable[..., None], str]] = {
    "Alice ends it": (ends_by_librarian, Hold.End.CLOSED),
    "Dana ends it": (ends_by_patron, Hold.End.CLOSED),
    "Dana's connection is lost": (ends_lost, Hold.End.CLOSED),
    "transferred to Bob": (transferred, Hold.End.TRANSFERRED),
    "returned to the queue": (requeued, Hold.End.REQUEUED),
    "Sam takes it over": (taken_over, Hold.End.TAKEN_OVER),
    "Alice's access ends": (access_ended, Hold.End.REQUEUED),
}


@pytest.fixture
def sam_at_console(supervisor, riverside_library, riverside) -> Librarian:
    """Sam, the supervisor, with a librarian profile in Ask Riverside: he may take over."""
    librarian = Librarian.objects.create(
        user=supervisor, library=riverside_library, display_name="Sam", staff_id="RPL-001"
    )
    Membership.objects.create(librarian=librarian, queue=riverside)
    return librarian


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_every_way_a_chat_leaves_alices_hands_owes_her_a_wrap_up(
    ending, held, alice, bob, sam_at_console, subjects, events_of
):
    move, how = ENDINGS[ending]
    assert list(wrapups_due(librarian=alice)) == []
    with refused("still_held") as refusal:
        wrapup_save(session_id=held.pk, librarian=alice, resolution=code(alice, "Answered").pk)
    assert refusal.message == "Wrap this chat up when it has ended."

    heard = events_of(
        [f"librarian.{alice.pk}"], lambda: move(held, alice=alice, bob=bob, sam=sam_at_console)
    )
    ended = [event for event in heard if event["type"] == "hold.ended"]
    assert ended == [{"type": "hold.ended", "session": held.pk, "how": how, "patron_name": "Dana"}]
    hold = Hold.objects.get(session=held, librarian=alice)
    assert hold.ended_how == how and hold.started_at is not None
    assert hold.started_at <= hold.ended_at
    assert [s.pk for s in wrapups_due(librarian=alice)] == [held.pk]

    wrapup = wrapup_save(
        session_id=held.pk,
        librarian=alice,
        resolution=code(alice, "Answered").pk,
        read_level=2,
        tags=["genealogy", " Local  history "],
        comment="Pointed her to the 1920 census.",
    )
    assert wrapup.state == Wrapup.State.DONE
    assert sorted(tag.name for tag in wrapup.tags.all()) == ["Genealogy", "Local history"]
    assert wrapups_due_count(librarian=alice) == 0


def test_the_next_holder_owes_their_own_wrap_up_from_when_they_took_it(held, alice, bob):
    transferred(held, alice=alice, bob=bob)
    sessions.session_end_by_librarian(session_id=held.pk, librarian=bob)
    alices, bobs = Hold.objects.filter(session=held).order_by("ended_at")
    assert (alices.librarian, bobs.librarian) == (alice, bob)
    assert bobs.started_at == alices.ended_at
    assert [s.pk for s in wrapups_due(librarian=bob)] == [held.pk]
    assert [s.pk for s in wrapups_due(librarian=alice)] == [held.pk]


def test_a_request_that_ended_while_waiting_owes_nobody_a_wrap_up(on_shift, ask, alice):
    waiting = ask()
    sessions.session_end_by_patron(session=waiting)
    assert not Hold.objects.exists()
    with refused("not_held"):
        wrapup_skip(session_id=waiting.pk, librarian=alice)


def test_only_the_librarian_who_held_it_wraps_it_up(held, alice, bob):
    ends_by_patron(held)
    with refused("not_held") as refusal:
        wrapup_save(session_id=held.pk, librarian=bob, resolution=code(bob, "Answered").pk)
    assert refusal.message == (
        "You did not hold this chat session: only its librarian wraps it up."
    )
    with refused("not_found"):
        wrapup_save(session_id="12abc", librarian=alice, resolution=code(alice, "Answered").pk)
    assert not Wrapup.objects.exists()


def test_codes_and_subjects_outside_the_librarians_library_are_refused(
    held, alice, carol, subjects
):
    ends_by_patron(held)
    hillcrest_answered = code(carol, "Answered")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"resolution": hillcrest_answered.pk}, "invalid_code"),
        ({"resolution": ""}, "invalid_code"),
        ({"resolution": "answered"}, "invalid_code"),
        ({"tags": ["Chemistry"]}, "invalid_tags"),
        ({"tags": ["Astrology", "Genealogy"]}, "invalid_tags"),
        ({"read_level": 7}, "invalid_read_level"),
        ({"read_level": "high"}, "invalid_read_level"),
        ({"comment": "x" * 2001}, "invalid_comment"),
    ]
    for change, refusal_code in cases:
        values: dict[str, Any] = {"resolution": code(alice, "Answered").pk, **change}
        with refused(refusal_code) as refusal:
            wrapup_save(session_id=held.pk, librarian=alice, **values)
        assert refusal.message
    with refused("invalid_tags") as refusal:
        wrapup_save(
            session_id=held.pk,
            librarian=alice,
            resolution=code(alice, "Answered").pk,
            tags=["Astrology"],
        )
    assert refusal.message == "Not on your library's list of subjects: Astrology."
    assert not Wrapup.objects.exists()
    # A retired code is no longer offered, but stays on the wrap-up that has it.
    practice = code(alice, "Practice")
    wrapup_save(session_id=held.pk, librarian=alice, resolution=practice.pk)
    ResolutionCode.objects.filter(pk=practice.pk).update(active=False)
    wrapup_save(session_id=held.pk, librarian=alice, resolution=practice.pk, comment="Still so.")
    lost = code(alice, "Lost call")
    ResolutionCode.objects.filter(pk=lost.pk).update(active=False)
    with refused("invalid_code") as refusal:
        wrapup_save(session_id=held.pk, librarian=alice, resolution=lost.pk)
    assert refusal.message == "The resolution Lost call is no longer in use."


def test_a_skip_is_counted_and_the_chat_stays_on_the_list_until_it_is_wrapped_up(
    held, alice, events_of
):
    ends_by_patron(held)
    heard = events_of(
        [f"librarian.{alice.pk}"], lambda: wrapup_skip(session_id=held.pk, librarian=alice)
    )
    assert heard[-1] == {"type": "wrapup.changed", "session": held.pk, "state": "skipped", "due": 1}
    skipped = Wrapup.objects.get(session=held, librarian=alice)
    assert skipped.state == Wrapup.State.SKIPPED and skipped.skipped_at is not None
    assert [s.pk for s in wrapups_due(librarian=alice)] == [held.pk]

    wrapup_save(session_id=held.pk, librarian=alice, resolution=code(alice, "Lost call").pk)
    done = Wrapup.objects.get(session=held, librarian=alice)
    assert done.state == Wrapup.State.DONE
    assert done.skipped_at == skipped.skipped_at  # the skip still counts
    assert wrapups_due_count(librarian=alice) == 0
    with refused("already_done"):
        wrapup_skip(session_id=held.pk, librarian=alice)


def test_correcting_a_wrap_up_keeps_one_row(held, alice, subjects):
    ends_by_patron(held)
    wrapup_save(
        session_id=held.pk,
        librarian=alice,
        resolution=code(alice, "Answered").pk,
        tags=["Databases"],
    )
    wrapup_save(
        session_id=held.pk, librarian=alice, resolution=code(alice, "Practice").pk, read_level=1
    )
    wrapup = Wrapup.objects.get()
    assert wrapup.resolution is not None
    assert (wrapup.resolution.label, wrapup.read_level, list(wrapup.tags.all())) == (
        "Practice",
        1,
        [],
    )


def test_a_new_library_gets_the_five_resolution_codes(db):
    from accounts.models import Library

    library = Library.objects.create(name="Oakton Public Library", slug="oakton")
    assert [(c.label, c.follow_up) for c in ResolutionCode.objects.filter(library=library)] == [
        ("Answered", ""),
        ("Follow-up by patron's library", "library"),
        ("Follow-up by me", "me"),
        ("Practice", ""),
        ("Lost call", ""),
    ]
