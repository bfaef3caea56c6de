"""The benchmark's own server: database, Redis, Daphne, its data, and its meters.

The processes are :class:`faults.stack.Stack`'s (its own PostgreSQL
database, a Redis on a spare port, Daphne processes on spare ports, all
stopped at the end), started with ``bench.asgi`` so the bare relay is served
by the same processes as the application.
"""

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from faults.stack import Stack

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# Runs inside `manage.py shell -c`: the libraries, queues and librarians,
# monitoring their queue, each with a logged-in browser session (made here,
# not through /login/: a password hash per librarian would cost the server
# a minute before anything is measured). Prints JSON on its last line.
SEED = """
import json, os
from importlib import import_module
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from accounts.models import Librarian, Library
from queues.models import Membership, Queue, QueueTier
from shifts.services import monitoring_set
count, queue_count = int(os.environ["BENCH_LIBRARIANS"]), int(os.environ["BENCH_QUEUES"])
rollover = int(os.environ["BENCH_ROLLOVER"])
store_class = import_module(settings.SESSION_ENGINE).SessionStore
queues = []
for q in range(queue_count):
    library = Library.objects.create(name=f"Bench Library {q}", slug=f"bench-{q}")
    # Each librarian holds about a tenth of the sessions: no maximum in the way.
    queue = Queue.objects.create(name=f"Ask Bench {q}", slug=f"bench-{q}", busy_at=10_000)
    queue.libraries.add(library)
    if rollover:
        QueueTier.objects.create(queue=queue, after_seconds=0, home=True)
        QueueTier.objects.create(queue=queue, after_seconds=rollover, cooperative=True)
    queues.append((queue, library))
college = Library.objects.create(name="Bench College", slug="bench-college")
out = {"queues": [{"id": q.pk, "slug": q.slug} for q, _ in queues], "librarians": [],
       "rollover": rollover}
for i in range(count):
    queue, library = queues[i % queue_count]
    # The last librarian of each queue is of another library: its
    # cooperative, which a request reaches ``rollover`` seconds on.
    coop = bool(rollover) and i >= count - queue_count and count >= 2 * queue_count
    user = get_user_model().objects.create_user(f"bench{i}")  # no usable password
    librarian = Librarian.objects.create(
        user=user, library=college if coop else library, display_name=f"Bench {i}",
        staff_id=f"B-{i}", primary_queue=queue,
    )
    Membership.objects.create(librarian=librarian, queue=queue)
    monitoring_set(librarian=librarian, queue_ids=[queue.pk])
    store = store_class()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    out["librarians"].append({"id": librarian.pk, "queue": i % queue_count,
                              "cookie": store.session_key, "coop": coop})
print(json.dumps(out))
"""

# Patrons ask (through the service the /ask/ form calls): sessions
# BENCH_FROM .. BENCH_TO, spread over the queues. Prints [id, token, queue].
ASK = """
import json, os
from queues.models import Queue
from chat.sessions import session_enqueue
queues = list(Queue.objects.filter(slug__startswith="bench-").order_by("pk"))
out = []
for j in range(int(os.environ["BENCH_FROM"]), int(os.environ["BENCH_TO"])):
    queue = queues[j % len(queues)]
    session = session_enqueue(
        queue=queue, library=queue.libraries.get(), patron_name=f"Patron {j}",
        patron_email="", question=f"Question {j}: do you have this title in large print?",
    )
    out.append([session.pk, session.token, j % len(queues)])
print(json.dumps(out))
"""


class BenchStack(Stack):
    def seed(self, *, librarians: int, queues: int, rollover: int) -> dict[str, object]:
        return self.prepare_with(
            SEED,
            {
                "BENCH_LIBRARIANS": str(librarians),
                "BENCH_QUEUES": str(queues),
                "BENCH_ROLLOVER": str(rollover),
            },
        )

    def ask(self, start: int, stop: int) -> list[list[object]]:
        return self.shell_json(ASK, {"BENCH_FROM": str(start), "BENCH_TO": str(stop)})

    def daphne_pids(self) -> list[int]:
        return [p.pid for p in self.daphne if p is not None and p.poll() is None]


def _stat(pid: int) -> list[str]:
    raw = Path(f"/proc/{pid}/stat").read_text()
    return raw[raw.rindex(")") + 2 :].split()  # fields from the 3rd (state) on


def cpu_seconds(pid: int, *, children: bool = False) -> float:
    """User + system CPU of a process (and of its reaped children)."""
    try:
        fields = _stat(pid)
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / CLOCK_TICKS


def rss_kib(pid: int) -> int:
    try:
        match = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
    except OSError:
        return 0
    return int(match.group(1)) if match else 0


@dataclass
class CpuSample:
    server: float  # the Daphne processes
    redis: float
    database: float  # the whole PostgreSQL server (its other databases are idle)
    generator: float  # this process
    worker: float = 0.0  # the worker (sweeps, expiries), while it runs


class Meter:
    """CPU and memory of what serves the benchmark, read from /proc."""

    def __init__(self, stack: BenchStack) -> None:
        self.stack = stack
        with stack.connect_db() as conn:
            backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[index]
            self.postmaster = int(_stat(backend)[1])  # the backend's parent

    def _postgres(self) -> float:
        # The postmaster's own time, that of the backends it already reaped,
        # and that of its live children (backends, writers, the WAL writer).
        total = cpu_seconds(self.postmaster, children=True)
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    fields = _stat(int(entry.name))
                except OSError:
                    continue
                if int(fields[1]) == self.postmaster:
                    total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        return total

    def cpu(self) -> CpuSample:
        times = os.times()
        redis = self.stack.redis.pid if self.stack.redis is not None else 0
        worker = self.stack.worker
        return CpuSample(
            server=sum(cpu_seconds(pid) for pid in self.stack.daphne_pids()),
            redis=cpu_seconds(redis) if redis else 0.0,
            database=self._postgres(),
            generator=times.user + times.system,
            worker=cpu_seconds(worker.pid) if worker is not None and worker.poll() is None else 0.0,
        )

    def rss(self) -> int:
        return sum(rss_kib(pid) for pid in self.stack.daphne_pids())


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)
