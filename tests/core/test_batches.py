"""The batcher (core/batches.py): items submitted at the same moment are stored together.

Each item still hears only its own answer or refusal, and a batch that fails
fails its own waiters, never the next batch. The patron sockets that open in
batches are tested in tests/chat/test_patron_opens.py.
"""

import asyncio
from typing import Any

import pytest

from core.batches import Batcher
from core.db import database_call

pytestmark = pytest.mark.django_db(transaction=True)


# --- The batcher itself --------------------------------------------------------------


async def test_each_item_hears_only_its_own_refusal():
    def store(items: list[int]) -> list[Any]:
        return [ValueError(f"no {item}") if item % 2 else item * 10 for item in items]

    batcher: Batcher[int, int] = Batcher(store, runner=database_call, size=lambda: 3)
    outcomes = await asyncio.gather(*(batcher.submit(i) for i in range(7)), return_exceptions=True)
    assert [o if isinstance(o, int) else str(o) for o in outcomes] == [
        0, "no 1", 20, "no 3", 40, "no 5", 60,
    ]  # fmt: skip


async def test_a_batch_that_cannot_be_taken_fails_its_waiters_instead_of_hanging():
    def size() -> int:
        raise RuntimeError("misconfigured")

    batcher: Batcher[int, int] = Batcher(lambda items: items, runner=database_call, size=size)
    outcomes = await asyncio.wait_for(
        asyncio.gather(*(batcher.submit(i) for i in range(3)), return_exceptions=True), 3
    )
    assert [str(o) for o in outcomes] == ["misconfigured"] * 3


async def test_a_store_that_raises_fails_its_batch_and_the_next_batch_still_runs():
    calls: list[list[int]] = []

    def store(items: list[int]) -> list[int]:
        calls.append(items)
        if len(calls) == 1:
            raise RuntimeError("database down")
        return items

    batcher: Batcher[int, int] = Batcher(store, runner=database_call, size=lambda: 10)
    first = await asyncio.gather(batcher.submit(1), return_exceptions=True)
    assert [str(o) for o in first] == ["database down"]
    assert await batcher.submit(2) == 2
