"""The wrap-up in the browser: Alice ends Dana's chat and wraps it up by
keyboard in its pane, without anything taking her focus; she skips Eli's and
finishes it later from the Wrap-up tab. Every state is axe clean."""

from concurrent.futures import ThreadPoolExecutor

from django.db import connection
from playwright.sync_api import Page, expect

from accounts.models import Library
from tests.browser.conftest import People, pick_up, say, screenshot
from tests.browser.test_accessibility import Axe
from tests.conftest import World
from wrapup.models import SubjectTag, Wrapup


def _subjects(library: Library) -> None:
    def make() -> None:
        try:
            for name in ("Genealogy", "Local history", "Databases"):
                SubjectTag.objects.create(library=library, name=name)
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(make).result()


def _wrapups() -> list[tuple[str, str, str, int | None, list[str], str]]:
    def read() -> list[tuple[str, str, str, int | None, list[str], str]]:
        try:
            return [
                (
                    w.session.patron_name,
                    w.state,
                    w.resolution.label if w.resolution else "",
                    w.read_level,
                    sorted(t.name for t in w.tags.all()),
                    w.comment,
                )
                for w in Wrapup.objects.order_by("pk")
            ]
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(read).result()


def _chat_and_end(alice: Page, people: People, name: str) -> None:
    patron = people.patron_asks(name=name, question=f"{name} asks about the 1920 census.")
    alice.locator("#request-dialog").get_by_role("button", name="OK").click()
    pick_up(alice, name)
    say(alice, "The 1920 census is on reel 14.")
    expect(patron.locator("#log")).to_contain_text("reel 14")
    alice.get_by_role("button", name="End Session").click()


def test_alice_wraps_up_by_keyboard_and_finishes_a_skipped_one_later(
    world: World, people: People, axe_source: str
) -> None:
    axe = Axe(axe_source)
    _subjects(world.riverside_library)
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    _chat_and_end(alice, people, "Dana")

    pane = alice.locator("#session-wrapup")
    form = pane.locator("form[data-wrapup-form]")
    expect(pane.get_by_role("heading", name="Wrap-up: Dana")).to_be_visible()
    expect(alice.locator("#wrapup-badge")).to_have_text("1")
    # It arrived without taking the focus: nothing in it is focused.
    assert not alice.evaluate(
        "() => document.getElementById('session-wrapup').contains(document.activeElement)"
    )
    expect(form.get_by_role("radio", name="Follow-up by me")).to_be_visible()
    expect(form).to_contain_text("Least effort: directions, hours")
    axe.check(alice, "the wrap-up form in an ended chat's pane")
    alice.evaluate("document.getElementById('session-readonly').scrollIntoView({block: 'start'})")
    screenshot(alice, "console-wrapup")

    # By keyboard alone: Space picks the resolution, arrows the READ level.
    form.get_by_role("radio", name="Answered", exact=True).focus()
    alice.keyboard.press("Space")
    alice.keyboard.press("Tab")  # the READ group: its checked radio, "Not rated"
    expect(form.get_by_role("radio", name="Not rated")).to_be_focused()
    alice.keyboard.press("ArrowDown")
    alice.keyboard.press("ArrowDown")
    expect(form.get_by_role("radio", name="2 A little more effort", exact=False)).to_be_checked()
    alice.keyboard.press("Tab")
    expect(form.get_by_label("Subject tags")).to_be_focused()
    alice.keyboard.type("Genealogy, Local history")
    alice.keyboard.press("Tab")
    alice.keyboard.type("Wanted the microfilm; sent her to the desk.")
    alice.keyboard.press("Tab")
    expect(form.get_by_role("button", name="Save wrap-up")).to_be_focused()
    alice.keyboard.press("Enter")

    saved = pane.get_by_role("status").filter(has_text="Wrap-up saved.")
    expect(saved).to_be_focused()
    expect(alice.locator("#wrapup-badge")).to_be_hidden()
    axe.check(alice, "a wrap-up saved")
    assert _wrapups() == [
        (
            "Dana",
            "done",
            "Answered",
            2,
            ["Genealogy", "Local history"],
            "Wanted the microfilm; sent her to the desk.",
        )
    ]

    # A tag outside the list is refused with the message; what was typed stays.
    pane.get_by_label("Subject tags").fill("Astrology")
    pane.get_by_role("button", name="Save wrap-up").click()
    alert = pane.get_by_role("alert")
    expect(alert).to_have_text("Not on your library's list of subjects: Astrology.")
    expect(alert).to_be_focused()
    expect(pane.get_by_label("Subject tags")).to_have_value("Astrology")
    axe.check(alice, "a refused wrap-up")

    # Eli's chat: skipped now, finished later from the Wrap-up tab.
    alice.get_by_role("button", name="Remove from My Active").click()
    _chat_and_end(alice, people, "Eli")
    expect(pane.get_by_role("heading", name="Wrap-up: Eli")).to_be_visible()
    pane.get_by_role("button", name="Skip for now").click()
    expect(pane.get_by_role("status")).to_contain_text("Skipped for now")
    expect(alice.locator("#wrapup-badge")).to_have_text("1")

    alice.get_by_role("tab", name="Wrap-up").click()
    listing = alice.locator("#wrapup-root")
    expect(listing).to_contain_text("1 chat to wrap up.")
    expect(listing).to_contain_text("(skipped)")
    axe.check(alice, "the Wrap-up tab's list")
    listing.get_by_role("link", name="Wrap up the chat with Eli").click()
    expect(listing.get_by_role("heading", name="Wrap-up: Eli")).to_be_focused()
    listing.get_by_role("radio", name="Follow-up by me").check()
    listing.get_by_role("button", name="Save wrap-up").click()
    expect(listing.get_by_role("status").filter(has_text="Wrap-up saved.")).to_be_visible()
    expect(alice.locator("#wrapup-badge")).to_be_hidden()
    axe.check(alice, "a wrap-up saved in the Wrap-up tab")
    assert [(w[0], w[1], w[2]) for w in _wrapups()] == [
        ("Dana", "done", "Answered"),
        ("Eli", "done", "Follow-up by me"),
    ]
    listing.get_by_role("link", name="All chats to wrap up").click()
    expect(listing).to_contain_text("Nothing to wrap up.")

    # "Follow-up by me": Eli's chat is on Alice's own follow-up list, claimed by her.
    alice.get_by_role("tab", name="Questions").click()
    questions = alice.locator("#questions-root")
    questions.get_by_role("link", name="Mine").click()
    expect(questions.get_by_role("link", name="Mine")).to_have_attribute("aria-current", "page")
    row = questions.locator("tr[data-question]")
    expect(row).to_contain_text("Eli asks about the 1920 census.")
    expect(row).to_contain_text("Claimed by you")
    expect(row).to_contain_text("Follow-up of a chat (Alice)")
    axe.check(alice, "the follow-up list Mine")
    axe.assert_clean()
