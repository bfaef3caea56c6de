"""Statistics in the browser: Bob, a supervisor, opens the Statistics tab
and reads the figures of his library, each chart with its table; he
narrows them by keyboard and is told plainly when a range runs backwards.
Alice, a librarian, reads only her own work. Every state is axe clean."""

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.db import connection
from playwright.sync_api import Page, expect

from accounts.services import supervisors_group_ensure
from chat import sessions
from chat.models import ChatSession
from tests.browser.conftest import People, screenshot
from tests.browser.test_accessibility import Axe
from tests.conftest import World


def _in_thread(work: Callable[[], None]) -> None:
    def run() -> None:
        try:
            work()
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(run).result()


def _history(world: World) -> None:
    """Bob supervises; Alice answered Dana, Bob answered Eli, Fay left waiting."""

    def make() -> None:
        world.bob.user.groups.add(supervisors_group_ensure())
        for name, librarian in (("Dana", world.alice), ("Eli", world.bob), ("Fay", None)):
            session = sessions.session_enqueue(
                queue=world.riverside,
                library=world.riverside_library,
                patron_name=name,
                patron_email="",
                question=f"{name} asks about the 1920 census.",
            )
            if librarian is not None:
                sessions.session_accept(session_id=session.pk, librarian=librarian)
            sessions.session_end_by_patron(session=ChatSession.objects.get(pk=session.pk))

    _in_thread(make)


def _summary(page: Page, label: str) -> str:
    row = page.locator("#stats-table-summary tr").filter(has_text=label)
    return row.locator("td").inner_text()


def test_a_supervisor_reads_filters_and_downloads_the_statistics(
    world: World, people: People, axe_source: str
) -> None:
    axe = Axe(axe_source)
    _history(world)
    bob = people.console(world.bob)
    bob.get_by_role("tab", name="Statistics").click()
    root = bob.locator("#stats-root")
    expect(root.get_by_role("heading", name="Statistics")).to_be_visible()
    expect(root).to_contain_text("Every queue of Riverside Public Library")
    assert _summary(bob, "Sessions asked") == "3"
    assert _summary(bob, "Patrons who left before pick-up") == "1"
    chart = root.locator("img.stats-chart").first
    alt = "Chart: Sessions by day. Its figures are in the table beside it."
    expect(chart).to_have_attribute("alt", alt)
    bob.wait_for_load_state("networkidle")
    assert chart.evaluate("img => img.naturalWidth") == 800  # drawn, not a broken image
    axe.check(bob, "the Statistics tab")
    screenshot(bob, "console-statistics")

    # By keyboard: Alice's work only, by week.
    librarian = root.get_by_label("Librarian", exact=True)
    librarian.focus()
    librarian.select_option(label="Alice · Riverside Public Library")
    root.get_by_label("Sessions by", exact=True).select_option("week")
    root.get_by_label("Sessions by", exact=True).press("Tab")
    expect(root.get_by_role("button", name="Show")).to_be_focused()
    bob.keyboard.press("Enter")
    results = root.locator("[data-stats-results]")
    expect(results).to_be_focused()
    expect(root.locator("#stats-table-sessions thead")).to_contain_text("Week of")
    assert _summary(bob, "Sessions asked") == "1"
    axe.check(bob, "the Statistics narrowed to one librarian")

    # A range that runs backwards is refused by name; what was typed stays.
    root.get_by_label("From", exact=True).fill("2026-12-01")
    root.get_by_label("To", exact=True).fill("2026-11-01")
    root.get_by_role("button", name="Show").click()
    expect(root.get_by_role("alert").first).to_have_text(
        "The end date must be on or after the start date."
    )
    expect(root.get_by_label("From", exact=True)).to_have_value("2026-12-01")
    axe.check(bob, "refused Statistics filters")

    root.get_by_role("link", name="Clear").click()
    with bob.expect_download() as download:
        root.get_by_role("link", name="Download the summary as CSV").click()
    text = download.value.path().read_text(encoding="utf-8")
    assert "Sessions asked,3" in text.splitlines()

    # The sessions' export: read as it streams, the count shown, then the file.
    with bob.expect_download() as download:
        root.get_by_role("link", name="Download the sessions as CSV").click()
    status = root.locator("[data-stats-progress-status]")
    expect(status).to_have_text(re.compile(r"^Downloaded 3 sessions \(sessions-.*\.csv\)\.$"))
    exported = download.value.path().read_text(encoding="utf-8").splitlines()
    assert exported[0].startswith("Session,Asked,Picked up,Ended")
    assert len(exported) == 1 + 3 and not any("Dana" in line for line in exported)
    axe.check(bob, "the sessions exported")
    axe.assert_clean()


def test_a_librarian_reads_only_their_own_work(world: World, people: People) -> None:
    _history(world)
    alice = people.console(world.alice)
    alice.get_by_role("tab", name="Statistics").click()
    root = alice.locator("#stats-root")
    expect(root).to_contain_text("Your own work: the chats you held")
    expect(root.get_by_label("Librarian", exact=True)).to_have_count(0)
    assert _summary(alice, "Sessions asked") == "1"
