"""The patron's socket answers in the session's language: its refusals, and
the lines the system writes while it is open. Against the full ASGI app."""

import pytest

from chat import sessions
from chat.models import ChatSession
from tests.sockets import (  # noqa: F401 - the fixture closes leftover sockets
    call,
    close_sockets_left_open,
    patron_of,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _in_spanish(ask):
    session = ask()
    ChatSession.objects.filter(pk=session.pk).update(language="es")
    session.refresh_from_db()
    return session


async def test_the_patron_socket_refuses_in_the_patrons_language(ask, alice):
    session = await call(_in_spanish, ask)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")

    await patron.send(type="message.send", text="   ", client_id="c-1")
    refusal = await patron.expect("error", client_id="c-1")
    assert (refusal["code"], refusal["message"]) == (
        "invalid_line",
        "Un mensaje no puede estar vacío.",
    )
    await patron.send(type="message.send", text="x" * 4001, client_id="c-2")
    too_long = await patron.expect("error", client_id="c-2")
    # Numbers as Spanish writes them (Django's formats: a no-break space groups).
    assert too_long["message"] == (
        "Un mensaje puede tener como máximo 4\u00a0000 caracteres; este tiene 4\u00a0001."
    )
    await patron.send(type="transcript.request", email="dana@example.org")
    early = await patron.expect("error", code="session_open")
    assert early["message"] == "La transcripción se envía cuando termina el chat."

    # The line the system writes for the patron when a librarian joins.
    await call(sessions.session_accept, session_id=session.pk, librarian=alice)
    joined = await patron.expect(
        "message.created", where=lambda e: e["message"]["kind"] == "system"
    )
    assert joined["message"]["text"] == "Alice se ha unido al chat."


async def test_an_english_patrons_socket_stays_english(ask):
    session = await call(ask)
    patron = await patron_of(session)
    await patron.expect("session.snapshot")
    await patron.send(type="message.send", text="   ", client_id="c-1")
    refusal = await patron.expect("error", client_id="c-1")
    assert refusal["message"] == "A message can't be empty."
