"""The processes a fault run owns: its database, its Redis, its Daphne processes, its worker.

Everything here is started by the run and stopped by it: a Redis on a spare
loopback port (never the machine's), Daphne processes on spare ports, a
worker (``manage.py worker``, the task queue and the periodic jobs) when the
run asks for one, and a PostgreSQL database of its own that is dropped at
the end. Processes are stopped by their process id only.
"""

import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from faults.tiers import TIER_SECONDS

ROOT = Path(__file__).resolve().parent.parent
QUEUE_SLUG = "faults"
# "2026-11-29 14:55:21,751 ERROR logger message" (reference_chat.settings LOGGING)
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d [\d:,]+ (?:ERROR|CRITICAL) (.*)$")
# A socket whose consumer raised: Daphne logs "Exception inside application"
# and the client sees 1011. The Redis restart may cause that (a connection
# refused, closed or timed out); anything else is a bug, and fails the run.
OUTAGE = re.compile(r"connect|timeout", re.IGNORECASE)


def crashes(problems: Counter[str]) -> list[str]:
    """The logged problems that are a crashed socket, not the Redis outage."""
    return [
        message
        for message in problems
        if "Exception inside application" in message and not OUTAGE.search(message)
    ]


def log(message: str) -> None:
    print(f"[faults] {message}", file=sys.stderr, flush=True)


def free_ports(count: int) -> list[int]:
    """Distinct loopback ports nothing listens on now (held open until all are chosen)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


# Runs inside `manage.py shell -c`: one queue whose patrons are of one
# library, and N librarians who are members of it: the first half of that
# library, the others of a second library (the cooperative), the last one
# its backup. The queue's tiers roll a request over after FAULTS_SEED_TIER
# seconds and twice that (faults/tiers.py). Prints the ids as JSON on its
# last line.
SEED = """
import json, os
from django.contrib.auth import get_user_model
from accounts.models import Librarian, Library
from queues.models import Membership, Queue, QueueTier
count = int(os.environ["FAULTS_SEED_LIBRARIANS"])
password = os.environ["FAULTS_SEED_PASSWORD"]
tier = int(os.environ["FAULTS_SEED_TIER"])
library = Library.objects.create(name="Faults Public Library", slug="faults-public")
other = Library.objects.create(name="Faults College Library", slug="faults-college")
# Each librarian takes up to a fair share and one more (faults/scenario.py):
# the queue's maximum is above it, so no pick-up meets it.
queue = Queue.objects.create(name="Ask Faults", slug="faults", busy_at=20)
queue.libraries.add(library)
QueueTier.objects.create(queue=queue, after_seconds=0, home=True)
QueueTier.objects.create(queue=queue, after_seconds=tier, cooperative=True)
QueueTier.objects.create(queue=queue, after_seconds=2 * tier, backup=True)
out = {"queue": queue.pk, "librarians": []}
for i in range(1, count + 1):
    user = get_user_model().objects.create_user(f"lib{i}", password=password)
    librarian = Librarian.objects.create(
        user=user, library=library if i <= (count + 1) // 2 else other,
        display_name=f"Lib{i}", staff_id=f"FLT-{i}", primary_queue=queue,
    )
    Membership.objects.create(librarian=librarian, queue=queue, is_backup=i == count > 2)
    out["librarians"].append({"id": librarian.pk, "username": f"lib{i}"})
print(json.dumps(out))
"""


class Stack:
    """The run's own database, Redis, Daphne processes and worker.

    Nothing starts by itself: the run calls :meth:`start_redis`,
    :meth:`start_daphne` and, if it wants background work done (sweeps,
    transcripts), :meth:`start_worker`. The benchmark starts no worker.
    """

    def __init__(
        self,
        *,
        pg_host: str,
        pg_port: int,
        db_name: str,
        daphnes: int,
        label: str = "faults",
        asgi: str = "reference_chat.asgi:application",
        extra_env: dict[str, str] | None = None,
    ) -> None:
        # The benchmark (bench/) runs its own stack with this class: another
        # label, an ASGI module that adds its bare relay, its own settings.
        self.asgi, self.extra_env = asgi, extra_env or {}
        self.tmp = Path(tempfile.mkdtemp(prefix=f"refchat-{label}-"))
        self.pg_host, self.pg_port, self.db_name = pg_host, pg_port, db_name
        self.database_url = f"postgres://postgres@{pg_host}:{pg_port}/{db_name}"
        ports = free_ports(daphnes + 1)
        self.redis_port, self.ports = ports[0], ports[1:]
        self.prefix = f"{label}-{uuid.uuid4().hex[:10]}"
        self.started: list[subprocess.Popen[bytes]] = []
        self.daphne: list[subprocess.Popen[bytes] | None] = [None] * daphnes
        self.redis: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        # The worker logs at INFO (each transcript it emails, each task it
        # runs): the run's evidence when a transcript goes missing or twice.
        self.worker_env = {"LOG_LEVEL": "INFO"}
        self.db_created = False
        self.logs: list[Path] = []
        self.redis_bin = shutil.which("redis-server")

    # --- environment -------------------------------------------------------
    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "REDIS_URL", "CHANNEL_PREFIX", "EMAIL_URL"}
        }
        env.update(
            {
                "DATABASE_URL": self.database_url,
                "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
                "CHANNEL_PREFIX": self.prefix,
                "DEBUG": "false",
                "SECRET_KEY": f"{self.prefix}-only-key",
                "ALLOWED_HOSTS": "127.0.0.1",
                "SWEEP_SECONDS": "2",
                "STATIC_ROOT": str(self.tmp / "static"),
                "VAR_DIR": str(self.tmp / "var"),
                "LOG_LEVEL": "WARNING",
                "PYTHONUNBUFFERED": "1",
                # Every simulated patron and client comes from 127.0.0.1: the
                # limits on abuse (README) would refuse them as one.
                "ASK_LIMIT_PER_HOUR": "0",
                "TRANSCRIPT_LIMIT_PER_HOUR": "0",
                "API_ANON_RATE": "1000000/min",
                "API_USER_RATE": "1000000/min",
                **self.extra_env,
            }
        )
        return env

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(
            host=self.pg_host, port=self.pg_port, user="postgres", dbname="postgres",
            autocommit=True, connect_timeout=5,
        )  # fmt: skip

    def connect_db(self) -> psycopg.Connection:
        return psycopg.connect(
            host=self.pg_host, port=self.pg_port, user="postgres", dbname=self.db_name,
            autocommit=True, connect_timeout=5,
        )  # fmt: skip

    # --- database ----------------------------------------------------------
    def create_database(self) -> None:
        with self._admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(self.db_name)
                )
            )
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.db_name)))
        self.db_created = True

    def drop_database(self) -> bool:
        if not self.db_created:
            return True
        try:
            with self._admin() as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(self.db_name)
                    )
                )
        except psycopg.Error as error:
            log(f"could not drop database {self.db_name}: {error}")
            return False
        self.db_created = False
        return True

    def manage(self, *args: str, env: dict[str, str] | None = None) -> str:
        done = subprocess.run(  # noqa: S603 - fixed argv, our own interpreter
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.env(), **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {args[0]} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def prepare(self, *, librarians: int, password: str) -> dict[str, object]:
        """Fresh database, migrated; static files collected; the run's own data."""
        return self.prepare_with(
            SEED,
            {
                "FAULTS_SEED_LIBRARIANS": str(librarians),
                "FAULTS_SEED_PASSWORD": password,
                "FAULTS_SEED_TIER": str(TIER_SECONDS),
            },
        )

    def prepare_with(self, script: str, env: dict[str, str]) -> dict[str, object]:
        """As :meth:`prepare`, with another seed script (run by ``manage.py shell``)."""
        self.create_database()
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput")
        return self.shell_json(script, env)

    def shell_json(self, script: str, env: dict[str, str]) -> Any:
        """Run ``script`` in ``manage.py shell``; the JSON on its last line of output."""
        out = self.manage("shell", "-c", script, env=env)
        return json.loads(out.strip().splitlines()[-1])

    # --- processes ---------------------------------------------------------
    def _spawn(
        self, argv: list[str], name: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        path = self.tmp / f"{name}-{len(self.logs)}.log"
        self.logs.append(path)
        with path.open("wb") as out:
            proc = subprocess.Popen(  # noqa: S603 - fixed argv
                argv,
                cwd=ROOT,
                env={**self.env(), **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                # Its own process group: a Ctrl-C in the terminal reaches the
                # run, which then stops these itself.
                start_new_session=True,
            )
        self.started.append(proc)
        return proc

    def start_redis(self) -> None:
        if self.redis_bin is None:
            raise RuntimeError("redis-server is not installed")
        self.redis = self._spawn(
            [self.redis_bin, "--port", str(self.redis_port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.tmp),
             "--daemonize", "no"],
            "redis",
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.redis.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.redis.returncode}")
            if self.redis_ping():
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not answer PING")

    def redis_ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.redis_port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill_redis(self) -> None:
        if self.redis is not None:
            _kill(self.redis, signal.SIGKILL)
            self.redis = None

    def start_daphne(self, index: int) -> None:
        self.daphne[index] = self._spawn(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.ports[index]),
             "--access-log", os.devnull, self.asgi],
            f"daphne{index}",
        )  # fmt: skip

    def kill_daphne(self, index: int) -> None:
        proc = self.daphne[index]
        if proc is not None:
            _kill(proc, signal.SIGKILL)
            self.daphne[index] = None

    def daphne_alive(self, index: int) -> bool:
        proc = self.daphne[index]
        return proc is not None and proc.poll() is None

    def healthy(self, index: int) -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.ports[index], timeout=2)
            try:
                conn.request("GET", "/healthz")
                return conn.getresponse().status == 200
            finally:
                conn.close()
        except OSError:
            return False

    def wait_healthy(self, index: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = self.daphne[index]
            if proc is None or proc.poll() is not None:
                raise RuntimeError(f"daphne {index} exited (see {self.logs[-1]})")
            if self.healthy(index):
                return
            time.sleep(0.1)
        raise RuntimeError(f"daphne {index} on port {self.ports[index]} did not become healthy")

    def start_worker(self) -> None:
        """``manage.py worker`` with the Daphne processes' environment (one at a time)."""
        if self.worker_alive():
            raise RuntimeError("the worker is already running")
        self.worker = self._spawn(
            [sys.executable, "manage.py", "worker"], "worker", env=self.worker_env
        )

    def kill_worker(self) -> None:
        """SIGKILL the worker: no graceful stop, whatever task it was in the middle of."""
        if self.worker is not None:
            _kill(self.worker, signal.SIGKILL)
            self.worker = None

    def worker_alive(self) -> bool:
        return self.worker is not None and self.worker.poll() is None

    def worker_exited(self) -> int | None:
        """The exit status of a worker that stopped by itself (None: running, or none started)."""
        return self.worker.poll() if self.worker is not None else None

    def worker_schedule_ran_since(self, since: float) -> bool:
        """Whether a worker claimed a periodic job since ``since`` (wall clock, UNIX time)."""
        with self.connect_db() as conn:
            # The schedule's table, whichever app holds ScheduledJob.
            found = conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_name LIKE %s",
                ("%\\_scheduledjob",),
            ).fetchone()
            if found is None:
                return False
            row = conn.execute(
                sql.SQL("SELECT extract(epoch FROM max(last_started_at))::float8 FROM {}").format(
                    sql.Identifier(found[0])
                )
            ).fetchone()
        return row is not None and row[0] is not None and row[0] >= since

    def stop_all(self) -> list[str]:
        """Stop every process this run started; return those still running after."""
        for proc in self.started:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        for proc in self.started:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _kill(proc, signal.SIGKILL)
        alive = [f"pid {p.pid} ({_name(p)})" for p in self.started if p.poll() is None]
        for port in [self.redis_port, *self.ports]:
            if port_open(port):
                alive.append(f"something still listens on port {port}")
        return alive

    def log_problems(self) -> Counter[str]:
        """The errors the Daphne processes and the worker logged, by logger and
        message (for the report); the worker's start with ``worker:``."""
        found: Counter[str] = Counter()
        for path in self.logs:
            if path.name.startswith("daphne"):
                prefix = ""
            elif path.name.startswith("worker"):
                prefix = "worker: "
            else:
                continue
            for line in path.read_text(errors="replace").splitlines():
                match = LOG_LINE.match(line)
                if match:
                    found[prefix + re.sub(r"\d+", "N", match.group(1))[:160]] += 1
        return found

    def worker_logs(self) -> list[Path]:
        return [path for path in self.logs if path.name.startswith("worker")]

    def remove_tmp(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


def _name(proc: subprocess.Popen[bytes]) -> str:
    args = proc.args
    if isinstance(args, (list, tuple)):
        return " ".join(str(a) for a in args[:3])
    return str(args)


def _kill(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """Signal one process we started (its own group: it and nothing else), and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)
