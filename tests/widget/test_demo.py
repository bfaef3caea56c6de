"""The demo library site (core/demo_site.py) and the demo queue's widget (seed_demo_widget)."""

import urllib.request

import pytest
from django.core.management import call_command

from core.demo_site import demo_server, serve_in_thread
from tests.live import free_port
from widget.models import Widget


def test_the_demo_site_serves_each_form_with_the_policy_a_host_page_needs():
    port = free_port()
    httpd = demo_server(host="127.0.0.1", port=port, app="http://127.0.0.1:8000")
    serve_in_thread(httpd)
    try:
        for path, form in [("/", "button"), ("/tab/", "tab"), ("/inline/", "inline"),
                           ("/hours/", "button")]:  # fmt: skip
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as response:
                page = response.read().decode()
                csp = response.headers["Content-Security-Policy"]
            assert f'data-form="{form}"' in page, path
            assert 'href="http://127.0.0.1:8000/ask/riverside/"' in page, path
            assert "script-src 'self' http://127.0.0.1:8000" in csp
            assert "frame-src http://127.0.0.1:8000" in csp
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/?queue=nowhere") as response:
            assert 'data-queue="nowhere"' in response.read().decode()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/?queue=%3Cb%3E") as response:
            assert 'data-queue="riverside"' in response.read().decode()  # not a slug: ignored
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.django_db
def test_seed_demo_widget_lists_the_demo_site_and_keeps_other_origins():
    call_command("seed_demo", password="x-test-pass")
    call_command("seed_demo_widget", demo_port=8001)
    widget = Widget.objects.get(queue__slug="riverside")
    assert widget.origins == ["http://127.0.0.1:8001", "http://localhost:8001"]
    widget.allowed_origins += "\nhttps://www.riverside.example.org"
    widget.save()
    call_command("seed_demo_widget", demo_port=9001, if_empty=True)
    widget.refresh_from_db()
    assert "https://www.riverside.example.org" in widget.origins
    assert "http://127.0.0.1:9001" in widget.origins
