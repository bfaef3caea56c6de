"""Monitoring: a librarian monitors only queues she belongs to, and her consoles all follow."""

import pytest

from queues.models import Membership
from shifts import services as shifts
from tests.helpers import refused

pytestmark = pytest.mark.django_db


# --- Monitoring -------------------------------------------------------------


def test_a_librarian_monitors_only_queues_she_belongs_to(alice, hillcrest, riverside):
    with refused("not_member") as refusal:
        shifts.monitoring_set(librarian=alice, queue_ids=[riverside.pk, hillcrest.pk])
    assert refusal.message == "You can only monitor queues you are a member of."
    assert not Membership.objects.filter(is_monitoring=True).exists()


def test_monitoring_follows_the_saved_choice_and_tells_every_console(
    alice, bob, riverside, cooperative, events_of
):
    heard = events_of(
        [f"librarian.{alice.pk}", f"librarian.{bob.pk}"],
        lambda: shifts.monitoring_set(librarian=alice, queue_ids=[riverside.pk]),
    )
    assert heard == [{"type": "monitoring.changed", "queues": [riverside.pk]}]
    mine = {m.queue: m for m in Membership.objects.filter(librarian=alice)}
    assert mine[riverside].is_monitoring
    assert mine[riverside].monitoring_since is not None
    assert not mine[cooperative].is_monitoring
    assert not Membership.objects.filter(librarian=bob, is_monitoring=True).exists()

    shifts.monitoring_set(librarian=alice, queue_ids=[str(cooperative.pk)])
    mine = {m.queue: m for m in Membership.objects.filter(librarian=alice)}
    assert not mine[riverside].is_monitoring
    assert mine[riverside].monitoring_since is None
    assert mine[cooperative].is_monitoring


def test_monitoring_keeps_the_time_it_started(alice, riverside, cooperative):
    shifts.monitoring_set(librarian=alice, queue_ids=[riverside.pk])
    since = Membership.objects.get(librarian=alice, queue=riverside).monitoring_since
    shifts.monitoring_set(librarian=alice, queue_ids=[riverside.pk, cooperative.pk])
    assert Membership.objects.get(librarian=alice, queue=riverside).monitoring_since == since


def test_monitoring_a_list_of_things_that_are_not_queue_ids_is_refused(alice):
    with refused("bad_frame"):
        shifts.monitoring_set(librarian=alice, queue_ids=["riverside"])
