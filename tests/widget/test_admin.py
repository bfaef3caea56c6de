"""The widget on the queue's admin page: origins and colours checked, the snippets shown."""

import pytest
from django.test import Client

from widget.models import Widget
from widget.origins import origins_parse

pytestmark = pytest.mark.django_db


def test_origins_are_normalised_and_anything_else_is_refused():
    assert origins_parse(
        "HTTPS://Lib.Example.org/\n\nhttp://127.0.0.1:8001\nhttps://lib.example.org:443"
    ) == [
        "https://lib.example.org",
        "http://127.0.0.1:8001",
    ]
    for bad in ["lib.example.org", "ftp://lib.example.org", "https://lib.example.org/ask/",
                "https://*.example.org", "https://user@lib.example.org", "https://lib.example.org?x=1",
                "javascript:alert(1)", "https://lib.example.org:99999"]:  # fmt: skip
        with pytest.raises(Exception) as refused:
            origins_parse(bad)
        assert bad.strip() in str(refused.value), bad


def _form(world, **widget):
    base = {
        "name": world.riverside.name,
        "slug": "riverside",
        "libraries": [world.riverside_library.pk],
        "description": "",
        "is_open": "on",
        "patron_grace_seconds": 600,
        "transfer_offer_seconds": 60,
        "memberships-TOTAL_FORMS": 0,
        "memberships-INITIAL_FORMS": 0,
        "tiers-TOTAL_FORMS": 0,
        "tiers-INITIAL_FORMS": 0,
        "time_zone": "",
        "busy_at": 3,
        "waiting_alert_seconds": 120,
        "handback_after_seconds": 0,
        "opening_periods-TOTAL_FORMS": 0,
        "opening_periods-INITIAL_FORMS": 0,
        "special_days-TOTAL_FORMS": 0,
        "special_days-INITIAL_FORMS": 0,
        "widget-TOTAL_FORMS": 1,
        "widget-INITIAL_FORMS": 0,
        "widget-0-allowed_origins": "https://www.riverside.example.org",
        "widget-0-button_color": "#1d4ed8",
        "widget-0-text_color": "#ffffff",
        "widget-0-button_label": "",
        "widget-0-panel_title": "",
        "announce_join": "on",
    }
    return {**base, **widget}


def _change_page(world) -> str:
    return f"/admin/queues/queue/{world.riverside.pk}/change/"


def supervisor(world) -> Client:
    client = Client()
    client.force_login(world.supervisor)
    return client


def test_the_queue_page_shows_the_snippet_for_each_form(world):
    Widget.objects.create(
        queue=world.riverside, allowed_origins="https://www.riverside.example.org"
    )
    page = supervisor(world).get(_change_page(world)).content.decode()
    assert "Embedding allowed from" in page
    for form in ["button", "tab", "inline"]:
        assert f"data-form=&quot;{form}&quot;" in page
    assert "http://testserver/static/widget/widget.js" in page
    assert "data-reference-chat=&quot;riverside&quot;" in page


def test_the_admin_refuses_a_bad_origin_and_text_that_fails_contrast(world):
    sam = supervisor(world)
    response = sam.post(
        _change_page(world),
        _form(
            world,
            **{
                "widget-0-allowed_origins": "riverside.example.org/ask",
                "widget-0-text_color": "#7f8fff",
            },
        ),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "is not a web origin" in page
    assert "contrast ratio of" in page
    assert not Widget.objects.exists()


def test_the_admin_saves_a_good_widget(world):
    response = supervisor(world).post(_change_page(world), _form(world))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Widget.objects.get().origins == ["https://www.riverside.example.org"]
