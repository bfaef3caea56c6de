"""The week of the Statistics' tests (tests/stats/test_figures.py says it in words)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from accounts.services import supervisors_group_ensure
from chat import sessions, transfers
from chat.models import ChatSession
from questions.services import question_ask
from shifts import services as shifts
from surveys.services import survey_answer_submit
from wrapup.models import ResolutionCode
from wrapup.services import wrapup_save, wrapup_skip

CHICAGO = ZoneInfo("America/Chicago")


def at(clock, year: int, month: int, day: int, hour: int, minute: int) -> None:
    clock.now = datetime(year, month, day, hour, minute, tzinfo=CHICAGO)


@pytest.fixture
def week(clock, ask, alice, bob, riverside, riverside_library) -> dict[str, ChatSession]:
    riverside_library.time_zone = "America/Chicago"
    riverside_library.save()
    for librarian in (alice, bob):
        shifts.monitoring_set(librarian=librarian, queue_ids=[riverside.pk])

    at(clock, 2026, 11, 2, 9, 10)
    dana = ask(name="Dana")
    clock.advance(30)
    sessions.session_accept(session_id=dana.pk, librarian=alice)
    clock.advance(600)
    sessions.session_end_by_patron(session=ChatSession.objects.get(pk=dana.pk))
    answered = ResolutionCode.objects.get(library=riverside_library, label="Answered")
    wrapup_save(session_id=dana.pk, librarian=alice, resolution=answered.pk, read_level=2)
    survey_answer_submit(
        session=ChatSession.objects.get(pk=dana.pk), helped="yes", rating=5, language="en"
    )

    at(clock, 2026, 11, 2, 9, 40)
    eli = ask(name="Eli")
    clock.advance(90)
    sessions.session_accept(session_id=eli.pk, librarian=bob)
    clock.advance(300)
    sessions.session_close(
        session=ChatSession.objects.get(pk=eli.pk),
        closed_by=ChatSession.ClosedBy.SYSTEM,  # the patron never opened the chat: away
    )
    wrapup_skip(session_id=eli.pk, librarian=bob)

    at(clock, 2026, 11, 3, 14, 5)
    fay = ask(name="Fay")
    clock.advance(60)
    sessions.session_end_by_patron(session=ChatSession.objects.get(pk=fay.pk))

    at(clock, 2026, 11, 3, 14, 20)
    gus = ask(name="Gus")
    clock.advance(150)
    sessions.session_accept(session_id=gus.pk, librarian=alice)
    clock.advance(60)
    offer = transfers.transfer_offer(session_id=gus.pk, sender=alice, receiver_id=bob.pk)
    transfers.transfer_accept(offer_id=offer.pk, librarian=bob)
    clock.advance(120)
    sessions.session_end_by_librarian(session_id=gus.pk, librarian=bob)

    at(clock, 2026, 11, 3, 16, 0)
    question_ask(
        queue=riverside,
        library=riverside_library,
        patron_name="Hal",
        patron_email="hal@example.org",
        question="Do you have the 1911 county atlas?",
    )
    at(clock, 2026, 11, 9, 12, 0)
    return {"dana": dana, "eli": eli, "fay": fay, "gus": gus}


def supervisor_of(librarian):
    """The librarian made a supervisor, their permissions read afresh."""
    librarian.user.groups.add(supervisors_group_ensure())
    return type(librarian.user).objects.get(pk=librarian.user.pk)
