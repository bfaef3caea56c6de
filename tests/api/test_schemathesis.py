"""The REST API keeps to its own OpenAPI document, under a fuzzer (docs/api.md).

A real Daphne serves the test database with DEBUG off, as in production;
schemathesis reads ``/api/v1/schema/`` from it and sends each operation
requests made from the schema (the documented examples, the boundaries and
the wrong types of each parameter, then random ones), with a librarian's
session cookie. Every answer must be no server error, a status the schema
lists for the operation, the content type it lists, and a body of the
shape it gives. The seed and the number of examples are fixed, so a run
takes the same requests every time and a few tens of seconds.

The fuzzer never guesses a patron's token nor often a session id it may
read, so the last test asks for those answers itself and checks them
against the same document, notes, nulls and all.
"""

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
import schemathesis
from django.conf import settings
from django.utils import timezone

from accounts.models import LibraryOpeningPeriod, LibrarySpecialDay
from chat import sessions
from chat.models import ChatSession
from shifts import services as shifts
from tests.helpers import logged_in
from tests.live import (
    collected_static_root,
    free_port,
    start_daphne,
    stop,
    subprocess_database_url,
    wait_healthy,
)
from tests.talk import librarian_notes, librarian_says, patron_says, transcripts_delivered

pytestmark = pytest.mark.django_db(transaction=True, reset_sequences=True)

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
]
SEED = 14
EXAMPLES_PER_OPERATION = 60
RUN_TIMEOUT = 240  # seconds; a run takes well under one
# As nginx sends it (docs/deployment.md): the request came over HTTPS.
BEHIND_TLS = {"X-Forwarded-Proto": "https"}


@pytest.fixture
def live_api(transactional_db: None, tmp_path: Path, settings: Any) -> Iterator[str]:
    """Daphne on a free loopback port, serving the test database, DEBUG off.

    It shares this process's secret key, so a session this process logs in
    (:func:`cookie_of`) is a valid one there.
    """
    settings.SECRET_KEY = f"schemathesis-{uuid.uuid4().hex}{uuid.uuid4().hex}"
    port = free_port()
    log = tmp_path / "daphne.log"
    env = {
        **os.environ,
        "DATABASE_URL": subprocess_database_url(),
        "DEBUG": "false",
        "SECRET_KEY": settings.SECRET_KEY,
        "VAR_DIR": str(tmp_path / "server-var"),
        "CHANNEL_PREFIX": f"test-{uuid.uuid4().hex[:8]}",
        "LOG_LEVEL": "WARNING",
        # The fuzzer sends hundreds of requests a minute from one address:
        # throttled, it would read mostly 429s (documented, but testing nothing).
        "STATIC_ROOT": str(collected_static_root()),
        "API_ANON_RATE": "100000/min",
        "API_USER_RATE": "100000/min",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    proc = start_daphne(env, port, log)
    url = f"http://127.0.0.1:{port}"
    try:
        # Behind nginx, as in production: a redirect to HTTPS would never end here.
        wait_healthy(url, proc, log, headers=BEHIND_TLS)
        yield url
    finally:
        stop(proc, name="daphne", log=log)
        server_errors = [line for line in log.read_text().splitlines() if " ERROR " in line]
        assert not server_errors, "the server logged errors:\n" + log.read_text()[-5000:]


@pytest.fixture
def history(ask, chat, alice, bob, world, mailoutbox) -> dict[str, ChatSession]:
    """Sessions of every shape an answer can have: waiting and anonymous, active
    with notes, closed with a transcript sent, returned to the queue."""
    shifts.monitoring_set(librarian=alice, queue_ids=[world.riverside.pk])
    waiting = ask(name="Eli", question="Is the library open on Sunday?")
    active = chat(alice, email="dana@example.org")
    librarian_says(active, alice, "Which branch are you near?")
    librarian_notes(session_id=active.pk, librarian=alice, text="Regular; prefers large print")
    patron_says(active, "Riverside, the main one.")
    closed = chat(bob, name="Kim", email="kim@example.org", queue=world.cooperative)
    librarian_says(closed, bob, "Here is the link.")
    sessions.session_end_by_librarian(session_id=closed.pk, librarian=bob)
    transcripts_delivered()
    return {"waiting": waiting, "active": active, "closed": closed}


def cookie_of(librarian) -> str:
    return f"sessionid={logged_in(librarian).cookies[settings.SESSION_COOKIE_NAME].value}"


def test_the_api_keeps_to_its_schema_under_a_fuzzer(live_api, history, alice, tmp_path):
    # Half the tokens and session ids it tries are real ones, so it reads
    # real sessions (lines, notes, nulls) as well as missing ones.
    config = tmp_path / "schemathesis.toml"
    tokens = ", ".join(f'"{session.token}"' for session in history.values())
    ids = ", ".join(str(session.pk) for session in history.values())
    config.write_text(
        f"[dictionaries.tokens]\nvalues = [{tokens}]\n"
        f"[dictionaries.sessions]\nvalues = [{ids}]\n"
        "[parameters]\n"
        '"path.token" = { dictionary = "tokens", probability = 0.5 }\n'
        '"path.session_id" = { dictionary = "sessions", probability = 0.5 }\n'
    )
    command = [
        sys.executable, "-m", "schemathesis.cli", "--no-color", "--config-file", str(config), "run",
        f"{live_api}/api/v1/schema/?format=json",
        "--checks", ",".join(CHECKS),
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", str(EXAMPLES_PER_OPERATION),
        "--seed", str(SEED),
        "--generation-database", "none",
        "--workers", "1",
        "--request-timeout", "10",
        # The librarian's cookie is the credentials: no made-up session ids instead.
        "--generation-with-security-parameters", "false",
        "--header", f"Cookie: {cookie_of(alice)}",
        *[f"--header={name}: {value}" for name, value in BEHIND_TLS.items()],
    ]  # fmt: skip
    run = subprocess.run(
        command,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    print(run.stdout)  # pytest shows it when the test fails (and with -s)
    assert run.returncode == 0, f"schemathesis found failures:\n{run.stdout[-20000:]}{run.stderr}"
    assert "No issues found" in run.stdout or "passed" in run.stdout, run.stdout[-3000:]


def test_real_answers_match_the_schema(live_api, history, alice, hillcrest_library):
    # Hillcrest is closed today (a holiday): its status has a next opening.
    hillcrest_library.time_zone = "America/Chicago"
    hillcrest_library.save()
    today = timezone.now().astimezone(ZoneInfo("America/Chicago")).date()
    LibrarySpecialDay.objects.create(library=hillcrest_library, date=today)
    LibraryOpeningPeriod.objects.create(
        library=hillcrest_library, weekday=(today.weekday() + 2) % 7, opens=time(9), closes=time(17)
    )
    schema = schemathesis.openapi.from_url(f"{live_api}/api/v1/schema/?format=json")
    headers = {"Cookie": cookie_of(alice), **BEHIND_TLS}
    asked: list[tuple[str, dict[str, Any], dict[str, str]]] = [
        ("/api/v1/status/", {}, {}),
        ("/api/v1/status/{slug}/", {"slug": "riverside"}, {}),
        ("/api/v1/status/{slug}/", {"slug": "hillcrest"}, {"lang": "es"}),
        ("/api/v1/status/{slug}/", {"slug": "no-such-queue"}, {}),
        ("/api/v1/sessions/", {}, {}),
        ("/api/v1/sessions/", {}, {"page_size": "1", "page": "2"}),
        ("/api/v1/sessions/", {}, {"queue": "x"}),
        ("/api/v1/sessions/", {}, {"page": "99"}),
        ("/api/v1/sessions/{session_id}/", {"session_id": 99999}, {}),
    ]
    for session in history.values():
        asked.append(("/api/v1/sessions/{session_id}/", {"session_id": session.pk}, {}))
        asked.append(("/api/v1/chat/{token}/", {"token": session.token}, {}))
    asked.append(("/api/v1/chat/{token}/", {"token": "no-such-token"}, {}))
    statuses = []
    for path, path_parameters, query in asked:
        operation = schema[path]["GET"]
        case = operation.Case(path_parameters=path_parameters, query=query, headers=headers)
        response = case.call(base_url=live_api)
        # Every check the fuzzer runs, on an answer with real lines and nulls in it.
        case.validate_response(response, checks=[_check(name) for name in CHECKS])
        statuses.append(response.status_code)
    assert statuses.count(200) == 5 + 2 * len(history), statuses
    assert statuses.count(404) == 4 and statuses.count(400) == 1, statuses
    # Anonymous, the staff operations answer 403, as documented, in JSON.
    anonymous = requests.get(f"{live_api}/api/v1/sessions/", headers=BEHIND_TLS, timeout=10)
    case = schema["/api/v1/sessions/"]["GET"].Case()
    case.validate_response(anonymous, checks=[_check(name) for name in CHECKS])
    assert anonymous.status_code == 403


def _check(name: str):
    return getattr(schemathesis.checks, name)
