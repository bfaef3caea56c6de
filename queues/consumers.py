"""The two sockets: one per patron session (token in the URL) and one per librarian console.

Thin by design: parse a frame, call one service, send what it returns.
Everything else arrives as a published event and is forwarded as it is.
The protocol is docs/protocol.md.
"""

import asyncio
import logging
import math
import re
import weakref
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Librarian
from accounts.services import librarian_settings_update
from queues import selectors, services
from queues.models import ChatSession
from queues.payloads import console_snapshot, librarian_row, patron_session, session_detail
from reference_chat.batches import Batcher
from reference_chat.db import database_call
from reference_chat.errors import ChatError
from reference_chat.events import call_service
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
from transcripts.models import Message
from transcripts.payloads import patron_message_payload
from transcripts.writer import post_line

logger = logging.getLogger(__name__)

# Close codes (4000–4999 are the application's): the browser shows why.
CLOSE_NOT_FOUND = 4404
CLOSE_FORBIDDEN = 4403


# What a token from queues.models.new_patron_token can look like; anything
# else is no session's, and is not worth a query.
PATRON_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Beyond any line number (and beyond what the databases take as a parameter).
MAX_AFTER = 2**31 - 1


def _after(query_string: bytes) -> int:
    """The ``after=N`` query parameter: the last sequence number the client saw."""
    for part in query_string.decode(errors="ignore").split("&"):
        key, _, value = part.partition("=")
        if key == "after" and value.isdigit():
            return min(int(value), MAX_AFTER)
    return 0


PatronOpen = tuple[int, str, int]  # session id, channel name, the last line the patron saw


def _patrons_opened(opens: list[PatronOpen]) -> list[tuple[ChatSession, dict[str, Any]] | None]:
    """Patron sockets opened, in one transaction: for each its session (read
    under the row lock) and its snapshot, or None if the session is gone."""
    with transaction.atomic():
        sessions = services.sessions_patron_connected(
            sockets=[(pk, channel_name) for pk, channel_name, _ in opens], new_sockets=True
        )
        found = [(s, after) for s, (_, _, after) in zip(sessions, opens, strict=True) if s]
        snapshots = iter(_patron_snapshots(found))
    return [(session, next(snapshots)) if session else None for session in sessions]


def _patron_snapshots(sockets: list[tuple[ChatSession, int]]) -> list[dict[str, Any]]:
    """The ``session.snapshot`` of each (session, after) pair: the session as
    the patron sees it and its patron-visible lines after ``after``, all the
    pairs' lines in one query."""
    if not sockets:
        return []
    wanted = Q()
    for session, after in sockets:
        wanted |= Q(session_id=session.pk, patron_seq__gt=after)
    lines: dict[int, list[dict[str, Any]]] = {}
    for message in Message.objects.patron_visible().filter(wanted).order_by("patron_seq"):
        lines.setdefault(message.session_id, []).append(patron_message_payload(message))
    server_time = timezone.now().isoformat()
    return [
        {
            "type": "session.snapshot",
            "server_time": server_time,
            "session": patron_session(session),
            "messages": [line for line in lines.get(session.pk, ()) if line["seq"] > after],
        }
        for session, after in sockets
    ]


def _batch_size() -> int:
    return settings.PATRON_OPEN_BATCH


_patron_lookups: Batcher[str, int | None] = Batcher(
    selectors.session_ids_for_patrons, runner=database_call, size=_batch_size
)
_patron_opens: Batcher[PatronOpen, tuple[ChatSession, dict[str, Any]] | None] = Batcher(
    _patrons_opened, runner=database_call, size=_batch_size
)


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

    async def connect(self) -> None:
        # Accepted first, looked up after: when a thousand patrons reconnect
        # at once (a server restart) no handshake times out waiting for the
        # database, and an unknown token hears 4404 (a handshake refused
        # before accept reaches the browser only as 1006, and it would retry).
        await self.accept()
        token = self.scope["url_route"]["kwargs"]["token"]
        # Both database steps go in batches with the other sockets opening at
        # the same moment (reference_chat/batches.py): one query, and one
        # transaction, for all of them.
        found = await _patron_lookups.submit(token) if PATRON_TOKEN.fullmatch(token) else None
        if found is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        # By id until the open reads the session under its lock.
        self.session = ChatSession(pk=found)
        await self.channel_layer.group_add(self.session.patron_group(), self.channel_name)
        # Present again and the snapshot in one database call, after joining
        # the group: an event published meanwhile is in one or the other.
        opened = await _patron_opens.submit(
            (found, self.channel_name, _after(self.scope["query_string"]))
        )
        if opened is None:  # the session was deleted meanwhile
            await self.channel_layer.group_discard(self.session.patron_group(), self.channel_name)
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.session, snapshot = opened
        _ensure_sweep()
        await self.send_json(snapshot)
        # After the snapshot: no heartbeat may overtake it.
        _heartbeats().patrons.add(self)

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "session"):
            return
        # Before anything else: no later beat may refresh the row closed below.
        _heartbeats().patrons.discard(self)
        await self.channel_layer.group_discard(self.session.patron_group(), self.channel_name)
        await call_service(
            services.session_patron_disconnected,
            session=self.session,
            channel_name=self.channel_name,
        )

    async def _snapshot(self, after: int) -> dict[str, Any]:
        return await database_call(self._snapshot_now)(after)

    def _snapshot_now(self, after: int) -> dict[str, Any]:
        session = ChatSession.objects.select_related("queue", "library", "primary").get(
            pk=self.session.pk
        )
        [snapshot] = _patron_snapshots([(session, after)])
        return snapshot

    async def resume(self, frame: Frame) -> None:
        after = frame.get("after", 0)
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            raise ChatError("bad_frame", '"after" must be a line number.')
        await self.send_json(await self._snapshot(after))

    async def send_line(self, frame: Frame) -> None:
        client_id = frame_client_id(frame)
        message, _ = await post_line(
            partial(
                lines.patron_line,
                session=self.session,
                text=frame_text(frame),
                client_id=client_id,
            )
        )
        await self.send_json(
            {"type": "message.stored", "client_id": client_id, "seq": message.patron_seq}
        )

    async def end_session(self, frame: Frame) -> None:
        await call_service(services.session_end_by_patron, session=self.session)

    async def request_transcript(self, frame: Frame) -> None:
        email = frame_str(frame, "email", max_len=254) or ""
        await call_service(services.session_transcript_request, session=self.session, email=email)
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
        await database_call(services.console_opened)(
            librarian=librarian, channel_name=self.channel_name
        )
        _ensure_sweep()
        await self._resync()
        # After the snapshot: no heartbeat may overtake it.
        _heartbeats().consoles.add(self)

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "librarian"):
            return
        # Before anything else: no later beat may refresh the row closed below.
        _heartbeats().consoles.discard(self)
        await database_call(services.console_closed)(channel_name=self.channel_name)
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
        queue_ids = await database_call(self._monitored_queue_ids)()
        wanted = {services.queue_group(q) for q in queue_ids}
        for group in wanted - self.queue_groups:
            await self.channel_layer.group_add(group, self.channel_name)
        for group in self.queue_groups - wanted:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.queue_groups = wanted
        await self.send_json(await database_call(self._snapshot)())

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
        await call_service(services.monitoring_set, librarian=self.librarian, queue_ids=queues)

    async def accept_session(self, frame: Frame) -> None:
        await call_service(
            services.session_accept,
            session_id=frame_int(frame, "session"),
            librarian=self.librarian,
        )

    async def end_session(self, frame: Frame) -> None:
        await call_service(
            services.session_end_by_librarian,
            session_id=frame_int(frame, "session"),
            librarian=self.librarian,
        )

    async def fetch_session(self, frame: Frame) -> None:
        await self.send_json(await database_call(self._session_detail)(frame_int(frame, "session")))

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
        message, _ = await post_line(
            partial(
                lines.librarian_line_in,
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

    async def update_settings(self, frame: Frame) -> None:
        values = {k: frame.get(k) for k in ("alert_sound", "alert_popup", "im_sound")}
        if not all(isinstance(v, bool) for v in values.values()):
            raise ChatError(
                "bad_frame", '"alert_sound", "alert_popup" and "im_sound" must be true or false.'
            )
        await call_service(librarian_settings_update, librarian=self.librarian, **values)

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
            payload = await database_call(ims.im_payload)(im, viewer_id=self.librarian.pk)
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

    async def end_im(self, frame: Frame) -> None:
        await call_service(ims.im_end, im_id=frame_int(frame, "im"), librarian=self.librarian)

    async def sync(self, frame: Frame) -> None:
        """The console noticed it missed something: a fresh snapshot."""
        await self._resync()

    async def list_transfer_targets(self, frame: Frame) -> None:
        await self.send_json(
            await database_call(self._transfer_targets)(frame_int(frame, "session"))
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
        await call_service(
            services.transfer_offer,
            session_id=frame_int(frame, "session"),
            sender=self.librarian,
            receiver_id=frame_int(frame, "librarian"),
            note=frame_str(frame, "note", required=False, max_len=2000) or "",
        )

    async def transfer_to_queue(self, frame: Frame) -> None:
        await call_service(
            services.transfer_to_queue,
            session_id=frame_int(frame, "session"),
            sender=self.librarian,
            note=frame_str(frame, "note", required=False, max_len=2000) or "",
        )

    async def accept_transfer(self, frame: Frame) -> None:
        await call_service(
            services.transfer_accept, offer_id=frame_int(frame, "offer"), librarian=self.librarian
        )

    async def decline_transfer(self, frame: Frame) -> None:
        await call_service(
            services.transfer_decline, offer_id=frame_int(frame, "offer"), librarian=self.librarian
        )

    async def cancel_transfer(self, frame: Frame) -> None:
        await call_service(
            services.transfer_cancel, offer_id=frame_int(frame, "offer"), librarian=self.librarian
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
            # This process's own open sockets are there, whatever their rows
            # say: a heartbeat late behind a busy database thread must not
            # end a connected librarian's shift or count a patron gone.
            registry = _heartbeats()
            consoles = [(c.librarian, c.channel_name) for c in registry.consoles.all()]
            await call_service(services.consoles_heartbeat, consoles=consoles)
            await call_service(services.presence_sweep)
            await call_service(
                services.patron_sweep, alive={p.channel_name for p in registry.patrons.all()}
            )
            await call_service(services.transfer_expire_due)
        except Exception:
            logger.exception("sweep failed")


# Heartbeats. One ticker per server process (per event loop) beats every open
# socket every HEARTBEAT_SECONDS, in batches: the sockets of each kind are
# spread over the ticks of a period (HEARTBEAT_SECONDS / HEARTBEAT_TICK_SECONDS
# slots; a socket joins the least full), and each tick beats one slot. For
# the patron sockets of a slot that is one UPDATE of their presence rows and
# one SELECT of their sessions' state and last number, however many there
# are; for the consoles one UPDATE, then each console's digest.
HEARTBEAT_TICK_SECONDS = 1.0

Beat = Callable[[list[Any]], Awaitable[None]]


class _Slots:
    """The open sockets of one kind, each in the slot of the tick that beats it."""

    def __init__(self, heartbeats: "_Heartbeats", kind: str) -> None:
        self.heartbeats = heartbeats
        self.kind = kind
        self.slots: list[weakref.WeakSet[Any]] = [weakref.WeakSet()]
        self.retry: weakref.WeakSet[Any] = weakref.WeakSet()  # their batch failed last tick

    def __bool__(self) -> bool:
        return any(self.slots)

    def __contains__(self, socket: object) -> bool:
        return any(socket in slot for slot in self.slots)

    def add(self, socket: Any) -> None:
        """Beat ``socket`` from now on, the first time within HEARTBEAT_SECONDS."""
        self.heartbeats.resize()
        count = len(self.slots)
        # In the order the next ticks beat them: the least full slot; of
        # those, the last, a whole period away, as a timer of its own would.
        order = [(self.heartbeats.index + k) % count for k in range(count)]
        slot = min(reversed(order), key=lambda i: len(self.slots[i]))
        self.slots[slot].add(socket)
        self.heartbeats.start()

    def all(self) -> list[Any]:
        return [socket for slot in self.slots for socket in slot]

    def discard(self, socket: Any) -> None:
        for slot in self.slots:
            slot.discard(socket)
        self.retry.discard(socket)

    def resize(self, count: int) -> None:
        sockets = [socket for slot in self.slots for socket in slot]
        self.slots = [weakref.WeakSet() for _ in range(count)]
        for i, socket in enumerate(sockets):
            self.slots[i % count].add(socket)

    def take(self, index: int) -> list[Any]:
        """The sockets this tick beats: the slot's, and those whose batch just failed."""
        due = list(self.slots[index])
        due += [socket for socket in self.retry if socket not in self.slots[index]]
        self.retry = weakref.WeakSet()
        return due

    async def beat(self, sockets: list[Any], beat: Beat) -> None:
        if not sockets:
            return
        try:
            await beat(sockets)
        except Exception:
            # Ids and counts only: never a line, never a token.
            logger.exception(
                "heartbeat of %d %s sockets failed; trying again next tick", len(sockets), self.kind
            )
            self.retry.update(socket for socket in sockets if socket in self)


class _Heartbeats:
    """The open sockets of one event loop and the one ticker that beats them."""

    def __init__(self) -> None:
        self.patrons = _Slots(self, "patron")
        self.consoles = _Slots(self, "console")
        self.index = 0  # the slot the next tick beats
        self.task: asyncio.Task[None] | None = None

    @staticmethod
    def period() -> tuple[int, float]:
        """How many slots (ticks) a heartbeat period has, and how long a tick is."""
        seconds = max(float(settings.HEARTBEAT_SECONDS), 0.01)
        count = max(1, math.ceil(seconds / HEARTBEAT_TICK_SECONDS - 1e-9))
        return count, seconds / count

    def resize(self) -> None:
        count, _ = self.period()
        if count != len(self.patrons.slots):
            self.patrons.resize(count)
            self.consoles.resize(count)
            self.index %= count

    def start(self) -> None:
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._tick_while_open())

    async def _tick_while_open(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while self.patrons or self.consoles:  # the last socket closed: the ticker ends
            self.resize()
            _, tick = self.period()
            # On schedule, so each socket beats every period; a late tick is not made up for.
            next_at = max(next_at + tick, loop.time())
            await asyncio.sleep(next_at - loop.time())
            try:
                self.resize()
                index, self.index = self.index, (self.index + 1) % len(self.patrons.slots)
                # Both kinds' sockets are taken before anything is awaited: a
                # socket that opens meanwhile waits for its own slot.
                patrons, consoles = self.patrons.take(index), self.consoles.take(index)
                await self.patrons.beat(patrons, _beat_patrons)
                await self.consoles.beat(consoles, _beat_consoles)
            except Exception:
                logger.exception("heartbeat tick failed")


_heartbeat_registries: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Heartbeats]" = (
    weakref.WeakKeyDictionary()
)


def _heartbeats() -> _Heartbeats:
    loop = asyncio.get_running_loop()
    heartbeats = _heartbeat_registries.get(loop)
    if heartbeats is None:
        heartbeats = _heartbeat_registries[loop] = _Heartbeats()
    return heartbeats


async def _beat_patrons(sockets: list[PatronConsumer]) -> None:
    beats = await call_service(_patron_beats, [(s.session, s.channel_name) for s in sockets])
    registry = _heartbeats().patrons
    for socket in sockets:
        beat = beats.get(socket.session.pk)
        if beat is None or socket not in registry:
            continue  # the session is gone, or the socket closed meanwhile
        state, last = beat
        await _send_beat(socket, {"type": "session.heartbeat", "state": state, "last_seq": last})


def _patron_beats(sockets: Iterable[tuple[ChatSession, str]]) -> dict[int, tuple[str, int]]:
    """Refresh the presence of the sockets (one UPDATE); read their sessions (one SELECT)."""
    sockets = list(sockets)
    services.patron_sockets_heartbeat(sockets=sockets)
    rows = ChatSession.objects.filter(pk__in={session.pk for session, _ in sockets})
    return {
        pk: (state, last) for pk, state, last in rows.values_list("pk", "state", "last_patron_seq")
    }


async def _beat_consoles(consoles: list[ConsoleConsumer]) -> None:
    digests = await database_call(_console_beats)(
        [(console.librarian, console.channel_name) for console in consoles]
    )
    registry = _heartbeats().consoles
    for console in consoles:
        if console not in registry:
            continue
        await _send_beat(console, {"type": "console.heartbeat", **digests[console.librarian.pk]})


def _console_beats(consoles: list[tuple[Librarian, str]]) -> dict[int, dict[str, Any]]:
    """Refresh the consoles' presence (one UPDATE) and read their digests
    (one set of queries for all of them), by librarian id."""
    services.consoles_heartbeat(consoles=consoles)
    return selectors.console_digests(librarian for librarian, _ in consoles)


async def _send_beat(socket: ChatSocket, frame: dict[str, Any]) -> None:
    try:
        await socket.send_json(frame)
    except Exception:
        logger.exception("heartbeat frame %s not sent", frame["type"])


@database_call
def _librarian_of(user: Any) -> Librarian | None:
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return Librarian.objects.filter(user=user).first()
