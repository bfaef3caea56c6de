"""A line with HTML and script in it shows as text on both sides, and runs nothing."""

from playwright.sync_api import Page, expect

from tests.browser.conftest import People, pick_up, say
from tests.conftest import World

# Each would set window.pwned if it ever became markup.
PATRON_LINE = '<img src=x onerror="window.pwned=1"><b>bold?</b>'
LIBRARIAN_LINE = "<script>window.pwned=2</script><i>see the <a href=javascript:1>catalogue</a></i>"
QUESTION = '<svg onload="window.pwned=3">Is <em>this</em> escaped?</svg>'


def _nothing_ran(page: Page, log: str) -> None:
    assert page.evaluate("() => window.pwned") is None
    # The lines hold text only: no element was made from what anybody typed.
    assert page.locator(f"{log} .line-text *").count() == 0


def test_html_and_script_in_lines_show_as_text(world: World, people: People) -> None:
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    dana = people.patron_asks(name="<b>Dana</b>", question=QUESTION)
    popup = alice.locator("#request-dialog")
    expect(popup).to_contain_text(QUESTION)
    expect(popup).to_contain_text("<b>Dana</b>")
    popup.get_by_role("button", name="OK").click()
    expect(alice.locator("#new-list")).to_contain_text(QUESTION)
    pick_up(alice, "<b>Dana</b>")
    expect(alice.locator("#patron-info")).to_contain_text(QUESTION)

    say(dana, PATRON_LINE)
    say(alice, LIBRARIAN_LINE)
    for page, log in ((dana, "#log"), (alice, "#session-log")):
        lines = page.locator(f"{log} .line-text")
        expect(lines.filter(has_text=PATRON_LINE)).to_have_count(1)
        expect(lines.filter(has_text=LIBRARIAN_LINE)).to_have_count(1)
        expect(lines.first).to_have_text(QUESTION)
        expect(page.locator(f"{log} .line-author").first).to_have_text("<b>Dana</b>")
        _nothing_ran(page, log)

    # And the same from the database: the patron's page reloaded, Chat History.
    dana.reload()
    expect(dana.locator("#log .line-text").filter(has_text=LIBRARIAN_LINE)).to_have_count(1)
    _nothing_ran(dana, "#log")
    alice.get_by_role("button", name="End Session").click()
    alice.get_by_role("tab", name="Chat History").click()
    alice.locator("#history-root tbody tr").get_by_role("link").click()
    history = alice.locator("#history-root .line-text")
    expect(history.filter(has_text=PATRON_LINE)).to_have_count(1)
    expect(history.filter(has_text=LIBRARIAN_LINE)).to_have_count(1)
    _nothing_ran(alice, "#history-root")
