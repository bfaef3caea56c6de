"""The patron's socket: ``/ws/chat/<token>/``, one per patron tab.

Thin by design: parse a frame, call one service or selector, send what it
returns. Everything else arrives as a published event and is forwarded as
it is. The protocol is docs/protocol.md.
"""

from functools import partial
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from chat import patrons, sessions
from chat.lines import patron_line
from chat.models import PATRON_TOKEN, ChatSession
from chat.selectors import patron_snapshot, patron_waits, session_ids_for_patrons
from chat.writer import post_line
from core.batches import Batcher
from core.clients import address_hash, scope_client_address
from core.db import database_call
from core.errors import ChatError
from core.events import call_service
from core.groups import librarian_group, patron_group
from core.heartbeats import Kind, heartbeats, in_turns
from core.sockets import (
    CLOSE_NOT_FOUND,
    ChatSocket,
    Frame,
    frame_client_id,
    frame_str,
    frame_text,
)
from core.typing_signals import TypingGate, typing_event_type, typing_frame_started, typing_send

# Beyond any line number (and beyond what the databases take as a parameter).
MAX_AFTER = 2**31 - 1


def _after(query_string: bytes) -> int:
    """The ``after=N`` query parameter: the last sequence number the client saw."""
    for part in query_string.decode(errors="ignore").split("&"):
        key, _, value = part.partition("=")
        if key == "after" and value.isdigit():
            return min(int(value), MAX_AFTER)
    return 0


def _batch_size() -> int:
    return settings.PATRON_OPEN_BATCH


# The sockets that open at the same moment share one token lookup and one
# transaction (core/batches.py): a thousand reconnecting after a
# restart.
_lookups: Batcher[str, int | None] = Batcher(
    session_ids_for_patrons, runner=database_call, size=_batch_size
)
_opens: Batcher[tuple[int, str, int], tuple[ChatSession, dict[str, Any]] | None] = Batcher(
    patrons.patron_sockets_open, runner=database_call, size=_batch_size
)


async def _beat(sockets: list["PatronConsumer"]) -> None:
    """One heartbeat of these sockets: presence refreshed, ``session.heartbeat`` sent."""
    beats = await call_service(
        patrons.patron_sockets_beat, [(s.session, s.channel_name) for s in sockets]
    )
    waiting = {pk for pk, (state, *_) in beats.items() if state == ChatSession.State.WAITING}
    waits = await database_call(patron_waits)(waiting) if waiting else {}
    async for socket in in_turns(sockets):
        beat = beats.get(socket.session.pk)
        if beat is None or not heartbeats().beats(PATRON_SOCKETS, socket):
            continue  # the session is gone, or the socket closed meanwhile
        state, last, socket.primary_id = beat  # who may signal typing, if a ring was lost
        await socket.send_beat({"type": "session.heartbeat", "state": state, "last_seq": last})
        if wait := waits.get(socket.session.pk):
            # A waiting patron is never left guessing: where they are in the
            # queue and how many librarians are on, at every beat.
            await socket.send_beat(wait)


PATRON_SOCKETS = Kind("patron", _beat)


class PatronConsumer(ChatSocket):
    """``/ws/chat/<token>/``: the patron's own session, patron-visible lines only.

    Lines are numbered by ``patron_seq``. ``?after=N`` (or a ``session.resume``
    frame) resumes after the last line the patron saw; a heartbeat every few
    seconds carries the latest number, so a line whose event was lost is
    noticed and fetched.
    """

    actions = {
        "message.send": "send_line",
        "session.end": "end_session",
        "session.resume": "resume",
        "transcript.request": "request_transcript",
        "typing": "signal_typing",
    }
    line_actions = frozenset({"message.send"})
    snapshot_actions = frozenset({"session.resume"})

    session: ChatSession
    # The librarian holding the session, as this socket last heard: whose
    # typing it shows, and whom its own typing tells (typing_started, below).
    primary_id: int | None = None
    _typing: TypingGate | None = None

    async def connect(self) -> None:
        # Accepted first, looked up after: when a thousand patrons reconnect
        # at once (a server restart) no handshake times out waiting for the
        # database, and an unknown token hears 4404 (a handshake refused
        # before accept reaches the browser only as 1006, and it would retry).
        await self.accept()
        token = self.scope["url_route"]["kwargs"]["token"]
        found = await _lookups.submit(token) if PATRON_TOKEN.fullmatch(token) else None
        if found is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        group = patron_group(found)
        # Present again and the snapshot in one database call, after joining
        # the group: an event published meanwhile is in one or the other.
        await self.channel_layer.group_add(group, self.channel_name)
        opened = await _opens.submit((found, self.channel_name, _after(self.scope["query_string"])))
        if opened is None:  # the session was deleted meanwhile
            await self.channel_layer.group_discard(group, self.channel_name)
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.session, snapshot = opened
        self.primary_id = self.session.primary_id
        await self.send_json(snapshot)
        # After the snapshot: no heartbeat may overtake it.
        heartbeats().add(PATRON_SOCKETS, self)
        await self._send_wait(snapshot)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # Every answer to a frame (its errors included) in the patron's
        # language, the one recorded on the session (core/i18n.py).
        language = self.session.language if hasattr(self, "session") else settings.LANGUAGE_CODE
        with translation.override(language):
            await super().receive(text_data, bytes_data)

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "session"):
            return
        # Before anything else: no later beat may refresh the row closed below.
        heartbeats().discard(PATRON_SOCKETS, self)
        await self.channel_layer.group_discard(patron_group(self.session.pk), self.channel_name)
        await call_service(
            patrons.session_patron_disconnected,
            session=self.session,
            channel_name=self.channel_name,
        )

    async def resume(self, frame: Frame) -> None:
        after = frame.get("after", 0)
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            raise ChatError("bad_frame", _('"after" must be a line number.'))
        snapshot = await database_call(patron_snapshot)(
            session_id=self.session.pk, after=min(after, MAX_AFTER)
        )
        await self.send_json(snapshot)
        await self._send_wait(snapshot)

    async def _send_wait(self, snapshot: dict[str, Any]) -> None:
        if snapshot["session"]["state"] != ChatSession.State.WAITING:
            return
        waits = await database_call(patron_waits)({self.session.pk})
        if wait := waits.get(self.session.pk):
            await self.send_json(wait)

    async def send_line(self, frame: Frame) -> None:
        client_id = frame_client_id(frame)
        message, _ = await post_line(
            partial(patron_line, session=self.session, text=frame_text(frame), client_id=client_id)
        )
        await self.send_json(
            {"type": "message.stored", "client_id": client_id, "seq": message.patron_seq}
        )

    async def end_session(self, frame: Frame) -> None:
        await call_service(sessions.session_end_by_patron, session=self.session)

    async def request_transcript(self, frame: Frame) -> None:
        email = frame_str(frame, "email", max_len=254) or ""
        await call_service(
            sessions.session_transcript_request,
            session=self.session,
            email=email,
            address_hash=address_hash(scope_client_address(self.scope)),
        )
        await self.send_json({"type": "transcript.sent", "email": email})

    async def signal_typing(self, frame: Frame) -> None:
        """The patron is typing (or stopped): the librarian holding the
        session hears it, at most every few seconds; no text, nothing stored."""
        started = typing_frame_started(frame)
        if self.primary_id is None:
            return  # waiting or ended: nobody to tell
        if self._typing is None:
            self._typing = TypingGate()
        if self._typing.let_through(started=started):
            await typing_send(
                self.channel_layer,
                librarian_group(self.primary_id),
                {"type": typing_event_type(started=started), "session": self.session.pk},
            )

    # Published events. The patron group only ever receives patron-visible
    # events built from patron payloads; the check on message.created is a
    # second lock on the same door.
    async def message_created(self, event: dict[str, Any]) -> None:
        if event["message"].get("note") or event["message"].get("seq") is None:
            return
        await self.forward(event)

    async def session_accepted(self, event: dict[str, Any]) -> None:
        self.primary_id = event["librarian"]["id"]
        await self.forward(
            {
                "type": "session.accepted",
                "librarian": {"display_name": event["librarian"]["display_name"]},
            }
        )

    async def session_requeued(self, event: dict[str, Any]) -> None:
        # Back in the queue: the patron waits for the next librarian (no note, no name).
        self.primary_id = None
        await self.forward({"type": "session.requeued"})

    async def session_closed(self, event: dict[str, Any]) -> None:
        self.primary_id = None
        await self.forward(
            {
                "type": "session.closed",
                "closed_by": event["closed_by"],
                "has_email": event["has_email"],
                "transcript_offered": event["transcript_offered"],
                **({"left_question": True} if event.get("left_question") else {}),
            }
        )

    # Typing from a console: only the librarian holding the session is shown
    # (a console may name any session id; the patron's own socket decides),
    # by display name only.
    async def typing_started(self, event: dict[str, Any]) -> None:
        if self.primary_id is not None and event["librarian"]["id"] == self.primary_id:
            name = event["librarian"]["display_name"]
            await self.forward({"type": "typing.started", "librarian": {"display_name": name}})

    async def typing_stopped(self, event: dict[str, Any]) -> None:
        if self.primary_id is not None and event["librarian"]["id"] == self.primary_id:
            await self.forward({"type": "typing.stopped"})
