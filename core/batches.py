"""Group commit for sockets: what many sockets of a process ask for at the same moment goes
to the database as one call.

A socket hands its item to a :class:`Batcher` and waits for its own answer.
While one batch is in the database, the items that arrive queue up; the
next batch takes all of them (up to a size) in one call on the database
threads. An idle server handles an item at once, alone; a busy one shares
the thread hop, the round trips and the commit between the items of a
batch, so the cost of an item falls as the load rises
(docs/performance.md). Chat lines (``transcripts/writer.py``) and patron
sockets opening (``queues/consumers.py``: a thousand of them at once after a
server restart) go this way.

The function a batcher calls takes the list of items and returns, for each,
its answer or the exception that answers it alone: one item's refusal never
fails another's. The events the call published are sent (in the order they
were committed) before any answer, as :func:`core.events.call_service`
does.
"""

import asyncio
import weakref
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from core.events import call_service_on

Item = TypeVar("Item")
Answer = TypeVar("Answer")

Runner = Callable[[Callable[..., Any]], Callable[..., Any]]


class _Queue(Generic[Item]):
    """The batches of one event loop: at most one in the database at a time."""

    def __init__(self) -> None:
        self.waiting: list[tuple[Item, asyncio.Future[Any]]] = []
        self.task: asyncio.Task[None] | None = None


class Batcher(Generic[Item, Answer]):
    """Hand items to ``store`` in batches of at most ``size()`` on ``runner``'s threads.

    ``store(items)`` runs on a database thread and returns one outcome per
    item, in order: the item's answer, or an exception raised to that item's
    caller only.
    """

    def __init__(
        self,
        store: Callable[[list[Item]], Sequence[Answer | BaseException]],
        *,
        runner: Runner,
        size: Callable[[], int],
    ) -> None:
        self.store = store
        self.runner = runner
        self.size = size
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Queue[Item]] = (
            weakref.WeakKeyDictionary()
        )

    async def call(self, items: list[Item]) -> Sequence[Answer | BaseException]:
        """One batch: ``store`` on ``runner``'s threads, its events sent after."""
        return await call_service_on(self.runner, self.store, items)

    async def submit(self, item: Item) -> Answer:
        """Queue ``item`` for the next batch; its answer, or raise its exception."""
        loop = asyncio.get_running_loop()
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = _Queue()
        future: asyncio.Future[Answer] = loop.create_future()
        queue.waiting.append((item, future))
        if queue.task is None or queue.task.done():
            queue.task = loop.create_task(self._drain(queue))
        return await future

    async def _drain(self, queue: _Queue[Item]) -> None:
        while queue.waiting:
            batch: list[tuple[Item, asyncio.Future[Any]]] = []
            try:
                size = max(1, self.size())
                batch, queue.waiting = queue.waiting[:size], queue.waiting[size:]
                outcomes = await self.call([item for item, _ in batch])
            except BaseException as error:  # the call itself failed: every item hears it
                if not batch:  # before the batch was taken: all that wait
                    batch, queue.waiting = queue.waiting, []
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                if isinstance(error, asyncio.CancelledError):
                    raise
                continue
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():  # the socket went away meanwhile
                    continue
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)
