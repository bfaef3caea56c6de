"""Patron privacy outside the chat itself: logs and the admin."""

import io
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.urls import URLResolver, get_resolver

from core.logging import MaskPatronTokens, mask_tokens
from reference_chat.routing import websocket_urlpatterns

ROOT = Path(__file__).resolve().parent.parent


def _filtered(msg: str, *args: object) -> str:
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, msg, args, None)
    MaskPatronTokens().filter(record)
    return record.getMessage()


def test_a_not_found_log_line_does_not_carry_the_patron_token():
    token = "Zq3Xk9-secret-token"
    line = _filtered("Not Found: %s", f"/chat/{token}/")
    assert token not in line
    assert line == "Not Found: /chat/…/"


def test_socket_paths_are_masked_too_and_other_paths_are_kept():
    assert _filtered("closed /ws/chat/abc123/ early") == "closed /ws/chat/…/ early"
    assert _filtered("Not Found: %s", "/ask/riverside/") == "Not Found: /ask/riverside/"


def test_a_request_to_an_unknown_chat_logs_no_token(client, db, caplog):
    token = "no-such-token-aaaaaaaaaaaa"
    handler = logging.StreamHandler()
    handler.addFilter(MaskPatronTokens())
    seen: list[str] = []
    handler.emit = lambda record: seen.append(handler.format(record))  # type: ignore[method-assign]
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        assert client.get(f"/chat/{token}/").status_code == 404
    finally:
        logger.removeHandler(handler)
    assert seen, "Django logged the 404"
    assert all(token not in line for line in seen)


def test_a_supervisor_cannot_take_over_a_superuser(client, supervisor):
    root = get_user_model().objects.create_superuser("root", password="x-root-pass-1")
    client.force_login(supervisor)
    assert client.get(f"/admin/auth/user/{root.pk}/password/").status_code == 403
    response = client.post(
        f"/admin/auth/user/{root.pk}/change/", {"username": "root", "is_superuser": "on"}
    )
    assert response.status_code == 403
    root.refresh_from_db()
    assert root.check_password("x-root-pass-1")


def test_a_supervisor_cannot_make_themselves_a_superuser(client, supervisor):
    client.force_login(supervisor)
    page = client.get(f"/admin/auth/user/{supervisor.pk}/change/")
    assert page.status_code == 200
    assert 'name="is_superuser"' not in page.content.decode()


# --- Every path that carries a token is masked, in our logs and nginx's --------

TOKEN = "Zq3Xk9PathTokenAAAAAAAAAAAAAAAAA"


def _routes(patterns: list[Any], prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, route)
        else:
            yield route


def token_paths() -> list[str]:
    """Every page, API and socket path with the patron's token in it, from the URL confs."""
    routes = [*_routes(get_resolver().url_patterns), *_routes(websocket_urlpatterns)]
    paths = ["/" + r.replace("<str:token>", TOKEN) for r in routes if "<str:token>" in r]
    assert len(paths) >= 3, paths  # the chat page, the patron API, the patron socket
    return paths


def test_every_token_path_is_masked_in_our_log_lines():
    for path in token_paths():
        assert TOKEN not in mask_tokens(f"GET {path}?after=2 404"), path


def test_nginx_logs_every_token_path_masked():
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    block = re.search(r"map \$uri \$log_path \{\n(.*?)\n\s*\}", conf, re.S)
    assert block, "nginx.conf maps each path to the one it logs"
    rules = [line.split() for line in block.group(1).splitlines() if line.strip()]

    def logged(uri: str) -> str:
        # nginx tries the regular expressions in order; "default" is the rest.
        for pattern, replacement in rules:
            if pattern != "default" and re.search(pattern.removeprefix("~"), uri):
                return replacement.removesuffix(";")
        return uri

    for path in token_paths():
        assert TOKEN not in logged(path), path
    assert logged("/ask/riverside/") == "/ask/riverside/"


def test_a_traceback_quoting_a_token_is_masked_whatever_handler_writes_it():
    # A handler of a library's own (no filter of ours, Python's own formatter),
    # as Daphne's "Exception inside application" and Django's loggers have.
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("daphne.server")
    logger.addHandler(handler)
    try:
        try:
            raise ValueError(f"No route found for path 'ws/chat/{TOKEN}/x/'")
        except ValueError as error:
            logger.error("Exception inside application: %s", error, exc_info=error)
        logger.warning("Not Found: %s", f"/api/v1/chat/{TOKEN}/", stack_info=True)
    finally:
        logger.removeHandler(handler)
    written = stream.getvalue()
    assert "Traceback (most recent call last)" in written
    assert "ValueError: No route found for path 'ws/chat/…/x/'" in written
    assert "Not Found: /api/v1/chat/…/" in written
    assert TOKEN not in written
