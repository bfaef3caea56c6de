"""A patron who closes the window or loses the network may come back within the grace period.

Back in time, the chat goes on; past the queue's grace period (ten minutes
unless the queue says otherwise) the sweep ends it as lost: the line "The
patron's connection was lost: chat session ended", the transcript emailed
if an address is known, the librarian told. Several processes sweep at once,
and the patron may come back just as the grace runs out.

Most tests call the services with the channel names a socket would have and
move the server's clock (the ``clock`` fixture); the last one uses real
sockets. The tabs and what the librarian hears are in tests/chat/helpers.py.
"""

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, connections

from chat import patrons, sessions, transfers
from chat.models import ChatSession, TransferOffer
from core import events
from shifts import services as shifts
from tests.chat.helpers import (
    LOST,
    TEN_MINUTES,
    closed,
    closing_lines,
    gone_since,
    opened,
    returned,
)
from tests.helpers import at_once, fresh
from tests.sockets import (  # noqa: F401 - the fixture closes leftover sockets
    call,
    close_sockets_left_open,
    console_of,
    patron_of,
    reload,
)
from tests.talk import patron_heartbeat, patron_says, sweep_patrons, transcripts_delivered

# Round after round of pick-ups by the same librarians: no maximum.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_maximum")]


# --- Past the grace period ----------------------------------------------------------


@pytest.mark.parametrize("email", ["dana@example.org", ""], ids=["email known", "no email"])
def test_a_patron_gone_past_the_grace_period_loses_the_chat(
    chat, alice, bob, riverside, heard_by, clock, mailoutbox, email
):
    shifts.monitoring_set(librarian=bob, queue_ids=[riverside.pk])
    session = chat(alice, email=email)
    opened(session, "tab-1")
    patron_says(session=session, text="My battery is dying", client_id=None)
    offer = transfers.transfer_offer(session_id=session.pk, sender=alice, receiver_id=bob.pk)
    closed(session, "tab-1")

    clock.advance(599)
    assert sweep_patrons() == []
    clock.advance(2)
    alices, bobs = f"librarian.{alice.pk}", f"librarian.{bob.pk}"
    lost: list[int] = []
    heard = heard_by([alices, bobs], lambda: lost.extend(sweep_patrons()))
    assert lost == [session.pk]

    session = fresh(session)
    assert (session.state, session.closed_by, session.closed_at) == ("closed", "system", clock.now)
    # The closing line is the patron's last line, and theirs to see.
    last = session.messages.patron_visible().order_by("seq").last()
    assert last is not None
    assert (last.kind, last.text, last.patron_seq) == ("system", LOST, session.last_patron_seq)

    # Alice is told, with the line, as for any end of a chat.
    [told] = [e for e in heard[alices] if e["type"] == "session.closed"]
    assert told == {
        "type": "session.closed",
        "session": session.pk,
        "queue": riverside.pk,
        "closed_by": "system",
        "has_email": bool(email),
        # Answered, no address: the page may offer to email the transcript.
        "transcript_offered": not email,
    }
    assert LOST in [e["message"]["text"] for e in heard[alices] if e["type"] == "message.created"]

    # The transfer Alice offered Bob is withdrawn: there is no chat left to take.
    offer.refresh_from_db()
    assert offer.state == TransferOffer.State.CANCELLED
    withdrawn = [e for e in heard[bobs] if e["type"] == "transfer.cancelled"]
    assert [(e["offer"]["id"], e["reason"]) for e in withdrawn] == [
        (offer.pk, "The session ended.")
    ]

    transcripts_delivered()
    if email:
        [mail] = mailoutbox
        assert mail.to == [email]
        assert "My battery is dying" in mail.body
        assert LOST in mail.body
        assert fresh(session).transcript_sent_at is not None
    else:
        assert mailoutbox == []


def test_a_patron_back_within_the_grace_period_keeps_the_chat(chat, alice, events_of, clock):
    session = chat(alice)
    opened(session, "tab-1")
    closed(session, "tab-1")
    clock.advance(599)
    heard = events_of([f"librarian.{alice.pk}"], lambda: opened(session, "tab-2"))
    assert heard == [returned(session)]

    # Past the end of the grace period that was running, the tab keeps beating.
    for _ in range(6):
        clock.advance(10)
        patron_heartbeat(session, "tab-2")
        assert sweep_patrons() == []
    session = fresh(session)
    assert (session.state, session.patron_present) == ("active", True)
    assert closing_lines(session) == []


def test_a_patron_who_came_back_and_dropped_again_as_the_sweep_ran_gets_a_new_grace_period(
    chat, alice, events_of, clock, monkeypatch
):
    session = chat(alice)
    opened(session, "tab-1")
    closed(session, "tab-1")
    clock.advance(601)
    close = sessions.session_close

    def patron_back_and_gone_again_first(**kwargs: Any) -> ChatSession:
        # The sweep has read "gone for ten minutes"; before it ends the chat,
        # Dana's page comes back and her network drops again at once.
        opened(session, "tab-2")
        closed(session, "tab-2")
        return close(**kwargs)

    monkeypatch.setattr(patrons, "session_close", patron_back_and_gone_again_first)
    heard = events_of([f"librarian.{alice.pk}"], lambda: sweep_patrons())
    # Alice was just told Dana may come back for ten more minutes: the chat stays open.
    assert [e["type"] for e in heard] == ["patron.returned", "patron.left"]
    assert heard[-1]["grace_until"] == (clock.now + TEN_MINUTES).isoformat()
    session = fresh(session)
    assert (session.state, session.patron_gone_since) == ("active", clock.now)
    assert closing_lines(session) == []


def test_the_grace_period_is_a_setting_of_the_queue(ask, riverside, cooperative, clock):
    riverside.patron_grace_seconds = 60
    riverside.save()
    dana = ask(name="Dana")
    eli = ask(cooperative, name="Eli")  # the cooperative keeps the ten minutes
    for session in (dana, eli):
        opened(session, f"tab-{session.pk}")
        closed(session, f"tab-{session.pk}")

    clock.advance(59)
    assert sweep_patrons() == []
    clock.advance(2)
    assert sweep_patrons() == [dana.pk]
    clock.advance(538)
    assert sweep_patrons() == []
    clock.advance(2)
    assert sweep_patrons() == [eli.pk]
    assert (fresh(dana).closed_by, fresh(eli).closed_by) == ("system", "system")


# --- Several processes at once --------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_processes_sweeping_at_once_end_a_lost_chat_once(chat, alice, mailoutbox):
    for round_ in range(10):
        session = chat(alice, name=f"Patron {round_}", email=f"patron{round_}@example.org")
        later = gone_since(session) + TEN_MINUTES + timedelta(seconds=1)
        outcomes = at_once(
            first=lambda at=later: sweep_patrons(now=at),
            second=lambda at=later: sweep_patrons(now=at),
        )
        assert not [o for o in outcomes.values() if isinstance(o, Exception)], outcomes
        assert outcomes["first"] + outcomes["second"] == [session.pk], f"round {round_}"
        assert closing_lines(session) == [LOST]
        assert fresh(session).last_seq == 3
        # Two workers' transcript jobs at once still send one email.
        delivered = at_once(first=transcripts_delivered, second=transcripts_delivered)
        assert not [o for o in delivered.values() if isinstance(o, Exception)], delivered
        assert [m.to for m in mailoutbox] == [[f"patron{i}@example.org"] for i in range(round_ + 1)]


@pytest.mark.django_db(transaction=True)
def test_a_patron_back_as_the_grace_runs_out_keeps_the_chat_or_finds_it_ended(
    chat, alice, clock, monkeypatch
):
    sent: list[str] = []
    monkeypatch.setattr(events, "_send", lambda event, groups: sent.append(event["type"]))
    for round_ in range(10):
        session = chat(alice, name=f"Patron {round_}")
        clock.now = gone_since(session) + TEN_MINUTES + timedelta(seconds=1)
        sent.clear()
        outcomes = at_once(
            sweep=lambda: sweep_patrons(),
            patron=lambda s=session: opened(s, f"tab-{s.pk}"),
        )
        assert not [o for o in outcomes.values() if isinstance(o, Exception)], outcomes
        session = fresh(session)
        if outcomes["sweep"] == [session.pk]:
            # The sweep won: ended as lost, and nobody is told the patron is back.
            assert (session.state, session.closed_by) == ("closed", "system")
            assert closing_lines(session) == [LOST]
            assert "patron.returned" not in sent
        else:
            # The patron won: the chat goes on, and Alice hears they are back.
            assert outcomes["sweep"] == [], f"round {round_}"
            assert (session.state, session.patron_present) == ("active", True)
            assert closing_lines(session) == []
            assert sent == ["patron.returned"]


@pytest.mark.django_db(transaction=True)
def test_a_tab_opening_as_the_other_closes_leaves_the_patron_there(chat, alice, monkeypatch):
    """A reload served by two processes: the old tab's close and the new tab's open overlap.

    The closing tab is held right after it looked for other open tabs (and found
    none) while the new tab opens; whatever the database lets through in that
    moment, the patron must end up present, with "back" the last word Alice heard.
    """
    sent: list[str] = []
    monkeypatch.setattr(events, "_send", lambda event, groups: sent.append(event["type"]))
    session = chat(alice)
    opened(session, "tab-old")
    sent.clear()
    looked = threading.Event()
    new_tab_done = threading.Event()
    failures: list[Exception] = []

    def hold_after_looking_for_other_tabs(execute: Any, sql: str, *args: Any) -> Any:
        result = execute(sql, *args)
        first_look = not looked.is_set()
        if first_look and sql.lstrip().upper().startswith("SELECT") and "patronpresence" in sql:
            looked.set()
            # Long enough for the new tab to open, unless the database makes it wait.
            new_tab_done.wait(timeout=0.5)
        return result

    def close_old_tab() -> None:
        try:
            with connection.execute_wrapper(hold_after_looking_for_other_tabs):
                closed(session, "tab-old")
        except Exception as error:
            failures.append(error)
        finally:
            looked.set()
            connections.close_all()

    def open_new_tab() -> None:
        try:
            looked.wait(timeout=10)
            opened(session, "tab-new")
        except Exception as error:
            failures.append(error)
        finally:
            new_tab_done.set()
            connections.close_all()

    threads = [threading.Thread(target=close_old_tab), threading.Thread(target=open_new_tab)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not failures, failures

    assert fresh(session).patron_present
    presence = [kind for kind in sent if kind.startswith("patron.")]
    assert presence in ([], ["patron.left", "patron.returned"]), presence


# --- Through the sockets ----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_a_patron_back_after_the_grace_period_finds_the_chat_ended_as_lost(
    chat, alice, mailoutbox
):
    session = await call(chat, alice, email="dana@example.org")
    console = await console_of(alice)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")
    await console.expect("patron.returned", session=session.pk)
    await patron.close()
    await console.expect("patron.left", session=session.pk)
    gone_since = (await reload(session)).patron_gone_since

    later = gone_since + TEN_MINUTES + timedelta(seconds=1)
    assert await call(sweep_patrons, now=later) == [session.pk]
    told = await console.expect("session.closed", session=session.pk)
    assert (told["closed_by"], told["has_email"]) == ("system", True)
    await console.expect("message.created", where=lambda e: e["message"]["text"] == LOST)

    await call(transcripts_delivered)
    again = await patron_of(session)
    snapshot = await again.expect("session.snapshot")
    assert {k: snapshot["session"][k] for k in ("state", "closed_by", "transcript_sent")} == {
        "state": "closed",
        "closed_by": "system",
        "transcript_sent": True,
    }
    assert (snapshot["messages"][-1]["kind"], snapshot["messages"][-1]["text"]) == ("system", LOST)
    assert [m.to for m in mailoutbox] == [["dana@example.org"]]
    # Coming back to an ended chat is no "patron back" for Alice.
    assert "patron.returned" not in [e["type"] for e in await console.drain()]
    assert (await reload(session)).state == ChatSession.State.CLOSED
    for socket in (again, console):
        await socket.close()
