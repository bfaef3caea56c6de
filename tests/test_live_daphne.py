"""A patron and a librarian converse through real Daphne processes.

Embedded mode: one Daphne process (the in-memory layer lives in one process).
Service mode (DATABASE_URL and REDIS_URL set): two Daphne processes on two
ports, the patron on one and the librarian on the other, as one service.
"""

import asyncio
import http.cookiejar
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from websockets.asyncio.client import connect

from accounts.models import Librarian, Library
from chat.models import ChatSession
from queues.models import Membership, Queue
from tests.live import free_port, subprocess_database_url

ROOT = Path(__file__).resolve().parent.parent
SERVICE_MODE = bool(os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"))


def _wait_healthy(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"daphne on {port} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"daphne on {port} did not become healthy")


@pytest.fixture
def daphne_ports(transactional_db: None) -> Iterator[list[int]]:
    count = 2 if SERVICE_MODE else 1
    env = {
        **os.environ,
        "DATABASE_URL": subprocess_database_url(),
        "DEBUG": "true",
        "SECRET_KEY": settings.SECRET_KEY,  # the logins the test makes hold on the server
        "VAR_DIR": str(settings.VAR_DIR),
        "CHANNEL_PREFIX": f"test-{uuid.uuid4().hex[:8]}",
    }
    if not SERVICE_MODE:
        env.pop("REDIS_URL", None)
    ports, procs = [], []
    try:
        for _ in range(count):
            port = free_port()
            proc = subprocess.Popen(
                [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                 "--access-log", os.devnull, "reference_chat.asgi:application"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            )  # fmt: skip
            procs.append(proc)
            _wait_healthy(port, proc)
            ports.append(port)
        yield ports
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        connection.close()


def _ask(port: int, slug: str, name: str, question: str) -> str:
    """Fill in the chat form like a browser; return the session token from the chat URL."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form_url = f"http://127.0.0.1:{port}/ask/{slug}/"
    page = opener.open(form_url, timeout=5).read().decode()
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    fields.update({"patron_name": name, "question": question})
    data = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(form_url, data=data, headers={"Referer": form_url})
    with opener.open(request, timeout=5) as response:
        final = response.geturl()
    match = re.search(r"/chat/([^/]+)/$", final)
    assert match, f"the form leads to the chat page, not {final}"
    return match.group(1)


def _session_of(token: str) -> ChatSession:
    # Runs on a worker thread: its connection would outlive the thread and
    # keep PostgreSQL from dropping the test database at the end of the run.
    try:
        return ChatSession.objects.get(token=token)
    finally:
        connection.close()


async def _next(ws, type_: str, timeout: float = 5) -> dict:
    """The next frame of the given type, skipping others."""
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == type_:
                return frame


def test_patron_and_librarian_converse_through_daphne(daphne_ports: list[int]) -> None:
    library = Library.objects.create(name="Riverside Public Library", slug="riverside-public")
    queue = Queue.objects.create(name="Ask Riverside", slug="riverside")
    queue.libraries.add(library)
    client = Client()
    user = get_user_model().objects.create_user("alice", password="x-alice-pass")
    alice = Librarian.objects.create(
        user=user, library=library, display_name="Alice", staff_id="RPL-104"
    )
    Membership.objects.create(librarian=alice, queue=queue)
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    librarian_port, patron_port = daphne_ports[0], daphne_ports[-1]

    async def converse() -> ChatSession:
        console_url = f"ws://127.0.0.1:{librarian_port}/ws/console/"
        async with connect(
            console_url,
            origin=f"http://127.0.0.1:{librarian_port}",  # type: ignore[arg-type]
            additional_headers={"Cookie": cookie},
        ) as console:
            snapshot = await _next(console, "console.snapshot")
            assert snapshot["me"]["display_name"] == "Alice"
            await console.send(json.dumps({"type": "monitoring.set", "queues": [queue.pk]}))
            snapshot = await _next(console, "console.snapshot")
            assert snapshot["queues"] == [
                {"id": queue.pk, "name": "Ask Riverside", "monitoring": True, "busy_at": 3}
            ]

            # The patron asks through the form, served by the other process.
            token = await asyncio.to_thread(
                _ask, patron_port, "riverside", "Dana", "Do you have local history books?"
            )
            session = await asyncio.to_thread(_session_of, token)
            created = await _next(console, "session.created")
            assert created["session"]["patron_name"] == "Dana"

            patron_url = f"ws://127.0.0.1:{patron_port}/ws/chat/{session.token}/"
            async with connect(patron_url, origin=f"http://127.0.0.1:{patron_port}") as patron:  # type: ignore[arg-type]
                snap = await _next(patron, "session.snapshot")
                assert [m["text"] for m in snap["messages"]] == ["Do you have local history books?"]

                await console.send(json.dumps({"type": "session.accept", "session": session.pk}))
                accepted = await _next(patron, "session.accepted")
                assert accepted["librarian"]["display_name"] == "Alice"

                await console.send(json.dumps({
                    "type": "message.send", "session": session.pk,
                    "text": "Yes, on the second floor.", "client_id": "c-1",
                }))  # fmt: skip
                line = await _next(patron, "message.created")
                while line["message"]["kind"] != "librarian":
                    line = await _next(patron, "message.created")
                assert line["message"]["text"] == "Yes, on the second floor."

                await patron.send(json.dumps(
                    {"type": "message.send", "text": "Thank you!", "client_id": "p-1"}
                ))  # fmt: skip
                heard = await _next(console, "message.created")
                while heard["message"]["kind"] != "patron":
                    heard = await _next(console, "message.created")
                assert heard["message"]["text"] == "Thank you!"

                # Typing crosses the processes too, and is stored nowhere (the lines below).
                await patron.send(json.dumps({"type": "typing"}))
                typing = await _next(console, "typing.started")
                assert typing == {"type": "typing.started", "session": session.pk}
                await console.send(json.dumps({"type": "typing", "session": session.pk}))
                typing = await _next(patron, "typing.started")
                assert typing == {"type": "typing.started", "librarian": {"display_name": "Alice"}}

                await patron.send(json.dumps({"type": "session.end"}))
                closed = await _next(console, "session.closed")
                assert closed["closed_by"] == "patron"
            return session

    session = asyncio.run(converse())
    lines = list(session.messages.order_by("seq").values_list("seq", "text"))
    assert lines == [
        (1, "Do you have local history books?"),
        (2, "Alice has joined the chat."),
        (3, "Yes, on the second floor."),
        (4, "Thank you!"),
        (5, "Patron ended chat session"),
    ]
