"""Who may frame the widget's pages: the origins the queue lists, nobody else;
staff pages are never framed."""

import pytest
from django.test import Client

from chat.models import ChatSession
from questions.models import Question
from shifts import services as shifts
from tests.core.test_security_headers import policy
from tests.helpers import logged_in
from widget.models import Widget

pytestmark = pytest.mark.django_db

LIBRARY_SITE = "https://www.riverside.example.org"


@pytest.fixture
def widget(world) -> Widget:
    # Chat starts only while someone is on (chat.availability): Alice is.
    shifts.monitoring_set(librarian=world.alice, queue_ids=[world.riverside.pk])
    return Widget.objects.create(
        queue=world.riverside, allowed_origins=f"{LIBRARY_SITE}\nhttp://127.0.0.1:8001"
    )


def test_the_framed_ask_form_and_chat_may_be_framed_by_the_listed_origins_only(
    client, world, widget, chat
):
    session = chat(world.alice)
    for url in ["/widget/riverside/", f"/widget/riverside/chat/{session.token}/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert policy(response)["frame-ancestors"] == [LIBRARY_SITE, "http://127.0.0.1:8001"]
        assert "X-Frame-Options" not in response, url
        # Everything else of the strict policy stays.
        assert policy(response)["script-src"] == ["'self'"]
        assert "unsafe" not in response.headers["Content-Security-Policy"]


def test_a_queue_that_lists_no_origin_is_framed_nowhere(client, world):
    shifts.monitoring_set(librarian=world.alice, queue_ids=[world.riverside.pk])
    response = client.get("/widget/riverside/")
    assert response.status_code == 200
    assert policy(response)["frame-ancestors"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"


def test_with_nobody_on_the_frame_offers_to_leave_a_question_instead_of_a_chat(
    client, world, widget
):
    shifts.monitoring_set(librarian=world.alice, queue_ids=[])
    response = client.get("/widget/riverside/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Chat is not available" in page
    assert "No librarian is available right now." in page
    assert 'href="/ask/riverside/question/"' in page and "Leave a question" in page
    assert 'name="question"' not in page  # no chat form: nobody would answer it


def test_another_queues_chat_is_not_reached_through_this_queues_widget(client, world, widget, chat):
    session = chat(world.alice)
    response = client.get(f"/widget/cooperative/chat/{session.token}/")
    assert response.status_code == 404
    assert session.patron_name not in response.content.decode()


def test_staff_pages_stay_unframeable_with_a_widget_listed(world, widget, chat):
    session = chat(world.alice)
    alice = logged_in(world.alice)
    for url in ["/console/", "/console/history/", f"/console/history/{session.pk}/", "/admin/",
                "/login/", "/ask/riverside/", f"/chat/{session.token}/"]:  # fmt: skip
        response = alice.get(url)
        assert policy(response)["frame-ancestors"] == ["'none'"], url
        assert response["X-Frame-Options"] == "DENY", url


def test_an_unknown_or_closed_queue_says_chat_is_not_available_never_an_error(client, world):
    for url in ["/widget/nowhere/", "/widget/riverside/"]:
        if url == "/widget/riverside/":
            world.riverside.is_open = False
            world.riverside.save()
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert "Chat is not available" in page
        assert "/ask/" in page


def test_the_config_says_whether_the_asking_page_may_embed_the_chat(client, world, widget):
    listed = client.get("/widget/riverside/config/", HTTP_ORIGIN=LIBRARY_SITE)
    assert listed.status_code == 200
    assert listed["Access-Control-Allow-Origin"] == "*"
    body = listed.json()
    assert body["embeddable"] is True
    assert body["label"] == "Chat with a librarian"
    assert body["title"] == "Ask Riverside"
    assert body["ask_url"] == "http://testserver/ask/riverside/"
    assert body["texts"]["closed"] == "Chat is not available"
    other = client.get("/widget/riverside/config/", HTTP_ORIGIN="https://elsewhere.example.com")
    assert other.json()["embeddable"] is False
    unknown = client.get("/widget/nowhere/config/", HTTP_ORIGIN=LIBRARY_SITE)
    assert unknown.status_code == 404
    assert unknown["Access-Control-Allow-Origin"] == "*"
    assert unknown.json()["texts"]["closed"] == "Chat is not available"


def test_the_config_reads_no_cookie_and_sets_none(world, widget):
    client = Client()
    response = client.get("/widget/riverside/config/", HTTP_ORIGIN=LIBRARY_SITE)
    assert not response.cookies


def test_the_framed_pages_wear_the_librarys_colours(client, world, widget, chat):
    library = world.riverside_library
    library.brand_color, library.brand_text_color = "#0b5d3b", "#ffffff"
    library.save()
    session = chat(world.alice)
    for url in ["/widget/riverside/", f"/widget/riverside/chat/{session.token}/"]:
        page = client.get(url).content.decode()
        assert '<link rel="stylesheet" href="/brand/riverside-public.css?v=' in page, url


def test_leave_my_question_stays_in_the_frame_for_the_listed_origins(client, world, widget, ask):
    session = ask(email="dana@example.org")
    chat_page = client.get(f"/widget/riverside/chat/{session.token}/").content.decode()
    leave_url = f"/widget/riverside/chat/{session.token}/question/"
    assert f'href="{leave_url}"' in chat_page
    form = client.get(leave_url)
    assert form.status_code == 200
    assert policy(form)["frame-ancestors"] == [LIBRARY_SITE, "http://127.0.0.1:8001"]
    assert "X-Frame-Options" not in form
    assert (
        f'href="/widget/riverside/chat/{session.token}/"' in form.content.decode()
    )  # Keep waiting

    # A cross-site frame sends no CSRF cookie: the post needs none, only our own Origin.
    strict = Client(enforce_csrf_checks=True)
    fields = {"patron_email": "dana@example.org", "question": "Large-print atlases?"}
    sent = strict.post(leave_url, fields, headers={"Origin": "http://testserver"})
    question = Question.objects.get(session=session)
    assert sent.status_code == 302
    assert sent["Location"] == f"/widget/riverside/question/{question.token}/"
    confirmation = client.get(sent["Location"])
    assert confirmation.status_code == 200
    assert policy(confirmation)["frame-ancestors"] == [LIBRARY_SITE, "http://127.0.0.1:8001"]
    assert "Your question was received" in confirmation.content.decode()


def test_leave_my_question_in_the_frame_takes_no_post_from_another_origin(
    client, world, widget, ask
):
    session = ask(email="dana@example.org")
    leave_url = f"/widget/riverside/chat/{session.token}/question/"
    fields = {"patron_email": "dana@example.org", "question": "Forged"}
    for origin in [LIBRARY_SITE, "null", None]:
        headers = {"Origin": origin} if origin else {}
        assert client.post(leave_url, fields, headers=headers).status_code == 403, origin
    assert not Question.objects.exists()
    session.refresh_from_db()
    assert session.state == ChatSession.State.WAITING


def test_leave_my_question_is_not_reached_through_another_queues_widget(client, world, widget, ask):
    session = ask(world.hillcrest, email="dana@example.org")
    response = client.get(f"/widget/riverside/chat/{session.token}/question/")
    assert response.status_code == 404
    assert "We couldn't find this chat any more." in response.content.decode()
