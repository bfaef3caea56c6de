"""A garbage collection long enough to show in every socket's latency is logged."""

import gc
import logging
from collections.abc import Iterator

import pytest

from reference_chat import asgi


@pytest.fixture(autouse=True)
def watched() -> Iterator[None]:
    """The watch as the server has it (tests/conftest.py takes it off the test process)."""
    gc.callbacks.append(asgi._gc_watch)
    try:
        yield
    finally:
        gc.callbacks.remove(asgi._gc_watch)


def test_a_collection_that_stops_the_process_long_enough_is_logged(caplog, monkeypatch):
    caplog.set_level(logging.WARNING, logger="reference_chat.asgi")
    monkeypatch.setattr(asgi, "GC_PAUSE_LOGGED_SECONDS", 0.0)
    gc.collect()
    assert "garbage collection (generation 2) paused the process" in caplog.text


def test_a_short_collection_is_not(caplog, monkeypatch):
    caplog.set_level(logging.WARNING, logger="reference_chat.asgi")
    monkeypatch.setattr(asgi, "GC_PAUSE_LOGGED_SECONDS", 3600.0)
    gc.collect(0)
    assert "garbage collection" not in caplog.text
