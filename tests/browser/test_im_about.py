"""The IM tab as the help page has it: IMs about a patron session land in its Chat History
as Librarian Notes (never on the patron's page); untied IMs stay private; an IM session
that ended by itself (idle, log-off) makes the next IM a new New IM Request."""

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import Page, expect

from chat.models import ChatSession
from im.models import ImSession
from tests.browser.conftest import People, expect_announced, pick_up, say
from tests.conftest import World


def _open_im_with_bob(alice: Page, bob: Page) -> None:
    alice.get_by_role("tab", name="IM").click()
    alice.locator("#im-librarians").get_by_role("button", name="Bob (RPL-117)").click()
    expect(alice.locator("#im-title")).to_have_text("IM with Bob (RPL-117)")
    expect(bob.locator("#im-dialog")).to_be_visible()


def _im(page: Page, text: str) -> None:
    page.locator("#im-text").fill(text)
    page.locator("#im-text").press("Enter")
    expect(page.locator("#im-log li:not(.line-pending)", has_text=text)).to_have_count(1)


def test_an_im_about_the_selected_session_is_kept_in_its_chat_history(
    world: World, people: People
) -> None:
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    bob = people.console(world.bob, monitor=["Ask Riverside"])
    dana = people.patron_asks(name="Dana")
    for librarian in (alice, bob):
        librarian.locator("#request-dialog").get_by_role("button", name="OK").click()
    pick_up(alice, "Dana")
    say(alice, "Let me ask a colleague.")
    session = ChatSession.objects.get(patron_name="Dana")
    label = f"Dana (chat #{session.pk})"

    # The IM tab: the IM is about the session Alice has selected, shown in the About select.
    _open_im_with_bob(alice, bob)
    about = alice.get_by_label("About", exact=True)
    expect(about.locator("option:checked")).to_have_text(label)
    expect(alice.locator("#im-hint")).to_contain_text("Chat History as Librarian Notes")
    expect(bob.locator("#im-dialog")).to_contain_text(f"instant messages about {label}")
    bob.locator("#im-dialog").get_by_role("button", name="OK").click()
    expect(bob.get_by_label("About", exact=True).locator("option:checked")).to_have_text(label)

    _im(alice, "Do you know the Middlemarch editions?")
    _im(bob, "The 1871 one is in Special Collections")
    for page in (alice, bob):
        expect(page.locator("#im-log .badge-note")).to_have_count(2)

    # "No patron session": private from here on, and the pane says so.
    about.select_option(label="No patron session (private)")
    expect(bob.get_by_label("About", exact=True).locator("option:checked")).to_have_text(
        "No patron session (private)"
    )
    expect(alice.locator("#im-hint")).to_have_text(
        "Only the other librarian sees IMs; patrons never do."
    )
    _im(alice, "Coffee after the shift?")
    expect(bob.locator("#im-log")).to_contain_text("Coffee after the shift?")
    expect(bob.locator("#im-log .badge-note")).to_have_count(2)

    # Patron Chat: the two IMs are Librarian Notes in the session, in order; not the third.
    alice.get_by_role("tab", name="Patron Chat").click()
    notes = alice.locator("#session-log .line-note")
    expect(notes).to_have_count(2)
    expect(notes.nth(0)).to_contain_text("IM to Bob: Do you know the Middlemarch editions?")
    expect(notes.nth(1)).to_contain_text("IM to Alice: The 1871 one is in Special Collections")
    expect(alice.locator("#session-log")).not_to_contain_text("Coffee")
    # Dana sees none of it, even after a reload.
    say(alice, "The 1871 edition is in Special Collections.")
    expect(dana.locator("#log")).to_contain_text("The 1871 edition is in Special Collections.")
    dana.reload()
    expect(dana.locator("#log")).to_contain_text("The 1871 edition is in Special Collections.")
    for text in ("Middlemarch editions", "IM to", "Coffee"):
        expect(dana.locator("#log")).not_to_contain_text(text)


def test_an_idle_im_session_ends_and_the_next_im_is_a_new_request(
    world: World, people: People
) -> None:
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    bob = people.console(world.bob, monitor=["Ask Riverside"])
    _open_im_with_bob(alice, bob)
    bob.locator("#im-dialog").get_by_role("button", name="OK").click()
    _im(alice, "Can you cover at noon?")
    expect(bob.locator("#im-log")).to_contain_text("Can you cover at noon?")

    # Half an hour passes without a line: the worker's idle sweep ends it on both sides.
    ImSession.objects.update(last_line_at=timezone.now() - timedelta(minutes=31))
    ended = "This IM session ended after 30 minutes without a message."
    for page in (alice, bob):
        expect(page.locator("#im-readonly")).to_have_text(ended)
        expect(page.locator("#im-composer")).to_be_hidden()
    expect_announced(bob, "The IM session with Alice ended after 30 minutes without a message.")

    # The next IM is a new IM session: Bob gets the New IM Request box again.
    alice.locator("#im-librarians").get_by_role("button", name="Bob (RPL-117)").click()
    expect(bob.locator("#im-dialog")).to_be_visible()
    expect(bob.locator("#im-dialog")).to_contain_text("Alice (RPL-104) wants to send you")
    bob.locator("#im-dialog").get_by_role("button", name="OK").click()
    expect(bob.locator("#im-composer")).to_be_visible()
    _im(alice, "Still need cover at noon")
    expect(bob.locator("#im-log li")).to_have_count(1)  # a new session: none of the old lines
    expect(bob.locator("#im-log")).to_contain_text("Still need cover at noon")
    assert ImSession.objects.count() == 2


def test_after_bob_logs_off_the_next_im_is_a_new_request(world: World, people: People) -> None:
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    bob = people.console(world.bob, monitor=["Ask Riverside"])
    _open_im_with_bob(alice, bob)
    bob.locator("#im-dialog").get_by_role("button", name="OK").click()
    _im(bob, "Back in five")

    bob.get_by_role("button", name="Log out").click()
    expect(alice.locator("#im-readonly")).to_have_text("Bob logged off: this IM session has ended.")
    expect_announced(alice, "Bob logged off: the IM session has ended.")

    # Bob logs in again and monitors: Alice's next IM is a New IM Request for him.
    bob_again = people.console(world.bob, monitor=["Ask Riverside"])
    expect(bob_again.locator("#im-list li")).to_have_count(0)
    alice.locator("#im-librarians").get_by_role("button", name="Bob (RPL-117)").click()
    expect(bob_again.locator("#im-dialog")).to_be_visible()
    expect(bob_again.locator("#im-dialog")).to_contain_text("Alice (RPL-104) wants to send you")
