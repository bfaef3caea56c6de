"""The transcript of a chat: emailed when the chat ends, without its Librarian Notes, once.

The patron gives an address when asking, or asks for the transcript once the
chat ended (``session_transcript_request``). End Session only marks it due;
the worker sends it (tests/transcripts/test_delivery.py: how, and what if
the mail server fails).
"""

from zoneinfo import ZoneInfo

import pytest

from chat import sessions
from chat.lines import line_store, note_line
from tests.helpers import fresh, refused
from tests.talk import librarian_says, patron_says, transcripts_delivered

pytestmark = pytest.mark.django_db


# --- The transcript ---------------------------------------------------------


def test_the_transcript_is_emailed_on_close_without_librarian_notes(
    chat, alice, mailoutbox, django_capture_on_commit_callbacks
):
    session = chat(alice, email="dana@example.org")
    patron_says(session=session, text="Is it at the main branch?", client_id=None)
    librarian_says(session=session, librarian=alice, text="Yes, shelf LP 823 ELI.", client_id=None)
    line_store(note_line(session, "Patron sounded confused about the branches", alice))
    with django_capture_on_commit_callbacks(execute=True):
        sessions.session_end_by_librarian(session_id=session.pk, librarian=alice)
    # End Session sends nothing itself: the worker does, from the record.
    assert mailoutbox == []
    assert transcripts_delivered() == [session.pk]

    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.to == ["dana@example.org"]
    assert email.subject == "Your chat with Riverside Public Library: transcript"
    for text in [
        "Dana: Do you have large-print copies of Middlemarch?",
        "* Alice has joined the chat.",
        "Dana: Is it at the main branch?",
        "Alice: Yes, shelf LP 823 ELI.",
        "* Librarian ended chat session",
    ]:
        assert text in email.body
    assert "confused" not in email.body
    assert fresh(session).transcript_sent_at is not None


def test_no_email_is_sent_when_the_patron_gave_no_address(
    chat, alice, mailoutbox, django_capture_on_commit_callbacks
):
    session = chat(alice)
    with django_capture_on_commit_callbacks(execute=True):
        sessions.session_end_by_patron(session=session)
    assert mailoutbox == []
    assert fresh(session).transcript_sent_at is None


def test_a_patron_asks_for_the_transcript_after_the_chat_once(
    chat, alice, mailoutbox, django_capture_on_commit_callbacks
):
    session = chat(alice)
    with refused("session_open") as refusal:
        sessions.session_transcript_request(session=session, email="dana@example.org")
    assert refusal.message == "The transcript is sent when the chat ends."
    with django_capture_on_commit_callbacks(execute=True):
        sessions.session_end_by_librarian(session_id=session.pk, librarian=alice)
    assert mailoutbox == []

    with refused("invalid_email"):
        sessions.session_transcript_request(session=session, email="not-an-address")
    sessions.session_transcript_request(session=session, email=" dana@example.org ")
    with refused("transcript_sent"):  # on its way: a second address is refused too
        sessions.session_transcript_request(session=session, email="other@example.org")
    transcripts_delivered()
    assert [m.to for m in mailoutbox] == [["dana@example.org"]]
    assert "Alice has joined the chat." in mailoutbox[0].body

    with refused("transcript_sent") as refusal:
        sessions.session_transcript_request(session=session, email="other@example.org")
    assert refusal.message == "The transcript of this chat was already sent."
    assert len(mailoutbox) == 1
    assert fresh(session).patron_email == "dana@example.org"


def test_asking_again_for_an_emailed_transcript_from_a_page_opened_before_the_end(
    ask, alice, mailoutbox, django_capture_on_commit_callbacks
):
    # The patron's socket holds the session as it was when the page opened.
    opened = ask(email="dana@example.org")
    sessions.session_accept(session_id=opened.pk, librarian=alice)
    with django_capture_on_commit_callbacks(execute=True):
        sessions.session_end_by_librarian(session_id=opened.pk, librarian=alice)
    transcripts_delivered()
    assert len(mailoutbox) == 1
    with refused("transcript_sent"):
        sessions.session_transcript_request(session=opened, email="dana@example.org")
    assert len(mailoutbox) == 1


def test_the_transcripts_times_are_the_queues_zone_named_as_its_pages_name_it(
    world, chat, alice, mailoutbox
):
    world.riverside_library.time_zone = "America/Chicago"
    world.riverside_library.save()
    session = chat(alice, email="dana@example.org")
    said, _ = patron_says(session=session, text="Thanks!", client_id=None)
    sessions.session_end_by_librarian(session_id=session.pk, librarian=alice)
    assert transcripts_delivered() == [session.pk]
    body = mailoutbox[0].body
    assert "Times are given in Central Time." in body
    local = said.created_at.astimezone(ZoneInfo("America/Chicago"))
    assert f"[{local:%H:%M:%S}] Dana: Thanks!" in body
