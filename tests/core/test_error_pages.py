"""With DEBUG off, errors are the product's own pages: no URL list, no
traceback, no token echoed back."""

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

TOKEN = "Zq3Xk9-stale-token-aaaaaaaaaaaaaaa"


def test_a_stale_patron_link_gets_the_products_not_found_page(client, world):
    response = client.get(f"/chat/{TOKEN}/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "<h1>This page isn't here</h1>" in page
    assert 'href="/ask/"' in page, "a way on: ask a new question"
    assert 'href="/static/css/app.css"' in page, "in the product's look"
    assert TOKEN not in page
    assert "URLconf" not in page
    # The links on it would otherwise send the stale link on as a Referer.
    assert '<meta name="referrer" content="no-referrer">' in page


def test_any_unknown_page_gets_the_same_not_found_page(client, world):
    response = client.get("/nothing-here/")
    assert response.status_code == 404
    assert "<h1>This page isn't here</h1>" in response.content.decode()


@override_settings(ROOT_URLCONF="tests.core.error_urls")
def test_a_server_error_gets_the_products_error_page_without_a_traceback(world):
    response = Client(raise_request_exception=False).get("/broken/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "<h1>Something went wrong</h1>" in page
    assert "Traceback" not in page
    assert "RuntimeError" not in page
