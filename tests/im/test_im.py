"""Instant messages between librarians: who may IM whom, lines, reading, ending, the record.

Alice and Bob monitor Ask Riverside unless a test says otherwise, so each is
in the other's Librarians list. Carol monitors only Hillcrest and Dave only
the archive: neither shares a monitored queue with them.
"""

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from accounts.models import Librarian
from accounts.services import SUPERVISORS
from core import events
from im import services as ims
from im.models import ImMessage, ImSession
from im.payloads import im_payload
from im.selectors import open_ims_snapshot
from shifts import services as shifts
from tests.helpers import at_once, logged_in, refused

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_shift(alice, bob, carol, dave, riverside, hillcrest, archive) -> None:
    shifts.monitoring_set(librarian=alice, queue_ids=[riverside.pk])
    shifts.monitoring_set(librarian=bob, queue_ids=[riverside.pk])
    shifts.monitoring_set(librarian=carol, queue_ids=[hillcrest.pk])
    shifts.monitoring_set(librarian=dave, queue_ids=[archive.pk])


@pytest.fixture
def im(on_shift, alice, bob) -> ImSession:
    """An open IM session Alice started with Bob."""
    session, _ = ims.im_open(initiator=alice, recipient_id=bob.pk)
    return session


def say(im: ImSession, who: Librarian, text: str, client_id: str | None = None) -> ImMessage:
    message, _ = ims.im_post(im_id=im.pk, librarian=who, text=text, client_id=client_id)
    return message


def consoles(*people: Librarian) -> list[str]:
    return [f"librarian.{p.pk}" for p in people]


def fresh(im: ImSession) -> ImSession:
    return ImSession.objects.get(pk=im.pk)


# --- Opening --------------------------------------------------------------------


def test_alice_opens_an_im_with_bob_and_both_consoles_hear_of_it(
    on_shift, alice, bob, carol, heard_by
):
    result: dict[str, Any] = {}

    def open_it() -> None:
        result["im"], result["created"] = ims.im_open(initiator=alice, recipient_id=bob.pk)

    heard = heard_by(consoles(alice, bob, carol), open_it)
    assert result["created"] is True
    im = result["im"]
    assert (im.initiator, im.recipient, im.ended_at) == (alice, bob, None)

    (for_alice,) = heard[f"librarian.{alice.pk}"]
    (for_bob,) = heard[f"librarian.{bob.pk}"]
    assert for_alice["type"] == for_bob["type"] == "im.opened"
    assert for_alice["im"]["id"] == for_bob["im"]["id"] == im.pk
    assert for_alice["im"]["with"] == {"id": bob.pk, "display_name": "Bob", "staff_id": "RPL-117"}
    assert for_alice["im"]["started_by_me"] is True
    assert for_bob["im"]["with"] == {"id": alice.pk, "display_name": "Alice", "staff_id": "RPL-104"}
    assert for_bob["im"]["started_by_me"] is False
    for payload in (for_alice["im"], for_bob["im"]):
        assert (payload["messages"], payload["last_seq"], payload["read_seq"]) == ([], 0, 0)
        assert payload["ended_at"] is None
    assert heard[f"librarian.{carol.pk}"] == []


def test_opening_again_from_either_side_returns_the_open_session_quietly(im, alice, bob, events_of):
    def open_both_ways() -> None:
        assert ims.im_open(initiator=alice, recipient_id=bob.pk) == (im, False)
        assert ims.im_open(initiator=bob, recipient_id=alice.pk) == (im, False)

    assert events_of(consoles(alice, bob), open_both_ways) == []
    assert ImSession.objects.count() == 1


def test_nobody_can_im_themselves(on_shift, alice):
    with refused("im_self") as refusal:
        ims.im_open(initiator=alice, recipient_id=alice.pk)
    assert refusal.message == "You can't send an IM to yourself."
    assert not ImSession.objects.exists()


@pytest.mark.parametrize("outsider", ["carol", "dave"])
def test_a_librarian_who_shares_no_monitored_queue_cannot_be_reached(
    on_shift, alice, outsider, request, events_of
):
    other = request.getfixturevalue(outsider)

    def try_both_ways() -> None:
        with refused("not_available") as refusal:
            ims.im_open(initiator=alice, recipient_id=other.pk)
        assert refusal.message.startswith(f"{other.display_name} is not monitoring")
        with refused("not_available") as refusal:
            ims.im_open(initiator=other, recipient_id=alice.pk)
        assert refusal.message.startswith("Alice is not monitoring")

    assert events_of(consoles(alice, other), try_both_ways) == []
    assert not ImSession.objects.exists()


def test_carol_is_reachable_once_both_monitor_the_cooperative(on_shift, alice, carol, cooperative):
    shifts.monitoring_set(librarian=carol, queue_ids=[cooperative.pk])
    with refused("not_available"):  # Alice still monitors only Riverside
        ims.im_open(initiator=alice, recipient_id=carol.pk)
    shifts.monitoring_set(librarian=alice, queue_ids=[cooperative.pk])
    _, created = ims.im_open(initiator=alice, recipient_id=carol.pk)
    assert created


def test_a_colleague_who_is_a_member_but_not_monitoring_cannot_be_reached(alice, bob, riverside):
    shifts.monitoring_set(librarian=alice, queue_ids=[riverside.pk])
    with refused("not_available"):
        ims.im_open(initiator=alice, recipient_id=bob.pk)


@pytest.mark.parametrize("recipient_id", [987654, "bob", None])
def test_an_im_to_someone_who_does_not_exist_is_not_found(on_shift, alice, recipient_id):
    with refused("not_found") as refusal:
        ims.im_open(initiator=alice, recipient_id=recipient_id)
    assert refusal.message == "There is no such librarian."


def test_an_open_im_stays_reachable_after_the_colleague_stops_monitoring(im, alice, bob):
    shifts.monitoring_set(librarian=bob, queue_ids=[])
    assert ims.im_open(initiator=alice, recipient_id=bob.pk) == (im, False)
    assert say(im, alice, "Are you still there?").seq == 1
    assert say(im, bob, "Yes, just off the desk.").seq == 2

    ims.im_end(im_id=im.pk, librarian=bob)
    with refused("not_available"):  # a new one needs the Librarians list again
        ims.im_open(initiator=alice, recipient_id=bob.pk)


def test_several_im_sessions_may_be_open_at_once(on_shift, alice, bob, carol, cooperative):
    shifts.monitoring_set(librarian=carol, queue_ids=[cooperative.pk])
    shifts.monitoring_set(librarian=alice, queue_ids=[cooperative.pk])
    shifts.monitoring_set(librarian=bob, queue_ids=[cooperative.pk])
    with_bob, _ = ims.im_open(initiator=alice, recipient_id=bob.pk)
    with_carol, _ = ims.im_open(initiator=carol, recipient_id=alice.pk)
    bob_carol, _ = ims.im_open(initiator=bob, recipient_id=carol.pk)
    assert len({with_bob.pk, with_carol.pk, bob_carol.pk}) == 3
    mine = open_ims_snapshot(alice)
    assert [(i["id"], i["with"]["display_name"]) for i in mine] == [
        (with_bob.pk, "Bob"),
        (with_carol.pk, "Carol"),
    ]


@pytest.mark.django_db(transaction=True)
def test_opening_to_each_other_at_the_same_moment_makes_one_session(
    on_shift, alice, bob, monkeypatch
):
    sent: list[str] = []
    monkeypatch.setattr(
        events, "_send", lambda event, groups: sent.extend([event["type"]] * len(groups))
    )
    for round_ in range(10):
        sent.clear()
        outcomes = at_once(
            alice=lambda: ims.im_open(initiator=alice, recipient_id=bob.pk),
            bob=lambda: ims.im_open(initiator=bob, recipient_id=alice.pk),
        )
        assert not [o for o in outcomes.values() if isinstance(o, Exception)], outcomes
        (open_im,) = ImSession.objects.filter(ended_at__isnull=True)
        assert outcomes["alice"][0].pk == outcomes["bob"][0].pk == open_im.pk, f"round {round_}"
        assert sorted(created for _, created in outcomes.values()) == [False, True]
        assert sent == ["im.opened", "im.opened"]  # one popup for Bob, one row for Alice
        ims.im_end(im_id=open_im.pk, librarian=alice)


# --- Lines ----------------------------------------------------------------------


def test_lines_go_both_ways_numbered_in_order(im, alice, bob, carol, heard_by):
    say(im, alice, "Do you have the Dewey chart?")
    heard = heard_by(consoles(alice, bob, carol), lambda: say(im, bob, "Top drawer."))
    say(im, alice, "Thanks!")

    stored = list(im.messages.order_by("seq").values_list("seq", "author_name", "text"))
    assert stored == [
        (1, "Alice", "Do you have the Dewey chart?"),
        (2, "Bob", "Top drawer."),
        (3, "Alice", "Thanks!"),
    ]
    for person in (alice, bob):
        (event,) = heard[f"librarian.{person.pk}"]
        assert event["type"] == "im.message.created"
        assert event["im"] == im.pk
        assert event["message"] == {
            **event["message"],
            "seq": 2,
            "author": "Bob",
            "author_id": bob.pk,
            "text": "Top drawer.",
        }
    assert heard[f"librarian.{carol.pk}"] == []
    assert fresh(im).last_seq == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "A message can't be empty."),
        ("  \n ", "A message can't be empty."),
        ("w" * 4001, "A message can be at most 4,000 characters; this one has 4,001."),
        (42, "A message must be text."),
    ],
    ids=["empty", "blank", "4001 characters", "not text"],
)
def test_an_empty_or_oversized_im_line_is_refused(im, alice, text, message):
    with refused("invalid_line") as refusal:
        say(im, alice, text)
    assert refusal.message == message
    assert fresh(im).last_seq == 0


def test_an_im_line_of_exactly_4000_characters_is_stored_whole(im, bob):
    assert len(say(im, bob, "w" * 4000).text) == 4000


def test_sending_an_im_line_again_with_the_same_client_id_stores_it_once(im, alice, bob, events_of):
    first = say(im, alice, "On my way", client_id="a-1")

    def resend() -> None:
        again, created = ims.im_post(
            im_id=im.pk, librarian=alice, text="On my way", client_id="a-1"
        )
        assert (again.pk, again.seq, created) == (first.pk, 1, False)

    assert events_of(consoles(alice, bob), resend) == []
    assert im.messages.count() == 1
    assert say(im, alice, "Here now", client_id="a-2").seq == 2


@pytest.mark.parametrize("outsider", ["carol", "dave"])
def test_only_the_two_librarians_can_say_read_or_end(im, alice, bob, outsider, request):
    other = request.getfixturevalue(outsider)
    say(im, alice, "Private")
    with refused("not_found") as refusal:
        say(im, other, "Let me in")
    assert refusal.message == "There is no such IM session of yours."
    with refused("not_found"):
        ims.im_read(im_id=im.pk, librarian=other, seq=1)
    with refused("not_found"):
        ims.im_end(im_id=im.pk, librarian=other)
    im = fresh(im)
    assert (im.last_seq, im.ended_at) == (1, None)


def test_nobody_writes_into_an_ended_im_session(im, alice, bob):
    ims.im_end(im_id=im.pk, librarian=alice)
    for person in (alice, bob):
        with refused("im_ended") as refusal:
            say(im, person, "One more thing")
        assert refusal.message == "This IM session has ended."
    assert fresh(im).last_seq == 0


@pytest.mark.django_db(transaction=True)
def test_a_line_and_the_end_at_the_same_moment_never_leave_a_line_after_the_end(im, alice, bob):
    for round_ in range(15):
        current, _ = ims.im_open(initiator=alice, recipient_id=bob.pk)
        outcomes = at_once(
            line=lambda i=current, n=round_: say(i, alice, f"Line {n}"),
            end=lambda i=current: ims.im_end(im_id=i.pk, librarian=bob),
        )
        assert isinstance(outcomes["end"], ImSession), outcomes
        current = fresh(current)
        lines = list(current.messages.all())
        if isinstance(outcomes["line"], ImMessage):
            assert [m.pk for m in lines] == [outcomes["line"].pk], f"round {round_}"
        else:
            assert isinstance(outcomes["line"], Exception)
            assert getattr(outcomes["line"], "code", None) == "im_ended", outcomes
            assert lines == []
        ended_at = current.ended_at
        assert ended_at is not None
        assert all(m.created_at <= ended_at for m in lines), f"round {round_}"
        assert current.last_seq == len(lines)


# --- Reading --------------------------------------------------------------------


def test_reading_moves_only_forward_and_tells_only_the_readers_consoles(im, alice, bob, heard_by):
    for text in ("One", "Two", "Three"):
        say(im, bob, text)

    heard = heard_by(consoles(alice, bob), lambda: ims.im_read(im_id=im.pk, librarian=alice, seq=2))
    assert heard[f"librarian.{alice.pk}"] == [{"type": "im.read", "im": im.pk, "read_seq": 2}]
    assert heard[f"librarian.{bob.pk}"] == []
    assert im_payload(fresh(im), viewer_id=alice.pk)["read_seq"] == 2

    # A late "read up to 1" from another tab doesn't bring back an unread line.
    heard = heard_by(consoles(alice), lambda: ims.im_read(im_id=im.pk, librarian=alice, seq=1))
    assert heard[f"librarian.{alice.pk}"] == []
    assert im_payload(fresh(im), viewer_id=alice.pk)["read_seq"] == 2

    # Nobody reads past the last line.
    ims.im_read(im_id=im.pk, librarian=alice, seq=99)
    assert im_payload(fresh(im), viewer_id=alice.pk)["read_seq"] == 3


def test_the_writer_has_read_up_to_their_own_line(im, alice, bob):
    say(im, bob, "Hi")
    say(im, bob, "Got a minute?")
    im = fresh(im)
    assert im_payload(im, viewer_id=bob.pk)["read_seq"] == 2
    assert im_payload(im, viewer_id=alice.pk)["read_seq"] == 0  # two unread for Alice


# --- Ending ---------------------------------------------------------------------


@pytest.mark.parametrize("ender", ["alice", "bob"])
def test_either_side_ends_and_both_see_who_did(im, alice, bob, ender, request, heard_by):
    who = request.getfixturevalue(ender)
    say(im, alice, "Thanks for covering")
    heard = heard_by(consoles(alice, bob), lambda: ims.im_end(im_id=im.pk, librarian=who))
    person = {"id": who.pk, "display_name": who.display_name, "staff_id": who.staff_id}
    for console in consoles(alice, bob):
        assert heard[console] == [
            {"type": "im.ended", "im": im.pk, "ended_by": person, "reason": "ended",
             "idle_minutes": 30}
        ]  # fmt: skip
    ended = fresh(im)
    assert ended.ended_by == who
    assert ended.ended_at is not None
    # It leaves My Active IM Sessions on both sides …
    assert open_ims_snapshot(alice) == []
    assert open_ims_snapshot(bob) == []
    # … and is kept, with its lines, for the record.
    assert list(ended.messages.values_list("text", flat=True)) == ["Thanks for covering"]

    for person_ in (alice, bob):
        with refused("im_ended") as refusal:
            ims.im_end(im_id=im.pk, librarian=person_)
        assert refusal.message == "This IM session has already ended."
    assert fresh(im).ended_by == who


def test_after_ending_a_new_im_between_the_same_two_is_a_new_session(im, alice, bob):
    say(im, alice, "First conversation")
    ims.im_end(im_id=im.pk, librarian=alice)
    again, created = ims.im_open(initiator=bob, recipient_id=alice.pk)
    assert created
    assert again.pk != im.pk
    assert say(again, bob, "Second conversation").seq == 1
    assert ImSession.objects.count() == 2


# --- The record: history pages and the admin -------------------------------------


@pytest.fixture
def ended_im(im, alice, bob) -> ImSession:
    say(im, alice, "Can you take the 3 pm shift?")
    say(im, bob, "Sure, I'll swap with you.")
    ims.im_end(im_id=im.pk, librarian=bob)
    return fresh(im)


def test_both_librarians_read_their_past_im_sessions(ended_im, alice, bob):
    for person, other in ((alice, "Bob"), (bob, "Alice")):
        client = logged_in(person)
        listing = client.get("/console/history/im/")
        assert listing.status_code == 200
        page = listing.content.decode()
        assert f'href="/console/history/im/{ended_im.pk}/"' in page
        assert f"{other} (" in page
        assert "Ended" in page

        detail = client.get(f"/console/history/im/{ended_im.pk}/")
        assert detail.status_code == 200
        page = detail.content.decode()
        for line in ended_im.messages.order_by("seq"):
            shown_at = timezone.localtime(line.created_at).strftime("%Y-%m-%d %H:%M:%S")
            assert f"{line.author_name}</span><time" in page
            assert escape(line.text) in page
            assert shown_at in page
        assert "by Bob" in page


def test_an_open_im_session_is_readable_in_history_too(im, alice):
    say(im, alice, "Still talking")
    page = logged_in(alice).get(f"/console/history/im/{im.pk}/").content.decode()
    assert "Still talking" in page
    assert "Still open." in page


@pytest.mark.parametrize("outsider", ["carol", "dave"])
def test_nobody_else_reads_an_im_session(ended_im, outsider, request):
    client = logged_in(request.getfixturevalue(outsider))
    assert client.get(f"/console/history/im/{ended_im.pk}/").status_code == 404
    listing = client.get("/console/history/im/").content.decode()
    assert "No IM sessions yet." in listing
    assert f"/console/history/im/{ended_im.pk}/" not in listing


def test_the_im_history_needs_a_login_and_a_librarian(ended_im, frank):
    anonymous = Client().get("/console/history/im/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/login/")
    assert logged_in(frank).get(f"/console/history/im/{ended_im.pk}/").status_code == 404


def test_the_history_fragment_renders_without_the_page_around_it(ended_im, alice):
    fragment = logged_in(alice).get(f"/console/history/im/{ended_im.pk}/?fragment=1")
    assert fragment.status_code == 200
    assert "<html" not in fragment.content.decode()
    assert "Can you take the 3 pm shift?" in fragment.content.decode()


@pytest.fixture
def sam(supervisor) -> Client:
    return logged_in(supervisor)


def test_the_supervisor_reads_im_sessions_with_every_line_in_the_admin(sam, ended_im):
    changelist = sam.get("/admin/im/imsession/")
    assert changelist.status_code == 200
    assert f"/admin/im/imsession/{ended_im.pk}/change/" in changelist.content.decode()

    change = sam.get(f"/admin/im/imsession/{ended_im.pk}/change/")
    assert change.status_code == 200
    page = change.content.decode()
    assert "Can you take the 3 pm shift?" in page
    assert "Sure, I&#x27;ll swap with you." in page
    assert "Alice (RPL-104)" in page
    assert 'name="_save"' not in page  # view only


def test_the_supervisor_cannot_add_change_or_delete_an_im_session(sam, ended_im):
    assert sam.get("/admin/im/imsession/add/").status_code == 403
    assert sam.get(f"/admin/im/imsession/{ended_im.pk}/delete/").status_code == 403
    deleted = sam.post(f"/admin/im/imsession/{ended_im.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 403
    edited = sam.post(f"/admin/im/imsession/{ended_im.pk}/change/", {"ended_at": ""})
    assert edited.status_code == 403
    ended_im.refresh_from_db()
    assert ended_im.ended_at is not None
    assert ended_im.messages.count() == 2


def test_a_librarian_has_no_admin_view_of_im_sessions(ended_im, alice):
    response = logged_in(alice).get("/admin/im/imsession/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_supervisors_group_may_view_im_sessions_and_lines_only(db):
    perms = {p.codename for p in Group.objects.get(name=SUPERVISORS).permissions.all()}
    assert {"view_imsession", "view_immessage"} <= perms
    for action in ("add", "change", "delete"):
        assert f"{action}_imsession" not in perms
        assert f"{action}_immessage" not in perms
