"""The patron's page loses the network mid-chat and gets it back: no line is lost."""

from playwright.sync_api import expect

from tests.browser.conftest import People, log_lines, pick_up, say
from tests.conftest import World

QUESTION = "Is the Riverside branch open on Sunday?"


def test_patron_offline_mid_chat_loses_no_line_on_either_side(world: World, people: People) -> None:
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    dana = people.patron_asks(name="Dana", question=QUESTION)
    alice.locator("#request-dialog").get_by_role("button", name="OK").click()
    pick_up(alice, "Dana")
    say(alice, "Hello Dana, let me check the opening hours.")
    expect(dana.locator("#log")).to_contain_text("let me check the opening hours")

    # The network goes: the page says so and the librarian sees Dana leave.
    dana.context.set_offline(True)
    expect(dana.locator("#connection")).to_have_text("Reconnecting…")
    expect(alice.locator("#session-presence")).to_contain_text("The patron is disconnected")

    # Both go on typing: Dana's lines wait in her page, Alice's in the database.
    say(dana, "Sorry, my train is in a tunnel.")
    say(dana, "Are you still there?")
    expect(dana.locator("#log li.line-pending")).to_have_count(2)
    say(alice, "Sunday hours are 1 to 5 pm.")
    say(alice, "The children's room opens at noon.")
    expect(alice.locator("#session-log li.line-pending")).to_have_count(0)
    # A real wait: the page keeps retrying with backoff, and gets nowhere.
    dana.wait_for_timeout(3000)
    expect(dana.locator("#connection")).to_have_text("Reconnecting…")
    expect(dana.locator("#log li.line-pending")).to_have_count(2)
    assert "tunnel" not in alice.locator("#session-log").inner_text()

    dana.context.set_offline(False)
    expect(dana.locator("#connection")).to_have_text("")
    expect(alice.locator("#session-presence")).to_be_hidden()
    expect(dana.locator("#log li.line-pending")).to_have_count(0)
    expect(dana.locator("#log")).to_contain_text("The children's room opens at noon.")
    expect(alice.locator("#session-log")).to_contain_text("Are you still there?")

    say(dana, "Back on the surface, thanks!")
    expect(alice.locator("#session-log")).to_contain_text("Back on the surface")
    expected = [
        QUESTION,
        "Alice has joined the chat.",
        "Hello Dana, let me check the opening hours.",
        # The order of record is the server's: Alice's lines were stored while
        # Dana's were still waiting in her page.
        "Sunday hours are 1 to 5 pm.",
        "The children's room opens at noon.",
        "Sorry, my train is in a tunnel.",
        "Are you still there?",
        "Back on the surface, thanks!",
    ]
    # Every line exactly once, in the same order, on both sides.
    assert log_lines(dana, "#log") == expected
    assert log_lines(alice, "#session-log") == expected
    # And again from the database, after reloading the patron's page.
    dana.reload()
    expect(dana.locator("#log li.line")).to_have_count(len(expected))
    assert log_lines(dana, "#log") == expected


def test_a_long_outage_s_lines_all_arrive_though_more_than_a_burst(
    world: World, people: People
) -> None:
    """More lines typed offline than the socket's burst (CHAT_LINES_BURST, 20):
    the page sends them back paced, so none is refused as too fast."""
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    dana = people.patron_asks(name="Dana", question=QUESTION)
    alice.locator("#request-dialog").get_by_role("button", name="OK").click()
    pick_up(alice, "Dana")
    expect(dana.locator("#chat-with")).to_contain_text("Alice")

    dana.context.set_offline(True)
    expect(dana.locator("#connection")).to_have_text("Reconnecting…")
    typed = [f"Offline line {n}" for n in range(1, 31)]
    for text in typed:
        say(dana, text)
    expect(dana.locator("#log li.line-pending")).to_have_count(30)

    dana.context.set_offline(False)
    expect(dana.locator("#log li.line-pending")).to_have_count(0, timeout=15000)
    expect(dana.locator("#log li.line-failed")).to_have_count(0)
    expect(alice.locator("#session-log")).to_contain_text("Offline line 30")
    assert [t for t in log_lines(alice, "#session-log") if t.startswith("Offline")] == typed
