"""Real server processes, as `make run` and a developer start them, and what
they write: the safe defaults hold, and no log line carries a patron token.

Each test starts its server on a free port against the test database, visits
every kind of path that carries a token (pages, the API, sockets, paths with
no route), stops the server, and reads everything it wrote: its output (our
loggers, Django's, Daphne's, Channels', tracebacks) and Daphne's access log.
"""

import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect
from websockets.typing import Origin

from tests.live import ROOT, free_port, stop, subprocess_database_url, wait_healthy

# Shaped like a real token (32 URL-safe characters), so nothing can tell it apart.
TOKEN = "Zq3Xk9LiveTokenAAAAAAAAAAAAAAAAA"
# The variables a developer's shell may have set that would change the defaults.
SETTINGS_VARIABLES = {
    "DEBUG", "SECRET_KEY", "EMAIL_URL", "SECURE_COOKIES", "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS", "LOG_LEVEL", "STATIC_ROOT", "DJANGO_ALLOW_ASYNC_UNSAFE",
}  # fmt: skip


@dataclass
class Running:
    url: str
    output: Path
    access_log: Path

    def get(self, path: str) -> tuple[int, dict[str, str], str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=10) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()

    def socket_close_code(self, path: str) -> int | None:
        ws_url = self.url.replace("http://", "ws://") + path
        with connect(ws_url, origin=Origin(self.url), open_timeout=10) as ws:
            try:
                ws.recv(timeout=10)
            except ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else None
        return None

    def written(self) -> str:
        """Everything the server wrote: its output and Daphne's access log."""
        access = self.access_log.read_text() if self.access_log.exists() else ""
        return self.output.read_text() + access


def environment(tmp_path: Path, **env: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    return {
        **clean,
        "DATABASE_URL": subprocess_database_url(),
        "VAR_DIR": str(tmp_path / "var"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "CHANNEL_PREFIX": f"test-{uuid.uuid4().hex[:8]}",
        **env,
    }


@pytest.fixture
def start(transactional_db: None, tmp_path: Path) -> Iterator:
    procs: list[tuple[subprocess.Popen[bytes], Path]] = []

    def run(argv: list[str], env: dict[str, str], port: int) -> Running:
        output = tmp_path / "output.log"
        with output.open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, *argv], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        procs.append((proc, output))
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc, output)
        return Running(url=url, output=output, access_log=tmp_path / "access.log")

    yield run
    for proc, output in procs:
        if proc.poll() is None:
            stop(proc, name="the server", log=output)
    connection.close()


def visit_every_token_path(server: Running) -> None:
    assert server.get(f"/chat/{TOKEN}/")[0] == 404
    assert server.get(f"/chat/{TOKEN}/?after=3")[0] == 404
    assert server.get(f"/api/v1/chat/{TOKEN}/")[0] == 404
    assert server.get(f"/chat/{TOKEN}/x/")[0] == 404
    assert server.socket_close_code(f"/ws/chat/{TOKEN}/") == 4404
    assert server.socket_close_code(f"/ws/chat/{TOKEN}/?after=2") == 4404
    assert server.socket_close_code(f"/ws/chat/{TOKEN}/x/") == 4404
    assert server.socket_close_code("/ws/chat//") == 4404
    assert server.socket_close_code("/ws/nope/") == 4404


def test_make_run_serves_patrons_safe_defaults_and_logs_no_token(start, tmp_path, world, ask):
    """`make run`: collectstatic, then `manage.py serve` with nothing else set."""
    env = environment(tmp_path)
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert collected.returncode == 0, collected.stderr
    port = free_port()
    # The demo site's default port, port + 1, may be taken on a busy machine:
    # name a free one, as `make run` on a fresh machine finds 8001 free.
    server = start(
        ["manage.py", "serve", "--port", str(port), "--demo-port", str(free_port()),
         "--access-log", str(tmp_path / "access.log")],
        env,
        port,
    )  # fmt: skip

    # A stale patron link: the product's page, not Django's debug page.
    status, headers, page = server.get(f"/chat/{TOKEN}/")
    assert status == 404
    assert "<h1>This page isn't here</h1>" in page
    assert "URLconf" not in page
    assert TOKEN not in page
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    # The pages have their style sheet and scripts, hashed, with DEBUG off.
    session = ask()
    status, _, page = server.get(f"/chat/{session.token}/")
    assert status == 200
    assets = re.findall(r'(?:href|src)="(/static/[^"]+\.(?:css|js))"', page)
    assert {a.rsplit(".", 1)[1] for a in assets} == {"css", "js"}
    for asset in assets:
        assert re.search(r"\.[0-9a-f]{12}\.(css|js)$", asset), asset
        status, headers, _ = server.get(asset)
        assert status == 200, asset
    visit_every_token_path(server)

    written = server.written()
    assert TOKEN not in written
    assert session.token not in written
    assert "Traceback" not in written


def test_a_debug_server_logs_every_token_path_masked(start, tmp_path, world):
    """DEBUG on, every logger at DEBUG, Daphne verbose with its access log on:
    what Django, Daphne and Channels log about each path is masked."""
    port = free_port()
    access_log = tmp_path / "access.log"
    server = start(
        ["-m", "daphne", "-v", "2", "-b", "127.0.0.1", "-p", str(port),
         "--access-log", str(access_log), "reference_chat.asgi:application"],
        environment(tmp_path, DEBUG="true", LOG_LEVEL="DEBUG"),
        port,
    )  # fmt: skip
    visit_every_token_path(server)
    written = server.written()
    assert "Not Found: /chat/…/" in written, "Django logged the 404, masked"
    assert "/api/v1/chat/…/" in written
    assert '"GET /chat/…/' in access_log.read_text(), "the access log was written, masked"
    assert "WSCONNECT /ws/chat/…/" in access_log.read_text()
    assert TOKEN not in written
    assert "Traceback" not in written
