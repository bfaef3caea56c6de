"""The two sockets: one per patron session (token in the URL) and one per librarian console.

Thin by design: parse a frame, call one service, send what it returns.
Everything else arrives as a published event and is forwarded as it is.
The protocol is docs/protocol.md.
"""

import asyncio
import logging
import weakref
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone

from accounts.models import Librarian
from accounts.services import librarian_settings_update
from queues import selectors, services
from queues.models import ChatSession
from queues.payloads import console_snapshot, librarian_row, patron_session, session_detail
from reference_chat.errors import ChatError
from reference_chat.sockets import (
    ChatSocket,
    Frame,
    frame_client_id,
    frame_int,
    frame_str,
    frame_text,
)
from transcripts import im as ims
from transcripts import services as lines
from transcripts.payloads import patron_message_payload

logger = logging.getLogger(__name__)

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
    }

    session: ChatSession
    heartbeat: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        token = self.scope["url_route"]["kwargs"]["token"]
        found = await database_sync_to_async(selectors.session_for_patron)(token=token)
        if found is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.session = found
        await self.channel_layer.group_add(found.patron_group(), self.channel_name)
        await self.accept()
        await database_sync_to_async(services.session_patron_connected)(
            session=found, channel_name=self.channel_name
        )
        self.heartbeat = asyncio.create_task(self._beat())
        _ensure_sweep()
        await self.send_json(await self._snapshot(_after(self.scope["query_string"])))

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "session"):
            return
        if self.heartbeat is not None:
            self.heartbeat.cancel()
        await self.channel_layer.group_discard(self.session.patron_group(), self.channel_name)
        await database_sync_to_async(services.session_patron_disconnected)(
            session=self.session, channel_name=self.channel_name
        )

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(settings.HEARTBEAT_SECONDS)
            try:
                await self.send_json(await database_sync_to_async(self._heartbeat)())
            except Exception:
                logger.exception("patron heartbeat of session %s failed", self.session.pk)

    def _heartbeat(self) -> dict[str, Any]:
        services.session_patron_heartbeat(session=self.session, channel_name=self.channel_name)
        state, last = ChatSession.objects.values_list("state", "last_patron_seq").get(
            pk=self.session.pk
        )
        return {"type": "session.heartbeat", "state": state, "last_seq": last}

    @database_sync_to_async
    def _snapshot(self, after: int) -> dict[str, Any]:
        session = selectors.session_for_patron(token=self.session.token)
        assert session is not None  # noqa: S101 - sessions are never deleted while open
        visible = session.messages.patron_visible().filter(patron_seq__gt=after)
        return {
            "type": "session.snapshot",
            "server_time": timezone.now().isoformat(),
            "session": patron_session(session),
            "messages": [patron_message_payload(m) for m in visible.order_by("patron_seq")],
        }

    async def resume(self, frame: Frame) -> None:
        after = frame.get("after", 0)
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            raise ChatError("bad_frame", '"after" must be a line number.')
        await self.send_json(await self._snapshot(after))

    async def send_line(self, frame: Frame) -> None:
        client_id = frame_client_id(frame)
        message, _ = await database_sync_to_async(lines.message_post_by_patron)(
            session=self.session, text=frame_text(frame), client_id=client_id
        )
        await self.send_json(
            {"type": "message.stored", "client_id": client_id, "seq": message.patron_seq}
        )

    async def end_session(self, frame: Frame) -> None:
        await database_sync_to_async(services.session_end_by_patron)(session=self.session)

    async def request_transcript(self, frame: Frame) -> None:
        email = frame_str(frame, "email", max_len=254) or ""
        await database_sync_to_async(services.session_transcript_request)(
            session=self.session, email=email
        )
        await self.send_json({"type": "transcript.sent", "email": email})

    # Published events. The patron group only ever receives patron-visible
    # events built from patron payloads; the check on message.created is a
    # second lock on the same door.
    async def message_created(self, event: dict[str, Any]) -> None:
        if event["message"].get("note") or event["message"].get("seq") is None:
            return
        await self.forward(event)

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


class ConsoleConsumer(ChatSocket):
    """``/ws/console/``: one librarian's console (session cookie), all their queues."""

    actions = {
        "monitoring.set": "set_monitoring",
        "session.accept": "accept_session",
        "session.end": "end_session",
        "session.fetch": "fetch_session",
        "message.send": "send_line",
        "settings.update": "update_settings",
        "im.open": "open_im",
        "im.send": "send_im_line",
        "im.read": "read_im",
        "im.end": "end_im",
        "transfer.targets": "list_transfer_targets",
        "transfer.offer": "offer_transfer",
        "transfer.to_queue": "transfer_to_queue",
        "transfer.accept": "accept_transfer",
        "transfer.decline": "decline_transfer",
        "transfer.cancel": "cancel_transfer",
        "console.sync": "sync",
    }

    librarian: Librarian
    queue_groups: set[str]
    heartbeat: asyncio.Task[None] | None = None

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
        await database_sync_to_async(services.console_opened)(
            librarian=librarian, channel_name=self.channel_name
        )
        self.heartbeat = asyncio.create_task(self._beat())
        _ensure_sweep()
        await self._resync()

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(settings.HEARTBEAT_SECONDS)
            try:
                await self.send_json(await database_sync_to_async(self._heartbeat)())
            except Exception:
                logger.exception("console heartbeat of librarian %s failed", self.librarian.pk)

    def _heartbeat(self) -> dict[str, Any]:
        """Refresh presence, and tell the console what it should be showing.

        The digest names every row of New, My Active, the IM sessions, the
        open offers and the Librarians list with their latest numbers; a
        console that differs missed an event and asks for a snapshot.
        """
        services.console_heartbeat(librarian=self.librarian, channel_name=self.channel_name)
        return {
            "type": "console.heartbeat",
            **selectors.console_digest(self.librarian),
        }

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "librarian"):
            return
        if self.heartbeat is not None:
            self.heartbeat.cancel()
        await database_sync_to_async(services.console_closed)(channel_name=self.channel_name)
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
            librarians=selectors.librarians_on_shift_for(librarian),
            ims=ims.open_ims_snapshot(librarian),
            offers=selectors.open_offers_for(librarian),
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
        note = frame.get("note", False)
        if not isinstance(note, bool):
            raise ChatError("bad_frame", '"note" must be true or false.')
        message, _ = await database_sync_to_async(self._send_line)(
            frame_int(frame, "session"), frame_text(frame), client_id, note
        )
        await self.send_json(
            {
                "type": "message.stored",
                "session": frame["session"],
                "client_id": client_id,
                "seq": message.seq,
            }
        )

    def _send_line(
        self, session_id: int, text: object, client_id: str | None, note: bool = False
    ) -> Any:
        session = selectors.session_for_librarian(session_id=session_id, librarian=self.librarian)
        return lines.message_post_by_librarian(
            session=session, librarian=self.librarian, text=text, client_id=client_id, note=note
        )

    async def update_settings(self, frame: Frame) -> None:
        values = {k: frame.get(k) for k in ("alert_sound", "alert_popup", "im_sound")}
        if not all(isinstance(v, bool) for v in values.values()):
            raise ChatError(
                "bad_frame", '"alert_sound", "alert_popup" and "im_sound" must be true or false.'
            )
        await database_sync_to_async(librarian_settings_update)(librarian=self.librarian, **values)

    async def open_im(self, frame: Frame) -> None:
        about = frame_int(frame, "session") if frame.get("session") is not None else None
        im, created = await database_sync_to_async(ims.im_open)(
            initiator=self.librarian,
            recipient_id=frame_int(frame, "librarian"),
            about_session_id=about,
        )
        if not created:
            # Already open: this console just shows it (no new popup anywhere).
            payload = await database_sync_to_async(ims.im_payload)(im, viewer_id=self.librarian.pk)
            await self.send_json({"type": "im.opened", "im": payload, "reused": True})

    async def send_im_line(self, frame: Frame) -> None:
        client_id = frame_client_id(frame)
        message, _ = await database_sync_to_async(ims.im_post)(
            im_id=frame_int(frame, "im"),
            librarian=self.librarian,
            text=frame_text(frame),
            client_id=client_id,
        )
        await self.send_json(
            {
                "type": "im.message.stored",
                "im": frame["im"],
                "client_id": client_id,
                "seq": message.seq,
            }
        )

    async def read_im(self, frame: Frame) -> None:
        await database_sync_to_async(ims.im_read)(
            im_id=frame_int(frame, "im"), librarian=self.librarian, seq=frame_int(frame, "seq")
        )

    async def end_im(self, frame: Frame) -> None:
        await database_sync_to_async(ims.im_end)(
            im_id=frame_int(frame, "im"), librarian=self.librarian
        )

    async def sync(self, frame: Frame) -> None:
        """The console noticed it missed something: a fresh snapshot."""
        await self._resync()

    async def list_transfer_targets(self, frame: Frame) -> None:
        await self.send_json(
            await database_sync_to_async(self._transfer_targets)(frame_int(frame, "session"))
        )

    def _transfer_targets(self, session_id: int) -> dict[str, Any]:
        session = selectors.session_for_librarian(session_id=session_id, librarian=self.librarian)
        return {
            "type": "transfer.targets",
            "session": session.pk,
            "queue": {"id": session.queue_id, "name": session.queue.name},
            "librarians": [
                librarian_row(lib)
                for lib in selectors.transfer_targets_for(session, self.librarian)
            ],
        }

    async def offer_transfer(self, frame: Frame) -> None:
        await database_sync_to_async(services.transfer_offer)(
            session_id=frame_int(frame, "session"),
            sender=self.librarian,
            receiver_id=frame_int(frame, "librarian"),
            note=frame_str(frame, "note", required=False, max_len=2000) or "",
        )

    async def transfer_to_queue(self, frame: Frame) -> None:
        await database_sync_to_async(services.transfer_to_queue)(
            session_id=frame_int(frame, "session"),
            sender=self.librarian,
            note=frame_str(frame, "note", required=False, max_len=2000) or "",
        )

    async def accept_transfer(self, frame: Frame) -> None:
        await database_sync_to_async(services.transfer_accept)(
            offer_id=frame_int(frame, "offer"), librarian=self.librarian
        )

    async def decline_transfer(self, frame: Frame) -> None:
        await database_sync_to_async(services.transfer_decline)(
            offer_id=frame_int(frame, "offer"), librarian=self.librarian
        )

    async def cancel_transfer(self, frame: Frame) -> None:
        await database_sync_to_async(services.transfer_cancel)(
            offer_id=frame_int(frame, "offer"), librarian=self.librarian
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
    librarian_updated = ChatSocket.forward
    im_opened = ChatSocket.forward
    im_message_created = ChatSocket.forward
    im_read = ChatSocket.forward
    im_ended = ChatSocket.forward
    transfer_offered = ChatSocket.forward
    transfer_accepted = ChatSocket.forward
    transfer_declined = ChatSocket.forward
    transfer_expired = ChatSocket.forward
    transfer_cancelled = ChatSocket.forward
    session_requeued = ChatSocket.forward


# One sweep per server process (per event loop): it ends the shift of
# librarians whose consoles are gone past the grace period, ends chats whose
# patron stayed away past theirs, and expires transfer offers nobody
# answered in time.
_sweeps: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[None]]" = (
    weakref.WeakKeyDictionary()
)


def _ensure_sweep() -> None:
    if settings.SWEEP_SECONDS <= 0:
        return
    loop = asyncio.get_running_loop()
    task = _sweeps.get(loop)
    if task is None or task.done():
        _sweeps[loop] = loop.create_task(_sweep_forever())


async def _sweep_forever() -> None:
    while True:
        await asyncio.sleep(settings.SWEEP_SECONDS)
        try:
            await database_sync_to_async(services.presence_sweep)()
            await database_sync_to_async(services.patron_sweep)()
            await database_sync_to_async(services.transfer_expire_due)()
        except Exception:
            logger.exception("sweep failed")


@database_sync_to_async
def _librarian_of(user: Any) -> Librarian | None:
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return Librarian.objects.filter(user=user).first()
