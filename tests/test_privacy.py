"""Patron privacy outside the chat itself: logs and the admin."""

import logging

from django.contrib.auth import get_user_model

from core.logging import MaskPatronTokens


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
