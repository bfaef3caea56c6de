"""The two sockets: one per patron session (token in the URL) and one per librarian console.

Thin by design: parse a frame, call one service, send what it returns.
Everything else arrives as a published event and is forwarded as it is.
The protocol is docs/protocol.md.
"""

from typing import Any

from channels.db import database_sync_to_async
from django.utils import timezone

from accounts.models import Librarian
from accounts.services import librarian_settings_update
from queues import selectors, services
from queues.models import ChatSession
from queues.payloads import console_snapshot, patron_session, session_detail
from reference_chat.errors import ChatError
from reference_chat.sockets import (
    ChatSocket,
    Frame,
    frame_client_id,
    frame_int,
    frame_str,
    frame_text,
)
from transcripts import services as lines
from transcripts.payloads import message_payload

# Close codes (4000–4999 are the application's): the browser shows why.
CLOSE_NOT_FOUND = 4404
CLOSE_FORBIDDEN = 4403


def _after(query_string: bytes) -> int:
    """The ``after=N`` query parameter: the last sequence number the client saw."""
    for part in query_string.decode(errors="ignore").split("&"):
        key, _, value = part.partition("=")
        if key == "after" and value.isdigit():
            return int(value)
    return 0


class PatronConsumer(ChatSocket):
    """``/ws/chat/<token>/``: the patron's own session, patron-visible lines only."""

    actions = {
        "message.send": "send_line",
        "session.end": "end_session",
        "transcript.request": "request_transcript",
    }

    session: ChatSession

    async def connect(self) -> None:
        token = self.scope["url_route"]["kwargs"]["token"]
        found = await database_sync_to_async(selectors.session_for_patron)(token=token)
        if found is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.session = found
        await self.channel_layer.group_add(found.patron_group(), self.channel_name)
        await self.accept()
        await self.send_json(await self._snapshot(_after(self.scope["query_string"])))
        await database_sync_to_async(services.session_patron_connected)(session=found)

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "session"):
            return
        await self.channel_layer.group_discard(self.session.patron_group(), self.channel_name)
        await database_sync_to_async(services.session_patron_disconnected)(session=self.session)

    @database_sync_to_async
    def _snapshot(self, after: int) -> dict[str, Any]:
        session = selectors.session_for_patron(token=self.session.token)
        assert session is not None  # noqa: S101 - sessions are never deleted while open
        visible = session.messages.patron_visible().filter(seq__gt=after).order_by("seq")
        return {
            "type": "session.snapshot",
            "server_time": timezone.now().isoformat(),
            "session": patron_session(session),
            "messages": [_patron_line(message_payload(m)) for m in visible],
        }

    async def send_line(self, frame: Frame) -> None:
        client_id = frame_client_id(frame)
        message, _ = await database_sync_to_async(lines.message_post_by_patron)(
            session=self.session, text=frame_text(frame), client_id=client_id
        )
        await self.send_json({"type": "message.stored", "client_id": client_id, "seq": message.seq})

    async def end_session(self, frame: Frame) -> None:
        await database_sync_to_async(services.session_end_by_patron)(session=self.session)

    async def request_transcript(self, frame: Frame) -> None:
        email = frame_str(frame, "email", max_len=254) or ""
        await database_sync_to_async(services.session_transcript_request)(
            session=self.session, email=email
        )
        await self.send_json({"type": "transcript.sent", "email": email})

    # Published events. The patron group only ever receives patron-visible
    # events; the check on message.created is a second lock on the same door.
    async def message_created(self, event: dict[str, Any]) -> None:
        if event["message"]["note"]:
            return
        await self.forward({**event, "message": _patron_line(event["message"])})

    async def session_accepted(self, event: dict[str, Any]) -> None:
        await self.forward(
            {
                "type": "session.accepted",
                "librarian": {"display_name": event["librarian"]["display_name"]},
            }
        )

    async def session_closed(self, event: dict[str, Any]) -> None:
        await self.forward(
            {
                "type": "session.closed",
                "closed_by": event["closed_by"],
                "has_email": event["has_email"],
            }
        )


def _patron_line(payload: dict[str, Any]) -> dict[str, Any]:
    """A line as the patron receives it: no staff-only fields."""
    return {k: v for k, v in payload.items() if k != "note"}


class ConsoleConsumer(ChatSocket):
    """``/ws/console/``: one librarian's console (session cookie), all their queues."""

    actions = {
        "monitoring.set": "set_monitoring",
        "session.accept": "accept_session",
        "session.end": "end_session",
        "session.fetch": "fetch_session",
        "message.send": "send_line",
        "settings.update": "update_settings",
    }

    librarian: Librarian
    queue_groups: set[str]

    async def connect(self) -> None:
        user = self.scope.get("user")
        librarian = await _librarian_of(user)
        if librarian is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.librarian = librarian
        self.queue_groups = set()
        await self.channel_layer.group_add(
            services.librarian_group(librarian.pk), self.channel_name
        )
        await self.accept()
        await self._resync()

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "librarian"):
            return
        await self.channel_layer.group_discard(
            services.librarian_group(self.librarian.pk), self.channel_name
        )
        for group in self.queue_groups:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def _resync(self) -> None:
        """Join the groups of the monitored queues, then send a fresh snapshot.

        Joining first means an event published meanwhile is either in the
        snapshot or arrives after it; the client ignores what it already has.
        """
        queue_ids = await database_sync_to_async(self._monitored_queue_ids)()
        wanted = {services.queue_group(q) for q in queue_ids}
        for group in wanted - self.queue_groups:
            await self.channel_layer.group_add(group, self.channel_name)
        for group in self.queue_groups - wanted:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.queue_groups = wanted
        await self.send_json(await database_sync_to_async(self._snapshot)())

    def _monitored_queue_ids(self) -> list[int]:
        return list(self.librarian.memberships.monitoring().values_list("queue_id", flat=True))

    def _snapshot(self) -> dict[str, Any]:
        librarian = Librarian.objects.get(pk=self.librarian.pk)
        self.librarian = librarian
        return console_snapshot(
            librarian=librarian,
            memberships=selectors.memberships_of(librarian),
            waiting=selectors.waiting_sessions_for(librarian),
            active=selectors.active_sessions_for(librarian),
            server_time=timezone.now().isoformat(),
        )

    # Frames from the console.
    async def set_monitoring(self, frame: Frame) -> None:
        queues = frame.get("queues")
        if not isinstance(queues, list):
            raise ChatError("bad_frame", '"queues" must be a list of queue ids.')
        await database_sync_to_async(services.monitoring_set)(
            librarian=self.librarian, queue_ids=queues
        )

    async def accept_session(self, frame: Frame) -> None:
        await database_sync_to_async(services.session_accept)(
            session_id=frame_int(frame, "session"), librarian=self.librarian
        )

    async def end_session(self, frame: Frame) -> None:
        await database_sync_to_async(services.session_end_by_librarian)(
            session_id=frame_int(frame, "session"), librarian=self.librarian
        )

    async def fetch_session(self, frame: Frame) -> None:
        await self.send_json(
            await database_sync_to_async(self._session_detail)(frame_int(frame, "session"))
        )

    def _session_detail(self, session_id: int) -> dict[str, Any]:
        session = selectors.session_for_librarian(session_id=session_id, librarian=self.librarian)
        return {
            "type": "session.detail",
            "session": session_detail(session, session.messages.order_by("seq")),
        }

    async def send_line(self, frame: Frame) -> None:
        client_id = frame_client_id(frame)
        message, _ = await database_sync_to_async(self._send_line)(
            frame_int(frame, "session"), frame_text(frame), client_id
        )
        await self.send_json(
            {
                "type": "message.stored",
                "session": frame["session"],
                "client_id": client_id,
                "seq": message.seq,
            }
        )

    def _send_line(self, session_id: int, text: object, client_id: str | None) -> Any:
        session = selectors.session_for_librarian(session_id=session_id, librarian=self.librarian)
        return lines.message_post_by_librarian(
            session=session, librarian=self.librarian, text=text, client_id=client_id
        )

    async def update_settings(self, frame: Frame) -> None:
        sound, popup = frame.get("alert_sound"), frame.get("alert_popup")
        if not isinstance(sound, bool) or not isinstance(popup, bool):
            raise ChatError("bad_frame", '"alert_sound" and "alert_popup" must be true or false.')
        await database_sync_to_async(librarian_settings_update)(
            librarian=self.librarian, alert_sound=sound, alert_popup=popup
        )

    # Published events, forwarded to the browser.
    async def monitoring_changed(self, event: dict[str, Any]) -> None:
        await self._resync()

    session_created = ChatSocket.forward
    session_accepted = ChatSocket.forward
    session_closed = ChatSocket.forward
    message_created = ChatSocket.forward
    patron_left = ChatSocket.forward
    patron_returned = ChatSocket.forward
    settings_changed = ChatSocket.forward


@database_sync_to_async
def _librarian_of(user: Any) -> Librarian | None:
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return Librarian.objects.filter(user=user).first()
