"""The end-of-chat transcript form is no mail relay.

The attack it closes: five requests nobody answered, each ended at once and
each asked to email its "transcript" (the attacker's own words, under the
library's name) to a third party's address. A transcript goes only to the
address given when asking, or, for one typed at the end, only for a chat a
librarian answered, once per session, and at most
``TRANSCRIPT_LIMIT_PER_HOUR`` per client address.
"""

import pytest

from chat import sessions
from chat.models import ChatSession
from tests.helpers import fresh, refused
from tests.sockets import call, close_sockets_left_open, console_of, patron_of  # noqa: F401
from tests.talk import transcripts_delivered

VICTIM = "someone-else@example.org"
SPAM = "Claim your prize at http://scam.example/ now"


@pytest.mark.django_db(transaction=True)
async def test_five_unanswered_requests_mail_nothing_to_a_third_party(ask, mailoutbox):
    for n in range(5):
        session = await call(ask, name=f"Prize {n}", question=SPAM)
        patron = await patron_of(session)
        await patron.expect("session.snapshot")
        await patron.send(type="session.end")
        closed = await patron.expect("session.closed")
        assert closed["transcript_offered"] is False  # the page offers no form
        await patron.send(type="transcript.request", email=VICTIM, ref=n)
        error = await patron.expect("error")
        assert error["code"] == "no_transcript"
        assert error["message"] == (
            "No librarian answered this chat, so there is no transcript to email."
        )
        assert (await call(fresh, session)).patron_email == ""
        await patron.close()
    await call(transcripts_delivered)
    assert mailoutbox == []


@pytest.mark.django_db(transaction=True)
async def test_an_answered_chat_sends_its_transcript_once_to_the_address_typed(
    chat, alice, mailoutbox
):
    session = await call(chat, alice)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")
    console = await console_of(alice)
    await console.send(type="session.end", session=session.pk)
    closed = await patron.expect("session.closed")
    assert (closed["has_email"], closed["transcript_offered"]) == (False, True)

    await patron.send(type="transcript.request", email="dana@example.org")
    assert (await patron.expect("transcript.sent"))["email"] == "dana@example.org"
    # A second address for the same chat, from this tab or another: refused.
    await patron.send(type="transcript.request", email=VICTIM)
    assert (await patron.expect("error"))["code"] == "transcript_sent"
    await call(transcripts_delivered)
    assert [m.to for m in mailoutbox] == [["dana@example.org"]]

    # Reloaded, the page offers no second form either.
    again = await patron_of(session)
    snapshot = await again.expect("session.snapshot")
    assert snapshot["session"]["transcript_offered"] is False


@pytest.mark.django_db
def test_a_transcript_that_failed_for_good_is_not_sent_to_a_new_address(
    chat, alice, django_capture_on_commit_callbacks
):
    session = chat(alice, email="dana@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        sessions.session_end_by_librarian(session_id=session.pk, librarian=alice)
    # The mail server refused it until the worker gave up.
    ChatSession.objects.filter(pk=session.pk).update(transcript_due_at=None)
    with refused("transcript_sent"):
        sessions.session_transcript_request(session=session, email=VICTIM)
    assert fresh(session).patron_email == "dana@example.org"


@pytest.mark.django_db
def test_transcripts_typed_at_the_end_are_limited_per_address(chat, alice, settings):
    settings.TRANSCRIPT_LIMIT_PER_HOUR = 2
    ended = []
    for n in range(3):
        session = chat(alice, name=f"Dana {n}")
        sessions.session_end_by_librarian(session_id=session.pk, librarian=alice)
        ended.append(session)
    for session in ended[:2]:
        sessions.session_transcript_request(
            session=session, email="dana@example.org", address_hash="a" * 64
        )
    with refused("too_many_transcripts") as refusal:
        sessions.session_transcript_request(
            session=ended[2], email="dana@example.org", address_hash="a" * 64
        )
    assert refusal.message.startswith("Too many transcripts were asked for from this connection.")
    assert fresh(ended[2]).patron_email == ""  # nothing half-stored
    assert fresh(ended[2]).transcript_due_at is None
    # Another address still may.
    sessions.session_transcript_request(
        session=ended[2], email="dana@example.org", address_hash="b" * 64
    )
