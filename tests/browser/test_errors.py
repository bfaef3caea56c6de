"""An error lands where the request it is about came from, never in whatever dialog is open.

Every frame the console sends carries a fresh ``ref``, which the server
echoes in an ``error`` about it (docs/protocol.md, Errors). Here Alice's
pick-up of Erin loses the race to Bob while the answer is held on the wire,
and arrives while Alice's Transfer dialog for Dana is open: it must not show
in the dialog's error line (it removes the row and shows as a toast), while
the dialog's own refused transfer does show there.
"""

import json
from typing import Any

from playwright.sync_api import Page, WebSocketRoute, expect

from tests.browser.conftest import People, pick_up, start_monitoring
from tests.conftest import World

NOT_MONITORING = (
    "Bob is not monitoring Ask Riverside: transfer to a librarian monitoring it, or to the queue."
)


class Wire:
    """Between Alice's console and the server: may hold her next pick-up, records errors."""

    def __init__(self) -> None:
        self.server: WebSocketRoute | None = None
        self.hold_accept = False
        self.held: list[str] = []
        self.errors: list[dict[str, Any]] = []

    def route(self, socket: WebSocketRoute) -> None:
        server = socket.connect_to_server()
        self.server = server
        socket.on_message(lambda message: self.from_page(server, message))
        server.on_message(lambda message: self.from_server(socket, message))

    def from_page(self, server: WebSocketRoute, message: Any) -> None:
        if self.hold_accept and json.loads(message)["type"] == "session.accept":
            self.hold_accept = False
            self.held.append(message)
            return
        server.send(message)

    def from_server(self, page: WebSocketRoute, message: Any) -> None:
        frame = json.loads(message)
        if frame["type"] == "error":
            self.errors.append(frame)
        page.send(message)

    def release(self) -> dict[str, Any]:
        assert self.server is not None and self.held
        message = self.held.pop()
        self.server.send(message)
        frame: dict[str, Any] = json.loads(message)
        return frame


def _ok_request_popup(*consoles: Page) -> None:
    for console in consoles:
        console.locator("#request-dialog").get_by_role("button", name="OK").click()


def test_an_error_goes_to_the_request_it_is_about(world: World, people: People) -> None:
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    wire = Wire()
    alice.route_web_socket("**/ws/console/", wire.route)
    alice.reload()
    expect(alice.locator("#connection")).to_have_text("Connected")
    bob = people.console(world.bob, monitor=["Ask Riverside"])

    people.patron_asks(name="Dana")
    _ok_request_popup(alice, bob)
    pick_up(alice, "Dana")

    # Alice clicks Erin's request; her pick-up waits on the wire while Bob
    # picks Erin up: Alice's pick-up has lost the race before it arrives.
    people.patron_asks(name="Erin", question="Can I renew a laptop loan?")
    _ok_request_popup(alice, bob)
    wire.hold_accept = True
    alice.locator("#new-list").get_by_role("button", name="Pick up Erin").click()
    expect(alice.locator("#new-list")).to_contain_text("picking up…")
    assert wire.held, "the pick-up was not held"
    pick_up(bob, "Erin")
    expect(alice.locator("#new-list li")).to_have_count(0)

    # Alice opens the Transfer dialog for Dana; then her pick-up's refusal comes.
    alice.get_by_role("button", name="Transfer").click()
    dialog = alice.locator("#transfer-dialog")
    expect(dialog).to_be_visible()
    target = dialog.locator("#transfer-targets").get_by_role("button", name="Bob (RPL-117)")
    expect(target).to_be_visible()
    accept = wire.release()
    expect(alice.locator("#toast")).to_have_text("Bob already picked up this request.")
    refused = wire.errors[-1]
    assert (refused["code"], refused["ref"]) == ("already_taken", accept["ref"])
    expect(dialog.locator("#transfer-error")).to_have_text("")
    expect(dialog).to_be_visible()

    # The dialog's own request is refused (Bob stopped monitoring after the
    # dialog listed him): that error shows in the dialog, and no toast says it.
    start_monitoring(bob)
    target.click()
    dialog.get_by_role("button", name="Transfer", exact=True).click()
    expect(dialog.locator("#transfer-error")).to_have_text(NOT_MONITORING)
    offer_error = wire.errors[-1]
    assert offer_error["code"] == "not_available" and offer_error["ref"] != accept["ref"]
    expect(alice.locator("#toast")).not_to_have_text(NOT_MONITORING)
    expect(dialog.get_by_role("button", name="Transfer", exact=True)).to_be_enabled()
