"""Heartbeats: one ticker per server process (per event loop) beats every open socket.

Every ``HEARTBEAT_SECONDS`` each open socket refreshes its presence row and
tells its client the latest sequence numbers, so a lost event is noticed.
They go in batches: the sockets of each kind (patron sockets, consoles) are
spread over the ticks of a period (``HEARTBEAT_SECONDS /
HEARTBEAT_TICK_SECONDS`` slots; a socket joins the least full), and each
tick hands one slot of each kind to that kind's beat, which does the
database work of all of them at once (one UPDATE and one SELECT for a slot
of patron sockets, however many there are). A late tick is not made up
for (a burst of connections is not answered with a burst of beats), but a
slot left unbeaten for two periods, because a busy database held up the
beats before it, is taken with the next tick: every socket is beaten at
least every two periods, well within the grace periods, so a console's
presence row never goes stale while it is open (the presence sweep would
end the librarian's shift). What a beat does is the socket's own business
(``chat/consumers.py``, ``console/consumers.py``).
"""

import asyncio
import logging
import math
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings

logger = logging.getLogger(__name__)

HEARTBEAT_TICK_SECONDS = 1.0
# A beat sends its frames this many at a time, the event loop's other work
# (the lines) between: a hundred sockets' frames in one go held the lines
# back 4 ms a tick (docs/performance.md).
BEATS_BETWEEN_YIELDS = 20

Beat = Callable[[list[Any]], Awaitable[None]]
T = TypeVar("T")


async def in_turns(items: Iterable[T]) -> AsyncIterator[T]:
    """``items`` one by one, letting the event loop's other work (the lines
    waiting meanwhile) go first every ``BEATS_BETWEEN_YIELDS``: how a beat
    walks its sockets to send their frames."""
    for n, item in enumerate(items, 1):
        if n % BEATS_BETWEEN_YIELDS == 0:
            await asyncio.sleep(0)
        yield item


@dataclass(frozen=True)
class Kind:
    """A kind of socket and how one tick beats a batch of them."""

    name: str
    beat: Beat


class _Slots:
    """The open sockets of one kind, each in the slot of the tick that beats it."""

    def __init__(self, kind: Kind, count: int) -> None:
        self.kind = kind
        self.slots: list[weakref.WeakSet[Any]] = [weakref.WeakSet() for _ in range(count)]
        self.retry: weakref.WeakSet[Any] = weakref.WeakSet()  # their batch failed last tick

    def __bool__(self) -> bool:
        return any(self.slots)

    def __contains__(self, socket: object) -> bool:
        return any(socket in slot for slot in self.slots)

    def add(self, socket: Any, *, next_index: int) -> None:
        count = len(self.slots)
        # In the order the next ticks beat them: the least full slot; of
        # those, the last, a whole period away, as a timer of its own would.
        order = [(next_index + k) % count for k in range(count)]
        slot = min(reversed(order), key=lambda i: len(self.slots[i]))
        self.slots[slot].add(socket)

    def all(self) -> list[Any]:
        return [socket for slot in self.slots for socket in slot]

    def discard(self, socket: Any) -> None:
        for slot in self.slots:
            slot.discard(socket)
        self.retry.discard(socket)

    def resize(self, count: int) -> None:
        sockets = self.all()
        self.slots = [weakref.WeakSet() for _ in range(count)]
        for i, socket in enumerate(sockets):
            self.slots[i % count].add(socket)

    def take(self, indexes: list[int]) -> list[Any]:
        """The sockets this tick beats: the slots', and those whose batch just failed."""
        due = [socket for index in indexes for socket in self.slots[index]]
        taken = set(due)
        due += [socket for socket in self.retry if socket not in taken]
        self.retry = weakref.WeakSet()
        return due

    async def beat(self, sockets: list[Any]) -> None:
        if not sockets:
            return
        try:
            await self.kind.beat(sockets)
        except Exception:
            # Ids and counts only: never a line, never a token.
            logger.exception(
                "heartbeat of %d %s sockets failed; trying again next tick",
                len(sockets),
                self.kind.name,
            )
            self.retry.update(socket for socket in sockets if socket in self)


class Heartbeats:
    """The open sockets of one event loop and the one ticker that beats them."""

    def __init__(self) -> None:
        self.kinds: dict[Kind, _Slots] = {}
        self.index = 0  # the slot the next tick beats
        self.beaten_at: list[float] = []  # loop time each slot was last beaten
        self.task: asyncio.Task[None] | None = None

    @staticmethod
    def period() -> tuple[int, float]:
        """How many slots (ticks) a heartbeat period has, and how long a tick is."""
        seconds = max(float(settings.HEARTBEAT_SECONDS), 0.01)
        count = max(1, math.ceil(seconds / HEARTBEAT_TICK_SECONDS - 1e-9))
        return count, seconds / count

    def add(self, kind: Kind, socket: Any) -> None:
        """Beat ``socket`` from now on, the first time within ``HEARTBEAT_SECONDS``."""
        self._resize()
        if kind not in self.kinds:
            self.kinds[kind] = _Slots(kind, self.period()[0])
        self.kinds[kind].add(socket, next_index=self.index)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._tick_while_open())

    def discard(self, kind: Kind, socket: Any) -> None:
        """No more beats for ``socket`` (it closed): none that starts from now on."""
        if kind in self.kinds:
            self.kinds[kind].discard(socket)

    def beats(self, kind: Kind, socket: Any) -> bool:
        """Whether ``socket`` is still beaten (it may have closed during a beat)."""
        return kind in self.kinds and socket in self.kinds[kind]

    def sockets(self, kind: Kind) -> list[Any]:
        return self.kinds[kind].all() if kind in self.kinds else []

    def _resize(self) -> None:
        count, _ = self.period()
        for slots in self.kinds.values():
            if count != len(slots.slots):
                slots.resize(count)
        self.index %= count

    async def _tick_while_open(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while any(self.kinds.values()):  # the last socket closed: the ticker ends
            self._resize()
            count, tick = self.period()
            # On schedule, so each socket beats every period; a late tick is not made up for.
            next_at = max(next_at + tick, loop.time())
            await asyncio.sleep(next_at - loop.time())
            try:
                self._resize()
                count, tick = self.period()
                now = loop.time()
                if len(self.beaten_at) != count:
                    self.beaten_at = [now] * count
                overdue = now - 2 * count * tick
                indexes = [self.index] + [
                    i for i, at in enumerate(self.beaten_at) if at < overdue and i != self.index
                ]
                for i in indexes:
                    self.beaten_at[i] = now
                self.index = (self.index + 1) % count
                # The kinds spread over the tick (consoles and patron
                # sockets, the second half a tick after the first): their
                # database work and their frames never land on the lines at
                # one moment, which was the benchmark's line tail
                # (docs/performance.md). Each kind's sockets are taken just
                # before it is beaten; one that opened meanwhile may be
                # beaten at once, after its snapshot.
                kinds = list(self.kinds.values())
                for k, slots in enumerate(kinds):
                    if k:
                        await asyncio.sleep(tick / len(kinds))
                    await slots.beat(slots.take(indexes))
            except Exception:
                logger.exception("heartbeat tick failed")


_registries: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Heartbeats]" = (
    weakref.WeakKeyDictionary()
)


def heartbeats() -> Heartbeats:
    """The heartbeats of the running event loop (one server process)."""
    loop = asyncio.get_running_loop()
    registry = _registries.get(loop)
    if registry is None:
        registry = _registries[loop] = Heartbeats()
    return registry
