"""The patron's pages (chat/views.py): the list of chat services, the chat form, the chat page."""

import pytest

from chat.models import ChatSession
from queues.models import Membership, Queue

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staffed")]


# --- Patrons ----------------------------------------------------------------


def test_the_list_of_chat_services_shows_the_open_ones(client, world):
    Queue.objects.create(name="Summer Reading Help", slug="summer", is_open=False)
    response = client.get("/ask/")
    assert response.status_code == 200
    page = response.content.decode()
    for name in ["Ask Riverside", "Hillcrest Research Help", "County Libraries Cooperative"]:
        assert name in page
    assert 'href="/ask/riverside/"' in page
    assert "Summer Reading Help" not in page


def test_the_chat_form_asks_for_what_the_queue_needs(client, world):
    response = client.get("/ask/riverside/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Ask Riverside" in page
    for field in ['name="patron_name"', 'name="patron_email"', 'name="question"']:
        assert field in page
    # One library: chosen for the patron, not asked.
    assert '<select name="library"' not in page

    cooperative = client.get("/ask/cooperative/").content.decode()
    assert '<select name="library"' in cooperative
    assert "Hillcrest College Library" in cooperative

    hillcrest = client.get("/ask/hillcrest/").content.decode()
    assert "We send the transcript of the chat here." in hillcrest


def test_asking_leads_to_the_chat_page_with_the_question_as_line_one(
    client, riverside, riverside_library
):
    response = client.post(
        "/ask/riverside/",
        {
            "patron_name": "Dana",
            "patron_email": "",
            "library": riverside_library.pk,
            "question": "Can I renew a book twice?",
        },
    )
    session = ChatSession.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/chat/{session.token}/"
    assert session.queue == riverside
    assert session.state == ChatSession.State.WAITING
    assert list(session.messages.values_list("seq", "kind", "text")) == [
        (1, "patron", "Can I renew a book twice?")
    ]

    chat_page = client.get(response["Location"])
    assert chat_page.status_code == 200
    assert "Ask Riverside" in chat_page.content.decode()
    # The token in the URL is the patron's key: it never leaves as a Referer.
    assert chat_page["Referrer-Policy"] == "no-referrer"


def test_a_queue_that_needs_an_email_says_so_and_creates_nothing(client, hillcrest_library):
    response = client.post(
        "/ask/hillcrest/",
        {
            "patron_name": "Eli",
            "patron_email": "",
            "library": hillcrest_library.pk,
            "question": "Where are the theses?",
        },
    )
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not ChatSession.objects.exists()


def test_a_closed_service_says_it_is_closed(client, riverside):
    riverside.is_open = False
    riverside.save()
    response = client.get("/ask/riverside/")
    assert response.status_code == 503
    assert "Ask Riverside is closed" in response.content.decode()
    assert client.post("/ask/riverside/", {"patron_name": "Dana"}).status_code == 503
    # Switched off takes no question either.
    assert client.get("/ask/riverside/question/").status_code == 503
    assert not ChatSession.objects.exists()


def test_an_unstaffed_service_offers_to_leave_a_question_instead(client, world):
    Membership.objects.update(is_monitoring=False)
    response = client.get("/ask/riverside/", follow=True)
    assert response.redirect_chain == [("/ask/riverside/question/", 302)]
    page = response.content.decode()
    assert "No librarian is available right now." in page and "Leave a question" in page
    # A chat asked for as the last librarian left goes to the question form as posted.
    posted = client.post("/ask/riverside/", {"patron_name": "Dana"})
    assert (posted.status_code, posted["Location"]) == (307, "/ask/riverside/question/")
    assert not ChatSession.objects.exists()


def test_a_chat_page_with_an_unknown_token_is_not_found(client, world):
    assert client.get("/chat/not-a-real-token/").status_code == 404
    assert client.get("/ask/no-such-service/").status_code == 404
