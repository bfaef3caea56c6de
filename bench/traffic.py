"""The benchmark's traffic: lines at a rate from both ends of the conversations.

The sockets are ``bench.load``'s; this is when they speak. About half the
lines are typed, as people type them on the pages (static/js/typing.js): a
typing frame, the line a moment later, then a stop; on the application's
sockets and on the bare relay's alike, so the floor carries the same frames.
"""

# ruff: noqa: S311 - the randomness here spreads load, it guards nothing

import asyncio
import random
from dataclasses import dataclass
from typing import Any

from bench.load import Bench, Ledger, Socket, now

# About half the lines are typed after a typing frame, sent this many
# seconds (at random between the two) before the line.
TYPING_SHARE = 0.5
TYPING_LEAD_S = (0.3, 1.0)


@dataclass
class Pair:
    """The two ends of one conversation, and how to address it from the librarian's end."""

    patron: Socket
    librarian: Socket
    address: Any  # the session id (application) or the group (bare)


async def traffic(bench: Bench, pairs: list[Pair], rate: float, seconds: float) -> int:
    """Send ``rate`` lines a second for ``seconds``, each from a random end of a random pair.

    Sends are spread evenly (a tick every 5 ms); returns how many were sent.
    About half the lines are typed: a typing frame when the line is due, the
    line a moment (TYPING_LEAD_S) later, and a stop after it, as the pages
    send them (a line is timed from its own send); the bare relay's sockets
    type as the application's do.
    """
    rng = random.Random(len(pairs) * 7919 + int(rate))
    ledger = bench.ledger
    start = now()
    sent = 0
    typed: list[asyncio.Task[None]] = []
    while (elapsed := now() - start) < seconds:
        due = int(elapsed * rate)
        while sent < due:
            pair = pairs[rng.randrange(len(pairs))]
            sender = pair.patron if rng.random() < 0.5 else pair.librarian
            if rng.random() < TYPING_SHARE and sender.typing_start(pair.address):
                lead = rng.uniform(*TYPING_LEAD_S)
                typed.append(asyncio.create_task(_typed_line(ledger, sender, pair.address, lead)))
            else:
                client_id, text = ledger.new(sender.side)
                await sender.send_line(sender.line_frame(client_id, text, pair.address))
            sent += 1
        await asyncio.sleep(0.005)
    await asyncio.gather(*typed)
    return sent


async def _typed_line(ledger: Ledger, sender: Socket, address: Any, lead: float) -> None:
    """The line whose typing frame went ``lead`` seconds ago, then the stop."""
    await asyncio.sleep(lead)
    client_id, text = ledger.new(sender.side)
    await sender.send_line(sender.line_frame(client_id, text, address))
    sender.typing_stop(address)


async def drain(bench: Bench, timeout: float) -> None:
    """Wait until every line of the phase reached the other end, or ``timeout``."""
    deadline = now() + timeout
    while now() < deadline and bench.ledger.undelivered():
        await asyncio.sleep(0.05)
