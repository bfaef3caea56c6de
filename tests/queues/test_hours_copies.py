"""Each process keeps a copy of a queue's hours, zone and libraries (queues/hours.py).

A patron must never see what was true before an edit: every edit the admin
can make moves the queue's ``page_version`` in its own transaction, and a
copy is served only for the version it was read at, so another process
(which never hears of the edit) reads the hours again on its next request.
"""

from datetime import UTC, datetime, time

import pytest
from django.test import Client

from accounts.models import Library, LibraryOpeningPeriod, LibrarySpecialDay
from chat.models import ChatSession
from queues import hours
from queues.hours import queue_hours
from queues.models import Queue, QueueOpeningPeriod

pytestmark = pytest.mark.django_db

# Friday 11 December 2026, 16:00 UTC: 10:00 in Chicago, 17:00 in Berlin.
FRIDAY = datetime(2026, 12, 11, 16, 0, tzinfo=UTC)


def fresh(queue: Queue) -> Queue:
    """The queue as the next request loads it."""
    return Queue.objects.get(pk=queue.pk)


def as_another_process(queue: Queue, stale: hours.QueueHours, version: int) -> None:
    """A process that read the queue before the edit keeps that copy: it hears of nothing."""
    hours._copies[queue.pk] = (version, stale)


@pytest.fixture
def patron() -> Client:
    return Client()


def test_a_second_ask_page_reads_no_hours(patron, riverside, staffed, django_assert_num_queries):
    assert patron.get("/ask/riverside/").status_code == 200
    # The queue row, the staffing and the waiting count; no hours, no libraries.
    with django_assert_num_queries(3):
        assert patron.get("/ask/riverside/").status_code == 200


def test_new_library_hours_close_the_form_everywhere_at_once(patron, riverside, staffed):
    before = fresh(riverside)
    stale = queue_hours(before)
    assert patron.get("/ask/riverside/").status_code == 200

    library = riverside.libraries.get()
    library.time_zone = "America/Chicago"
    library.save()
    for weekday in range(7):  # every day 20:00–21:00 Chicago time: closed now, at any hour
        LibraryOpeningPeriod.objects.create(
            library=library, weekday=weekday, opens=time(20), closes=time(21)
        )
    as_another_process(riverside, stale, before.page_version)

    after = fresh(riverside)
    assert after.page_version != before.page_version
    assert queue_hours(after).zone == "America/Chicago"
    assert queue_hours(after).schedule is not None
    response = patron.get("/ask/riverside/")
    assert response.status_code == 302
    assert response["Location"].startswith("/ask/riverside/question/")


@pytest.mark.parametrize("what", ["holiday", "queue period", "queue zone", "deleted period"])
def test_every_edit_of_the_hours_moves_the_version(riverside, riverside_library, what):
    period = LibraryOpeningPeriod.objects.create(
        library=riverside_library, weekday=4, opens=time(9), closes=time(17)
    )
    before = fresh(riverside).page_version
    if what == "holiday":
        LibrarySpecialDay.objects.create(library=riverside_library, date=FRIDAY.date())
    elif what == "queue period":
        QueueOpeningPeriod.objects.create(
            queue=riverside, weekday=5, opens=time(9), closes=time(12)
        )
    elif what == "queue zone":
        riverside.time_zone = "Europe/Berlin"
        riverside.save()
        assert riverside.page_version == fresh(riverside).page_version, "the instance in hand too"
    else:
        period.delete()
    assert fresh(riverside).page_version != before


def test_a_library_taken_off_a_queue_is_no_longer_offered_or_taken(patron, cooperative, staffed):
    lakeside = Library.objects.create(name="Lakeside Library", slug="lakeside")
    cooperative.libraries.add(lakeside)
    hillcrest = Library.objects.get(slug="hillcrest-college")
    page = patron.get("/ask/cooperative/").content.decode()
    assert "Hillcrest College Library" in page and "Lakeside Library" in page
    before = fresh(cooperative)
    stale = queue_hours(before)

    cooperative.libraries.remove(hillcrest)
    as_another_process(cooperative, stale, before.page_version)

    page = patron.get("/ask/cooperative/").content.decode()
    assert "Hillcrest College Library" not in page and "Lakeside Library" in page
    response = patron.post(
        "/ask/cooperative/",
        {"patron_name": "Dana", "library": hillcrest.pk, "question": "Do you have atlases?"},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not ChatSession.objects.exists()


def test_a_page_from_before_a_queue_became_one_librarys_still_asks(patron, cooperative, staffed):
    hillcrest = Library.objects.get(slug="hillcrest-college")
    cooperative.libraries.remove(hillcrest)
    # The page was loaded when the patron could still choose Hillcrest.
    response = patron.post(
        "/ask/cooperative/",
        {"patron_name": "Dana", "library": hillcrest.pk, "question": "Do you have atlases?"},
    )
    assert response.status_code == 302
    assert ChatSession.objects.get().library.slug == "riverside-public"


def test_a_library_added_from_its_side_is_offered(patron, riverside, hillcrest_library, staffed):
    assert "Hillcrest College Library" not in patron.get("/ask/riverside/").content.decode()
    hillcrest_library.queues.add(riverside)
    assert "Hillcrest College Library" in patron.get("/ask/riverside/").content.decode()


def test_a_renamed_library_shows_its_new_name(patron, riverside, riverside_library, staffed):
    assert "Riverside Public Library" in patron.get("/ask/riverside/").content.decode()
    riverside_library.name = "Riverside County Library"
    riverside_library.save()
    assert "Riverside County Library" in patron.get("/ask/riverside/").content.decode()
