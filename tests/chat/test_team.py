"""Join and watch (chat/team.py): a colleague invited into a chat, a supervisor watching it.

The people are those of tests/chat/conftest.py: Alice holds Dana's session
in Ask Riverside (``held``), Bob monitors it too, Carol only the
cooperative. Sam is the Supervisors group's member with a console of
Riverside's (``watcher``), in no queue unless a test says so.
"""

from typing import Any

import pytest
from django.contrib.auth.models import Group

from accounts.models import Librarian
from accounts.services import SUPERVISORS
from chat import sessions, takeover, team, transfers
from chat.models import ChatSession, Message, Participant, TransferOffer
from chat.payloads import patron_message_payload
from console.selectors import console_digests, live_sessions_payload, session_detail_for
from queues.models import Membership
from shifts import access
from tests.chat.helpers import accept, group
from tests.helpers import fresh, logged_in, refused
from tests.talk import librarian_says, patron_says

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("one_primary_per_active_session")]


@pytest.fixture
def watcher(supervisor: Any, riverside_library: Any) -> Librarian:
    """Sam: a supervisor (the Supervisors group's watch permission) with a console."""
    return Librarian.objects.create(
        user=supervisor, library=riverside_library, display_name="Sam", staff_id="RPL-001"
    )


def invite(session: ChatSession, sender: Librarian, receiver: Librarian) -> TransferOffer:
    return transfers.transfer_offer(
        session_id=session.pk, sender=sender, receiver_id=receiver.pk, note="Genealogy", join=True
    )


def patron_reads(session: ChatSession) -> list[tuple[str, str]]:
    """What the patron's page shows: each line's author (none for the system's) and text."""
    return [
        (line["author"], line["text"])
        for line in map(patron_message_payload, session.messages.patron_visible().order_by("seq"))
    ]


def in_it(session: ChatSession) -> list[tuple[str, str]]:
    return [
        (p.librarian.display_name, p.role)
        for p in Participant.objects.filter(session=session, ended_at__isnull=True)
    ]


# --- Join ---------------------------------------------------------------------------


def test_a_colleague_joins_writes_to_the_patron_and_the_patron_sees_who_wrote(
    held, alice, bob, heard_by
):
    made = invite(held, alice, bob)
    assert made.kind == TransferOffer.Kind.JOIN
    heard = heard_by([group(alice), group(bob)], lambda: accept(made, bob))
    assert fresh(held).primary == alice  # the primary stays
    assert in_it(held) == [("Bob", "joined")]
    (to_bob,) = [e for e in heard[group(bob)] if e["type"] == "transfer.accepted"]
    assert to_bob["offer"]["kind"] == "join"
    assert to_bob["detail"]["team"][0]["display_name"] == "Bob"
    assert any(e["type"] == "session.team" for e in heard[group(alice)])

    patron = f"patron.{held.pk}"
    heard = heard_by(
        [group(alice), group(bob), patron],
        lambda: (
            librarian_says(held, bob, "I know the 1900 census databases."),
            librarian_says(held, bob, "Try the county reel first.", note=True),
            librarian_says(held, alice, "Bob will help us."),
            patron_says(held, "Thank you both"),
        ),
    )
    for librarian in (alice, bob):
        said = [e["message"]["text"] for e in heard[group(librarian)]]
        assert said == [
            "I know the 1900 census databases.",
            "Try the county reel first.",
            "Bob will help us.",
            "Thank you both",
        ]
    # The patron hears the lines to them, never the note, each with its author.
    assert [(e["message"]["author"], e["message"]["text"]) for e in heard[patron]] == [
        ("Bob", "I know the 1900 census databases."),
        ("Alice", "Bob will help us."),
        ("Dana", "Thank you both"),
    ]
    reads = patron_reads(held)
    assert ("", "Bob has joined the chat.") in reads
    assert ("Bob", "I know the 1900 census databases.") in reads
    assert "Try the county reel first." not in [text for _, text in reads]


def test_only_the_primary_transfers_or_ends_a_joined_session(held, alice, bob, carol):
    accept(invite(held, alice, bob), bob)
    with refused("not_primary"):
        sessions.session_end_by_librarian(session_id=held.pk, librarian=bob)
    with refused("not_primary"):
        transfers.transfer_offer(session_id=held.pk, sender=bob, receiver_id=alice.pk)
    with refused("not_primary"):
        transfers.transfer_to_queue(session_id=held.pk, sender=bob)
    with refused("already_in"):
        invite(held, alice, bob)
    # Carol monitors only the cooperative: she can't be invited into Ask Riverside.
    with refused("not_available"):
        invite(held, alice, carol)
    assert fresh(held).state == ChatSession.State.ACTIVE


def test_a_joined_librarian_leaves_and_the_patron_is_told(held, alice, bob, heard_by):
    accept(invite(held, alice, bob), bob)
    heard = heard_by(
        [group(alice), group(bob)], lambda: team.team_leave(session_id=held.pk, librarian=bob)
    )
    assert in_it(held) == []
    assert ("", "Bob has left the chat.") in patron_reads(held)
    assert [e["type"] for e in heard[group(bob)] if e["type"].startswith("session.")] == [
        "session.left",
        "session.team",
    ]
    (team_now,) = [e for e in heard[group(alice)] if e["type"] == "session.team"]
    assert team_now["team"] == []
    with refused("not_primary"):
        librarian_says(held, bob, "One more thing")
    with refused("not_in_session"):
        team.team_leave(session_id=held.pk, librarian=bob)
    # Invited again, he can join again.
    accept(invite(held, alice, bob), bob)
    assert in_it(held) == [("Bob", "joined")]


def test_an_invitation_declined_leaves_the_chat_as_it_was(held, alice, bob):
    made = invite(held, alice, bob)
    transfers.transfer_decline(offer_id=made.pk, librarian=bob)
    assert in_it(held) == []
    notes = list(held.messages.filter(kind=Message.Kind.NOTE).values_list("text", flat=True))
    assert notes[-2:] == [
        "Invitation to join sent to Bob: Genealogy",
        "Bob declined the invitation to join.",
    ]


def test_ending_the_session_or_returning_it_to_the_queue_ends_every_join(
    held, alice, bob, chat, heard_by
):
    accept(invite(held, alice, bob), bob)
    heard = heard_by(
        [group(bob)], lambda: sessions.session_end_by_librarian(session_id=held.pk, librarian=alice)
    )
    assert "session.closed" in [e["type"] for e in heard[group(bob)]]
    assert in_it(held) == []

    other = chat(alice, name="Eli")
    accept(invite(other, alice, bob), bob)
    heard = heard_by(
        [group(bob)], lambda: transfers.transfer_to_queue(session_id=other.pk, sender=alice)
    )
    assert "session.left" in [e["type"] for e in heard[group(bob)]]
    assert in_it(other) == []


def test_a_joined_librarian_who_takes_a_transfer_is_the_primary_and_no_longer_joined(
    held, alice, bob
):
    accept(invite(held, alice, bob), bob)
    accept(transfers.transfer_offer(session_id=held.pk, sender=alice, receiver_id=bob.pk), bob)
    assert fresh(held).primary == bob
    assert in_it(held) == []
    with refused("not_primary"):
        librarian_says(held, alice, "Still here?")


def test_a_deactivated_account_leaves_the_sessions_it_joined(held, alice, bob):
    accept(invite(held, alice, bob), bob)
    bob.user.is_active = False
    bob.user.save()
    assert in_it(held) == []
    assert ("", "Bob has left the chat.") in patron_reads(held)
    assert fresh(held).primary == alice


def test_a_removed_membership_leaves_the_sessions_of_that_queue(held, alice, bob, riverside):
    accept(invite(held, alice, bob), bob)
    Membership.objects.get(librarian=bob, queue=riverside).delete()
    assert in_it(held) == []


def test_the_console_shows_a_joined_session_under_my_active(held, alice, bob):
    accept(invite(held, alice, bob), bob)
    digests = console_digests([bob])
    assert str(held.pk) in digests[bob.pk]["active"]
    detail = session_detail_for(session_id=held.pk, librarian=bob)
    assert (detail["primary"]["display_name"], detail["team"][0]["role"]) == ("Alice", "joined")


# --- Watch --------------------------------------------------------------------------


def test_a_supervisor_watches_read_only_and_the_patron_is_never_told(
    held, alice, watcher, heard_by
):
    patron = f"patron.{held.pk}"
    before = patron_reads(held)
    heard = heard_by([patron, group(watcher)], lambda: team.watch_start(
        session_id=held.pk, librarian=watcher
    ))  # fmt: skip
    assert heard[patron] == []
    assert [e["type"] for e in heard[group(watcher)]][-1] == "watch.started"
    assert in_it(held) == [("Sam", "watching")]
    assert patron_reads(held) == before
    # Recorded in the Chat History: who, and when (the line's time).
    note = held.messages.filter(kind=Message.Kind.NOTE).last()
    assert (note.text, note.author) == ("Sam started watching.", watcher)

    heard = heard_by([group(watcher)], lambda: librarian_says(held, alice, "Here you are"))
    assert [e["message"]["text"] for e in heard[group(watcher)]] == ["Here you are"]
    with refused("watching"):
        librarian_says(held, watcher, "Hello from the supervisor")
    # Again: the same, nothing recorded twice.
    team.watch_start(session_id=held.pk, librarian=watcher)
    assert held.messages.filter(text="Sam started watching.").count() == 1

    team.watch_stop(session_id=held.pk, librarian=watcher)
    assert in_it(held) == []
    assert held.messages.filter(kind=Message.Kind.NOTE).last().text == "Sam stopped watching."
    assert patron_reads(held) == [*before, ("Alice", "Here you are")]


def test_watching_takes_the_permission_and_the_library(held, ask, watcher, hillcrest, carol):
    Group.objects.get(name=SUPERVISORS).user_set.remove(watcher.user)
    with refused("not_allowed"):
        team.watch_start(session_id=held.pk, librarian=watcher)
    with refused("not_allowed"):
        live_sessions_payload(librarian=watcher)
    Group.objects.get(name=SUPERVISORS).user_set.add(watcher.user)
    watcher = Librarian.objects.get(pk=watcher.pk)  # the permission cache
    # Another library's queue: no such session, as far as Sam can tell.
    theirs = ask(queue=hillcrest, name="Hal", email="hal@example.org")
    with refused("not_found"):
        team.watch_start(session_id=theirs.pk, librarian=watcher)
    # A request nobody picked up has no chat to watch yet.
    waiting = ask(name="Wes")
    with refused("session_waiting"):
        team.watch_start(session_id=waiting.pk, librarian=watcher)


def test_a_withdrawn_permission_stops_the_watch_at_once(
    held, watcher, heard_by, django_capture_on_commit_callbacks
):
    team.watch_start(session_id=held.pk, librarian=watcher)

    def withdraw() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            Group.objects.get(name=SUPERVISORS).user_set.remove(watcher.user)

    heard = heard_by([group(watcher)], withdraw)
    assert in_it(held) == []
    assert "session.left" in [e["type"] for e in heard[group(watcher)]]


def test_the_live_sessions_list_shows_the_librarys_waiting_and_active_sessions(
    held, ask, watcher, hillcrest, alice, bob
):
    accept(invite(held, alice, bob), bob)
    waiting = ask(name="Wes")
    ask(queue=hillcrest, name="Hal", email="hal@example.org")
    rows = live_sessions_payload(librarian=watcher)["sessions"]
    assert [(r["patron_name"], r["state"]) for r in rows] == [
        ("Dana", "active"),
        ("Wes", "waiting"),
    ]
    assert rows[0]["primary"]["display_name"] == "Alice"
    assert [(p["display_name"], p["role"]) for p in rows[0]["team"]] == [("Bob", "joined")]
    assert rows[1]["id"] == waiting.pk
    assert rows[1]["too_long_after"] == 120


def test_a_supervisor_in_the_queue_takes_the_session_over(
    held, alice, watcher, riverside, heard_by
):
    team.watch_start(session_id=held.pk, librarian=watcher)
    with refused("not_member"):
        takeover.take_over(session_id=held.pk, librarian=watcher)
    Membership.objects.create(librarian=watcher, queue=riverside)
    heard = heard_by(
        [group(alice), group(watcher)],
        lambda: takeover.take_over(session_id=held.pk, librarian=watcher),
    )
    held = fresh(held)
    assert held.primary == watcher
    assert in_it(held) == []  # the primary now, no longer watching
    offer = TransferOffer.objects.get(session=held, receiver=watcher)
    assert (offer.state, offer.sender) == (TransferOffer.State.ACCEPTED, alice)
    assert ("", "Alice has passed your question to Sam.") in patron_reads(held)
    assert [e["type"] for e in heard[group(alice)]].count("transfer.accepted") == 1
    (to_sam,) = [e for e in heard[group(watcher)] if e["type"] == "transfer.accepted"]
    assert to_sam["detail"]["primary"]["display_name"] == "Sam"
    librarian_says(held, watcher, "I'll take it from here.")
    with refused("not_primary"):
        librarian_says(held, alice, "Oh")
    access.librarian_memberships_lost(librarian_id=watcher.pk)  # nothing to lose: still a member
    assert fresh(held).primary == watcher


def test_the_chat_history_says_who_joined_and_who_watched(held, alice, bob, watcher):
    accept(invite(held, alice, bob), bob)
    team.watch_start(session_id=held.pk, librarian=watcher)
    team.watch_stop(session_id=held.pk, librarian=watcher)
    sessions.session_end_by_librarian(session_id=held.pk, librarian=alice)
    page = logged_in(alice).get(f"/console/history/{held.pk}/").content.decode()
    assert "Also in the chat" in page
    assert "Bob (joined " in page
    assert "Sam (watching " in page
    assert "Sam started watching." in page
    assert "Sam stopped watching." in page
