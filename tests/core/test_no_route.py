"""A socket path that matches no route is closed with 4404, with one short log
line and no traceback: through the full ASGI application, as a browser would."""

import logging

import pytest

from tests.sockets import HOST, ORIGIN, TIMEOUT, Socket

TOKEN = "Zq3Xk9aaaaaaaaaaaaaaaaaaaaaaaaaa"

NO_ROUTE = [
    "/ws/chat//",
    "/ws/nope/",
    f"/ws/chat/{TOKEN}/x/",
    f"/ws/{TOKEN}/",
    "/ws/console/extra/",
]


@pytest.mark.parametrize("path", NO_ROUTE)
async def test_a_socket_path_with_no_route_is_accepted_then_closed_as_not_found(
    path: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    socket = Socket(path, [ORIGIN, HOST])
    # Accepted, then closed: a refused handshake would reach the browser only
    # as 1006, and it would keep retrying.
    assert await socket.open() == (True, None)
    assert await socket.communicator.receive_output(timeout=TIMEOUT) == {
        "type": "websocket.close",
        "code": 4404,
    }
    await socket.communicator.send_input({"type": "websocket.disconnect", "code": 4404})
    await socket.communicator.wait(timeout=TIMEOUT)
    logged = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert [r.getMessage() for r in logged] == ["socket path matches no route: closed with 4404"]
    assert not any(r.exc_info for r in caplog.records)
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


async def test_a_page_from_another_site_is_still_refused_before_any_route() -> None:
    socket = Socket("/ws/nope/", [(b"origin", b"https://evil.example"), HOST])
    connected, _ = await socket.open()
    assert not connected
