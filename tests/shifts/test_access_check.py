"""The console heartbeat's check of access (shifts/access.py): what it costs, what it says.

Every heartbeat tick checks the consoles it beats in one go: the logins
(one query), the accounts and memberships (one query), however many
consoles; a tick that saw the librarians act extends their logins (one
UPDATE). The sockets themselves: tests/console/test_access.py.
"""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from queues.models import Membership
from shifts.access import ConsoleLogin, consoles_access
from tests.helpers import logged_in

pytestmark = pytest.mark.django_db


def login_of(librarian) -> ConsoleLogin:
    key = logged_in(librarian).session.session_key
    assert key is not None
    queues = Membership.objects.filter(librarian=librarian).values_list("queue_id", flat=True)
    return ConsoleLogin(
        librarian_id=librarian.pk,
        user_id=librarian.user_id,
        session_key=key,
        member_of=frozenset(queues),
    )


@pytest.mark.parametrize("count", [1, 8])
def test_the_check_costs_two_queries_however_many_consoles(world, django_assert_num_queries, count):
    logins = [login_of(lib) for _ in range(count) for lib in (world.alice, world.bob, world.carol)]
    with django_assert_num_queries(2):
        assert consoles_access(logins) == [None] * len(logins)
    with django_assert_num_queries(3):
        assert consoles_access(logins, active=[login.session_key for login in logins[:2]]) == [
            None
        ] * len(logins)


def test_the_check_names_what_ended(world):
    alice, bob, carol = (login_of(lib) for lib in (world.alice, world.bob, world.carol))
    Session.objects.filter(session_key=alice.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    Membership.objects.filter(librarian=world.bob, queue=world.riverside)._raw_delete("default")
    type(world.carol.user).objects.filter(pk=world.carol.user_id).update(is_active=False)
    assert consoles_access([alice, bob, carol]) == ["login", "membership", "inactive"]
