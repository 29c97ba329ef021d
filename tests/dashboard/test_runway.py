"""The runway: the balance an admin recorded (or a refusal for money taught), less the spend
since, at the current burn of the pay-as-you-go hosts on; the alert when it falls below
XDS_RUNWAY_ALERT_HOURS, once per record."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from dashboard import services
from dashboard.models import (
    AuditEvent,
    HostStatusChange,
    Notification,
    Operation,
    WalletBalance,
)
from dashboard.selectors.runway import runway_get
from vmclient.types import BillingType, HostStatus

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("deliver_notifications_at_once")]


@pytest.fixture
def start():
    return timezone.now() - timedelta(hours=10)


@pytest.fixture
def burning(make_host, start):
    """A box bought at ¥5.00 / h, running since `start`."""
    host = make_host(name="render-01", billing_type=BillingType.PAY_AS_YOU_GO.value,
                     status=HostStatus.RUNNING.value, first_seen_at=start)  # fmt: skip
    Operation.objects.create(
        kind="create_payg", state="succeeded", host=host, requested_by_name="cleo",
        params={"hourly_price": "5.00"}, finished_at=start,
    )  # fmt: skip
    HostStatusChange.objects.create(host=host, status=HostStatus.RUNNING, at=start)
    return host


def check(now, capture):
    with capture(execute=True):
        return services.runway_check(now=now)


def test_the_runway_falls_below_its_threshold_and_is_told_once(
    ada, burning, start, settings, django_capture_on_commit_callbacks, mailoutbox
):
    settings.XDS_RUNWAY_ALERT_HOURS = 18
    services.wallet_record(user=ada, amount=Decimal("100.00"), at=start)
    capture = django_capture_on_commit_callbacks

    runway = runway_get(now=start + timedelta(hours=1))
    assert runway.balance.high == Decimal("95.00") and runway.hours_shown == Decimal("19.0")
    assert check(start + timedelta(hours=1), capture) == 0
    assert check(start + timedelta(hours=2), capture) == 0  # 90 / 5 = 18 h: not below
    assert check(start + timedelta(hours=3), capture) == 1  # 85 / 5 = 17 h
    assert check(start + timedelta(hours=4), capture) == 0  # told already

    told = Notification.objects.get(kind=Notification.Kind.RUNWAY)
    assert told.subject == "The wallet lasts about 17.0 h at the current burn"
    assert "then these hosts and disks stop: render-01" in told.body and told.recipients == ["ada"]
    assert mailoutbox[0].to == ["ada@example.test"]

    # A top-up is a new record: the count starts again.
    services.wallet_record(user=ada, amount=Decimal("1000.00"), at=start + timedelta(hours=5))
    assert check(start + timedelta(hours=6), capture) == 0
    assert AuditEvent.objects.filter(action=AuditEvent.Action.WALLET_RECORDED).count() == 2


def test_the_spend_page_says_how_long_the_wallet_lasts(client, ada, burning, start):
    services.wallet_record(user=ada, amount=Decimal("100.00"), at=start)  # 10 h ago: ¥50 spent
    client.force_login(ada)
    page = client.get("/spend/").content.decode()
    assert "About 10.0 hours left, then these hosts stop:" in page and "render-01" in page
    assert "Record the balance" in page


def test_without_a_record_the_page_asks_for_one(client, make_member, burning):
    client.force_login(make_member("vic", "Viewer"))
    page = client.get("/spend/").content.decode()
    assert "record the wallet's balance when you top up" in page
    assert "Record the balance" not in page  # only admins record it


def test_a_refusal_for_lack_of_balance_teaches_a_bound(
    catalog_cached, ask, run, burning, django_capture_on_commit_callbacks
):
    catalog_cached.config.wallet_balance = 0
    with django_capture_on_commit_callbacks(execute=True):
        operation = run(
            ask("create_rental", package_id="Pi8tcH1NSd", image_id="8991", period_type=3,
                period_number=1)
        )  # fmt: skip
    assert operation.error_code == "9001"
    record = WalletBalance.objects.get()
    assert record.source == WalletBalance.Source.REFUSED and record.is_upper_bound
    assert record.amount == Decimal(operation.params["total_price"])
    assert record.operation == operation

    runway = runway_get()
    assert runway.is_upper_bound and runway.hours_shown is not None


def test_an_admin_records_the_balance_in_the_admin(client, ada, make_member):
    client.force_login(ada)
    response = client.post(
        "/admin/dashboard/walletbalance/add/", {"amount": "250.00", "note": "topped up"}
    )
    assert response.status_code == 302
    record = WalletBalance.objects.get()
    assert record.amount == Decimal("250.00") and record.recorded_by_name == "ada"
    assert (
        client.post("/admin/dashboard/walletbalance/add/", {"amount": "-1"}).status_code == 200
    )  # refused: a balance is not negative
    assert WalletBalance.objects.count() == 1
    client.force_login(make_member("cleo", "Creator"))
    assert client.get("/admin/dashboard/walletbalance/add/").status_code in (302, 403)


def _disk(id, name, price, start, owner=None):
    from dashboard.models import Disk

    return Disk.objects.create(
        id=id, name=name, size_gb=100, area=0, status=0, price_per_hour=price, created_at=start,
        first_seen_at=start, last_seen_at=start, changed_at=start, owner=owner,
        owner_name=owner.username if owner else "",
    )  # fmt: skip


def test_a_disk_held_burns_the_wallet_and_stops_with_the_hosts(
    client, ada, burning, start, settings, django_capture_on_commit_callbacks
):
    # ¥5.00 / h for the host and ¥1.00 / h for an unmounted disk, held since `start`.
    _disk("dk-1", "data-01", Decimal("1.00"), start)
    gone = _disk("dk-2", "old-scratch", Decimal("9.00"), start)
    gone.gone_at = start  # destroyed: it burns nothing now, and cost nothing since
    gone.save()
    services.wallet_record(user=ada, amount=Decimal("120.00"), at=start)

    runway = runway_get(now=start + timedelta(hours=10))
    assert runway.burn.hourly.high == runway.burn.hourly.low == Decimal("6.00")
    assert [d.id for d in runway.burn.disks] == ["dk-1"]
    assert runway.balance.high == Decimal("60.00")  # 120 - 10 h x (5 + 1)
    assert runway.hours_shown == Decimal("10.0")  # 60 / 6, not 60 / 5

    client.force_login(ada)
    page = client.get("/spend/").content.decode()
    assert "then these hosts stop:" in page and "; and 1 disk:" in page
    assert "data-01" in page and "old-scratch" not in page

    settings.XDS_RUNWAY_ALERT_HOURS = 18
    with django_capture_on_commit_callbacks(execute=True):
        assert services.runway_check(now=start + timedelta(hours=10)) == 1
    told = Notification.objects.get(kind=Notification.Kind.RUNWAY)
    assert "At ¥6.00 an hour" in told.body
    assert "then these hosts and disks stop: render-01, data-01" in told.body


def test_disks_alone_burn_the_wallet(client, ada, start):
    _disk("dk-1", "data-01", Decimal("2.00"), start)
    services.wallet_record(user=ada, amount=Decimal("100.00"), at=start)  # 10 h: ¥20 spent
    client.force_login(ada)
    page = client.get("/spend/").content.decode()
    assert "About 40.0 hours left, then these disks stop:" in page and "data-01" in page
    assert "then these hosts stop" not in page
