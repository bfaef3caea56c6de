"""The wrap-up's pages: the form in a chat's pane and the Wrap-up tab's list,
and Chat History's wrap-up filters. Alice held Dana's chat; Bob did not."""

import pytest

from accounts.models import Librarian
from chat import sessions
from chat.models import ChatSession
from tests.helpers import logged_in
from wrapup.models import ResolutionCode, SubjectTag, Wrapup

pytestmark = pytest.mark.django_db


def code(librarian: Librarian, label: str) -> int:
    return ResolutionCode.objects.get(library_id=librarian.library_id, label=label).pk


@pytest.fixture
def ended(chat, alice, riverside_library) -> ChatSession:
    SubjectTag.objects.create(library=riverside_library, name="Genealogy")
    SubjectTag.objects.create(library=riverside_library, name="Local history")
    session = chat(alice)
    sessions.session_end_by_patron(session=session)
    return session


def test_the_form_offers_the_librarys_lists_and_the_read_scale(ended, alice):
    page = logged_in(alice).get(f"/console/wrapups/{ended.pk}/?fragment=1")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Wrap-up: Dana" in html
    for label in ("Answered", "Follow-up by patron&#x27;s library", "Practice", "Lost call"):
        assert label in html
    assert "Effort (READ scale)" in html
    assert "Least effort: directions, hours" in html and "cannot be answered on the spot" in html
    assert '<option value="Genealogy">' in html and 'list="wrapup-tag-list-' in html
    assert "Skip for now" in html and "Save wrap-up" in html


def test_someone_who_did_not_hold_it_gets_no_form(ended, bob):
    bobs = logged_in(bob)
    page = bobs.get(f"/console/wrapups/{ended.pk}/?fragment=1")
    assert page.status_code == 403
    assert "only its librarian wraps it up" in page.content.decode()
    posted = bobs.post(
        f"/console/wrapups/{ended.pk}/?fragment=1",
        {"resolution": code(bob, "Answered"), "action": "save"},
    )
    assert posted.status_code == 403
    assert not Wrapup.objects.exists()
    assert bobs.get("/console/wrapups/999999/?fragment=1").status_code == 404


def test_a_refused_wrap_up_keeps_what_was_typed(ended, alice, carol):
    page = logged_in(alice).post(
        f"/console/wrapups/{ended.pk}/?fragment=1",
        {
            "resolution": code(carol, "Answered"),
            "tags": "Genealogy, Astrology",
            "comment": "Census 1920, reel 14.",
            "action": "save",
        },
    )
    assert page.status_code == 400
    html = page.content.decode()
    assert 'role="alert"' in html and "That resolution is not on your library&#x27;s list." in html
    assert "Census 1920, reel 14." in html and 'value="Genealogy, Astrology"' in html
    assert not Wrapup.objects.exists()


def test_save_skip_and_the_list_to_finish_later(ended, alice):
    alices = logged_in(alice)
    listed = alices.get("/console/wrapups/?fragment=1").content.decode()
    assert "1 chat to wrap up." in listed and "Wrap up the chat with Dana" in listed

    skipped = alices.post(f"/console/wrapups/{ended.pk}/?fragment=1", {"action": "skip"})
    assert "Skipped for now: the chat stays on your Wrap-up list." in skipped.content.decode()
    listed = alices.get("/console/wrapups/?fragment=1").content.decode()
    assert "1 chat to wrap up." in listed and "(skipped)" in listed

    saved = alices.post(
        f"/console/wrapups/{ended.pk}/?fragment=1",
        {
            "resolution": code(alice, "Answered"),
            "read_level": "3",
            "tags": "genealogy,",
            "comment": "Census.",
            "action": "save",
        },
    )
    assert saved.status_code == 200
    html = saved.content.decode()
    assert "Wrap-up saved." in html and "Wrapped up: Answered · READ 3." in html
    assert "Skip for now" not in html  # done: only corrections now
    assert "Nothing to wrap up." in alices.get("/console/wrapups/?fragment=1").content.decode()
    # Without the console (a plain form post): back to the form, as saved.
    plain = alices.post(
        f"/console/wrapups/{ended.pk}/", {"resolution": code(alice, "Practice"), "action": "save"}
    )
    assert plain.status_code == 302 and plain["Location"] == f"/console/wrapups/{ended.pk}/"


def test_a_long_list_to_wrap_up_pages_within_the_tab(chat, alice):
    for _ in range(26):
        sessions.session_end_by_patron(session=chat(alice))
    alices = logged_in(alice)
    first = alices.get("/console/wrapups/?fragment=1").content.decode()
    assert "26 chats to wrap up." in first and "Page 1 of 2" in first
    assert first.count("data-wrapup-row=") == 25
    # The tab's script follows the pager's links (data-wrapup-link), not Chat History's.
    assert '<a href="?page=2" data-wrapup-link>Older →</a>' in first
    second = alices.get("/console/wrapups/?page=2&fragment=1").content.decode()
    assert second.count("data-wrapup-row=") == 1
    assert '<a href="?page=1" data-wrapup-link>← Newer</a>' in second


def test_chat_history_shows_and_filters_by_the_wrap_up(chat, ended, alice):
    other = chat(alice, name="Eli")
    sessions.session_end_by_patron(session=other)
    alices = logged_in(alice)
    alices.post(
        f"/console/wrapups/{ended.pk}/",
        {
            "resolution": code(alice, "Answered"),
            "read_level": "4",
            "tags": "Local history",
            "comment": "Private: patron was upset.",
            "action": "save",
        },
    )

    def found(query: str) -> list[str]:
        html = alices.get(f"/console/history/?fragment=1&{query}").content.decode()
        return [name for name in ("Dana", "Eli") if f"<td>{name}<br>" in html]

    assert found("") == ["Dana", "Eli"]
    assert found("resolution=Answered") == ["Dana"]
    assert found("resolution=Practice") == []
    assert found("read_level=4") == ["Dana"]
    assert found("tag=Local+history") == ["Dana"]
    assert found("wrapup=done") == ["Dana"]
    assert found("wrapup=none") == ["Eli"]
    detail = alices.get(f"/console/history/{ended.pk}/?fragment=1").content.decode()
    assert "Resolution</dt><dd>Answered" in detail
    assert "Private: patron was upset." in detail and "Local history" in detail
