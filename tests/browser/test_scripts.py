"""Scripts in the browser, by keyboard alone: the reply box's list and Settings.

Alice chats with Dana. "/" in her empty reply box opens her Scripts list
(her own, Riverside's, Riverside's saved pages; never Bob's); typing
filters it, the arrow keys and Enter put a script in the box with Dana's
name, Alice's and the library's filled in, and nothing reaches Dana until
Alice presses Enter in the box herself. A "/" in the middle of a line is a
slash; Escape gives her back the box and what she typed. In Settings she
adds a script of her own, is told what is wrong when she leaves its text
empty or takes a shortcut her library has, and finds it in the list at once.
"""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection
from playwright.sync_api import Page, expect

from chat.models import ChatSession
from scripts.models import SavedPage, Script
from scripts.services import script_create
from tests.browser.conftest import People, log_lines, screenshot
from tests.browser.test_accessibility import Axe
from tests.conftest import World

HOURS = "Hi {patron}, {library} opens at 9:00 today. {librarian}"


@pytest.fixture
def axe(axe_source: str) -> Axe:
    return Axe(axe_source)


@pytest.fixture
def dana_chats(world: World, chat: Any) -> ChatSession:
    """Dana's chat, picked up by Alice; Riverside's scripts and pages, Alice's and Bob's own."""

    def make() -> ChatSession:
        # On a thread of its own: the services publish after commit, which
        # can't run on this thread beside Playwright's event loop.
        try:
            riverside = world.riverside_library
            Script.objects.create(
                library=riverside, title="Opening hours", text=HOURS, shortcut="hours"
            )
            Script.objects.create(
                library=riverside,
                title="Library card",
                text="Cards are free, {patron}.",
                shortcut="card",
            )
            script_create(
                librarian=world.alice,
                title="One moment",
                text="Let me check that, {patron}.",
                shortcut="wait",
            )
            script_create(
                librarian=world.bob, title="Bob's own", text="Only Bob's.", shortcut="bob"
            )
            SavedPage.objects.create(
                library=riverside, title="Catalogue", url="https://library.example.org/catalogue"
            )
            return chat(world.alice, name="Dana", question="When do you open?")
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(make).result()  # fmt: skip


def open_chat(people: People, world: World) -> Page:
    alice = people.console(world.alice)
    alice.locator("#active-list").get_by_role("button", name="Dana").click()
    expect(alice.locator("#composer-text")).to_be_focused()
    return alice


def caret_at_end(page: Page) -> bool:
    return bool(
        page.evaluate(
            "() => { const b = document.getElementById('composer-text');"
            " return b.selectionStart === b.value.length && b.selectionEnd === b.value.length; }"
        )
    )


def test_a_script_by_keyboard_alone(
    world: World, people: People, axe: Axe, dana_chats: ChatSession
) -> None:
    dana = people.page()
    dana.goto(f"/chat/{dana_chats.token}/")
    alice = open_chat(people, world)
    box = alice.locator("#composer-text")
    search = alice.get_by_role("combobox", name="Insert a script or saved page")
    options = alice.locator("#script-options [role=option]")

    # "/" in the empty box opens the list; focus goes to its search, which shows the "/".
    alice.keyboard.press("/")
    expect(search).to_be_focused()
    expect(search).to_have_value("/")
    expect(search).to_have_attribute("aria-expanded", "true")
    expect(options).to_have_count(4)  # hers, Riverside's two, the saved page; never Bob's
    expect(alice.locator("#script-options")).not_to_contain_text("Bob")
    expect(options.filter(has_text="One moment")).to_contain_text("Personal")
    expect(options.filter(has_text="Opening hours")).to_contain_text("Library")
    expect(options.filter(has_text="Catalogue")).to_contain_text("Saved page")
    expect(box).to_have_value("")
    axe.check(alice, "the reply box's Scripts list, open")
    screenshot(alice, "console-scripts")

    # "/hours": the shortcut; Enter puts the text in the box, names filled in.
    alice.keyboard.type("hours")
    expect(options).to_have_count(1)
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(search).to_have_attribute(
        "aria-activedescendant", options.first.get_attribute("id") or ""
    )
    alice.keyboard.press("Enter")
    expect(alice.locator("#script-picker")).to_be_hidden()
    expect(box).to_be_focused()
    filled = "Hi Dana, Riverside Public Library opens at 9:00 today. Alice"
    expect(box).to_have_value(filled)
    assert caret_at_end(alice)
    # Nothing went: it is Alice's to edit, and hers to send.
    alice.wait_for_timeout(500)
    expect(dana.locator("#log")).not_to_contain_text("opens at 9:00")
    expect(alice.locator("#session-log")).not_to_contain_text("opens at 9:00")
    alice.keyboard.type(" See you soon!")
    alice.keyboard.press("Enter")
    expect(dana.locator("#log")).to_contain_text(f"{filled} See you soon!")
    expect(box).to_have_value("")

    # A "/" in the middle of a line is a slash.
    alice.keyboard.type("Is it a book and/or a DVD?")
    expect(box).to_have_value("Is it a book and/or a DVD?")
    expect(alice.locator("#script-picker")).to_be_hidden()
    box.fill("")

    # Typing filters by the text too; the arrow keys move, Enter chooses.
    alice.keyboard.press("/")
    expect(options).to_have_count(4)
    alice.keyboard.press("Backspace")
    alice.keyboard.type("free")  # only "Library card" says it
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("Library card")
    for _ in "free":
        alice.keyboard.press("Backspace")
    expect(options).to_have_count(4)
    alice.keyboard.press("ArrowDown")
    alice.keyboard.press("ArrowDown")
    third = options.nth(2)
    expect(third).to_have_attribute("aria-selected", "true")
    expect(search).to_have_attribute("aria-activedescendant", third.get_attribute("id") or "")
    alice.keyboard.press("ArrowUp")
    second = options.nth(1)
    expect(second).to_have_attribute("aria-selected", "true")
    second_title = second.locator("strong").inner_text()
    alice.keyboard.press("Enter")
    expect(box).to_be_focused()
    expected = {"Library card": "Cards are free, Dana.", "Opening hours": filled}[second_title]
    expect(box).to_have_value(expected)
    box.fill("")

    # Escape closes it, focus back in the box, and what was typed is kept.
    alice.keyboard.press("/")
    alice.keyboard.type("ho")
    alice.keyboard.press("Escape")
    expect(alice.locator("#script-picker")).to_be_hidden()
    expect(box).to_be_focused()
    expect(box).to_have_value("/ho")
    assert caret_at_end(alice)
    box.fill("")

    # The Scripts button opens it too, and a saved page goes in as a link at the caret.
    alice.keyboard.type("Try our ")
    alice.locator("#composer-scripts").focus()
    alice.keyboard.press("Enter")
    expect(search).to_be_focused()
    expect(search).to_have_value("")
    alice.keyboard.type("catalogue")
    expect(options).to_have_count(1)
    alice.keyboard.press("Enter")
    expect(box).to_be_focused()
    expect(box).to_have_value("Try our Catalogue: https://library.example.org/catalogue")
    assert caret_at_end(alice)
    alice.keyboard.press("Enter")
    expect(dana.locator("#log")).to_contain_text(
        "Try our Catalogue: https://library.example.org/catalogue"
    )
    assert (
        log_lines(alice, "#session-log")[-1]
        == "Try our Catalogue: https://library.example.org/catalogue"
    )
    axe.assert_clean()


def test_settings_adds_a_script_of_her_own_and_says_what_is_wrong(
    world: World, people: People, axe: Axe, dana_chats: ChatSession
) -> None:
    alice = open_chat(people, world)
    tab = alice.get_by_role("tab", name="Settings")
    alice.get_by_role("tab", name="Patron Chat").focus()
    alice.keyboard.press("End")
    expect(tab).to_be_focused()
    section = alice.locator("#scripts-root")
    expect(section.get_by_role("heading", name="Add a script")).to_be_visible()
    expect(section).to_contain_text("One moment")  # hers, to edit
    expect(section).to_contain_text("Opening hours")  # Riverside's, to read
    expect(section).not_to_contain_text("Bob's own")
    axe.check(alice, "Settings, Scripts")

    title = section.get_by_label("Title")
    text = section.get_by_label("Text")
    shortcut = section.get_by_label("Shortcut (optional)")
    title.focus()
    alice.keyboard.type("Welcome")
    alice.keyboard.press("Enter")  # the text left empty
    expect(text).to_be_focused()
    expect(text).to_have_attribute("aria-invalid", "true")
    expect(section).to_contain_text("A script's text can't be empty.")
    expect(title).to_have_value("Welcome")  # nothing typed lost
    axe.check(alice, "Settings, Scripts, a refusal")

    alice.keyboard.type("Welcome to {library}, {patron}!")
    shortcut.focus()
    alice.keyboard.type("hours")  # Riverside's already
    alice.keyboard.press("Enter")
    expect(shortcut).to_be_focused()
    expect(section).to_contain_text(
        "The shortcut /hours is taken: your library's script “Opening hours” has it."
    )
    expect(text).to_have_value("Welcome to {library}, {patron}!")
    alice.keyboard.press("Control+a")
    alice.keyboard.type("welcome")
    alice.keyboard.press("Enter")
    done = section.locator("#scripts-done")
    expect(done).to_have_text("Script “Welcome” added.")
    expect(done).to_be_focused()
    expect(section.locator(".script-list").first).to_contain_text("Welcome")

    # In the reply box at once, where "/welcome" finds it.
    alice.get_by_role("tab", name="Patron Chat").click()
    box = alice.locator("#composer-text")
    box.focus()
    alice.keyboard.press("/")
    alice.keyboard.type("welcome")
    options = alice.locator("#script-options [role=option]")
    expect(options).to_have_count(1)
    alice.keyboard.press("Enter")
    expect(box).to_have_value("Welcome to Riverside Public Library, Dana!")

    # Edited and deleted from Settings, by keyboard.
    tab.click()
    section.get_by_role("link", name="Edit Welcome").focus()
    alice.keyboard.press("Enter")
    expect(section.get_by_role("heading", name="Edit “Welcome”")).to_be_focused()
    expect(section.get_by_label("Text")).to_have_value("Welcome to {library}, {patron}!")
    section.get_by_label("Title").fill("Welcome back")
    section.get_by_label("Title").press("Enter")
    expect(done).to_have_text("Script “Welcome back” saved.")
    section.get_by_role("link", name="Delete Welcome back").focus()
    alice.keyboard.press("Enter")
    expect(section.get_by_role("heading", name="Delete “Welcome back”?")).to_be_focused()
    alice.keyboard.press("Tab")
    expect(section.get_by_role("button", name="Delete script")).to_be_focused()
    alice.keyboard.press("Enter")
    expect(done).to_have_text("Script “Welcome back” deleted.")
    expect(section.locator(".script-list").first).not_to_contain_text("Welcome back")
    axe.assert_clean()
