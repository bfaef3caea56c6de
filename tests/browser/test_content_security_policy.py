"""Under the strict Content-Security-Policy every screen works and Chromium
reports no violation: the patron's page and its socket, the console and its
socket, the Chat History, and the admin a supervisor uses."""

from typing import Any

from django.test import Client
from playwright.sync_api import Page, expect

from tests.browser.conftest import People, csp_violations, pick_up, say
from tests.conftest import World


def supervisor_page(people: People, world: World) -> Page:
    client = Client()
    supervisor: Any = world.supervisor
    client.force_login(supervisor)
    page = people.page()
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value,
          "url": people.server.url}]
    )  # fmt: skip
    return page


def test_a_chat_works_and_no_page_breaks_the_policy(world: World, people: People) -> None:
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    dana = people.patron_asks(name="Dana", question="Is the library open on Sunday?")
    alice.locator("#request-dialog").get_by_role("button", name="OK").click()
    pick_up(alice, "Dana")
    say(alice, "Yes, from noon to five.")
    expect(dana.locator("#log")).to_contain_text("from noon to five")
    say(dana, "Thank you!")
    expect(alice.locator("#session-log")).to_contain_text("Thank you!")
    # The header was sent, and the sockets it allows are open.
    response = dana.request.get(dana.url)
    assert "default-src 'self'" in response.headers["content-security-policy"]
    alice.get_by_role("button", name="End Session").click()
    expect(dana.locator("#ended-reason")).to_have_text("The librarian ended the chat.")

    # The Chat History, in the console and as its own pages.
    alice.get_by_role("tab", name="Chat History").click()
    history = alice.locator("#history-root")
    history.locator("tbody tr", has_text="Dana").get_by_role("link").click()
    expect(history.locator("h2")).to_contain_text("Dana")
    alice.goto("/console/history/")
    alice.locator("tbody tr", has_text="Dana").get_by_role("link").click()
    expect(alice.locator(".line").first).to_be_visible()
    alice.goto("/console/history/im/")

    # The log-in page, and the admin a supervisor uses.
    for login in ("/login/", "/admin/login/"):
        dana.goto(login)
        expect(dana.get_by_label("Username")).to_be_visible()
    sam = supervisor_page(people, world)
    for url in (
        "/admin/",
        "/admin/auth/user/",
        f"/admin/auth/user/{world.alice.user.pk}/change/",
        "/admin/queues/queue/",
        f"/admin/queues/queue/{world.riverside.pk}/change/",
        "/admin/queues/membership/add/",
        "/admin/chat/chatsession/",
    ):
        sam.goto(url)
        expect(sam.locator("#content")).to_be_visible()
    sam.goto("/admin/auth/user/")
    sam.locator("#toggle-nav-sidebar").click()

    assert csp_violations() == []
