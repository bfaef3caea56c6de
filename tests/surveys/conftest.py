"""Chats that ended, for the patron's survey: Dana's, answered by Alice."""

from collections.abc import Callable
from typing import Any

import pytest

from chat import sessions
from chat.models import ChatSession


@pytest.fixture
def ended(world: Any, chat: Callable[..., ChatSession]) -> Callable[..., ChatSession]:
    """A chat Alice picked up and ended (``chat`` arguments pass through)."""

    def make(**kwargs: Any) -> ChatSession:
        session = chat(world.alice, **kwargs)
        return sessions.session_end_by_librarian(session_id=session.pk, librarian=world.alice)

    return make
