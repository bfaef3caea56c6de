"""The console socket's frames that hand a session on or share it: transfers,
hand-back, invitations to join, leaving, watching and taking over
(docs/protocol.md). A part of :class:`console.consumers.ConsoleConsumer`,
kept apart to keep each module readable; thin like the rest: each parses its
frame and calls one service or selector."""

from collections.abc import Awaitable, Callable

from accounts.models import Librarian
from chat import handback, takeover, team, transfers
from console.selectors import live_sessions_payload, transfer_targets_payload
from core.db import database_call
from core.errors import ChatError
from core.events import call_service
from core.sockets import Frame, frame_int, frame_str


class HandoffFrames:
    """Mixed into the console consumer, which gives these."""

    librarian: Librarian
    send_json: Callable[..., Awaitable[None]]

    async def list_transfer_targets(self, frame: Frame) -> None:
        targets = await database_call(transfer_targets_payload)(
            session_id=frame_int(frame, "session"), librarian=self.librarian
        )
        await self.send_json(targets)

    async def offer_transfer(self, frame: Frame) -> None:
        """A transfer offer, or with ``"join": true`` an invitation to join."""
        join = frame.get("join", False)
        if not isinstance(join, bool):
            raise ChatError("bad_frame", '"join" must be true or false.')
        await call_service(
            transfers.transfer_offer,
            session_id=frame_int(frame, "session"),
            sender=self.librarian,
            receiver_id=frame_int(frame, "librarian"),
            note=frame_str(frame, "note", required=False, max_len=2000) or "",
            join=join,
        )

    async def transfer_to_queue(self, frame: Frame) -> None:
        await call_service(
            transfers.transfer_to_queue,
            session_id=frame_int(frame, "session"),
            sender=self.librarian,
            note=frame_str(frame, "note", required=False, max_len=2000) or "",
        )

    async def hand_back(self, frame: Frame) -> None:
        """An offer to a librarian of the patron's own library (``transfer.offered``)."""
        await call_service(
            handback.hand_back, session_id=frame_int(frame, "session"), sender=self.librarian
        )

    async def accept_transfer(self, frame: Frame) -> None:
        await call_service(
            transfers.transfer_accept, offer_id=frame_int(frame, "offer"), librarian=self.librarian
        )

    async def decline_transfer(self, frame: Frame) -> None:
        await call_service(
            transfers.transfer_decline, offer_id=frame_int(frame, "offer"), librarian=self.librarian
        )

    async def cancel_transfer(self, frame: Frame) -> None:
        await call_service(
            transfers.transfer_cancel, offer_id=frame_int(frame, "offer"), librarian=self.librarian
        )

    async def leave_session(self, frame: Frame) -> None:
        """A joined librarian leaves, a supervisor stops watching (``session.left``)."""
        await call_service(
            team.team_leave, session_id=frame_int(frame, "session"), librarian=self.librarian
        )

    async def watch_session(self, frame: Frame) -> None:
        """A supervisor watches a live session (``watch.started`` with the session)."""
        await call_service(
            team.watch_start, session_id=frame_int(frame, "session"), librarian=self.librarian
        )

    async def take_over_session(self, frame: Frame) -> None:
        """A supervisor takes a session over: an accepted transfer to them."""
        await call_service(
            takeover.take_over, session_id=frame_int(frame, "session"), librarian=self.librarian
        )

    async def list_live_sessions(self, frame: Frame) -> None:
        """A supervisor's Live Sessions tab: the waiting and active sessions
        of their library's queues."""
        await self.send_json(await database_call(live_sessions_payload)(librarian=self.librarian))
