"""Every page says what it may load and do: a strict Content-Security-Policy
(nothing inline, nothing from another origin), a Permissions-Policy denying
what the product doesn't use, and staff pages never framed."""

import re

import pytest

from tests.helpers import logged_in

pytestmark = pytest.mark.django_db


def policy(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def pages(world, chat) -> dict[str, str]:
    session = chat(world.alice)
    return {
        "the list of chat services": "/ask/",
        "the chat form": "/ask/riverside/",
        "the patron's chat": f"/chat/{session.token}/",
        "the log-in page": "/login/",
        "the console": "/console/",
        "the Chat History": "/console/history/",
        "a session's Chat History": f"/console/history/{session.pk}/",
        "a stale patron link": "/chat/no-such-token/",
        "the admin": "/admin/",
    }


def test_every_page_has_a_strict_content_security_policy(world, chat):
    alice = logged_in(world.alice)
    for what, url in pages(world, chat).items():
        response = alice.get(url)
        assert response.status_code in {200, 302, 404}, (what, response.status_code)
        csp = policy(response)
        assert csp["default-src"] == ["'self'"], what
        assert csp["script-src"] == ["'self'"], what
        assert csp["style-src"] == ["'self'"], what
        assert csp["object-src"] == ["'none'"], what
        assert csp["base-uri"] == ["'none'"], what
        assert csp["frame-ancestors"] == ["'none'"], what
        # The socket may go back to the page's own host only, ws: or wss:.
        assert csp["connect-src"] == ["'self'", "ws://testserver", "wss://testserver"], what
        header = response.headers["Content-Security-Policy"]
        assert "unsafe" not in header, what
        assert not re.search(r"https?://", header), f"{what}: no other origin"


def test_every_page_denies_the_browser_features_the_product_does_not_use(client, world):
    response = client.get("/ask/")
    permissions = dict(
        part.strip().split("=", 1) for part in response.headers["Permissions-Policy"].split(",")
    )
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert permissions[feature] == "()", feature
    # The console's new-request sound plays in the page itself.
    assert permissions["autoplay"] == "(self)"


def test_staff_pages_may_not_be_framed(world):
    alice = logged_in(world.alice)
    for url in ("/console/", "/console/history/", "/login/"):
        response = alice.get(url)
        assert response.headers["X-Frame-Options"] == "DENY", url
        assert policy(response)["frame-ancestors"] == ["'none'"], url


def test_a_request_with_a_wrong_host_is_refused_without_a_policy_error(client, world):
    response = client.get("/ask/", HTTP_HOST="evil.example")
    assert response.status_code == 400
