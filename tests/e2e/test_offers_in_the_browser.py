"""What a page offers, as only a browser shows it: the bulk buttons wait until a host is ticked,
and the create form shows the rental's fields only when a rental is chosen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from dashboard.services import catalog_refresh, hosts_sync
from tests.e2e.conftest import sign_in
from vmclient.types import HostStatus

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_bulk_buttons_wait_until_a_host_is_ticked(page, live_server, fleet, make_member):
    host = fleet.fleet.add_host(name="render-tick", status=HostStatus.RUNNING)
    assert hosts_sync().ok
    sign_in(page, live_server, make_member("otto", "Operator"))

    bar = page.locator("#bulk-form")
    buttons = [bar.get_by_role("button", name=name) for name in ("Power on", "Power off", "Reboot")]
    for button in buttons:
        expect(button).to_be_disabled()

    page.locator(f"#pick-{host.id}").check()
    for button in buttons:
        expect(button).to_be_enabled()
    page.locator(f"#pick-{host.id}").uncheck()
    expect(buttons[0]).to_be_disabled()

    # "Select all" ticks the boxes: the buttons are ready.
    page.locator("[data-select-all]").check()
    expect(buttons[2]).to_be_enabled()
    page.locator("[data-select-all]").uncheck()
    expect(buttons[2]).to_be_disabled()


def test_the_rental_period_shows_only_while_a_rental_is_chosen(
    page, live_server, fleet, make_member
):
    catalog_refresh()
    both = next(p for p in fleet.fleet.packages if p.use_type == 2)  # either billing
    sign_in(page, live_server, make_member("lin", "Creator"))
    page.goto(f"{live_server.url}/hosts/new/?package={both.package_id}")

    period = page.locator(".rental-fields")
    page.get_by_label("Pay-as-you-go").check()
    expect(period).to_be_hidden()
    expect(page.locator("#create-price")).to_contain_text("/ h")

    page.get_by_role("radio", name="Rental").check()
    expect(period).to_be_visible()
    expect(page.locator("#create-price .price-total")).to_contain_text("Total, paid up front")
