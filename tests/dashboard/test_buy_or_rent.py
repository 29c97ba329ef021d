"""Buy or rent on a known November: a pay-as-you-go host on long enough that a monthly rental
would have been cheaper, one that was not, and a rental barely used; per host and per member."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.utils import timezone

from dashboard import selectors
from dashboard.models import HostStatusChange, Operation
from dashboard.selectors.buy_or_rent import buy_or_rent
from vmclient.types import Area, BillingType, HostStatus, Package, Purpose, TemplateUse

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOVEMBER = date(2026, 11, 1)
AFTER = datetime(2026, 12, 10, tzinfo=SHANGHAI)


def at(day, hour, month=11):
    return datetime(2026, month, day, hour, tzinfo=SHANGHAI)


def copy(listed_for, amount, discount):
    return Package(
        package_id="p-4090", name="4090 box", listed_for=listed_for, gpu_number=1,
        gpu_name="RTX 4090", memory_gb=32, disk_gb=200, cpu_cores=8, amount=Decimal(amount),
        discount=Decimal(discount), purpose=Purpose.IMAGE_PROCESSING, area=Area.SOUTH_CHINA,
        use_type=TemplateUse.BOTH,
    )  # fmt: skip


@pytest.fixture
def november(settings, make_host, make_member):
    """The template at ¥4.00 / h pay-as-you-go, and ¥2.00 / h rented (a month: ¥1,440).
    cleo's box on 400 h, dan's on 10 h, bob's rental (not bought here) on 5 h all month."""
    settings.TIME_ZONE = "Asia/Shanghai"
    cache.set(
        selectors.CATALOG_CACHE_KEY,
        {
            "packages": (
                copy(BillingType.PAY_AS_YOU_GO, "4.00", "1"),
                copy(BillingType.RENTAL, "4.00", "0.5"),
            ),
            "images": (),
            "refreshed_at": timezone.now(),
        },
    )
    spec = {"purpose": Purpose.IMAGE_PROCESSING.value, "first_seen_at": at(1, 0, month=10)}
    cleo, dan, bob = (make_member(name, "Creator") for name in ("cleo", "dan", "bob"))
    busy = make_host(name="busy", owner=cleo, owner_name="cleo", **spec)
    Operation.objects.create(
        kind="create_payg", state="succeeded", host=busy, requested_by=cleo,
        requested_by_name="cleo", params={"hourly_price": "4.00"}, finished_at=at(1, 0, 10),
    )  # fmt: skip
    light = make_host(name="light", owner=dan, owner_name="dan", **spec)
    rental = make_host(
        name="rented", owner=bob, owner_name="bob", billing_type=BillingType.RENTAL.value,
        created_at=at(20, 0, month=10), expires_at=at(20, 0, month=12), **spec,
    )  # fmt: skip
    for host, status, moment in [
        (busy, HostStatus.RUNNING, at(1, 0)),
        (busy, HostStatus.OFF, at(17, 16)),  # 400 h: ¥1,600
        (light, HostStatus.RUNNING, at(3, 8)),
        (light, HostStatus.OFF, at(3, 18)),  # 10 h: ¥40
        (rental, HostStatus.OFF, at(1, 0, month=10)),
        (rental, HostStatus.RUNNING, at(9, 9)),
        (rental, HostStatus.OFF, at(9, 14)),  # 5 h
    ]:
        HostStatusChange.objects.create(host=host, status=status, at=moment)


def test_what_the_other_billing_type_would_have_saved(november):
    spend = selectors.month_spend(month=NOVEMBER, now=AFTER)
    result = buy_or_rent(spend, now=AFTER)

    by_host = {saving.name: saving for saving in result.savings}
    assert set(by_host) == {"busy", "rented"}  # light's ¥40 is far below a month's rental
    busy = by_host["busy"]
    assert busy.kind == "rent" and busy.hours == Decimal("400.00")
    assert busy.paid.high == Decimal("1600.00") and busy.instead.high == Decimal("1440.00")
    assert busy.saved == Decimal("160.00")
    rented = by_host["rented"]
    assert rented.kind == "payg" and rented.hours == Decimal("5.00")
    assert rented.paid.high == Decimal("1440.00")  # all of November held at ¥2.00 / h
    assert rented.instead.high == Decimal("20.00")  # 5 h at ¥4.00
    assert rented.saved == Decimal("1420.00")
    assert result.by_member() == [("bob", Decimal("1420.00")), ("cleo", Decimal("160.00"))]


def test_the_spend_page_says_what_renting_would_have_saved(november, client, make_member):
    client.force_login(make_member("vic", "Viewer"))
    page = client.get("/spend/?month=2026-11").content.decode()
    assert "a monthly rental would have saved ¥160.00" in page
    assert "pay-as-you-go would have saved ¥1,420.00" in page
