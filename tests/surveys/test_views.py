"""The survey's pages: reached by the session's token alone, posted by fetch
(JSON) or as a plain form, in the patron's language; the widget's frame too."""

import re
from typing import Any

import pytest
from django.test import Client

from surveys.models import Survey, SurveyAnswer
from widget.models import Widget

pytestmark = pytest.mark.django_db

OURS = "http://testserver"
JSON: dict[str, Any] = {"HTTP_ACCEPT": "application/json"}


def url(session):
    return f"/chat/{session.token}/survey/"


def test_the_ended_chat_shows_the_survey_and_after_the_answer_thank_you(client, ended):
    session = ended()
    fragment = client.get(url(session) + "?fragment=1")
    assert fragment.status_code == 200
    assert fragment["Referrer-Policy"] == "same-origin"
    page = fragment.content.decode()
    assert "<legend>Did you get the help you needed?</legend>" in page
    assert "<legend>How would you rate this chat?</legend>" in page
    assert "1 means poor, 5 means excellent." in page
    assert 'maxlength="2000"' in page
    assert page.count('type="radio" name="rating"') == 5
    assert "<html" not in page  # a fragment, for the chat page

    given = {"helped": "partly", "rating": "4", "comment": "Good"}
    answered = client.post(url(session), given, **JSON)
    assert answered.status_code == 201
    thanks = "Thank you for your feedback."
    assert answered.json() == {"answered": True, "first": True, "detail": thanks}
    again = client.get(url(session) + "?fragment=1").content.decode()
    assert "Thank you for your feedback." in again and "<form" not in again


def test_a_second_answer_says_it_was_answered_already(client, ended):
    session = ended()
    client.post(url(session), {"rating": "5"}, **JSON)
    again = client.post(url(session), {"rating": "1"}, **JSON)
    assert again.status_code == 200
    assert again.json()["detail"] == "You have already answered this survey — thank you."
    assert SurveyAnswer.objects.get().rating == 5


def test_a_refusal_is_json_for_the_script_and_the_form_again_for_a_plain_post(client, ended):
    session = ended()
    refused = client.post(url(session), {"comment": "x" * 2001}, **JSON)
    assert refused.status_code == 400
    assert refused.json()["code"] == "comment_too_long"
    plain = client.post(url(session), {"helped": "yes", "rating": "9", "comment": "Kept <b>"})
    assert plain.status_code == 400
    page = plain.content.decode()
    assert re.search(r'role="alert">Choose a rating from 1 to 5.</p>', page)
    assert "Kept &lt;b&gt;</textarea>" in page  # nothing typed lost, and escaped
    assert 'value="yes" checked' in page
    assert not SurveyAnswer.objects.exists()


def test_a_plain_post_answers_and_shows_thank_you(client, ended):
    session = ended()
    page = client.post(url(session), {"helped": "yes"})
    assert page.status_code == 200
    assert "Thank you for your feedback." in page.content.decode()
    assert SurveyAnswer.objects.get(session=session).helped == "yes"


def test_no_survey_while_the_chat_goes_on_or_when_nobody_answered(client, world, ask, chat):
    waiting, active = ask(), chat(world.alice)
    for session in (waiting, active):
        assert client.get(url(session) + "?fragment=1").status_code == 204
        refused = client.post(url(session), {"rating": "5"}, **JSON)
        assert refused.status_code == 409
        assert refused.json()["detail"] == "The survey opens when the chat ends."
    assert not SurveyAnswer.objects.exists()


def test_an_unknown_token_finds_nothing_and_says_nothing(client, ended):
    ended()
    for token in ("not-a-token", "A" * 32, "%00"):
        assert client.get(f"/chat/{token}/survey/").status_code == 404
        refused = client.post(f"/chat/{token}/survey/", {"rating": "5"}, **JSON)
        assert refused.status_code == 404
        assert refused.json() == {"detail": "There is no chat session with this token."}
    assert not SurveyAnswer.objects.exists()


def test_one_token_reaches_its_own_session_only(client, ended):
    dana, erin = ended(), ended(name="Erin")
    # Whatever else is posted, Dana's token answers Dana's survey only.
    client.post(url(dana), {"rating": "2", "session": erin.pk, "token": erin.token}, **JSON)
    assert SurveyAnswer.objects.get().session_id == dana.pk
    assert client.get(url(erin) + "?fragment=1").content.decode().count("<form") == 1


def test_our_own_pages_post_with_the_csrf_token(ended):
    session = ended()
    patron = Client(enforce_csrf_checks=True)
    assert patron.post(url(session), {"rating": "5"}, **JSON).status_code == 403
    fragment = patron.get(url(session) + "?fragment=1").content.decode()
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', fragment)
    assert found is not None
    csrf = found.group(1)
    posted = patron.post(url(session), {"rating": "5", "csrfmiddlewaretoken": csrf}, **JSON)
    assert posted.status_code == 201


def test_the_survey_speaks_the_patrons_language(client, ended):
    session = ended()
    session.language = "es"
    session.save(update_fields=["language"])
    page = client.get(url(session) + "?fragment=1").content.decode()
    assert "¿Recibiste la ayuda que necesitabas?" in page
    client.post(url(session), {"rating": "5"}, **JSON)
    assert SurveyAnswer.objects.get().language == "es"
    french = client.post(url(session) + "?lang=fr", {"rating": "1"}, **JSON)
    assert french.json()["detail"] == "Vous avez déjà répondu à ce questionnaire — merci."


def test_a_queues_own_wording_is_shown_as_written_and_unasked_questions_go(client, world, ended):
    Survey.objects.create(
        queue=world.riverside, helped_question="Did we <find> it?", ask_rating=False
    )
    session = ended()
    session.language = "fr"
    session.save(update_fields=["language"])
    page = client.get(url(session) + "?fragment=1").content.decode()
    assert "<legend>Did we &lt;find&gt; it?</legend>" in page
    assert 'name="rating"' not in page
    assert 'name="comment"' in page


def test_the_widgets_frame_takes_the_survey_from_our_own_origin_only(world, ended):
    Widget.objects.create(queue=world.riverside, allowed_origins="https://lib.example.org")
    session = ended()
    frame = Client(enforce_csrf_checks=True)  # a cross-site frame sends no CSRF cookie
    address = f"/widget/riverside/chat/{session.token}/survey/"
    fragment = frame.get(address + "?fragment=1")
    assert fragment.status_code == 200
    assert f'action="{address}"' in fragment.content.decode()
    assert "frame-ancestors https://lib.example.org" in fragment["Content-Security-Policy"]
    forged = frame.post(address, {"rating": "1"}, HTTP_ORIGIN="https://evil.example", **JSON)
    assert forged.status_code == 403
    posted = frame.post(address, {"rating": "5"}, HTTP_ORIGIN=OURS, **JSON)
    assert posted.status_code == 201
    # Another queue's widget doesn't reach this chat.
    assert frame.get(f"/widget/hillcrest/chat/{session.token}/survey/").status_code == 404


def test_the_chat_pages_ask_for_the_survey_of_their_own_kind(client, world, ended):
    session = ended()
    page = client.get(f"/chat/{session.token}/").content.decode()
    assert f'id="survey-box" data-url="/chat/{session.token}/survey/"' in page
    Widget.objects.create(queue=world.riverside, allowed_origins="https://lib.example.org")
    framed = client.get(f"/widget/riverside/chat/{session.token}/").content.decode()
    assert f'data-url="/widget/riverside/chat/{session.token}/survey/"' in framed
