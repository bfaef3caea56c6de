"""Every error under /api/ is JSON, never an HTML page (docs/api.md, "Errors").

A client of the API reads ``{"detail": …}`` whatever went wrong: an address
that matches nothing, a bad id, a method the API doesn't have, a failure on
our side. The rest of the site keeps its HTML pages.
"""

import logging

import pytest
from django.test import Client

from api import errors, views
from tests.helpers import logged_in

pytestmark = pytest.mark.django_db


def assert_json_error(response, status: int, detail: str | None = None) -> dict:
    assert response.status_code == status, response.content[:200]
    assert response["Content-Type"] == "application/json", response.content[:200]
    body = response.json()
    assert isinstance(body, dict) and body, body
    if detail is not None:
        assert body == {"detail": detail}
    return body


@pytest.mark.parametrize(
    "path",
    [
        "/api/",
        "/api/v1/",
        "/api/v1/nope/",
        "/api/v2/status/",
        "/api/v1/sessions/abc/",
        "/api/v1/sessions/-1/",
        "/api/v1/chat/some-token/extra/",
        "/api/v1/chat//",
    ],
)
def test_an_address_under_the_api_that_matches_nothing_is_a_json_404(world, alice, path):
    assert_json_error(logged_in(alice).get(path), 404, errors.NOT_FOUND)


def test_a_missing_slash_still_leads_to_the_endpoint(client, world):
    response = client.get("/api/v1/status", follow=True)
    assert response.redirect_chain == [("/api/v1/status/", 301)]
    assert response.status_code == 200


def test_the_rest_of_the_site_keeps_its_html_404(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_huge_or_malformed_session_id_is_not_found(world, alice):
    client = logged_in(alice)
    for session_id in ("99999999999999999999", "9223372036854775808", "0"):
        assert_json_error(
            client.get(f"/api/v1/sessions/{session_id}/"),
            404,
            "There is no such chat session in your queues.",
        )


@pytest.mark.parametrize("token", ["a%00b", "%E2%80%AE", "x" * 65, "a.b"])
def test_a_token_that_no_session_can_have_is_not_found(client, db, token):
    response = client.get(f"/api/v1/chat/{token}/")
    assert_json_error(response, 404)


@pytest.mark.parametrize(
    "query",
    [
        {"queue": "99999999999999999999"},
        {"librarian": "9223372036854775808"},
        {"queue": "0"},
        {"queue": "-3"},
    ],
)
def test_an_id_out_of_range_in_a_filter_is_refused_by_name(world, alice, query):
    body = assert_json_error(logged_in(alice).get("/api/v1/sessions/", query), 400)
    [(field, [message])] = body.items()
    assert field in query
    assert message.startswith("Ensure this value is")


def test_the_largest_id_there_can_be_is_a_valid_filter(world, alice):
    response = logged_in(alice).get("/api/v1/sessions/", {"queue": str(2**63 - 1)})
    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_a_page_past_the_last_is_a_json_404(world, alice):
    client = logged_in(alice)
    for page in ("9", "99999999999999999999", "0", "x"):
        assert_json_error(client.get("/api/v1/sessions/", {"page": page}), 404, "Invalid page.")


def test_a_method_the_api_lacks_is_a_json_405(world, alice):
    client = logged_in(alice)
    for url in ("/api/v1/status/", "/api/v1/sessions/", "/api/v1/schema/"):
        assert_json_error(client.put(url), 405, 'Method "PUT" not allowed.')


def test_a_wrong_host_header_is_a_json_400(client, db):
    response = client.get("/api/v1/status/", HTTP_HOST="attacker.example")
    assert_json_error(response, 400, errors.BAD_REQUEST)
    assert client.get("/", HTTP_HOST="attacker.example")["Content-Type"].startswith("text/html")


@pytest.fixture
def status_breaks(monkeypatch):
    def broken():
        raise RuntimeError("the database went away")

    monkeypatch.setattr(views, "queue_status", broken)


@pytest.mark.parametrize("debug", [False, True])
def test_a_failure_in_an_api_view_is_a_json_500_and_logged(
    db, status_breaks, settings, caplog, debug
):
    settings.DEBUG = debug
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = Client(raise_request_exception=False).get("/api/v1/status/")
    assert_json_error(response, 500, errors.SERVER_ERROR)
    assert "the database went away" not in response.content.decode()
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.getMessage() == "Internal Server Error: /api/v1/status/"
    assert record.exc_info and record.exc_info[0] is RuntimeError


def test_a_failure_after_an_api_view_is_a_json_500_too(db, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("headers went wrong")

    # Past DRF's own error handling: Django's handler500 answers.
    monkeypatch.setattr(views.PatronChatView, "finalize_response", broken)
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = Client(raise_request_exception=False).get("/api/v1/chat/some-token/")
    assert_json_error(response, 500, errors.SERVER_ERROR)
    assert any(r.exc_info for r in caplog.records if r.name == "django.request")


def test_a_failure_elsewhere_keeps_the_sites_own_500_page(db, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the page broke")

    monkeypatch.setattr("chat.views.open_queues", broken)
    response = Client(raise_request_exception=False).get("/ask/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


def test_the_test_client_still_sees_the_exception_of_a_failing_api_view(db, status_breaks):
    # The 500 is sent as Django sends it (got_request_exception): tools that
    # listen for unhandled exceptions, and the test client, still hear of it.
    with pytest.raises(RuntimeError, match="the database went away"):
        Client().get("/api/v1/status/")
