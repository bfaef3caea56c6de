"""Browser tests: real people in Debian's Chromium against a real Daphne server.

Each test starts Daphne on a free loopback port, against the pytest test
database (``transactional_db``: the server is another process, so the rows
a test makes must be committed). Each person gets a browser context of their
own, with their own cookies, as on their own machine: librarians log in,
patrons ask through the chat form.

Nothing here downloads a browser: Playwright drives ``/usr/bin/chromium``
(``apt-get install chromium``; ``CHROMIUM`` names another). Without it every
test here is skipped, and the summary says why. axe-core, the accessibility
checker, comes from the npm registry through ``make axe``.

Screenshots go to ``$VAR_DIR/screenshots/``; ``make screenshots`` writes the
committed ones in ``docs/screenshots/`` instead (``SCREENSHOT_DIR``).
"""

import os
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    ViewportSize,
    expect,
    sync_playwright,
)
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from accounts.models import Librarian
from tests.live import (
    free_port,
    start_daphne,
    start_worker,
    stop,
    subprocess_database_url,
    wait_healthy,
)

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
SCREENSHOT_DIR = ROOT / (os.environ.get("SCREENSHOT_DIR") or settings.VAR_DIR / "screenshots")
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
# Generous: two cores, other test suites running beside this one.
TIMEOUT_MS = 15_000

expect.set_options(timeout=TIMEOUT_MS)

# ---------------------------------------------------------------- browser


@pytest.fixture(scope="package", autouse=True)
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless; skips every browser test when it is missing.

    Package scope: Playwright's sync API keeps an event loop running on this
    thread while it is open, which the tests outside this folder must not
    meet. Django refuses ORM calls from a thread with a running loop; the
    calls here are plain blocking calls between browser steps, so that check
    is switched off while the browser is open, and only then.
    """
    if not CHROMIUM.exists():
        pytest.skip(
            f"Chromium is not installed at {CHROMIUM}: browser tests skipped "
            "(apt-get install chromium; .ci/run installs it)"
        )
    # Chromium's sandbox refuses to run as root, which CI and containers are.
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with pytest.MonkeyPatch.context() as mp, sync_playwright() as playwright:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=args
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's axe.min.js, unpacked by ``make axe`` under .cache/."""
    found = sorted(ROOT.glob(".cache/axe-core-*/axe.min.js"))
    if not found:
        reason = "axe-core is missing under .cache/: run `make axe` (needs npm)"
        if os.environ.get("CI"):
            pytest.fail(reason)  # CI runs every check or fails
        pytest.skip(reason)
    return found[-1].read_text()


# ---------------------------------------------------------------- server


@dataclass
class Server:
    url: str
    var_dir: Path
    log: Path

    @property
    def mail_dir(self) -> Path:
        return self.var_dir / "mail"

    def outbox(self, *, count: int = 1, timeout: float = 10) -> list[EmailMessage]:
        """The mail the server sent, once ``count`` messages are there.

        The server is another process, so Django's locmem outbox (and the
        ``mailoutbox`` fixture) never sees its mail. It runs with the default
        file-based backend instead, writing each message under
        ``VAR_DIR/mail``: that folder is the outbox here.
        """
        deadline = time.monotonic() + timeout
        while True:
            files = sorted(self.mail_dir.glob("*.log")) if self.mail_dir.exists() else []
            messages = [m for f in files for m in _messages_in(f)]
            if len(messages) >= count or time.monotonic() > deadline:
                return messages
            time.sleep(0.2)


def _messages_in(path: Path) -> list[EmailMessage]:
    # The file backend writes each message followed by a line of 79 dashes.
    chunks = path.read_bytes().split(b"\n" + b"-" * 79 + b"\n")
    return [
        message_from_bytes(chunk.lstrip(), policy=policy.default)
        for chunk in chunks
        if chunk.strip()
    ]


_failed = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Remember a failed test, so its server's log is printed at teardown."""
    report = yield
    if report.failed:
        item.stash[_failed] = True
    return report


@pytest.fixture
def server_env() -> dict[str, str]:
    """Settings of the server's environment a test module changes (override this fixture)."""
    return {}


@pytest.fixture
def server(
    transactional_db: None,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    server_env: dict[str, str],
) -> Iterator[Server]:
    """Daphne on a free loopback port, serving the test database, and the worker.

    The worker sweeps every second so a test can watch a transfer offer
    expire (the queue's offer time is set low for that). Mail goes to files
    under the server's own VAR_DIR (see :meth:`Server.outbox`).
    """
    port = free_port()
    var_dir = tmp_path / "server-var"
    var_dir.mkdir()
    log = tmp_path / "daphne.log"
    env = {
        **os.environ,
        "DATABASE_URL": subprocess_database_url(),
        "DEBUG": "true",
        # The test's own key: the logins it makes (force_login) hold on the server.
        "SECRET_KEY": settings.SECRET_KEY,
        "VAR_DIR": str(var_dir),
        # The logos the test uploaded (tests/conftest.py: media_root).
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "SWEEP_SECONDS": "1",
        "CHANNEL_PREFIX": f"test-{uuid.uuid4().hex[:8]}",
        "LOG_LEVEL": "WARNING",
        "PYTHONFAULTHANDLER": "1",
        **server_env,
    }
    env.pop("EMAIL_URL", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    proc = start_daphne(env, port, log)
    worker_log = tmp_path / "worker.log"
    worker = start_worker(env, worker_log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, log)
        yield Server(url=url, var_dir=var_dir, log=log)
    finally:
        stop(proc, name="daphne", log=log)
        stop(worker, name="the worker", log=worker_log)
        connection.close()
        if request.node.stash.get(_failed, False):
            print(f"--- daphne log ({log}) ---\n{log.read_text()[-6000:]}")
            print(f"--- worker log ({worker_log}) ---\n{worker_log.read_text()[-4000:]}")


# ---------------------------------------------------------------- people


@dataclass
class People:
    """Opens one browser context per person and closes them all at the end."""

    browser: Browser
    server: Server
    contexts: list[BrowserContext] = field(default_factory=list)

    def context(self, locale: str = "en-US") -> BrowserContext:
        """A browser of its own; ``locale`` is its language (navigator.language
        and the Accept-Language it sends)."""
        context = self.browser.new_context(
            base_url=self.server.url, viewport=VIEWPORT, locale=locale, timezone_id="UTC"
        )
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        return context

    def page(self, locale: str = "en-US") -> Page:
        context = self.context(locale)
        context.add_init_script(script=_RECORD_ANNOUNCEMENTS)
        page = context.new_page()
        page.on("pageerror", lambda error: _page_errors.append(str(error)))
        page.on("console", _note_csp_violation)
        return page

    def console(self, librarian: Librarian, *, monitor: Iterable[str] = ()) -> Page:
        """``librarian`` logged in (a session cookie, as after the login form), on the console.

        ``monitor`` names queues to tick and Save, as the librarian would.
        """
        client = Client()
        client.force_login(librarian.user)
        page = self.page()
        page.context.add_cookies(
            [{"name": "sessionid", "value": client.cookies["sessionid"].value,
              "url": self.server.url}]
        )  # fmt: skip
        page.goto("/console/")
        expect(page.locator("#connection")).to_have_text("Connected")
        queues = list(monitor)
        if queues:
            start_monitoring(page, *queues)
        return page

    def patron_asks(
        self,
        queue: str = "riverside",
        *,
        name: str = "Dana",
        question: str = "Do you have large-print copies of Middlemarch?",
        email: str = "",
        library: str = "",
    ) -> Page:
        """A patron fills in the chat form of ``queue`` and lands on the chat
        page; ``library`` is the one they pick on a cooperative queue's form."""
        page = self.page()
        page.goto(f"/ask/{queue}/")
        page.get_by_label("Screen name").fill(name)
        if email:
            page.get_by_label("Email").fill(email)
        if library:
            page.get_by_label("Your library").select_option(label=library)
        page.get_by_label("Your question").fill(question)
        page.get_by_role("button", name="Ask").click()
        page.wait_for_url("**/chat/*/")
        expect(page.locator("#log")).to_contain_text(question)
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


_page_errors: list[str] = []
# What Chromium refused under the Content-Security-Policy ("Refused to load …
# because it violates the following Content Security Policy directive …").
_csp_violations: list[str] = []


def _note_csp_violation(message: Any) -> None:
    if "Content Security Policy" in message.text:
        _csp_violations.append(message.text)


def csp_violations() -> list[str]:
    """Every Content-Security-Policy violation the pages of this test reported so far."""
    return list(_csp_violations)


# Keeps every text the console's aria-live region is given, so a test can
# check what was announced even if the next announcement followed at once
# (as a screen reader would have read both).
_RECORD_ANNOUNCEMENTS = """
window.__announcements = [];
document.addEventListener("DOMContentLoaded", () => {
  const region = document.getElementById("announcer");
  if (!region) return;
  new MutationObserver(() => {
    if (region.textContent) window.__announcements.push(region.textContent);
  }).observe(region, { childList: true, characterData: true, subtree: true });
});
"""


@pytest.fixture
def people(browser: Browser, server: Server, world: Any) -> Iterator[People]:
    """Browser contexts for the named people of tests/conftest.py."""
    _page_errors.clear()
    _csp_violations.clear()
    crowd = People(browser=browser, server=server)
    try:
        yield crowd
    finally:
        crowd.close()
    assert not _page_errors, f"uncaught errors in the pages: {_page_errors}"
    assert not _csp_violations, f"Content-Security-Policy violations: {_csp_violations}"


# ---------------------------------------------------------------- steps


def start_monitoring(page: Page, *queues: str) -> None:
    """Tick ``queues`` (and only them) under "Monitor these queues" and Save."""
    form = page.locator("#monitoring-form")
    boxes = form.get_by_role("checkbox")
    expect(boxes.first).to_be_visible()
    for i in range(boxes.count()):
        box = boxes.nth(i)
        label = page.locator(f"label[for='{box.get_attribute('id')}']").inner_text()
        box.set_checked(label in queues)
    form.get_by_role("button", name="Save").click()
    total = boxes.count()
    expected = f"Monitoring {len(queues)} of {total}." if queues else "Not monitoring any queue."
    expect(page.locator("#monitoring-status")).to_have_text(expected)


def pick_up(page: Page, patron_name: str) -> None:
    """Click the patron's request under New; it opens under My Active."""
    page.locator("#new-list").get_by_role("button", name=f"Pick up {patron_name}").click()
    expect(page.locator("#session-title")).to_have_text(patron_name)
    expect(page.locator("#composer-text")).to_be_focused()


def say(page: Page, text: str) -> None:
    """Type a line into the page's composer and press Enter."""
    box = page.locator("#composer-text, #message").first
    box.fill(text)
    box.press("Enter")


def log_lines(page: Page, log: str) -> list[str]:
    """The text of every line of a chat log, in order, once none is still sending."""
    expect(page.locator(f"{log} li.line-pending")).to_have_count(0)
    return page.locator(f"{log} li.line .line-text").all_inner_texts()


def expect_announced(page: Page, text: str) -> None:
    """The console's aria-live region said ``text`` (screen readers read it out)."""
    expect(page.locator("#announcer")).to_have_attribute("aria-live", "assertive")
    try:
        page.wait_for_function(
            "(text) => window.__announcements.some((said) => said.includes(text))", arg=text
        )
    except PlaywrightTimeoutError:
        said = page.evaluate("() => window.__announcements")
        raise AssertionError(f"not announced: {text!r}; announced: {said}") from None


def screenshot(page: Page, name: str) -> None:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOT_DIR / f"{name}.png", animations="disabled", caret="hide")
