"""A garbage collection long enough to show in every socket's latency is logged."""

import gc
import logging

from reference_chat import asgi


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
