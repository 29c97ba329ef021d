"""A member watches the fleet in a real browser: filters through HTMX with the URL kept in
step, the catalog, and a booting host that turns running without a reload."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from dashboard.services import catalog_refresh, hosts_sync
from tests.e2e.conftest import sign_in
from vmclient.types import HostStatus

pytestmark = pytest.mark.django_db(transaction=True)


def test_filters_swap_the_table_in_place_and_keep_the_url_shareable(
    page, live_server, fleet, member
):
    fleet.fleet.add_host(name="off-box-1", status=HostStatus.OFF)
    assert hosts_sync().ok
    sign_in(page, live_server, member)
    page.evaluate("window.__sameDocument = true")

    page.select_option("select[name=status]", "off")

    expect(page).to_have_url(re.compile(r"status=off"))
    rows = page.locator("tr.host-row")
    expect(rows.filter(has_text="off-box-1")).to_have_count(1)
    for badge in page.locator("tr.host-row .badge").all_inner_texts():
        assert badge == "Off"
    assert page.evaluate("window.__sameDocument") is True  # swapped by htmx, not reloaded

    # The URL is a link to share: opening it anew shows the same filtered table.
    page.goto(page.url)
    expect(page.locator("select[name=status]")).to_have_value("off")
    expect(page.locator("tr.host-row").filter(has_text="off-box-1")).to_have_count(1)


def test_a_booting_host_turns_running_without_a_reload(page, live_server, fleet, member):
    booting = fleet.fleet.add_host(name="warming-up", status=HostStatus.BOOTING)
    assert hosts_sync().ok
    sign_in(page, live_server, member)
    row = page.locator(f"#host-{booting.id}")
    expect(row.locator(".badge")).to_have_text("Booting")
    page.evaluate("window.__sameDocument = true")

    fleet.clock.advance(60)
    assert hosts_sync().ok

    expect(row.locator(".badge")).to_have_text("Running", timeout=10_000)
    assert page.evaluate("window.__sameDocument") is True


def test_the_catalog_lists_templates_with_their_compatible_images(page, live_server, fleet, member):
    catalog_refresh()
    sign_in(page, live_server, member)
    page.click("nav >> text=Templates")
    expect(page).to_have_url(re.compile(r"/packages/"))
    first_template = fleet.fleet.packages[0]
    row = page.locator("tr", has_text=first_template.package_id)
    expect(row).to_have_count(1)
    compatible = [i for i in fleet.fleet.images if i.type == first_template.type]
    assert compatible
    for image in compatible:
        expect(row).to_contain_text(image.system_image_version)
