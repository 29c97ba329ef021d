"""The dashboard on a phone (390 x 844) and a laptop (1366 x 768), in both languages: no page
scrolls sideways, the header folds into a menu that opens without inline script, every nav entry
can be reached, a Creator powers her own host off with her thumb, the ssh command fits its box
and the spend chart's labels can be read. Screenshots of every page go to test-results/e2e/."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from dashboard import services
from dashboard.models import Host, Operation
from dashboard.services import catalog_refresh, hosts_sync
from tests.e2e.conftest import PASSWORD, SCREENSHOTS
from vmclient.types import HostStatus

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
LANGUAGES = {"en": "en-US", "zh": "zh-CN"}
# The folded header may take this share of a phone's screen, at most.
HEADER_SHARE = 0.12
TOUCH_PX = 44  # the smallest comfortable target for a thumb (WCAG 2.5.5, Apple's HIG)
READABLE_PX = 12


@contextmanager
def browsing(browser, live_server, *, viewport, language, touch=False, script=True):
    """A page of our own size and language; fails on any error the browser reports."""
    context = browser.new_context(
        viewport=viewport,
        locale=LANGUAGES[language],
        has_touch=touch,
        is_mobile=touch,
        device_scale_factor=1,
        java_script_enabled=script,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.errors = errors  # a test takes out what it expected
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"the browser reported errors: {errors}"


def sign_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit].button-primary").click()
    page.wait_for_url(f"{live_server.url}/hosts/**")


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sideways_overflow(page) -> int:
    """How many pixels the page scrolls sideways (0 when it does not)."""
    return page.evaluate("Math.max(0, document.scrollingElement.scrollWidth - window.innerWidth)")


@pytest.fixture
def team(fleet, make_member):
    """Lin, a Creator with a running Linux host of her own, an operation, a power schedule and
    a month of spend; Vic, a Viewer. Everything a page can show, shown."""
    lin = make_member("lin", "Creator")
    vic = make_member("vic", "Viewer")
    image = next(i for i in fleet.fleet.images if not i.is_windows)
    package = next(p for p in fleet.fleet.packages if p.type == image.type)
    sim_host = fleet.fleet.add_host(
        name="lin-render-workstation-01",
        status=HostStatus.RUNNING,
        package_id=package.package_id,
        image_id=image.image_id,
    )
    catalog_refresh()
    assert hosts_sync().ok
    Host.objects.filter(pk=sim_host.id).update(owner=lin, owner_name="lin")
    host = Host.objects.get(pk=sim_host.id)
    now = timezone.now()
    operation = Operation.objects.create(
        kind="reboot", state="succeeded", host=host, host_name=host.name, requested_by=lin,
        requested_by_name="lin", finished_at=now, trace_id="5f2c9a7e1b3d4c6f8a0e2b4d6f8a0c2e",
    )  # fmt: skip
    Operation.objects.create(
        kind="create_rental", state="succeeded", requested_by=lin, requested_by_name="lin",
        host_name="rent-01", params={"total_price": "756.00"},
        finished_at=now - timedelta(minutes=1),
    )  # fmt: skip
    services.schedule_create(
        user=lin, host=host, action="power_off", at=time(19, 0), weekdays="01234"
    )
    return {"lin": lin, "vic": vic, "host": host, "operation": operation}


def member_pages(team) -> dict[str, str]:
    return {
        "hosts": "/hosts/",
        "host": f"/hosts/{team['host'].id}/",
        "packages": "/packages/",
        "images": "/images/",
        "operations": "/operations/",
        "operation": f"/operations/{team['operation'].pk}/",
        "spend": "/spend/",
        "budgets": "/budgets/",
        "schedules": "/schedules/",
        "password": "/accounts/password/",
    }


# Each entry of the main navigation: its text, its box, and whether a tap at its middle lands
# on it (nothing covers it).
NAV_ENTRIES_JS = """
() => [...document.querySelectorAll("nav.mainnav a")].map((a) => {
  const box = a.getBoundingClientRect();
  const hit = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
  return {text: a.textContent.trim(), x: box.x, width: box.width, height: box.height,
          y: box.y, tappable: !!hit && hit.closest("nav.mainnav a") === a};
})
"""


def check_nav_reachable(page, viewport, shot: str | None = None) -> None:
    """Every entry of the main navigation can be seen and tapped, on the screen, after opening
    the menu if it is folded; the menu folds again."""
    toggle = page.locator(".menu-toggle")
    folded = toggle.is_visible()
    if folded:
        box = toggle.bounding_box()
        assert box["height"] >= TOUCH_PX and box["width"] >= TOUCH_PX, box
        expect(page.locator("nav.mainnav")).to_be_hidden()
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        if shot:
            shoot(page, shot)
    entries = page.evaluate(NAV_ENTRIES_JS)
    assert len(entries) >= 6
    for entry in entries:
        assert entry["width"] > 0 and entry["tappable"], entry
        assert entry["x"] >= 0 and entry["x"] + entry["width"] <= viewport["width"], entry
        assert entry["y"] + entry["height"] <= viewport["height"], entry
        if folded:
            assert entry["height"] >= TOUCH_PX, entry
    if folded:
        toggle.click()
        expect(page.locator("nav.mainnav")).to_be_hidden()


def check_host_rows_show_name_status_and_actions(page, host) -> None:
    """On a phone, a host's row keeps what matters on the screen: name, status, actions."""
    row = page.locator(f"#host-{host.id}")
    for part in (row.locator(".host-name"), row.locator(".badge"), row.locator(".row-actions")):
        expect(part).to_be_visible()
        box = part.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    buttons = row.locator(".row-actions .button").all()
    assert buttons
    for button in buttons:
        assert button.bounding_box()["height"] >= TOUCH_PX


def check_ssh_command_fits_its_box(page) -> None:
    command = page.locator("#ssh-command")
    expect(command).to_contain_text("ssh -p")
    overflow = command.evaluate("c => c.scrollWidth - c.clientWidth")
    assert overflow <= 0, f"the ssh command is cut off by {overflow}px"
    box, field = command.bounding_box(), page.locator(".copy-field").first.bounding_box()
    assert box["x"] + box["width"] <= field["x"] + field["width"]


def check_chart_labels_can_be_read(page) -> None:
    labels = page.locator("svg.chart text")
    assert labels.count() >= 2  # a member's name and amount
    for label in labels.all():
        height = label.bounding_box()["height"]
        assert height >= READABLE_PX, f"{label.text_content()!r} is {height:.1f}px tall"


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_every_page_fits_the_screen_and_the_header_folds_on_a_phone(
    browser, live_server, team, language, size
):
    viewport = PHONE if size == "phone" else DESKTOP
    with browsing(browser, live_server, viewport=viewport, language=language) as page:
        # Signed out: the sign-in page.
        page.goto(f"{live_server.url}/accounts/login/")
        shoot(page, f"{size}-{language}-sign-in")
        assert sideways_overflow(page) == 0, "sign-in"

        # A Viewer asking to buy: the 403 page, with the whole header.
        sign_in(page, live_server, "vic")
        page.goto(f"{live_server.url}/hosts/new/")
        expect(page.locator(".forbidden")).to_be_visible()
        assert page.errors == [
            "Failed to load resource: the server responded with a status of 403 (Forbidden)"
        ]
        page.errors.clear()
        shoot(page, f"{size}-{language}-403")
        assert sideways_overflow(page) == 0, "403"
        check_nav_reachable(page, viewport)
        page.context.clear_cookies()  # signed out

        sign_in(page, live_server, "lin")
        for name, path in member_pages(team).items():
            page.goto(f"{live_server.url}{path}")
            shoot(page, f"{size}-{language}-{name}")
            assert sideways_overflow(page) == 0, f"{path} scrolls sideways"
            header = page.locator("header.topbar").bounding_box()
            if size == "phone":
                assert header["height"] <= HEADER_SHARE * viewport["height"], (path, header)
            check_nav_reachable(
                page, viewport, f"{size}-{language}-{name}-menu" if name == "hosts" else None
            )
            if name == "hosts" and size == "phone":
                check_host_rows_show_name_status_and_actions(page, team["host"])
            elif name == "host":
                check_ssh_command_fits_its_box(page)
            elif name == "spend":
                check_chart_labels_can_be_read(page)


def test_a_creator_powers_her_host_off_with_her_thumb(browser, live_server, team, worker):
    host = team["host"]
    with browsing(browser, live_server, viewport=PHONE, language="en", touch=True) as page:
        sign_in(page, live_server, "lin")
        page.locator(f"#host-{host.id} .host-name").tap()
        page.wait_for_url(f"**/hosts/{host.id}/")
        badge = page.locator("#host-panel .page-head .badge")
        expect(badge).to_have_text("Running")
        power_off = page.locator("#host-panel .action-bar").get_by_role("button", name="Power off")
        box = power_off.bounding_box()
        assert box["height"] >= TOUCH_PX and box["width"] >= TOUCH_PX, box
        assert box["y"] + box["height"] <= PHONE["height"], "the button is on the first screen"
        power_off.tap()
        expect(badge).to_have_text("Off", timeout=20_000)
        shoot(page, "phone-en-host-powered-off")
        assert sideways_overflow(page) == 0


def test_without_javascript_the_phones_menu_is_shown_unfolded(browser, live_server, team):
    with browsing(browser, live_server, viewport=PHONE, language="en", script=False) as page:
        sign_in(page, live_server, "lin")
        expect(page.locator(".menu-toggle")).to_be_hidden()  # it could not open anything
        for link in page.locator("nav.mainnav a").all():
            expect(link).to_be_visible()
        assert sideways_overflow(page) == 0
