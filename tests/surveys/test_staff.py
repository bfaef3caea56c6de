"""What staff see of the patron's rating: Chat History shows it and filters by
it, the API carries it, the admin shows it and lets nobody change it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from surveys.models import SurveyAnswer
from surveys.services import survey_answer_submit
from tests.helpers import logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def rated(world, ended, chat):
    """Dana answered Partly · 4/5 with a comment; Eli said Yes; Fay didn't
    answer; Gus is still chatting."""
    dana, eli, fay = ended(name="Dana"), ended(name="Eli"), ended(name="Fay")
    survey_answer_submit(
        session=dana, helped="partly", rating=4, comment="Quick <and> kind", language="en"
    )
    survey_answer_submit(session=eli, helped="yes", language="fr")
    gus = chat(world.alice, name="Gus")
    return {"dana": dana, "eli": eli, "fay": fay, "gus": gus}


def listed(response) -> set[str]:
    assert response.status_code == 200
    page = response.content.decode()
    return {name for name in ["Dana", "Eli", "Fay", "Gus"] if f"{name}<br>" in page}


def test_chat_history_shows_the_patrons_rating(world, rated):
    alice = logged_in(world.alice)
    page = alice.get(f"/console/history/{rated['dana'].pk}/?fragment=1").content.decode()
    assert "<dt>Patron&#x27;s rating</dt><dd>Partly · 4/5 · Quick &lt;and&gt; kind</dd>" in page
    unanswered = alice.get(f"/console/history/{rated['fay'].pk}/").content.decode()
    assert "<dt>Patron&#x27;s rating</dt><dd>no answer</dd>" in unanswered
    # A chat still going on was offered nothing yet: no line for it.
    chatting = alice.get(f"/console/history/{rated['gus'].pk}/").content.decode()
    assert "Patron&#x27;s rating" not in chatting


def test_chat_history_filters_by_the_rating(world, rated):
    alice = logged_in(world.alice)
    assert listed(alice.get("/console/history/")) == {"Dana", "Eli", "Fay", "Gus"}
    form = alice.get("/console/history/").content.decode()
    assert '<label for="id_rating">Rating</label>' in form
    assert '<optgroup label="Rated">' in form
    assert listed(alice.get("/console/history/?rating=helped-partly")) == {"Dana"}
    assert listed(alice.get("/console/history/?rating=helped-yes")) == {"Eli"}
    assert listed(alice.get("/console/history/?rating=rating-4")) == {"Dana"}
    assert listed(alice.get("/console/history/?rating=rating-5")) == set()
    assert listed(alice.get("/console/history/?rating=answered")) == {"Dana", "Eli"}
    assert listed(alice.get("/console/history/?rating=none")) == {"Fay", "Gus"}
    # A value that is no choice is the form's error, and filters nothing.
    wrong = alice.get("/console/history/?rating=rating-9")
    assert "Select a valid choice." in wrong.content.decode()


def test_the_api_carries_the_rating_read_only(world, rated):
    alice = logged_in(world.alice)
    detail = alice.get(f"/api/v1/sessions/{rated['dana'].pk}/").json()
    assert detail["patron_rating"] == {
        "helped": "partly",
        "rating": 4,
        "comment": "Quick <and> kind",
        "language": "en",
        "created_at": detail["patron_rating"]["created_at"],
    }
    assert alice.get(f"/api/v1/sessions/{rated['fay'].pk}/").json()["patron_rating"] is None
    with CaptureQueriesContext(connection) as queries:
        listing = alice.get("/api/v1/sessions/").json()
    by_name = {row["patron_name"]: row["patron_rating"] for row in listing["results"]}
    assert by_name["Eli"] == {
        "helped": "yes", "rating": None, "comment": None, "language": "fr",
        "created_at": by_name["Eli"]["created_at"],
    }  # fmt: skip
    assert by_name["Fay"] is None and by_name["Gus"] is None
    # The ratings come with the sessions, not one query each.
    assert not [q for q in queries.captured_queries if 'FROM "surveys_surveyanswer"' in q["sql"]]
    # Read-only: the API takes no writes at all.
    assert alice.patch(f"/api/v1/sessions/{rated['dana'].pk}/", {}).status_code == 405


def test_the_admin_shows_answers_and_nobody_adds_or_changes_one(sam, rated):
    answer = SurveyAnswer.objects.get(session=rated["dana"])
    assert sam.get("/admin/surveys/surveyanswer/").status_code == 200
    page = sam.get(f"/admin/surveys/surveyanswer/{answer.pk}/change/")
    assert page.status_code == 200
    assert "Quick &lt;and&gt; kind" in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
    assert sam.get("/admin/surveys/surveyanswer/add/").status_code == 403
    changed = sam.post(f"/admin/surveys/surveyanswer/{answer.pk}/change/", {"rating": "1"})
    assert changed.status_code == 403
    deleted = sam.post(f"/admin/surveys/surveyanswer/{answer.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 403
    answer.refresh_from_db()
    assert answer.rating == 4


def test_the_admin_sets_a_queues_survey_and_refuses_one_that_asks_nothing(sam, world):
    form = {
        "queue": world.hillcrest.pk, "enabled": "on",
        "helped_question": "", "rating_question": "", "comment_question": "",
    }  # fmt: skip
    refused = sam.post("/admin/surveys/survey/add/", form)
    assert refused.status_code == 200
    assert "Ask at least one question" in refused.content.decode()
    saved = sam.post("/admin/surveys/survey/add/", {**form, "ask_rating": "on"})
    assert saved.status_code == 302
    survey = world.hillcrest.survey
    assert (survey.ask_helped, survey.ask_rating, survey.ask_comment) == (False, True, False)


def test_the_api_filters_by_the_rating_as_chat_history_does(world, rated):
    alice = logged_in(world.alice)

    def names(query: str) -> set[str]:
        response = alice.get(f"/api/v1/sessions/?rating={query}")
        assert response.status_code == 200, response.content
        return {row["patron_name"] for row in response.json()["results"]}

    assert names("helped-partly") == {"Dana"}
    assert names("answered") == {"Dana", "Eli"}
    assert names("none") == {"Fay", "Gus"}
    assert names("rating-4") == {"Dana"}
    wrong = alice.get("/api/v1/sessions/?rating=rating-9")
    assert wrong.status_code == 400
    assert "rating" in wrong.json()
