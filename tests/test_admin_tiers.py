"""Roll-over tiers in the admin: a supervisor sets who sees a queue's
requests from when, and a list that makes no sense is refused, saying why."""

import pytest

from queues.hours import queue_tiers
from queues.models import Membership, QueueTier
from queues.tiers import BACKUP, COOPERATIVE, HOME, Tier

pytestmark = pytest.mark.django_db


def queue_form(queue, tiers, memberships=()) -> dict[str, object]:
    """The queue's change form as the browser posts it, with these tiers
    ((seconds, groups)) and memberships ((membership, is_backup))."""
    data: dict[str, object] = {
        "name": queue.name,
        "slug": queue.slug,
        "libraries": [str(lib.pk) for lib in queue.libraries.all()],
        "description": "",
        "is_open": "on",
        "announce_join": "on",
        "patron_grace_seconds": "600",
        "transfer_offer_seconds": "60",
        "time_zone": "",
        "busy_at": "3",
        "waiting_alert_seconds": "120",
        "handback_after_seconds": "0",
        "memberships-TOTAL_FORMS": str(len(memberships)),
        "memberships-INITIAL_FORMS": str(len(memberships)),
        "tiers-TOTAL_FORMS": str(len(tiers)),
        "tiers-INITIAL_FORMS": "0",
        "opening_periods-TOTAL_FORMS": "0",
        "opening_periods-INITIAL_FORMS": "0",
        "special_days-TOTAL_FORMS": "0",
        "special_days-INITIAL_FORMS": "0",
        "widget-TOTAL_FORMS": "0",
        "widget-INITIAL_FORMS": "0",
    }
    for i, (seconds, groups) in enumerate(tiers):
        data[f"tiers-{i}-after_seconds"] = str(seconds)
        for group in groups:
            data[f"tiers-{i}-{group}"] = "on"
    for i, (membership, is_backup) in enumerate(memberships):
        data[f"memberships-{i}-id"] = str(membership.pk)
        data[f"memberships-{i}-queue"] = str(queue.pk)
        data[f"memberships-{i}-librarian"] = str(membership.librarian_id)
        if is_backup:
            data[f"memberships-{i}-is_backup"] = "on"
    return data


def post(sam, queue, tiers, memberships=()):
    return sam.post(
        f"/admin/queues/queue/{queue.pk}/change/", queue_form(queue, tiers, memberships)
    )


def test_a_queue_without_tiers_shows_the_defaults_to_keep_or_change(sam, cooperative):
    page = sam.get(f"/admin/queues/queue/{cooperative.pk}/change/").content.decode()
    assert "roll-over tiers" in page.lower()
    assert 'name="tiers-TOTAL_FORMS" value="3"' in page
    assert 'name="tiers-1-after_seconds" value="40"' in page
    assert 'name="tiers-2-after_seconds" value="120"' in page


def test_the_supervisor_sets_tiers_and_a_backup_librarian(sam, cooperative, carol):
    membership = Membership.objects.get(librarian=carol, queue=cooperative)
    response = post(
        sam,
        cooperative,
        [(0, [HOME]), (20, [COOPERATIVE, BACKUP])],
        memberships=[(membership, True)],
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    cooperative.refresh_from_db()
    assert queue_tiers(cooperative) == (
        Tier(0, frozenset({HOME})),
        Tier(20, frozenset({COOPERATIVE, BACKUP})),
    )
    membership.refresh_from_db()
    assert membership.is_backup


@pytest.mark.parametrize(
    ("tiers", "message"),
    [
        (
            [(10, [HOME]), (40, [COOPERATIVE])],
            "One tier must start at 0 seconds: otherwise nobody sees a new request at once.",
        ),
        (
            [(0, [HOME]), (40, [COOPERATIVE, HOME])],
            "The patron&#x27;s own library are in more than one tier.",
        ),
        ([(0, [HOME]), (30, [])], "Each tier needs at least one group of librarians."),
        (
            [(0, [HOME]), (0, [BACKUP])],
            "Two tiers start at the same time: put their groups in one tier.",
        ),
        ([(0, [HOME]), (-5, [BACKUP])], "Ensure this value is greater than or equal to 0."),
    ],
    ids=["no-tier-at-0", "group-twice", "no-group", "same-time", "negative"],
)
def test_tiers_that_make_no_sense_are_refused_saying_why(sam, cooperative, tiers, message):
    response = post(sam, cooperative, tiers)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not QueueTier.objects.exists()
