"""The figures of a phase of traffic: latencies, losses, CPU per line; and the targets.

:class:`Figures` is one phase as the JSON line reports it, filled in by
:func:`figures` from the phase's ledger (``bench.load.Ledger``) and the CPU
samples around it. ``GC_PAUSES`` are the load generator's own garbage
collector pauses, which would otherwise count as the server's latency.
"""

import math
from dataclasses import dataclass, field
from typing import Any

from bench.load import Ledger, now
from bench.stack import CpuSample

TARGETS = {
    "p50_ms": 20.0,
    "p99_ms": 100.0,
    "pickup_p99_ms": 100.0,
    "rollover_p99_ms": 1000.0,  # after the tier's time, to the next tier's consoles (issue 16)
    "p99_ratio": 5.0,  # app / bare, at most (issue 13)
    "max_rate_ratio": 0.6,  # app / bare, at least (issue 13; issue 7 asked 0.5)
    "cpu_ratio": 2.5,  # app / bare per delivered line, at most
    "scaling": 0.2,  # cost per line at 100 and at 1,000 sessions, within
    "kib_per_socket": 100.0,  # at most, at --memory-sockets
    "catch_up_s": 10.0,  # at most, after a restart
}
LATENCY_LIMIT_MS = 100.0  # a rate is "held" with p99 at most this, nothing lost


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted ``values`` (0 when there are none)."""
    if not values:
        return 0.0
    return values[min(len(values) - 1, max(0, math.ceil(q / 100 * len(values)) - 1))]


def slowest_seconds(ledger: Ledger, started: float, count: int = 5) -> list[list[float]]:
    """The seconds of the phase whose lines were slowest: [second, lines, max ms]."""
    worst: dict[int, list[float]] = {}
    for line in ledger.lines.values():
        if line.delivered:
            second = int(line.sent - started)
            entry = worst.setdefault(second, [second, 0, 0.0])
            entry[1] += 1
            entry[2] = max(entry[2], round((line.delivered - line.sent) * 1000, 1))
    return sorted(worst.values(), key=lambda e: -e[2])[:count]


@dataclass
class Figures:
    """One phase of traffic, as the JSON line reports it."""

    sessions: int
    librarians: int
    rate: float
    seconds: float
    sent: int = 0
    delivered: int = 0
    lost: int = 0
    duplicated: int = 0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    lines_per_s: float = 0.0
    cpu_s_per_1000: float = 0.0
    db_cpu_s_per_1000: float = 0.0
    worker_cpu_s_per_1000: float = 0.0
    redis_cpu_s_per_1000: float = 0.0
    generator_cpu_s_per_1000: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def held(self) -> bool:
        return (
            self.lost == 0
            and self.duplicated == 0
            and self.p99_ms <= LATENCY_LIMIT_MS
            and self.sent >= 0.95 * self.rate * self.seconds
        )


def figures(ledger: Ledger, base: Figures, before: CpuSample, after: CpuSample) -> Figures:
    """Fill in ``base`` from the phase's ledger and CPU samples (rate over ``base.seconds``)."""
    lines = ledger.lines.values()
    latencies = sorted((line.delivered - line.sent) * 1000 for line in lines if line.delivered)
    delivered = len(latencies)
    per = 1000 / delivered if delivered else 0.0
    base.sent = len(ledger.lines)
    base.delivered = delivered
    base.lost = base.sent - delivered
    base.duplicated = ledger.duplicates
    base.p50_ms = round(percentile(latencies, 50), 1)
    base.p95_ms = round(percentile(latencies, 95), 1)
    base.p99_ms = round(percentile(latencies, 99), 1)
    base.max_ms = round(latencies[-1] if latencies else 0.0, 1)
    base.lines_per_s = round(delivered / base.seconds, 1)
    base.cpu_s_per_1000 = round((after.server - before.server) * per, 3)
    base.db_cpu_s_per_1000 = round((after.database - before.database) * per, 3)
    base.worker_cpu_s_per_1000 = round((after.worker - before.worker) * per, 3)
    base.redis_cpu_s_per_1000 = round((after.redis - before.redis) * per, 3)
    base.generator_cpu_s_per_1000 = round((after.generator - before.generator) * per, 3)
    return base


# The load generator's garbage-collector pauses over 20 ms, in ms.
GC_PAUSES: list[float] = []
_gc_started = [0.0]


def gc_watch(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _gc_started[0] = now()
    elif (pause := (now() - _gc_started[0]) * 1000) > 20:
        GC_PAUSES.append(pause)
