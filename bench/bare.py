"""The floor of the stack: a Channels consumer that relays lines through a group.

No database, no validation beyond parsing the frame: what any chat on
Daphne and this channel layer costs at the least. A socket joins the groups
it is told to (a patron its session's, a librarian those of its sessions);
a line goes to the group, so both ends receive it, and the sender gets an
acknowledgement, the same three frames per line as the application's
``message.stored`` and two ``message.created``.

People type here too, as on the application's sockets (``bench/traffic.py``):
a ``typing`` frame goes to the group it names, the other side's (a patron's
to its librarian's own group, a librarian's to the session's, where the
sender skips its own), and is forwarded there as one frame, as the
application's ``typing.started`` and ``typing.stopped`` are. No rate limit:
the floor does the least.
"""

import json
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer

from core.sockets import Receive, relay_dispatch, serve


class BareRelayConsumer(AsyncWebsocketConsumer):
    groups_joined: list[str]

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Any) -> None:
        # The application's lighter loop (core.sockets.serve): the floor is
        # measured with the same one.
        await serve(self, scope, receive, send)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Without Channels' per-message database hop, as the application's
        # consumers (core.sockets.ChatSocket.dispatch): the floor
        # is measured at its lowest.
        await relay_dispatch(self, message)

    async def connect(self) -> None:
        self.groups_joined = []
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        frame = json.loads(text_data or "{}")
        if frame.get("type") == "join":
            for group in frame["groups"]:
                await self.channel_layer.group_add(group, self.channel_name)
                self.groups_joined.append(group)
            await self.send(text_data='{"type": "joined"}')
        elif frame.get("type") == "send":
            line = {"client_id": frame["client_id"], "text": frame["text"]}
            await self.channel_layer.group_send(
                frame["group"], {"type": "relay", "group": frame["group"], "message": line}
            )
            ack = {"type": "stored", "client_id": line["client_id"]}
            await self.send(text_data=json.dumps(ack))
        elif frame.get("type") == "typing":
            await self.channel_layer.group_send(
                frame["group"],
                {
                    "type": "typing.relay",
                    "sender": self.channel_name,
                    "state": frame.get("state", "started"),
                },
            )

    async def relay(self, event: dict[str, Any]) -> None:
        await self.send(
            text_data=json.dumps(
                {"type": "created", "group": event["group"], "message": event["message"]}
            )
        )

    async def typing_relay(self, event: dict[str, Any]) -> None:
        if event["sender"] != self.channel_name:
            await self.send(text_data=json.dumps({"type": "typing", "state": event["state"]}))
