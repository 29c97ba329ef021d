"""A page left open stays true: a Viewer watching a running host on /hosts/ (nothing on it is
changing, so it polls at the slow interval) sees the power-off an Operator makes from another
browser, without reloading."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from dashboard.models import Host
from dashboard.services import hosts_sync
from tests.dashboard.workers import in_process_worker, own_queue
from tests.e2e.conftest import sign_in
from vmclient.types import HostStatus

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker(fleet, settings):
    settings.XDS_ACTION_POLL_SECONDS = 0.5
    fleet.config.shutdown_seconds = 1.0
    fleet.config.charging_seconds = 1.0
    with own_queue(), in_process_worker():
        yield


def test_a_viewers_settled_page_shows_an_operators_power_off(
    page, browser, live_server, fleet, worker, member, make_member, settings
):
    settings.XDS_POLL_SETTLED_SECONDS = 2
    sim_host = fleet.fleet.add_host(name="watched-1", status=HostStatus.RUNNING)
    assert hosts_sync().ok
    assert Host.objects.filter(pk=sim_host.id, status=HostStatus.RUNNING).exists()

    sign_in(page, live_server, member)  # Mei, a Viewer, watches it (and only it: settled)
    page.goto(f"{live_server.url}/hosts/?q=watched-1")
    row = page.locator(f"#host-{sim_host.id}")
    expect(row.locator(".badge")).to_have_text("Running")
    poller = page.locator("#host-poller")
    expect(poller).to_have_attribute("hx-trigger", "every 2s, xds:poll")

    otto = make_member("otto", "Operator")
    other = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")
    try:
        operator = other.new_page()
        sign_in(operator, live_server, otto)
        operator.goto(f"{live_server.url}/hosts/{sim_host.id}/")
        operator.locator("#host-panel .action-bar").get_by_role("button", name="Power off").click()
        expect(operator.locator("#host-panel")).to_contain_text("Power off by otto")
    finally:
        other.close()

    # Mei's page, untouched, gets the action in flight and then the host off.
    expect(row).to_contain_text("Power off by otto", timeout=10_000)
    expect(row.locator(".badge")).to_have_text("Off", timeout=20_000)
    expect(row).not_to_contain_text("Power off by otto")
    expect(poller).to_have_attribute("hx-trigger", "every 2s, xds:poll")  # settled again
