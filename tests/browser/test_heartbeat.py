"""The console's heartbeat heals a lost event, and leaves an event that overtook it alone.

Every 10 s the server sends each console a digest of what it should show. A
console showing something else asks for a whole snapshot (``console.sync``),
unless the difference is an event that arrived around the heartbeat: a busy
queue's consoles would otherwise ask for snapshots all day. The console's
socket runs through Playwright's WebSocket route here, so the test can
hold back a heartbeat, let an event overtake it, and drop an event.
"""

import json
import time
from typing import Any

from playwright.sync_api import Page, WebSocketRoute, expect

from tests.browser.conftest import People
from tests.conftest import World

HEARTBEAT_WAIT_S = 15  # one heartbeat period (10 s) and then some


class Wire:
    """Between Alice's console and the server: sees every frame, may hold or drop some."""

    def __init__(self) -> None:
        self.page_socket: WebSocketRoute | None = None
        self.hold_heartbeat = False
        self.held: list[str] = []
        self.drop_new_requests = False
        self.syncs = 0

    def route(self, socket: WebSocketRoute) -> None:
        self.page_socket = socket
        server = socket.connect_to_server()
        socket.on_message(lambda message: self.from_page(server, message))
        server.on_message(self.from_server)

    def from_page(self, server: WebSocketRoute, message: Any) -> None:
        if json.loads(message).get("type") == "console.sync":
            self.syncs += 1
        server.send(message)

    def from_server(self, message: Any) -> None:
        kind = json.loads(message)["type"]
        assert self.page_socket is not None
        if kind == "console.heartbeat" and self.hold_heartbeat:
            self.hold_heartbeat = False
            self.held.append(message)
            return
        if kind == "session.created" and self.drop_new_requests:
            return
        self.page_socket.send(message)
        if kind == "session.created" and self.held:
            # The heartbeat computed before this request arrives just after it.
            self.page_socket.send(self.held.pop())


def wait_until(page: Page, condition: Any, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        page.wait_for_timeout(100)


def test_the_console_heals_a_lost_request_but_not_one_that_overtook_its_heartbeat(
    world: World, people: People
) -> None:
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    wire = Wire()
    alice.route_web_socket("**/ws/console/", wire.route)
    alice.reload()
    expect(alice.locator("#connection")).to_have_text("Connected")
    new_list = alice.locator("#new-list")

    # A heartbeat is held back; Dana's request arrives, then that stale
    # heartbeat (which doesn't list her yet): no snapshot is asked for.
    wire.hold_heartbeat = True
    wait_until(alice, lambda: wire.held, HEARTBEAT_WAIT_S)
    people.patron_asks(name="Dana")
    alice.locator("#request-dialog").get_by_role("button", name="OK").click()
    expect(new_list.get_by_role("button", name="Pick up Dana")).to_be_visible()
    wait_until(alice, lambda: not wire.held, 5)
    alice.wait_for_timeout(2500)  # past the 1.5 s second look
    assert wire.syncs == 0

    # Erin's request event is lost on the way: the next heartbeat lists her,
    # the console asks for a snapshot, and she shows under New.
    wire.drop_new_requests = True
    people.patron_asks(name="Erin", question="Can I renew a laptop loan?")
    alice.wait_for_timeout(500)
    expect(new_list.get_by_role("button", name="Pick up Erin")).to_have_count(0)
    expect(new_list.get_by_role("button", name="Pick up Erin")).to_be_visible(
        timeout=HEARTBEAT_WAIT_S * 1000
    )
    assert wire.syncs == 1
    expect(new_list.get_by_role("button", name="Pick up Dana")).to_be_visible()
