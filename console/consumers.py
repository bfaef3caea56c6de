"""The librarian's console socket: ``/ws/console/``, one per console tab (session cookie).

Thin by design: each handler parses its frame, calls one service or
selector and sends what it returns. Everything else arrives as a published
event and is forwarded as it is. The protocol is docs/protocol.md.
"""

import logging
from dataclasses import replace
from functools import partial
from typing import Any

from accounts.logins import login_tag
from accounts.models import Librarian
from accounts.selectors import librarian_of
from accounts.services import librarian_settings_update
from chat import blocks, sessions
from chat.lines import librarian_line
from chat.load import librarian_status_set
from chat.pages import page_line
from chat.writer import post_line
from console.handoffs import HandoffFrames
from console.selectors import (
    console_digests,
    console_outcomes_for,
    console_snapshot_for,
    session_detail_for,
)
from core.db import database_call
from core.errors import ChatError
from core.events import call_service
from core.groups import librarian_group, patron_group, queue_group
from core.heartbeats import Kind, heartbeats, in_turns
from core.sockets import (
    CLOSE_FORBIDDEN,
    ChatSocket,
    Frame,
    frame_client_id,
    frame_int,
    frame_str,
    frame_text,
)
from core.typing_signals import TypingGates, typing_event_type, typing_frame_started, typing_send
from im import services as ims
from im.payloads import im_payload
from queues.selectors import monitored_queues
from queues.tiers import group_of
from shifts import services as shifts
from shifts.access import ConsoleLogin, consoles_access

logger = logging.getLogger(__name__)


def _beat_now(
    consoles: list[tuple[Librarian, str, ConsoleLogin, bool]],
) -> tuple[dict[int, dict[str, Any]], list[str | None]]:
    """Check the consoles' access (and extend the logins of those whose
    librarian was active), refresh their presence (one UPDATE) and read
    their digests (one set of queries for all of them), by librarian id."""
    verdicts = consoles_access(
        [login for _, _, login, _ in consoles],
        active=[login.session_key for _, _, login, active in consoles if active],
    )
    holding = [c for c, why in zip(consoles, verdicts, strict=True) if why is None]
    shifts.consoles_heartbeat(consoles=[(lib, channel) for lib, channel, _, _ in holding])
    # Only the consoles that go on get a heartbeat: the others close (4403).
    return console_digests(lib for lib, _, _, _ in holding), verdicts


async def _beat(consoles: list["ConsoleConsumer"]) -> None:
    """One heartbeat of these consoles: access checked, presence refreshed,
    ``console.heartbeat`` sent; a console whose access ended is closed (4403)."""
    batch = []
    for console in consoles:
        batch.append((console.librarian, console.channel_name, console.login, console.active))
        console.active = False
    digests, verdicts = await call_service(_beat_now, batch)
    async for console, why in in_turns(zip(consoles, verdicts, strict=True)):
        if not heartbeats().beats(CONSOLES, console):
            continue
        if why is not None:
            await console.access_end(why)
        else:
            await console.send_beat({"type": "console.heartbeat", **digests[console.librarian.pk]})


CONSOLES = Kind("console", _beat)

# A console asks about what one reconnect left behind: a few boxes and rows.
MAX_OUTCOME_IDS = 100


def _id_list(frame: Frame, key: str) -> list[int]:
    """A list of at most MAX_OUTCOME_IDS ids (absent: none)."""
    value = frame.get(key, [])
    if (
        not isinstance(value, list)
        or len(value) > MAX_OUTCOME_IDS
        # Within a database id's range: a larger one overflows SQLite.
        or not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v < 2**63 for v in value)
    ):
        raise ChatError("bad_frame", f'"{key}" must be a list of at most {MAX_OUTCOME_IDS} ids.')
    return value


class ConsoleConsumer(ChatSocket, HandoffFrames):
    """``/ws/console/``: one librarian's console, all their queues."""

    actions = {
        "monitoring.set": "set_monitoring",
        "session.accept": "accept_session",
        "session.end": "end_session",
        "session.fetch": "fetch_session",
        "message.send": "send_line",
        "page.push": "push_page",
        "settings.update": "update_settings",
        "im.open": "open_im",
        "im.send": "send_im_line",
        "im.read": "read_im",
        "im.about": "tie_im",
        "im.end": "end_im",
        "transfer.targets": "list_transfer_targets",
        "transfer.offer": "offer_transfer",
        "transfer.to_queue": "transfer_to_queue",
        "transfer.accept": "accept_transfer",
        "transfer.decline": "decline_transfer",
        "transfer.cancel": "cancel_transfer",
        "transfer.hand_back": "hand_back",
        "session.leave": "leave_session",
        "session.watch": "watch_session",
        "session.take_over": "take_over_session",
        "live.list": "list_live_sessions",
        "console.sync": "sync",
        "console.outcomes": "explain_outcomes",
        "session.block": "block_patron",
        "console.active": "note_activity",
        "typing": "signal_typing",
        "status.set": "set_status",
    }
    line_actions = frozenset({"message.send", "page.push", "im.send"})
    snapshot_actions = frozenset({"console.sync"})

    librarian: Librarian
    queue_groups: set[str]
    backup_in: frozenset[int]  # the monitored queues this librarian is backup in

    async def connect(self) -> None:
        librarian = await database_call(librarian_of)(self.scope.get("user"))
        session = self.scope.get("session")
        session_key = getattr(session, "session_key", None)
        if librarian is None or not session_key:
            # Accepted, then closed: a refusal at the handshake reaches the
            # page as a plain failure (1006), which it would retry forever.
            await self.accept()
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.librarian = librarian
        self.login = ConsoleLogin(
            librarian_id=librarian.pk,
            user_id=librarian.user_id,
            session_key=session_key,
            member_of=frozenset(),
        )
        self.login_tag = login_tag(session_key)
        self.active = False
        self.queue_groups = set()
        self.backup_in = frozenset()
        self.typing = TypingGates()
        await self.channel_layer.group_add(librarian_group(librarian.pk), self.channel_name)
        await self.accept()
        await database_call(shifts.console_opened)(
            librarian=librarian, channel_name=self.channel_name
        )
        await self._resync()
        # After the snapshot: no heartbeat may overtake it.
        heartbeats().add(CONSOLES, self)

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "librarian"):
            return
        # Before anything else: no later beat may refresh the row closed below.
        heartbeats().discard(CONSOLES, self)
        await database_call(shifts.console_closed)(channel_name=self.channel_name)
        await self.channel_layer.group_discard(
            librarian_group(self.librarian.pk), self.channel_name
        )
        for group in self.queue_groups:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def _resync(self) -> None:
        """Join the groups of the monitored queues, then send a fresh snapshot.

        Joining first means an event published meanwhile is either in the
        snapshot or arrives after it; the client ignores what it already has.
        """
        queues = await database_call(monitored_queues)(self.librarian.pk)
        self.backup_in = frozenset(q for q, is_backup in queues.items() if is_backup)
        wanted = {queue_group(q) for q in queues}
        for group in wanted - self.queue_groups:
            await self.channel_layer.group_add(group, self.channel_name)
        for group in self.queue_groups - wanted:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.queue_groups = wanted
        self.librarian, snapshot = await database_call(console_snapshot_for)(self.librarian.pk)
        # The memberships this console shows: one removed ends its access.
        self.login = replace(self.login, member_of=frozenset(q["id"] for q in snapshot["queues"]))
        await self.send_json(snapshot)

    async def access_end(self, why: str) -> None:
        """The librarian's access ended: no more beats, the socket closes with 4403."""
        heartbeats().discard(CONSOLES, self)
        logger.info("console of librarian %s closed: access ended (%s)", self.librarian.pk, why)
        await self.close(code=CLOSE_FORBIDDEN)

    # Frames from the console.
    async def set_monitoring(self, frame: Frame) -> None:
        queues = frame.get("queues")
        if not isinstance(queues, list):
            raise ChatError("bad_frame", '"queues" must be a list of queue ids.')
        await call_service(shifts.monitoring_set, librarian=self.librarian, queue_ids=queues)

    async def accept_session(self, frame: Frame) -> None:
        await call_service(
            sessions.session_accept,
            session_id=frame_int(frame, "session"),
            librarian=self.librarian,
        )

    async def end_session(self, frame: Frame) -> None:
        await call_service(
            sessions.session_end_by_librarian,
            session_id=frame_int(frame, "session"),
            librarian=self.librarian,
        )

    async def fetch_session(self, frame: Frame) -> None:
        detail = await database_call(session_detail_for)(
            session_id=frame_int(frame, "session"), librarian=self.librarian
        )
        await self.send_json({"type": "session.detail", "session": detail})

    async def send_line(self, frame: Frame) -> None:
        client_id = frame_client_id(frame)
        note = frame.get("note", False)
        if not isinstance(note, bool):
            raise ChatError("bad_frame", '"note" must be true or false.')
        message, _ = await post_line(
            partial(
                librarian_line,
                session_id=frame_int(frame, "session"),
                librarian=self.librarian,
                text=frame_text(frame),
                client_id=client_id,
                note=note,
            )
        )
        await self.send_json(
            {
                "type": "message.stored",
                "session": frame["session"],
                "client_id": client_id,
                "seq": message.seq,
            }
        )

    async def push_page(self, frame: Frame) -> None:
        """Push a page to the patron: a line of kind ``page`` (chat/pages.py),
        answered as any line is, ``message.stored`` or its refusal."""
        client_id = frame_client_id(frame)
        message, _ = await post_line(
            partial(
                page_line,
                session_id=frame_int(frame, "session"),
                librarian=self.librarian,
                url=frame.get("url"),
                title=frame.get("title"),
                client_id=client_id,
            )
        )
        await self.send_json(
            {
                "type": "message.stored",
                "session": frame["session"],
                "client_id": client_id,
                "seq": message.seq,
            }
        )

    async def update_settings(self, frame: Frame) -> None:
        values = [frame.get(k) for k in ("alert_sound", "alert_popup", "im_sound")]
        if not all(isinstance(v, bool) for v in values):
            raise ChatError(
                "bad_frame", '"alert_sound", "alert_popup" and "im_sound" must be true or false.'
            )
        alert_sound, alert_popup, im_sound = (bool(v) for v in values)
        await call_service(
            librarian_settings_update,
            librarian=self.librarian,
            alert_sound=alert_sound,
            alert_popup=alert_popup,
            im_sound=im_sound,
        )

    async def set_status(self, frame: Frame) -> None:
        """Available, Busy or Away: ``status.changed`` reaches every console of theirs."""
        self.librarian = await call_service(
            librarian_status_set, librarian=self.librarian, status=frame.get("status")
        )

    async def open_im(self, frame: Frame) -> None:
        about = frame_int(frame, "session") if frame.get("session") is not None else None
        im, created = await call_service(
            ims.im_open,
            initiator=self.librarian,
            recipient_id=frame_int(frame, "librarian"),
            about_session_id=about,
        )
        if not created:
            # Already open: this console just shows it (no new popup anywhere).
            payload = await database_call(im_payload)(im, viewer_id=self.librarian.pk)
            await self.send_json({"type": "im.opened", "im": payload, "reused": True})

    async def send_im_line(self, frame: Frame) -> None:
        client_id = frame_client_id(frame)
        message, _ = await call_service(
            ims.im_post,
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
        await call_service(
            ims.im_read,
            im_id=frame_int(frame, "im"),
            librarian=self.librarian,
            seq=frame_int(frame, "seq"),
        )

    async def tie_im(self, frame: Frame) -> None:
        about = frame_int(frame, "session") if frame.get("session") is not None else None
        await call_service(
            ims.im_about_set,
            im_id=frame_int(frame, "im"),
            librarian=self.librarian,
            session_id=about,
        )

    async def end_im(self, frame: Frame) -> None:
        await call_service(ims.im_end, im_id=frame_int(frame, "im"), librarian=self.librarian)

    async def note_activity(self, frame: Frame) -> None:
        """The librarian typed or clicked in this console: their login lasts
        a whole idle time from the next heartbeat (which writes it)."""
        self.active = True

    async def signal_typing(self, frame: Frame) -> None:
        """The librarian is typing to the patron (or stopped), at most every
        few seconds per session: no text, nothing stored, no database. The
        patron's socket shows it only if this librarian holds the session."""
        session_id = frame_int(frame, "session")
        started = typing_frame_started(frame)
        if self.typing.let_through(session_id, started=started):
            librarian = {"id": self.librarian.pk, "display_name": self.librarian.display_name}
            await typing_send(
                self.channel_layer,
                patron_group(session_id),
                {"type": typing_event_type(started=started), "librarian": librarian},
            )

    async def sync(self, frame: Frame) -> None:
        """The console noticed it missed something: a fresh snapshot."""
        await self._resync()

    async def explain_outcomes(self, frame: Frame) -> None:
        """What became of offers and requests this console showed and never
        heard the end of (they left its snapshot while it was away)."""
        await self.send_json(
            await database_call(console_outcomes_for)(
                librarian=self.librarian,
                offer_ids=_id_list(frame, "offers"),
                session_ids=_id_list(frame, "sessions"),
            )
        )

    async def block_patron(self, frame: Frame) -> None:
        """Block: the session ends and its patron's address can't ask again for a while."""
        block = await call_service(
            blocks.patron_block,
            session_id=frame_int(frame, "session"),
            librarian=self.librarian,
            reason=frame_str(frame, "reason", max_len=2000) or "",
        )
        await self.send_json(
            {
                "type": "session.blocked",
                "session": frame["session"],
                "until": block.expires_at.isoformat() if block else None,
            }
        )

    # Published events, forwarded to the browser.
    async def monitoring_changed(self, event: dict[str, Any]) -> None:
        await self._resync()

    async def access_ended(self, event: dict[str, Any]) -> None:
        """A log-out (of this console's login, or ``login`` null: any),
        deactivation or removed membership: shifts/access.py."""
        if event.get("login") in (None, self.login_tag):
            await self.access_end("ended")

    async def session_created(self, event: dict[str, Any]) -> None:
        """A request for the groups in ``to`` (chat/routing.py): forwarded,
        without ``to``, only if this console's librarian is in one of them."""
        row = event["session"]
        group = group_of(
            is_backup=row["queue"]["id"] in self.backup_in,
            librarian_library_id=self.librarian.library_id,
            patron_library_id=row["library"]["id"],
        )
        if group in event.get("to", ()):
            await self.send_json({"type": event["type"], "session": row})

    session_accepted = ChatSocket.forward
    session_closed = ChatSocket.forward
    message_created = ChatSocket.forward
    patron_left = ChatSocket.forward
    patron_returned = ChatSocket.forward
    settings_changed = ChatSocket.forward
    status_changed = ChatSocket.forward
    librarian_updated = ChatSocket.forward
    im_opened = ChatSocket.forward
    im_message_created = ChatSocket.forward
    im_read = ChatSocket.forward
    im_ended = ChatSocket.forward
    im_about_changed = ChatSocket.forward
    transfer_offered = ChatSocket.forward
    transfer_accepted = ChatSocket.forward
    transfer_declined = ChatSocket.forward
    transfer_expired = ChatSocket.forward
    transfer_cancelled = ChatSocket.forward
    session_requeued = ChatSocket.forward
    # Who is in a session beside its primary (chat/team.py).
    session_team = ChatSocket.forward
    session_left = ChatSocket.forward
    watch_started = ChatSocket.forward
    # The patron of a session this librarian holds is typing: {session} only.
    typing_started = ChatSocket.forward
    typing_stopped = ChatSocket.forward
    # Follow-up questions of the queue (questions/): the Questions tab reloads.
    question_created = ChatSocket.forward
    question_changed = ChatSocket.forward
    # A chat this librarian held left their hands; a wrap-up of theirs changed (wrapup/).
    hold_ended = ChatSocket.forward
    wrapup_changed = ChatSocket.forward
