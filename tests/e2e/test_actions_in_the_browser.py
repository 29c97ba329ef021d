"""A member buys a host, watches it boot, powers it off and on, reads why a reboot was refused,
and deletes it — in a real browser, with a real Celery worker doing the work against the
simulator. Nothing on the way needs a reload."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from dashboard.models import Operation
from dashboard.services import catalog_refresh, hosts_sync
from tests.dashboard.workers import in_process_worker, own_queue
from tests.e2e.conftest import sign_in
from vmclient.types import HostStatus

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def buyer(make_member):
    """Lin, a Creator: she buys hosts and powers, reboots and deletes the ones she owns."""
    return make_member("lin", "Creator")


@pytest.fixture
def worker(fleet, settings):
    settings.XDS_ACTION_POLL_SECONDS = 0.5
    fleet.config.boot_seconds = 6.0
    fleet.config.shutdown_seconds = 2.0
    fleet.config.charging_seconds = 1.0
    with own_queue(), in_process_worker():
        yield


def _payg_template(sim):
    return next(
        p for p in sim.fleet.packages if p.use_type in (0, 2) and p.type == "BL" and p.gpu_number
    )


def test_buy_watch_power_refuse_and_delete_a_host(page, live_server, fleet, worker, buyer):
    catalog_refresh()
    assert hosts_sync().ok
    template = _payg_template(fleet)
    sign_in(page, live_server, buyer)

    # Buy: from the catalog, a template, one of its images, pay-as-you-go, review, confirm.
    page.get_by_role("link", name="Templates").click()
    page.locator("tr", has_text=template.package_id).get_by_role("link", name="Create").click()
    page.get_by_label("Pay-as-you-go").check()
    page.get_by_role("button", name="Review the order").click()
    expect(page.locator(".create-review")).to_contain_text("/ h")
    page.evaluate("window.__sameDocument = true")
    page.get_by_role("button", name="Confirm and buy").click()

    card = page.locator(".operation-card")
    host_link = card.locator("a[href^='/hosts/']")
    expect(host_link).to_have_count(1, timeout=15_000)  # the worker bought it and knows its id
    new_ids = [h for h in fleet.fleet.hosts.values() if h.package_id == template.package_id]
    assert len(new_ids) == 1, "exactly one host was bought"
    assert fleet.request_count("/v1/pve/open/createquantity") == 1
    assert page.evaluate("window.__sameDocument") is True

    # Watch it boot, on its page, without reloading.
    host_link.click()
    badge = page.locator("#host-panel .page-head .badge")
    expect(badge).to_have_text("Booting")
    page.evaluate("window.__sameDocument = true")
    expect(badge).to_have_text("Running", timeout=20_000)
    assert page.evaluate("window.__sameDocument") is True
    actions = page.locator("#host-panel .action-bar")
    expect(actions.get_by_role("button", name="Reboot")).to_be_visible()

    # Power off: the reboot button goes away while it is off.
    actions.get_by_role("button", name="Power off").click()
    expect(badge).to_have_text("Off", timeout=20_000)
    expect(actions.get_by_role("button", name="Reboot")).to_have_count(0)
    expect(actions.get_by_role("button", name="Power on")).to_be_visible()

    # Power on again, then someone stops it behind the dashboard's back (in the provider's
    # console): the page still offers a reboot, and the refusal says why.
    actions.get_by_role("button", name="Power on").click()
    expect(badge).to_have_text("Running", timeout=20_000)
    host_id = page.url.rstrip("/").rsplit("/", 1)[1]
    fleet.fleet.hosts[host_id].status = HostStatus.OFF
    actions.get_by_role("button", name="Reboot").click()
    expect(page.locator("#host-panel")).to_contain_text("Reboot by lin")
    refused = Operation.objects.get(kind="reboot", host_id=host_id)
    page.goto(f"{live_server.url}/operations/{refused.pk}/")
    expect(page.locator(".operation-card .badge")).to_have_text("Failed", timeout=15_000)
    expect(page.locator(".operation-card")).to_contain_text("7004")
    expect(page.locator(".operation-card")).to_contain_text("not running")

    # Delete: the name must be typed; the host is gone upstream and marked gone here.
    assert hosts_sync().ok
    page.goto(f"{live_server.url}/hosts/{host_id}/delete/")
    name = page.locator(".delete-form code").inner_text()
    page.get_by_role("textbox").fill(name)
    page.get_by_role("button", name="Delete the host").click()
    expect(page.locator(".operation-card .badge, #host-panel .badge").first).to_have_text(
        re.compile("Succeeded|Gone"), timeout=20_000
    )
    assert host_id not in fleet.fleet.hosts
