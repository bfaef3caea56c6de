"""A Librarian Note never reaches a patron, by any path (DOMAIN.md: "tests try every path to leak").

One session is filled with notes by every route that makes one: a note typed
in the console (by the service and over the console socket), IM lines about
the session (from the Transfer dialog, and from the IM tab over the console
socket, tied in its About select), a transfer offered and declined, offered and cancelled, offered
and accepted, offered and left to expire, a return to the queue and the
pick-up from it, and an offer withdrawn when the session ends. Every note a
test writes carries a marker ``SECRET-<n>``; the notes the services write
themselves ("Bob declined the transfer.") are checked by their whole text.

Then every path a patron can read is walked: each frame their socket
received throughout, a fresh socket after the fact (a snapshot, a resume,
a heartbeat) while the session waits again after a return to the queue and
another after the end, the chat page, the transcript email, the patron API
and the public status. None may carry a note, nor count them: every path
numbers the patron's lines 1, 2, 3 … with no gap where a note is. The staff
record must carry all of them, so the test can't pass by storing nothing.
"""

import json
from datetime import timedelta
from typing import Any

import pytest
from channels.layers import get_channel_layer
from django.test import Client
from django.utils import timezone

from accounts.models import Librarian
from chat import sessions, team, transfers
from chat.models import ChatSession, Message
from im import services as ims
from questions.delivery import question_emails_enqueue_due
from questions.follow_ups import wrapup_submit
from questions.models import Question
from questions.services import question_answer
from tests.sockets import (  # noqa: F401 - the fixture closes leftover sockets
    TINY_HEARTBEAT,
    Socket,
    call,
    close_sockets_left_open,
    console_of,
    monitor,
    patron_of,
)
from tests.talk import (
    librarian_notes,
    librarian_says,
    patron_says,
    transcripts_delivered,
    worker_runs_queue,
)
from wrapup.models import ResolutionCode

pytestmark = pytest.mark.django_db(transaction=True)

MARKERS = [f"SECRET-{n}" for n in range(1, 16)]
# An IM tied to no session: private between the two librarians, so in no note either.
UNTIED = "UNTIED-1 lunch at one?"


def _offer(session: ChatSession, sender: Any, receiver: Any, note: str) -> int:
    offer = transfers.transfer_offer(
        session_id=session.pk, sender=sender, receiver_id=receiver.pk, note=note
    )
    return offer.pk


def _im_about(session: ChatSession, alice: Any, bob: Any) -> int:
    """Alice's IM with Bob, linked to the session (as the Transfer dialog does)."""
    im, _ = ims.im_open(initiator=alice, recipient_id=bob.pk, about_session_id=session.pk)
    return im.pk


def _im_line(im_id: int, author: Any, text: str) -> None:
    ims.im_post(im_id=im_id, librarian=author, text=text, client_id=None)


def _get(url: str, person: Any = None) -> Any:
    client = Client()
    if person is not None:
        client.force_login(person.user)
    return client.get(url)


async def test_no_librarian_note_reaches_the_patron_by_any_path(
    ask, alice, bob, riverside, riverside_library, supervisor, mailoutbox, settings
):
    session = await call(ask, name="Dana", email="dana@example.org")
    await monitor(alice, riverside)
    await monitor(bob, riverside)

    # The patron is listening before any note exists, and until the end.
    patron = await patron_of(session)
    frames = [await patron.expect("session.snapshot")]
    console = await console_of(alice)

    # Alice picks up; the patron and Alice talk.
    await console.send(type="session.accept", session=session.pk)
    await console.expect("session.accepted", session=session.pk, where=lambda e: "detail" in e)
    await patron.send(type="message.send", text="It is for my mother.", client_id="p-1")
    frames.append(await patron.expect("message.stored", client_id="p-1"))
    await console.send(
        type="message.send", session=session.pk, text="Let me look.", client_id="a-1"
    )
    await console.expect("message.stored", client_id="a-1")

    # Notes typed by hand: through the service, and over the console socket.
    await call(
        librarian_notes,
        session_id=session.pk,
        librarian=alice,
        text="SECRET-1 the patron is a regular at the branch",
    )
    await console.send(
        type="message.send",
        session=session.pk,
        text="SECRET-2 asked about large print before",
        client_id="a-note-2",
        note=True,
    )
    await console.expect("message.stored", client_id="a-note-2")

    # IM lines about the session, both ways.
    im_id = await call(_im_about, session, alice, bob)
    await call(_im_line, im_id, alice, "SECRET-3 can you take this one")
    await call(_im_line, im_id, bob, "SECRET-4 give me a minute")

    # The IM tab: "No patron session" in the About select, then Dana's session again.
    await console.send(type="im.about", im=im_id, session=None)
    await console.expect("im.about.changed", where=lambda e: e["about"] is None)
    await console.send(type="im.send", im=im_id, text=UNTIED, client_id="im-1")
    await console.expect("im.message.stored", client_id="im-1")
    await console.send(type="im.about", im=im_id, session=session.pk)
    await console.expect("im.about.changed", where=lambda e: e["about"] is not None)
    await console.send(type="im.send", im=im_id, text="SECRET-13 tied again", client_id="im-2")
    await console.expect("im.message.stored", client_id="im-2")

    # A transfer declined, one cancelled, one accepted by Bob.
    offer = await call(_offer, session, alice, bob, "SECRET-5 large print question")
    await call(transfers.transfer_decline, offer_id=offer, librarian=bob)
    offer = await call(_offer, session, alice, bob, "SECRET-6 second try")
    await call(transfers.transfer_cancel, offer_id=offer, librarian=alice)
    im_id = await call(_im_about, session, alice, bob)  # the decline unlinked it
    await call(_im_line, im_id, bob, "SECRET-7 free now")
    offer = await call(_offer, session, alice, bob, "SECRET-8 she is waiting for you")
    await call(transfers.transfer_accept, offer_id=offer, librarian=bob)

    # Bob talks with the patron and writes a note of his own.
    await call(
        librarian_says,
        session=session,
        librarian=bob,
        text="Bob here, taking over from Alice.",
        client_id=None,
    )
    await call(patron_says, session=session, text="Thanks Bob", client_id=None)
    await call(
        librarian_notes,
        session_id=session.pk,
        librarian=bob,
        text="SECRET-9 checked the catalogue, two copies",
    )

    # Bob invites Alice to join; she adds a note as a joined librarian and leaves.
    # A supervisor watches a while, unseen by the patron.
    invitation = await call(
        transfers.transfer_offer, session_id=session.pk, sender=bob, receiver_id=alice.pk,
        note="SECRET-14 join me", join=True,
    )  # fmt: skip
    await call(transfers.transfer_accept, offer_id=invitation.pk, librarian=alice)
    await call(
        librarian_notes, session_id=session.pk, librarian=alice, text="SECRET-15 from the side"
    )
    sam = await call(
        Librarian.objects.create, user=supervisor, library=riverside_library,
        display_name="Sam", staff_id="RPL-001",
    )  # fmt: skip
    await call(team.watch_start, session_id=session.pk, librarian=sam)
    await call(team.watch_stop, session_id=session.pk, librarian=sam)
    await call(team.team_leave, session_id=session.pk, librarian=alice)

    # Bob offers it back and nobody answers in time; then he returns it to the queue.
    await call(_offer, session, bob, alice, "SECRET-10 back to you")
    expired = await call(transfers.transfer_expire_due, now=timezone.now() + timedelta(hours=1))
    assert len(expired) == 1
    await call(
        transfers.transfer_to_queue,
        session_id=session.pk,
        sender=bob,
        note="SECRET-11 needs the large print desk",
    )
    # While it waits again, a tab opened now gets the session as the patron sees it.
    waiting = await patron_of(session)
    requeued_snapshot = await waiting.expect("session.snapshot")
    await waiting.close()

    # Alice picks it up from the queue, offers it once more, and ends the session
    # (the open offer is withdrawn; the transcript goes to the patron's address).
    await console.send(type="session.accept", session=session.pk)
    await console.expect("session.accepted", session=session.pk, where=lambda e: "detail" in e)
    await call(
        librarian_says,
        session=session,
        librarian=alice,
        text="Alice again. The large print desk has it.",
        client_id=None,
    )
    await call(_offer, session, alice, bob, "SECRET-12 last one")
    await call(sessions.session_end_by_librarian, session_id=session.pk, librarian=alice)

    frames.append(await patron.expect("session.closed"))
    frames.extend(await patron.drain())
    await console.close()

    notes = await call(
        lambda: list(
            Message.objects.filter(session=session, visibility=Message.Visibility.STAFF)
            .order_by("seq")
            .values_list("text", flat=True)
        )
    )
    # Every route made its note (the markers, and the services' own words).
    for marker in MARKERS:
        assert any(marker in note for note in notes), f"{marker} was not stored as a note"
    assert not any(UNTIED in note for note in notes), "an IM tied to nothing became a note"
    for words in [
        "declined the transfer",
        "cancelled the transfer request",
        "accepted the transfer and took the session",
        "expired without an answer",
        "returned the session to Ask Riverside",
        "picked the session up from the queue",
        "was withdrawn: the session ended",
        "Invitation to join sent to Alice",
        "joined the session at Bob's invitation",
        "Sam started watching.",
        "Sam stopped watching.",
        "Alice left the session.",
    ]:
        assert any(words in note for note in notes), f"no note says {words!r}"

    def assert_no_note_in(where: str, text: str) -> None:
        assert UNTIED not in text, f"the private IM leaked into {where}"
        for marker in MARKERS:
            assert marker not in text, f"{marker} leaked into {where}"
        for note in notes:
            assert note not in text, f"the note {note!r} leaked into {where}"

    # (a) Every frame the patron's socket received, from before the first note to the end.
    assert_no_note_in("the patron's socket", json.dumps(frames))
    said = [f["message"]["text"] for f in frames if f["type"] == "message.created"]
    assert said == [
        "Alice has joined the chat.",
        "It is for my mother.",
        "Let me look.",
        "Alice has passed your question to Bob.",
        "Bob here, taking over from Alice.",
        "Thanks Bob",
        "Alice has joined the chat.",
        "Alice has left the chat.",
        "Bob has passed your question to the next available librarian.",
        "Alice has joined the chat.",
        "Alice again. The large print desk has it.",
        "Librarian ended chat session",
    ], "the patron's socket heard the conversation throughout"
    assert all("note" not in f["message"] for f in frames if f["type"] == "message.created")
    # The patron's own numbers, notes interleaved throughout: 1 (the question),
    # then each line as it came, and the answer to their own line says its number.
    visible = 1 + len(said)
    numbers = list(range(1, visible + 1))
    assert [m["seq"] for m in frames[0]["messages"]] == [1]
    assert [f["message"]["seq"] for f in frames if f["type"] == "message.created"] == numbers[1:]
    [stored] = [f for f in frames if f["type"] == "message.stored"]
    assert stored["seq"] == 1 + said.index("It is for my mother.") + 1
    # Back to the queue is said without the note, live and in a snapshot.
    assert [f for f in frames if f["type"] == "session.requeued"] == [{"type": "session.requeued"}]
    assert_no_note_in("the snapshot while it waited again", json.dumps(requeued_snapshot))
    assert (requeued_snapshot["session"]["state"], requeued_snapshot["session"]["requeued"]) == (
        "waiting",
        True,
    )
    assert requeued_snapshot["session"]["librarian"] is None
    assert [f["librarian"] for f in frames if f["type"] == "session.accepted"] == [
        {"display_name": "Alice"},
        {"display_name": "Bob"},
        {"display_name": "Alice"},
    ]

    # (b) A patron socket opened afterwards, from the very first line; one that
    # resumes after line 4 (on opening, and by asking); its heartbeat.
    settings.HEARTBEAT_SECONDS = TINY_HEARTBEAT
    again = await patron_of(session, after=0)
    snapshot = await again.expect("session.snapshot")
    heartbeat = await again.expect("session.heartbeat")
    await again.send(type="session.resume", after=4)
    resumed = await again.expect("session.snapshot")
    await again.close()
    later = await patron_of(session, after=4)
    reopened = await later.expect("session.snapshot")
    await later.close()
    assert_no_note_in("a fresh patron snapshot", json.dumps([snapshot, resumed, reopened]))
    assert [m["text"] for m in snapshot["messages"]][-1] == "Librarian ended chat session"
    assert [m["seq"] for m in snapshot["messages"]] == numbers
    assert snapshot["session"]["last_seq"] == heartbeat["last_seq"] == visible
    for after_four in (resumed, reopened):
        assert after_four["messages"] == snapshot["messages"][4:]

    # (c) The patron page after a reload.
    page = await call(_get, f"/chat/{session.token}/")
    assert page.status_code == 200
    assert_no_note_in("the patron page", page.content.decode())

    # (d) The transcript email, subject and body, as the worker sends it.
    await call(transcripts_delivered)
    assert [m.to for m in mailoutbox] == [["dana@example.org"]]
    email = mailoutbox[0]
    assert_no_note_in("the transcript email", f"{email.subject}\n{email.body}")
    # Every line, in the patron's order (each found after the one before it).
    place = 0
    for line in snapshot["messages"]:
        place = email.body.find(line["text"], place)
        assert place >= 0, f"{line['text']!r} is not in the transcript after the line before it"
        place += len(line["text"])

    # (e) The patron API.
    response = await call(_get, f"/api/v1/chat/{session.token}/")
    assert response.status_code == 200
    assert_no_note_in("the patron API", response.content.decode())
    assert [(m["seq"], m["text"]) for m in response.json()["messages"]] == [
        (m["seq"], m["text"]) for m in snapshot["messages"]
    ]

    # (f) The public status.
    response = await call(_get, "/api/v1/status/")
    assert response.status_code == 200
    assert_no_note_in("the status API", response.content.decode())

    # (g) The wrap-ups' private comments, and the follow-up's answer email:
    # Bob wraps up his part, Alice puts the chat on her follow-up list and
    # answers by email, the chat's transcript below her answer.
    def wrap_up(librarian: Librarian, label: str, comment: str) -> None:
        code = ResolutionCode.objects.get(library_id=librarian.library_id, label=label)
        wrapup_submit(
            session_id=session.pk, librarian=librarian, resolution=code.pk, comment=comment
        )

    await call(wrap_up, bob, "Answered", "SECRET-W1 she was upset about the fines")
    await call(wrap_up, alice, "Follow-up by me", "SECRET-W2 call the large print desk")
    follow_up = await call(Question.objects.get, session=session)
    await call(
        question_answer, question_id=follow_up.pk, librarian=alice, text="The desk has two copies."
    )
    await call(question_emails_enqueue_due)
    await call(worker_runs_queue)
    [answer] = [m for m in mailoutbox if "the answer" in m.subject]
    assert "The desk has two copies." in answer.body
    assert "Alice again. The large print desk has it." in answer.body
    for where, text in [
        ("the follow-up's answer email", f"{answer.subject}\n{answer.body}"),
        ("the patron page", (await call(_get, f"/chat/{session.token}/")).content.decode()),
        ("the patron API", (await call(_get, f"/api/v1/chat/{session.token}/")).content.decode()),
    ]:
        assert_no_note_in(where, text)
        assert "SECRET-W" not in text, f"a wrap-up's comment leaked into {where}"

    # The staff record has every one of them: Chat History, page and API.
    history = await call(_get, f"/console/history/{session.pk}/", alice)
    assert history.status_code == 200
    for marker in [*MARKERS, "SECRET-W1", "SECRET-W2"]:
        assert marker in history.content.decode()
    detail = (await call(_get, f"/api/v1/sessions/{session.pk}/", alice)).json()
    noted = [m["text"] for m in detail["messages"] if m["note"]]
    assert noted == notes
    assert all(m["kind"] == "note" for m in detail["messages"] if m["note"])
    # Notes sit between the patron's lines in the staff numbering, which no patron path used.
    assert [m["seq"] for m in detail["messages"] if not m["note"]] != numbers


async def test_a_note_published_to_the_patron_group_by_mistake_is_not_delivered(chat, alice):
    session = await call(chat, alice)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")

    # A bug elsewhere sends a note to the patron's group: the consumer's second lock holds.
    await get_channel_layer().group_send(
        session.patron_group(),
        {
            "type": "message.created",
            "session": session.pk,
            "message": {
                "seq": 3,
                "kind": "note",
                "note": True,
                "author": "Alice",
                "text": "SECRET-LOCK the patron owes fines",
                "created_at": timezone.now().isoformat(),
                "client_id": None,
            },
        },
    )
    # A real line after it: one socket hears its events in order, so once this
    # arrives the stray note has been handled.
    await call(
        librarian_says,
        session=session,
        librarian=alice,
        text="Here is the link.",
        client_id=None,
    )
    heard = await patron.expect("message.created")
    rest = await patron.drain()
    await patron.close()

    assert heard["message"]["text"] == "Here is the link."
    assert heard["message"]["seq"] == 3
    assert "SECRET-LOCK" not in json.dumps([heard, *rest])
    assert [e["type"] for e in rest] == []
