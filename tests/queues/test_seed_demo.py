"""``manage.py seed_demo``: the demo people, queues and libraries, as often as it is run."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from accounts.models import Librarian, Library
from accounts.services import SUPERVISORS
from queues.hours import queue_schedule
from queues.models import Membership, Queue

pytestmark = pytest.mark.django_db

User = get_user_model()


def test_seeding_twice_leaves_one_of_each():
    call_command("seed_demo", password="x-test-pass")
    call_command("seed_demo", password="x-test-pass")

    assert sorted(Library.objects.values_list("slug", flat=True)) == [
        "hillcrest-college",
        "riverside-public",
    ]
    assert sorted(Queue.objects.values_list("slug", flat=True)) == [
        "cooperative",
        "hillcrest",
        "riverside",
    ]
    assert sorted(User.objects.values_list("username", flat=True)) == [
        "alice",
        "bob",
        "carol",
        "erin",
        "supervisor",
    ]
    memberships = {
        (m.librarian.user.username, m.queue.slug)
        for m in Membership.objects.select_related("librarian__user", "queue")
    }
    assert memberships == {
        ("alice", "riverside"),
        ("alice", "cooperative"),
        ("bob", "riverside"),
        ("bob", "cooperative"),
        ("carol", "hillcrest"),
        ("carol", "cooperative"),
        ("erin", "cooperative"),
        # The supervisor's console, to watch and take over (chat/team.py).
        ("supervisor", "riverside"),
        ("supervisor", "cooperative"),
    }
    assert Membership.objects.count() == 9
    # Erin is the cooperative's backup: its requests reach her at 120 s.
    assert list(
        Membership.objects.filter(is_backup=True).values_list(
            "librarian__user__username", flat=True
        )
    ) == ["erin"]
    cooperative = Queue.objects.get(slug="cooperative")
    assert cooperative.libraries.count() == 2
    assert Queue.objects.get(slug="hillcrest").email_required
    assert not Queue.objects.get(slug="riverside").email_required
    assert Librarian.objects.get(user__username="carol").library.slug == "hillcrest-college"

    # Riverside keeps hours; Hillcrest and the cooperative don't (usable at any hour).
    riverside = Library.objects.get(slug="riverside-public")
    assert riverside.time_zone == "America/Chicago"
    assert riverside.opening_periods.count() == 6
    assert riverside.special_days.count() == 1
    assert queue_schedule(Queue.objects.get(slug="riverside")) is not None
    assert queue_schedule(Queue.objects.get(slug="hillcrest")) is None
    assert queue_schedule(Queue.objects.get(slug="cooperative")) is None

    supervisor = User.objects.get(username="supervisor")
    assert supervisor.is_staff and not supervisor.is_superuser
    assert list(supervisor.groups.values_list("name", flat=True)) == [SUPERVISORS]
    # Sam has a console too: the Live Sessions tab, watching and taking over.
    assert Librarian.objects.get(user=supervisor).display_name == "Sam"
    assert supervisor.has_perm("chat.watch_chatsession")


def test_every_demo_account_logs_in_with_the_given_password():
    call_command("seed_demo", password="x-test-pass")
    for username in ["alice", "bob", "carol", "supervisor"]:
        assert Client().login(username=username, password="x-test-pass"), username
        assert not Client().login(username=username, password="demo-pass-2026"), username

    alice = Client()
    alice.post("/login/", {"username": "alice", "password": "x-test-pass"})
    assert alice.get("/console/").status_code == 200
    supervisor = Client()
    supervisor.login(username="supervisor", password="x-test-pass")
    assert supervisor.get("/admin/queues/queue/").status_code == 200


def test_seeding_again_with_a_new_password_changes_it():
    call_command("seed_demo", password="x-test-pass")
    call_command("seed_demo", password="x-other-pass")
    assert Client().login(username="bob", password="x-other-pass")
    assert not Client().login(username="bob", password="x-test-pass")


def test_the_demo_libraries_have_a_brand_that_passes_their_own_checks(client):
    call_command("seed_demo", password="x-test-pass")
    riverside = Library.objects.get(slug="riverside-public")
    logo = riverside.logo.name
    assert logo.startswith("logos/riverside-public") and logo.endswith(".png")
    assert (riverside.logo_width, riverside.logo_height) == (192, 192)
    for library in Library.objects.all():
        assert library.brand_color and library.brand_text_color
        library.full_clean()  # the admin's contrast checks pass
    call_command("seed_demo", password="x-test-pass")
    riverside.refresh_from_db()
    assert riverside.logo.name == logo  # seeding again draws no second logo
    assert client.get(f"/media/{logo}").status_code == 200
