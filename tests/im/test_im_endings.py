"""An IM session ends by itself: when either side logs off or leaves the shift, and when idle.

So the next IM between the same two people is a new IM session, which
pops up a New IM Request box at the receiver (its ``im.opened``), instead
of quietly reusing one from hours ago. Alice and Bob monitor Ask Riverside
and the cooperative, Carol the cooperative.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from im import services as ims
from im.models import ImSession
from shifts import services as shifts
from shifts.models import ConsolePresence
from tests.helpers import at_once, logged_in, refused

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_shift(alice, bob, carol, riverside, cooperative) -> None:
    for person in (alice, bob):
        shifts.monitoring_set(librarian=person, queue_ids=[riverside.pk, cooperative.pk])
    shifts.monitoring_set(librarian=carol, queue_ids=[cooperative.pk])


@pytest.fixture
def im(on_shift, alice, bob) -> ImSession:
    session, _ = ims.im_open(initiator=alice, recipient_id=bob.pk)
    ims.im_post(im_id=session.pk, librarian=alice, text="Are you there?", client_id=None)
    return session


def fresh(im: ImSession) -> ImSession:
    return ImSession.objects.get(pk=im.pk)


def consoles(*people) -> list[str]:
    return [f"librarian.{p.pk}" for p in people]


def the_next_im_is_a_new_request(im: ImSession, alice, bob, events_of) -> None:
    """Alice IMs Bob again: a new IM session, and Bob's consoles hear ``im.opened``."""
    opened: list[tuple[ImSession, bool]] = []
    heard = events_of(
        consoles(bob), lambda: opened.append(ims.im_open(initiator=alice, recipient_id=bob.pk))
    )
    ((again, created),) = opened
    assert created
    assert again.pk != im.pk
    assert [(e["type"], e["im"]["id"], e["im"]["started_by_me"]) for e in heard] == [
        ("im.opened", again.pk, False)
    ]


def test_logging_off_ends_every_open_im_session_of_theirs(
    im, alice, bob, carol, riverside, events_of
):
    other, _ = ims.im_open(initiator=carol, recipient_id=bob.pk)
    carols, _ = ims.im_open(initiator=carol, recipient_id=alice.pk)
    heard = events_of(consoles(alice), lambda: shifts.librarian_log_off(librarian=bob))
    bob_ref = {"id": bob.pk, "display_name": "Bob", "staff_id": bob.staff_id}
    assert [e for e in heard if e["type"] == "im.ended"] == [
        {"type": "im.ended", "im": im.pk, "ended_by": bob_ref, "reason": "logged_off",
         "idle_minutes": 30}
    ]  # fmt: skip
    assert (fresh(im).end_reason, fresh(im).ended_by) == ("logged_off", bob)
    assert fresh(other).end_reason == "logged_off"
    assert fresh(carols).ended_at is None  # Carol and Alice go on
    with refused("im_ended"):
        ims.im_post(im_id=im.pk, librarian=alice, text="Hello?", client_id=None)
    # Past IM Sessions says why it ended.
    assert "when Bob logged off" in logged_in(alice).get(reverse("im-history")).content.decode()

    shifts.monitoring_set(librarian=bob, queue_ids=[riverside.pk])  # back on shift
    the_next_im_is_a_new_request(im, alice, bob, events_of)


def test_leaving_the_shift_ends_their_im_sessions(im, alice, bob, riverside, events_of):
    later = timezone.now() + timedelta(seconds=31)
    ConsolePresence.objects.create(librarian=alice, channel_name="alice-tab", last_seen=later)
    heard = events_of(consoles(alice), lambda: shifts.presence_sweep(now=later))
    ended = [e for e in heard if e["type"] == "im.ended"]
    assert [(e["im"], e["reason"], e["ended_by"]["id"]) for e in ended] == [
        (im.pk, "left_shift", bob.pk)
    ]
    assert fresh(im).end_reason == "left_shift"
    shifts.monitoring_set(librarian=bob, queue_ids=[riverside.pk])  # back on shift
    the_next_im_is_a_new_request(im, alice, bob, events_of)


def test_a_librarian_still_on_shift_keeps_their_im_sessions(im, alice, bob, carol):
    later = timezone.now() + timedelta(seconds=31)
    for person in (alice, bob):
        ConsolePresence.objects.create(librarian=person, channel_name=f"{person}", last_seen=later)
    assert shifts.presence_sweep(now=later) == [carol.pk]  # she had no console
    assert fresh(im).ended_at is None


def test_an_im_session_idle_past_the_setting_ends_and_the_next_im_is_new(
    im, alice, bob, settings, events_of
):
    settings.IM_IDLE_MINUTES = 30
    last = fresh(im).last_line_at
    assert ims.im_idle_sweep(now=last + timedelta(minutes=29)) == []
    heard = events_of(
        consoles(alice, bob), lambda: ims.im_idle_sweep(now=last + timedelta(minutes=31))
    )
    ended = {
        "type": "im.ended",
        "im": im.pk,
        "ended_by": None,
        "reason": "idle",
        "idle_minutes": 30,
    }
    assert heard == [ended, ended]
    assert (fresh(im).end_reason, fresh(im).ended_by) == ("idle", None)
    assert ims.im_idle_sweep(now=last + timedelta(minutes=32)) == []  # once
    the_next_im_is_a_new_request(im, alice, bob, events_of)


def test_a_line_keeps_an_im_session_open_for_another_idle_period(im, alice, bob, clock):
    start = fresh(im).last_line_at
    clock.advance(20 * 60)
    ims.im_post(im_id=im.pk, librarian=bob, text="Still here", client_id=None)
    assert ims.im_idle_sweep(now=start + timedelta(minutes=31)) == []
    assert fresh(im).ended_at is None
    assert ims.im_idle_sweep(now=start + timedelta(minutes=51)) == [im.pk]


def test_the_idle_setting_is_honoured(im, settings):
    settings.IM_IDLE_MINUTES = 5
    assert ims.im_idle_sweep(now=fresh(im).last_line_at + timedelta(minutes=6)) == [im.pk]


@pytest.mark.django_db(transaction=True)
def test_two_idle_sweeps_at_once_end_the_session_once(im):
    later = fresh(im).last_line_at + timedelta(hours=1)
    done = at_once(
        first=lambda: ims.im_idle_sweep(now=later), second=lambda: ims.im_idle_sweep(now=later)
    )
    assert sorted(done.values(), key=len) == [[], [im.pk]]
    assert fresh(im).end_reason == "idle"
