"""What tests that start real Daphne and worker subprocesses share: a port, the
test database's URL, the worker, and how to stop them."""

import functools
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@functools.cache
def collected_static_root() -> Path:
    """A STATIC_ROOT that ``collectstatic`` filled, once per test run: a server
    with DEBUG off names its static files through the manifest written there
    (its own error pages included), as after ``make run``'s collectstatic."""
    root = Path(tempfile.mkdtemp(prefix="refchat-static-"))
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env={**os.environ, "STATIC_ROOT": str(root), "DEBUG": "false"},
        check=True,
    )
    return root


def subprocess_database_url() -> str:
    """The URL of the database this test run uses, for a server subprocess to share it."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """The real worker (``manage.py worker``) against the same database as the
    server subprocesses: sweeps, offer expiry and mail, as in production."""
    with log.open("ab") as log_file:
        return subprocess.Popen(
            [sys.executable, "manage.py", "worker", "--interval", "0.2"],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )


def start_daphne(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """A real Daphne serving the project on 127.0.0.1:``port``, its output in ``log``."""
    with log.open("ab") as log_file:
        return subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
             "--access-log", os.devnull, "reference_chat.asgi:application"],
            cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
        )  # fmt: skip


def wait_healthy(
    url: str, proc: subprocess.Popen[bytes], log: Path, *, headers: dict[str, str] | None = None
) -> None:
    """Wait (up to a minute) until the server at ``url`` answers /healthz; fail
    with its output if it exits or never does."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            request = urllib.request.Request(f"{url}/healthz", headers=headers or {})
            with urllib.request.urlopen(request, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server at {url} did not become healthy:\n{log.read_text()}")


def stop(proc: subprocess.Popen[bytes], *, name: str, log: Path) -> None:
    """SIGTERM, then SIGABRT (faulthandler writes every thread's stack to the log), then SIGKILL."""
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        print(f"{name} did not stop within 5 s of SIGTERM; stacks in {log}")
        proc.send_signal(signal.SIGABRT)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
