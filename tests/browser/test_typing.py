"""Typing indicators in the browser (issue 15, point 4).

Dana chats with Alice. While Alice types, Dana's page says "Alice is
typing…" (said once to a screen reader, under the log and apart from it),
and it goes away a few seconds after she stops, or at once when her line
arrives; typing a Librarian Note tells Dana nothing. While Dana types,
Alice's console says "Dana is typing…" in the Patron Chat pane, or marks
Dana's row in My Active when another session is selected. Nothing of a
draft reaches the other side before it is sent.
"""

from playwright.sync_api import Page, expect

from tests.browser.conftest import People, pick_up, screenshot
from tests.browser.test_accessibility import Axe
from tests.conftest import World

# Typing slower than the pages' 3 s throttle, so several typing events go.
SLOW_KEYS_MS = 150
# Longer than the indicator's 6 s without news, with room for a busy machine.
FADES_MS = 9_000

# Every text a status line is given, so a test sees what a screen reader was told.
_RECORD = """(id) => {
  const line = document.getElementById(id);
  window.__typingSaid = [];
  new MutationObserver(() => {
    if (line.textContent) window.__typingSaid.push(line.textContent);
  }).observe(line, { childList: true, characterData: true, subtree: true });
}"""


def said(page: Page) -> list[str]:
    return page.evaluate("() => window.__typingSaid")


def chatting(world: World, people: People) -> tuple[Page, Page]:
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    dana = people.patron_asks(name="Dana", question="Where are the maps?")
    alice.locator("#request-dialog").get_by_role("button", name="OK").click()
    pick_up(alice, "Dana")
    expect(dana.locator("#chat-with")).to_contain_text("You are chatting with Alice")
    return alice, dana


def test_dana_sees_alice_typing_once_and_it_goes_away(
    world: World, people: People, axe_source: str
) -> None:
    alice, dana = chatting(world, people)
    typing = dana.locator("#typing")
    expect(typing).to_have_attribute("role", "status")
    expect(typing).to_have_attribute("aria-live", "polite")
    dana.evaluate(_RECORD, "typing")

    draft = "The map room is on the second"
    alice.locator("#composer-text").press_sequentially(draft, delay=SLOW_KEYS_MS)
    expect(typing).to_have_text("Alice is typing…")
    assert draft not in dana.content()  # the draft stays Alice's
    axe = Axe(axe_source)
    axe.check(dana, "patron page, the librarian typing")
    screenshot(dana, "patron-typing")

    # She stopped: the line goes by itself; said once however long she typed.
    expect(typing).to_have_text("", timeout=FADES_MS)
    assert said(dana) == ["Alice is typing…"]

    # Typing again, then Enter: it goes as her line arrives.
    alice.locator("#composer-text").press_sequentially(" floor.", delay=50)
    expect(typing).to_have_text("Alice is typing…")
    alice.locator("#composer-text").press("Enter")
    expect(dana.locator("#log")).to_contain_text("The map room is on the second floor.")
    expect(typing).to_have_text("", timeout=1_000)

    # A Librarian Note is no typing Dana hears of.
    alice.get_by_label("Note", exact=True).check()
    alice.locator("#composer-text").press_sequentially("Asked about maps before", delay=50)
    dana.wait_for_timeout(1_500)
    expect(typing).to_have_text("")
    assert "Asked about maps" not in dana.content()
    axe.assert_clean()


def test_alice_sees_dana_typing_in_the_pane_and_on_her_row(
    world: World, people: People, axe_source: str
) -> None:
    alice, dana = chatting(world, people)
    pane = alice.locator("#session-typing")
    box = dana.locator("#message")
    alice.evaluate(_RECORD, "session-typing")

    # Keys that type nothing say nothing.
    box.focus()
    for key in ("Shift", "ArrowLeft", "Home", "End", "Control"):
        box.press(key)
    alice.wait_for_timeout(1_500)
    expect(pane).to_have_text("")

    box.press_sequentially("Old county maps", delay=SLOW_KEYS_MS)
    expect(pane).to_have_text("Dana is typing…")
    axe = Axe(axe_source)
    axe.check(alice, "Patron Chat tab, the patron typing")
    box.press("Enter")
    expect(alice.locator("#session-log")).to_contain_text("Old county maps")
    expect(pane).to_have_text("", timeout=1_000)
    assert said(alice) == ["Dana is typing…"]

    # With Eli's session selected, Dana's typing marks her row under My Active.
    eli = people.patron_asks(name="Eli", question="Opening hours?")
    alice.locator("#request-dialog").get_by_role("button", name="OK").click()
    pick_up(alice, "Eli")
    dana_row = alice.locator("#active-list li").filter(has_text="Dana")
    dana.locator("#message").press_sequentially("of 1890", delay=50)
    expect(dana_row.locator(".badge-typing")).to_have_text("typing…")
    expect(pane).to_have_text("")  # Eli isn't typing
    axe.check(alice, "My Active, another session's patron typing")
    screenshot(alice, "console-typing")
    dana.locator("#message").press("Enter")
    expect(dana_row.locator(".badge-typing")).to_have_count(0)
    assert eli.locator("#typing").inner_text() == ""
    axe.assert_clean()
