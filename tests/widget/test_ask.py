"""The widget's ask: JSON from our own framed form, with the /ask/ page's
validation, ask limit and block check (chat.asking.ask_submit)."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from chat.models import ChatSession, PatronBlock
from core.clients import address_hash
from shifts import services as shifts
from widget.models import Widget

pytestmark = pytest.mark.django_db

OURS = "http://testserver"


@pytest.fixture
def widget(world) -> Widget:
    # Chat starts only while someone is on (chat.availability): Alice is.
    shifts.monitoring_set(librarian=world.alice, queue_ids=[world.riverside.pk])
    return Widget.objects.create(queue=world.riverside, allowed_origins="https://lib.example.org")


def ask(client, library, *, origin=OURS, **fields):
    body = {"patron_name": "Dana", "patron_email": "", "library": library.pk,
            "question": "Can I renew a book twice?", **fields}  # fmt: skip
    return client.post(
        "/widget/riverside/ask/",
        json.dumps(body),
        content_type="application/json",
        HTTP_ORIGIN=origin,
    )


def test_a_patron_asks_through_the_framed_form_without_any_cookie(world, widget):
    client = Client(enforce_csrf_checks=True)  # as in a cross-site frame: no CSRF cookie
    response = ask(client, world.riverside_library)
    assert response.status_code == 201
    session = ChatSession.objects.get()
    assert response.json() == {
        "token": session.token,
        "chat_url": f"http://testserver/widget/riverside/chat/{session.token}/",
    }
    assert session.patron_name == "Dana"
    assert session.state == ChatSession.State.WAITING
    assert not response.cookies


def test_errors_name_their_field_and_nothing_is_stored(world, widget):
    response = ask(Client(), world.riverside_library, patron_name="", question="")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"patron_name", "question"}
    assert ChatSession.objects.count() == 0


def test_another_site_can_not_ask_in_the_patrons_name(world, widget):
    response = ask(Client(), world.riverside_library, origin="https://lib.example.org")
    assert response.status_code == 403
    missing = Client().post(
        "/widget/riverside/ask/", json.dumps({"patron_name": "x"}), content_type="application/json"
    )
    assert missing.status_code == 403
    # A form post (what a page elsewhere could send without a preflight) is not read.
    form = Client().post("/widget/riverside/ask/", {"patron_name": "Dana"}, HTTP_ORIGIN=OURS)
    assert form.status_code == 400
    assert ChatSession.objects.count() == 0


def test_the_ask_limit_of_the_ask_page_holds_here_too(world, widget, settings):
    settings.ASK_LIMIT_PER_HOUR = 2
    client = Client()
    assert client.post(
        "/ask/riverside/",
        {"patron_name": "Dana", "patron_email": "", "library": world.riverside_library.pk,
         "question": "First"},
    ).status_code == 302  # fmt: skip
    assert ask(client, world.riverside_library).status_code == 201
    refused = ask(client, world.riverside_library)
    assert refused.status_code == 429
    assert "Too many chat requests" in refused.json()["errors"]["__all__"][0]
    assert ChatSession.objects.count() == 2


def test_a_blocked_connection_is_refused_here_too(world, widget):
    first = ask(Client(REMOTE_ADDR="192.0.2.66"), world.riverside_library)
    session = ChatSession.objects.get(token=first.json()["token"])
    PatronBlock.objects.create(
        address_hash=address_hash("192.0.2.66"),
        session=session,
        blocked_by=world.alice,
        reason="Abusive language",
        expires_at=timezone.now() + timedelta(hours=24),
    )
    refused = ask(Client(REMOTE_ADDR="192.0.2.66"), world.riverside_library)
    assert refused.status_code == 400
    assert "can't start a new chat" in refused.json()["errors"]["__all__"][0]
    assert ChatSession.objects.count() == 1


def test_a_closed_queue_takes_no_question_through_the_widget(world, widget):
    world.riverside.is_open = False
    world.riverside.save()
    response = ask(Client(), world.riverside_library)
    assert response.status_code == 409
    assert response.json()["detail"] == "Chat is not available"
    assert ChatSession.objects.count() == 0
