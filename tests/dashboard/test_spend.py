"""Spend figures on a known history: pay-as-you-go hours times the confirmed hourly price, plus
rentals, per host, per member and per month; and the status history the sync records."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from dashboard import selectors, services
from dashboard.models import HostStatusChange, Operation
from dashboard.selectors import Basis, Figure
from vmclient.types import BillingType, HostStatus

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOVEMBER = date(2026, 11, 1)
AFTER_NOVEMBER = datetime(2026, 12, 10, tzinfo=SHANGHAI)


def confirmed(amount: str) -> Figure:
    return Figure.exact(Decimal(amount), Basis.CONFIRMED)


def at(day, hour, minute=0, month=11):
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def history(make_host, make_member, settings):
    """cleo's render box, bought through the dashboard at ¥4.50/h; an old host nobody bought
    here; bob's rental."""
    settings.TIME_ZONE = "Asia/Shanghai"
    cleo, bob = make_member("cleo", "Creator"), make_member("bob", "Creator")
    render = make_host(
        name="render-01", billing_type=BillingType.PAY_AS_YOU_GO, owner=cleo, owner_name="cleo",
        first_seen_at=at(31, 20, month=10),
    )  # fmt: skip
    Operation.objects.create(
        kind="create_payg", state="succeeded", host=render, requested_by=cleo,
        requested_by_name="cleo", params={"hourly_price": "4.50"}, finished_at=at(1, 9),
    )  # fmt: skip
    old = make_host(
        name="legacy", billing_type=BillingType.PAY_AS_YOU_GO, first_seen_at=at(31, 20, month=10)
    )
    for host, status, moment in [
        (render, HostStatus.OFF, at(31, 20, month=10)),
        (render, HostStatus.RUNNING, at(1, 9)),  # 10 h
        (render, HostStatus.OFF, at(1, 19)),
        (render, HostStatus.BOOTING, at(2, 9)),  # 3 h, booting counts
        (render, HostStatus.RUNNING, at(2, 9, 10)),
        (render, HostStatus.SHUTTING_DOWN, at(2, 11, 50)),
        (render, HostStatus.OFF, at(2, 12)),
        (render, HostStatus.RUNNING, at(30, 23)),  # runs into December: 1 h in November
        (old, HostStatus.RUNNING, at(31, 22, month=10)),  # on before the month began
        (old, None, at(1, 2)),  # gone: 2 h in November
    ]:
        HostStatusChange.objects.create(host=host, status=status, at=moment)
    Operation.objects.create(
        kind="create_rental", state="succeeded", requested_by=bob, requested_by_name="bob",
        host_name="rent-01", params={"total_price": "756.00"}, finished_at=at(5, 10),
    )  # fmt: skip
    return render, old


def test_a_month_of_known_history_adds_up(history):
    render, old = history
    spend = selectors.month_spend(month=NOVEMBER, now=AFTER_NOVEMBER)

    by_host = {h.host_id: h for h in spend.hosts}
    assert by_host[render.id].hours == Decimal("14.00")
    assert by_host[render.id].amount == confirmed("63.00")  # 14 h x ¥4.50
    assert by_host[old.id].hours == Decimal("2.00") and by_host[old.id].amount is None
    assert spend.unpriced_hours == Decimal("2.00")
    assert spend.rental == confirmed("756.00")
    assert spend.total == confirmed("819.00")
    assert spend.by_member() == [("bob", confirmed("756.00")), ("cleo", confirmed("63.00"))]


def test_the_next_month_carries_the_host_that_was_left_running(history):
    render, _old = history
    december = selectors.month_spend(month=date(2026, 12, 1), now=at(1, 3, month=12))
    [host] = december.hosts
    assert host.host_id == render.id and host.hours == Decimal("3.00")  # midnight to 03:00
    assert december.rentals == []


def test_the_spend_page_and_its_csv(client, history, make_member):
    # The page counts up to now: leave out the run that starts on the last evening of the month.
    HostStatusChange.objects.filter(at=at(30, 23)).delete()
    client.force_login(make_member("vic", "Viewer"))  # everyone sees what was spent
    page = client.get("/spend/?month=2026-11").content.decode()
    assert "¥814.50" in page and "¥756.00" in page and "¥58.50" in page
    assert "<svg" in page and 'class="chart-bar basis-confirmed"' in page

    exported = client.get("/spend.csv?month=2026-11").content.decode()
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert {(row["kind"], row["member"], row["amount"], row["basis"]) for row in rows} == {
        ("pay-as-you-go", "cleo", "58.50", "confirmed"),
        ("pay-as-you-go", "", "", "unknown"),
        ("rental", "bob", "756.00", "confirmed"),
    }


@pytest.mark.parametrize("month", ["", "garbage", "2026-13", "1999-01"])
def test_a_bad_month_shows_this_month(client, make_member, month):
    client.force_login(make_member("vic", "Viewer"))
    assert client.get(f"/spend/?month={month}").status_code == 200


def test_the_sync_records_each_status_change_and_the_host_going(sim):
    host = sim.fleet.add_host(status=HostStatus.OFF)
    services.hosts_sync()
    services.hosts_sync()  # nothing changed: nothing recorded
    sim.fleet.hosts[host.id].status = HostStatus.RUNNING
    services.hosts_sync()
    del sim.fleet.hosts[host.id]
    services.hosts_sync()

    statuses = list(
        HostStatusChange.objects.filter(host_id=host.id).values_list("status", flat=True)
    )
    assert statuses == [HostStatus.OFF, HostStatus.RUNNING, None]


def test_the_csv_names_the_host_a_rental_bought(client, history, make_member, make_host):
    rented = make_host(name="rent-02", billing_type=BillingType.RENTAL)
    Operation.objects.create(
        kind="create_rental", state="succeeded", host=rented, host_name="rent-02",
        requested_by_name="bob", params={"total_price": "100.00"}, finished_at=at(6, 10),
    )  # fmt: skip
    client.force_login(make_member("vic", "Viewer"))
    exported = client.get("/spend.csv?month=2026-11").content.decode()
    rentals = {
        row["host"]: row["host_id"]
        for row in csv.DictReader(io.StringIO(exported))
        if row["kind"] == "rental"
    }
    # The one bought before the dashboard knew its host has no id to give; this one has.
    assert rentals == {"rent-01": "", "rent-02": rented.id}


def test_cloud_disks_cost_their_hourly_price_for_every_hour_held_by_their_owner(
    client, history, make_member
):
    from dashboard.models import Disk

    cleo = history[0].owner
    common = {"first_seen_at": at(1, 0), "last_seen_at": at(1, 0), "changed_at": at(1, 0)}
    Disk.objects.create(  # held from Nov 3 08:00 to Nov 4 08:00, then destroyed: 24 h
        id="dk1", name="data-01", size_gb=100, area=0, status=0, price_per_hour=Decimal("0.20"),
        created_at=at(3, 8), gone_at=at(4, 8), owner=cleo, owner_name="cleo", **common,
    )  # fmt: skip
    Disk.objects.create(  # created in October and kept: every hour of November, 720 h
        id="dk2", name="scratch", size_gb=50, area=0, status=2, price_per_hour=Decimal("0.10"),
        created_at=at(20, 8, month=10), owner=None, **common,
    )  # fmt: skip

    spend = selectors.month_spend(month=NOVEMBER, now=AFTER_NOVEMBER)

    by_disk = {d.disk_id: d for d in spend.disks}
    assert by_disk["dk1"].hours == Decimal("24.00")
    assert by_disk["dk1"].amount.high == by_disk["dk1"].amount.low == Decimal("4.80")
    assert by_disk["dk2"].hours == Decimal("720.00")
    assert by_disk["dk2"].amount.high == Decimal("72.00")
    assert spend.disk.high == Decimal("76.80") and spend.disk.basis.slug == "confirmed"
    assert spend.total.high == Decimal("895.80")
    assert dict(spend.by_member())["cleo"].high == Decimal("67.80")  # 63.00 + 4.80
    assert dict(spend.by_member())[""].high == Decimal("72.00")
    assert sum(day.high for _, day in spend.by_day()) == Decimal("895.80")  # disks in the days

    client.force_login(make_member("vic", "Viewer"))
    exported = client.get("/spend.csv?month=2026-11").content.decode()
    rows = [row for row in csv.DictReader(io.StringIO(exported)) if row["kind"] == "disk"]
    assert {(row["host_id"], row["member"], row["amount"]) for row in rows} == {
        ("dk1", "cleo", "4.80"),
        ("dk2", "", "72.00"),
    }


def test_each_chart_has_its_csv(client, history, make_member):
    from dashboard.models import Label

    render, _old = history
    render.labels.add(Label.objects.create(name="=cmd"))  # a label a spreadsheet would run
    client.force_login(make_member("vic", "Viewer"))

    def rows(by):
        text = client.get(f"/spend.csv?month=2026-11&by={by}").content.decode()
        return list(csv.reader(io.StringIO(text)))

    assert rows("member") == [
        ["member", "amount_low", "amount_high", "basis"],
        ["bob", "756.00", "756.00", "confirmed"],
        ["cleo", "63.00", "63.00", "confirmed"],
    ]
    assert rows("label") == [
        ["label", "amount_low", "amount_high", "basis"],
        ["", "756.00", "756.00", "confirmed"],
        ["'=cmd", "63.00", "63.00", "confirmed"],
    ]
    days = rows("day")
    assert days[1:4] == [
        ["2026-11-01", "45.00", "45.00", "confirmed"],  # 10 h at ¥4.50
        ["2026-11-02", "13.50", "13.50", "confirmed"],  # 3 h
        ["2026-11-05", "756.00", "756.00", "confirmed"],  # bob's rental
    ]
    assert days[-1] == ["2026-11-30", "4.50", "4.50", "confirmed"]  # the last evening's hour
    assert client.get("/spend.csv?month=2026-11&by=nothing").status_code == 404


def test_the_page_draws_a_chart_per_member_label_and_day(client, history, make_member):
    client.force_login(make_member("vic", "Viewer"))
    page = client.get("/spend/?month=2026-11").content.decode()
    for name in ("Spend by member", "Spend by label", "Spend by day"):
        assert f'aria-label="{name}"' in page
    assert page.count("This chart as CSV") == 3
    assert "* inferred or estimated" not in page  # every figure here is confirmed


@pytest.mark.parametrize("count", [2, 30])
def test_the_spend_page_costs_a_fixed_number_of_queries(
    client, make_member, make_host, count, django_assert_max_num_queries
):
    from dashboard.models import WalletBalance

    for n in range(count):
        host = make_host(name=f"h{n}", first_seen_at=at(1, 0))
        HostStatusChange.objects.create(host=host, status=HostStatus.RUNNING, at=at(1, 0))
    WalletBalance.objects.create(amount=Decimal("100"), at=at(1, 0))
    client.force_login(make_member("vic", "Viewer"))
    with django_assert_max_num_queries(40):
        assert client.get("/spend/").status_code == 200
