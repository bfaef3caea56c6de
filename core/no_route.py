"""The socket whose path matches no route: accepted, then closed with 4404.

Channels' router raises for such a path (``/ws/chat//``, ``/ws/nope/``,
``/ws/chat/<token>/x/``), which Daphne answers with HTTP 500 and a traceback
in the log that quotes the path, token and all, and the browser retries it
forever. Closed with 4404 instead, a client sees that there is nothing there
(docs/protocol.md), and the log gets one short line without the path: a
mistyped patron path still carries a token.
"""

import logging
from typing import Any

from core.sockets import CLOSE_NOT_FOUND

logger = logging.getLogger(__name__)


async def no_route(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A bare ASGI application: no consumer, so no channel of the layer for a dead end."""
    if scope["type"] != "websocket" or (await receive())["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": CLOSE_NOT_FOUND})
    logger.info("socket path matches no route: closed with %d", CLOSE_NOT_FOUND)
    while (await receive())["type"] != "websocket.disconnect":
        pass
