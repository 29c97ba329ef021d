"""The spend page in a browser, at a phone's width and a desktop's: the charts per member, per
label and per day are on the screen with text a person can read, nothing scrolls sideways, every
figure carries its marker, and each chart's CSV link gives that chart's rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from dashboard.models import Host, HostStatusChange, Label, Operation
from tests.dashboard.conftest import host_values
from tests.e2e.test_phone import DESKTOP, PHONE, READABLE_PX, browsing, shoot, sideways_overflow
from tests.e2e.test_phone import sign_in as sign_in_as
from vmclient.types import BillingType, HostStatus

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def history(make_member):
    """Two members' hosts on since the start of the month (or the last 6 hours), one labelled."""
    lin, kai = make_member("lin", "Creator"), make_member("kai", "Creator")
    now = timezone.now()
    month_start = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    since = max(month_start, now - timedelta(hours=6))
    project = Label.objects.create(name="project-with-a-long-name-x")
    for name, owner, price in (
        ("lin-render-workstation-01", lin, "4.50"),
        ("kai-box", kai, "2.00"),
    ):
        host = Host.objects.create(**host_values(
            name=name, owner=owner, owner_name=owner.username, first_seen_at=since,
            billing_type=BillingType.PAY_AS_YOU_GO.value, status=HostStatus.RUNNING.value,
        ))  # fmt: skip
        Operation.objects.create(
            kind="create_payg", state="succeeded", host=host, requested_by=owner,
            requested_by_name=owner.username, params={"hourly_price": price}, finished_at=since,
        )  # fmt: skip
        HostStatusChange.objects.create(host=host, status=HostStatus.RUNNING, at=since)
    Host.objects.get(name="kai-box").labels.add(project)
    return lin


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_spend_page_reads_at_both_widths(browser, live_server, history, size):
    viewport = PHONE if size == "phone" else DESKTOP
    with browsing(browser, live_server, viewport=viewport, language="en") as page:
        sign_in_as(page, live_server, "lin")
        page.goto(f"{live_server.url}/spend/")
        shoot(page, f"{size}-en-spend-charts")
        assert sideways_overflow(page) == 0

        charts = page.locator("svg.chart")
        assert charts.count() == 3  # by member, by label, by day
        for chart in charts.all():
            chart.scroll_into_view_if_needed()
            box = chart.bounding_box()
            assert box["width"] > 0 and box["x"] + box["width"] <= viewport["width"], box
        for label in page.locator("svg.chart text").all():
            height = label.bounding_box()["height"]
            assert height >= READABLE_PX, f"{label.text_content()!r} is {height:.1f}px tall"
        member_chart = page.locator("svg[aria-label='Spend by member']")
        expect(member_chart.locator("text.chart-label").first).to_have_text("lin")
        expect(page.locator(".big-number .basis-confirmed")).to_have_text("confirmed")

        for by, expected in (("member", "lin"), ("label", "project-with-a-long-name-x")):
            link = page.locator(f"a[href*='by={by}']")
            expect(link).to_be_visible()
            response = page.request.get(live_server.url + link.get_attribute("href"))
            assert response.ok and expected in response.text()
            assert response.text().splitlines()[0] == f"{by},amount_low,amount_high,basis"
        day_csv = page.request.get(
            live_server.url + page.locator("a[href*='by=day']").get_attribute("href")
        )
        assert timezone.localdate().strftime("%Y-%m-%d") in day_csv.text()
