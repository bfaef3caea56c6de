"""The people of the transfer tests (tests/chat/test_transfer_*.py), and what holds after each.

Alice holds Dana's session in Ask Riverside unless a test says otherwise
(``held``). Alice and Bob monitor Ask Riverside and the cooperative, Carol
monitors only the cooperative, Dave only the archive: he shares nothing with
the others (``on_shift``).
"""

from typing import Any

import pytest

from chat.models import ChatSession
from shifts import services as shifts
from tests.chat.helpers import assert_invariants


@pytest.fixture
def on_shift(alice, bob, carol, dave, riverside, cooperative, archive) -> None:
    shifts.monitoring_set(librarian=alice, queue_ids=[riverside.pk, cooperative.pk])
    shifts.monitoring_set(librarian=bob, queue_ids=[riverside.pk, cooperative.pk])
    shifts.monitoring_set(librarian=carol, queue_ids=[cooperative.pk])
    shifts.monitoring_set(librarian=dave, queue_ids=[archive.pk])


@pytest.fixture
def held(on_shift, chat, alice) -> ChatSession:
    """Dana's session in Ask Riverside, picked up by Alice (lines 1 and 2)."""
    return chat(alice)


@pytest.fixture
def one_primary_per_active_session(request: pytest.FixtureRequest) -> Any:
    """After every test: the invariants of the issue hold in the database.

    Every transfer module uses it (``pytest.mark.usefixtures``).
    """
    yield
    if "world" in request.fixturenames:
        assert_invariants()
