"""End-to-end fixtures: Debian's Chromium driven by Playwright against a live server, the
simulator and (for the actions) a real Celery worker.

Playwright's own browser download cannot work here, so the browser is the `chromium` package,
launched through its executable path. CI installs it (`.ci/run`); a run with CI set fails
without it, a developer's run without it skips these tests and says why.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from dashboard.upstream import reset_client
from tests.conftest import MEMBER_PASSWORD
from tests.dashboard.workers import in_process_worker, own_queue

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "e2e"
PASSWORD = MEMBER_PASSWORD
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these, Chromium keeps dialling Google's hosts, which this network refuses.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium_path() -> str | None:
    return os.environ.get("XDS_CHROMIUM") or shutil.which("chromium")


@pytest.fixture(scope="package", autouse=True)
def orm_beside_playwright():
    """Playwright's sync API keeps an event loop in the test's thread while the browser is open;
    the ORM calls made there meanwhile are still synchronous and safe. Only while these tests
    run: no other test, nor a child process it starts, may inherit it (`check --deploy` rightly
    warns about it)."""
    saved = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if saved is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = saved


@pytest.fixture(scope="package")
def browser(orm_beside_playwright):
    executable = _chromium_path()
    if executable is None:
        if os.environ.get("CI") or os.environ.get("XDS_REQUIRE_SERVICES"):
            pytest.fail("Chromium is missing: .ci/run must install Debian's chromium package")
        pytest.skip("no Chromium on this machine (apt-get install chromium to run e2e tests)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: errors.append(msg.text) if msg.type == "error" else None,
    )
    yield page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert not errors, f"the browser reported errors: {errors}"


@pytest.fixture
def fleet(make_simulator, settings, live_server):
    """A simulated account with a small fleet, wired to the live server's settings."""
    sim = make_simulator(hosts=12, boot_seconds=30.0, shutdown_seconds=20.0)
    settings.XDS_BASE_URL = sim.url
    settings.XDS_UUID = sim.uuid
    settings.XDS_SECRET = sim.secret
    settings.XDS_POLL_SECONDS = 1
    reset_client()
    yield sim
    reset_client()


@pytest.fixture
def worker(fleet, settings):
    """A Celery worker in the test's process on a queue of its own, following actions every
    0.5 s; hosts take 2 s to shut down (a test needing other timings overrides this)."""
    settings.XDS_ACTION_POLL_SECONDS = 0.5
    fleet.config.shutdown_seconds = 2.0
    with own_queue(), in_process_worker():
        yield


@pytest.fixture
def member(make_member):
    """Mei, a Viewer: she sees the whole fleet and may change nothing."""
    return make_member("mei", "Viewer")


def sign_in(page, live_server, user) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/hosts/**")
