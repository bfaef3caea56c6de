"""What tests of several apps share, beside the people (conftest.py) and their lines (talk.py).

- :func:`at_once`: two people press a button at the same moment. Real
  threads with their own database connections, released together by a
  barrier, against the real database (SQLite with IMMEDIATE transactions, or
  PostgreSQL in service mode);
- :class:`refused`: a move is refused, with the code and message it says;
- :func:`fresh` and :func:`lines_of`: a session as the database holds it now;
- :class:`Clock`: the server's clock, moved by the test (the ``clock`` fixture);
- :func:`logged_in`: a test client logged in as a librarian or a user.
"""

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connections
from django.db.models import F
from django.db.models.functions import Now
from django.test import Client
from django.utils import timezone

from chat.models import ChatSession
from core.errors import ChatError


def at_once(**moves: Callable[..., object]) -> dict[str, Any]:
    """Run each move on its own thread, all released at the same instant.

    Returns what each move returned, or the exception it raised, by name.
    """
    barrier = threading.Barrier(len(moves))
    outcomes: dict[str, Any] = {}

    def run(name: str, move: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[name] = move()
        except Exception as error:
            outcomes[name] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=item) for item in moves.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a move never finished"
    return outcomes


class refused:  # reads as a sentence: ``with refused("not_found"):``
    """The move is refused with ``code``; ``as refusal`` gives ``refusal.message``."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.message = ""

    def __enter__(self) -> "refused":
        return self

    def __exit__(self, kind: object, error: object, traceback: object) -> bool:
        if error is None:
            pytest.fail(f"expected a {self.code!r} refusal, but the move was allowed")
        if not isinstance(error, ChatError):
            return False
        assert error.code == self.code, f"expected {self.code!r}, got {error.code!r}: {error}"
        self.message = error.message
        return True


def lines_of(session: ChatSession) -> list[tuple[int, str, str]]:
    return list(session.messages.order_by("seq").values_list("seq", "kind", "text"))


def fresh(session: ChatSession) -> ChatSession:
    return ChatSession.objects.get(pk=session.pk)


class Clock:
    """The server's clock, moved by the test: ``clock.advance(10)`` is ten seconds later."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = timezone.now()
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def logged_in(person: Any) -> Client:
    """A test client logged in as ``person`` (a librarian, or a user without a profile)."""
    client = Client()
    client.force_login(getattr(person, "user", person))
    return client


def request_aged(session: ChatSession, seconds: float) -> None:
    """The request has waited ``seconds`` longer than it has: its stored
    times move back by as much. The roll-over's clock is the database's
    (chat/routing.py), which a test can't move, so the request moves instead."""
    from chat.routing import REACH_FIELDS

    delta = timedelta(seconds=seconds)
    fields = ["created_at", "waiting_since", *REACH_FIELDS.values(), "announced_until"]
    ChatSession.objects.filter(pk=session.pk).update(**{f: F(f) - delta for f in fields})


def request_reaches(session: ChatSession, librarian: Any) -> None:
    """Age the request until it has reached the librarian's tier (none: as it is)."""
    from chat.routing import REACH_FIELDS, member_group

    group = member_group(librarian, session)
    # The database's clock, not the server's (which ``clock`` may have moved).
    reaches, now = (
        ChatSession.objects.annotate(db_now=Now())
        .values_list(REACH_FIELDS[group], "db_now")
        .get(pk=session.pk)
    )
    if reaches is not None and reaches > now:
        request_aged(session, (reaches - now).total_seconds() + 1)
