"""The sessions export: one row per session of the hand-worked week
(tests/stats/conftest.py), staff fields only, streamed a chunk at a time;
the patrons' words only for a supervisor who asks, Librarian Notes never."""

import csv
import io

import pytest
from asgiref.sync import async_to_sync

from chat import sessions
from chat.models import ChatSession
from stats import export
from tests.helpers import logged_in
from tests.stats.conftest import supervisor_of
from tests.talk import librarian_notes, librarian_says, patron_says

pytestmark = pytest.mark.django_db
WEEK = "start=2026-11-01&end=2026-11-07"


def _chunks(response) -> list[bytes]:
    """The streamed body as Daphne sends it: an async iterator, read to the end."""

    async def read() -> list[bytes]:
        return [chunk async for chunk in response.streaming_content]

    return async_to_sync(read)()


def _rows(response) -> list[dict[str, str]]:
    body = b"".join(_chunks(response)).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_one_row_per_session_with_staff_fields_only(week, bob):
    response = logged_in(supervisor_of(bob)).get(f"/console/stats/export/sessions.csv?{WEEK}")
    assert response.status_code == 200
    assert response["X-Total-Count"] == "4"
    assert response["Content-Disposition"] == (
        'attachment; filename="sessions-2026-11-01-to-2026-11-07.csv"'
    )
    rows = _rows(response)
    assert [row["Session"] for row in rows] == [
        str(week[n].pk) for n in ("dana", "eli", "fay", "gus")
    ]
    dana, eli, fay, gus = rows
    assert dana["Asked"] == "2026-11-02 09:10:00"  # Chicago time
    assert (dana["Wait (s)"], dana["Duration (s)"]) == ("30", "600")
    assert (dana["Answered by"], dana["Answering library"]) == ("Alice", "Riverside Public Library")
    assert (dana["Resolution"], dana["READ level"], dana["Helped"], dana["Rating"]) == (
        "Answered", "2", "yes", "5",
    )  # fmt: skip
    assert (eli["Ended by"], eli["Resolution"]) == ("system", "")  # lost; Bob skipped his wrap-up
    assert (fay["Picked up"], fay["Wait (s)"], fay["Answered by"]) == ("", "", "")
    assert (gus["Answered by"], gus["Transfers"]) == ("Bob", "1")
    again = logged_in(supervisor_of(bob)).get(f"/console/stats/export/sessions.csv?{WEEK}")
    body = b"".join(_chunks(again)).decode()
    for private in ("Dana", "Eli", "Fay", "Gus", "@", "Question"):
        assert private not in body


def test_a_range_larger_than_a_chunk_comes_whole_and_in_order(week, bob, monkeypatch):
    monkeypatch.setattr(export, "CHUNK", 1)
    response = logged_in(supervisor_of(bob)).get(f"/console/stats/export/sessions.csv?{WEEK}")
    chunks = _chunks(response)
    assert len(chunks) == 1 + 4  # the header, then one session a chunk
    rows = list(csv.DictReader(io.StringIO(b"".join(chunks).decode())))
    assert [int(row["Session"]) for row in rows] == sorted(s.pk for s in week.values())


def test_the_patrons_words_for_a_supervisor_who_asks_and_never_a_note(week, alice, bob):
    # Ivo asks in the same week; his chat carries the lines.
    session = sessions.session_enqueue(
        queue=week["gus"].queue,
        library=week["gus"].library,
        patron_name="Ivo",
        patron_email="ivo@example.org",
        question='=HYPERLINK("http://evil.example")',
    )
    ChatSession.objects.filter(pk=session.pk).update(created_at=week["gus"].created_at)
    sessions.session_accept(session_id=session.pk, librarian=alice)
    patron_says(ChatSession.objects.get(pk=session.pk), "Is the atlas digitised?")
    librarian_says(session.pk, alice, "Yes, plate 14 is online.")
    librarian_notes(session_id=session.pk, librarian=alice, text="SECRET-X1 he asked last week too")

    supervisor = logged_in(supervisor_of(bob))
    rows = _rows(supervisor.get(f"/console/stats/export/sessions.csv?{WEEK}&text=1"))
    ivo = next(row for row in rows if row["Session"] == str(session.pk))
    # A formula is text in a spreadsheet, never run.
    assert ivo["Question"] == '\'=HYPERLINK("http://evil.example")'
    transcript = ivo["Transcript (patron-visible lines)"]
    assert "Ivo: Is the atlas digitised?" in transcript
    assert "Alice: Yes, plate 14 is online." in transcript
    assert "SECRET-X1" not in transcript
    assert all("SECRET-X1" not in value for row in rows for value in row.values())

    refused = logged_in(alice).get(f"/console/stats/export/sessions.csv?{WEEK}&text=1")
    assert refused.status_code == 403
    assert "Only a supervisor exports what patrons wrote" in refused.content.decode()


def test_a_librarian_exports_their_own_chats(week, bob):
    rows = _rows(logged_in(bob).get(f"/console/stats/export/sessions.csv?{WEEK}"))
    assert [row["Session"] for row in rows] == [str(week["eli"].pk), str(week["gus"].pk)]


def test_bad_filters_get_a_400_naming_the_field(week, bob):
    response = logged_in(bob).get(
        "/console/stats/export/sessions.csv?start=2026-11-07&end=2026-11-01"
    )
    assert response.status_code == 400
    assert "To: The end date must be on or after the start date." in response.content.decode()
