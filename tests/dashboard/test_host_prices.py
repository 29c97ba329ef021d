"""Every host priced: confirmed at purchase, else inferred from the one template it matches, a
range when several match, unknown when none does; on the host list, the host's page and spend."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from dashboard import selectors
from dashboard.models import HostStatusChange, Operation
from dashboard.selectors import Basis, Figure
from vmclient.types import Area, BillingType, HostStatus, Package, Purpose, TemplateUse

pytestmark = pytest.mark.django_db


def package(package_id, name, *, amount, cores=8, memory=32, disk=200, gpu=1, gpu_name="RTX 4090",
            area=Area.SOUTH_CHINA, purpose=Purpose.IMAGE_PROCESSING, discount="1",
            listed_for=BillingType.PAY_AS_YOU_GO, use=TemplateUse.BOTH):  # fmt: skip
    return Package(
        package_id=package_id,
        name=name,
        listed_for=listed_for,
        gpu_number=gpu,
        gpu_name=gpu_name,
        memory_gb=memory,
        disk_gb=disk,
        cpu_cores=cores,
        amount=Decimal(amount),
        discount=Decimal(discount),
        purpose=purpose,
        area=area,
        use_type=use,
    )


@pytest.fixture
def catalog():
    """Two 8-core 4090 boxes that differ only in bandwidth (so a host cannot tell them apart),
    a 16-core one, and a 3090 one in the west, as the catalog refresh caches them."""
    packages = (
        package("p-4090a", "4090 basic", amount="4.00", discount="0.9"),  # ¥3.60 / h
        package("p-4090b", "4090 fast net", amount="4.50"),
        package("p-4090-16", "4090 x16 cores", amount="6.00", cores=16, memory=64),
        package(
            "p-3090",
            "3090 west",
            amount="2.50",
            gpu_name="NVIDIA GeForce RTX 3090",
            area=Area.WEST_CHINA,
        ),
    )
    cache.set(
        selectors.CATALOG_CACHE_KEY,
        {"packages": packages, "images": (), "refreshed_at": timezone.now()},
    )
    return packages


def test_one_matching_template_gives_an_inferred_price(catalog, make_host):
    host = make_host(gpu_description="3090", area=Area.WEST_CHINA.value,
                     purpose=Purpose.IMAGE_PROCESSING.value)  # fmt: skip
    price = selectors.host_price(host)
    assert price.basis is Basis.INFERRED and price.inferred_from == "3090 west"
    assert price.hourly == Figure.exact(Decimal("2.50"), Basis.INFERRED)


def test_several_matching_templates_give_an_estimated_range(catalog, make_host):
    host = make_host(purpose=Purpose.IMAGE_PROCESSING.value)  # 8 cores, 32 GB, 4090, south
    price = selectors.host_price(host)
    assert price.basis is Basis.ESTIMATED and price.inferred_from == ""
    assert price.template_names == ["4090 basic", "4090 fast net"]
    assert (price.hourly.low, price.hourly.high) == (Decimal("3.60"), Decimal("4.50"))


def test_a_field_the_upstream_did_not_give_widens_the_range(catalog, make_host):
    host = make_host(cpu_cores=None, memory_gb=None, purpose=None)
    assert selectors.host_price(host).template_names == [
        "4090 basic",
        "4090 fast net",
        "4090 x16 cores",
    ]


@pytest.mark.parametrize(
    "different",
    [
        {"gpu_number": 2},
        {"gpu_description": "A100"},
        {"disk_gb": 500},
        {"purpose": Purpose.OFFICE.value},
        {"area": Area.INTERNATIONAL.value},
    ],
)
def test_no_matching_template_leaves_the_price_unknown(catalog, make_host, different):
    price = selectors.host_price(make_host(**different))
    assert price.basis is Basis.UNKNOWN and price.hourly is None


def test_a_template_that_cannot_be_bought_as_the_hosts_billing_does_not_match(make_host, catalog):
    only_payg = package(
        "p-payg", "payg only", amount="3.00", cores=4, use=TemplateUse.PAY_AS_YOU_GO_ONLY
    )
    cache.set(selectors.CATALOG_CACHE_KEY, {"packages": (only_payg,), "images": ()})
    rental = make_host(cpu_cores=4, billing_type=BillingType.RENTAL.value)
    assert selectors.host_price(rental).basis is Basis.UNKNOWN
    payg = make_host(cpu_cores=4)
    assert selectors.host_price(payg).inferred_from == "payg only"


def test_without_a_cached_catalog_nothing_is_inferred(make_host):
    assert selectors.host_price(make_host()).basis is Basis.UNKNOWN


def test_a_host_bought_through_the_dashboard_keeps_its_confirmed_price(catalog, make_host):
    host = make_host(purpose=Purpose.IMAGE_PROCESSING.value)
    Operation.objects.create(
        kind="create_payg", state="succeeded", host=host, requested_by_name="cleo",
        params={"hourly_price": "3.99"}, finished_at=timezone.now(),
    )  # fmt: skip
    price = selectors.host_price(host)
    assert price.basis is Basis.CONFIRMED
    assert price.hourly == Figure.exact(Decimal("3.99"))


def test_spend_counts_inferred_and_estimated_hosts_with_their_marker(catalog, make_host):
    now = timezone.now()
    month_start = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    moment = max(month_start, now - timedelta(hours=10))
    west = make_host(name="west", gpu_description="3090", area=Area.WEST_CHINA.value,
                     first_seen_at=moment)  # fmt: skip
    south = make_host(name="south", purpose=Purpose.IMAGE_PROCESSING.value, first_seen_at=moment)
    for host in (west, south):
        HostStatusChange.objects.create(host=host, status=HostStatus.RUNNING, at=moment)
        HostStatusChange.objects.create(
            host=host, status=HostStatus.OFF, at=moment + timedelta(hours=2)
        )
    spend = selectors.month_spend(month=timezone.localdate(), now=moment + timedelta(hours=3))
    by_name = {line.name: line for line in spend.hosts}
    assert by_name["west"].amount == Figure.exact(Decimal("5.00"), Basis.INFERRED)
    assert by_name["south"].amount == Figure(Decimal("7.20"), Decimal("9.00"), Basis.ESTIMATED)
    assert spend.total == Figure(Decimal("12.20"), Decimal("14.00"), Basis.ESTIMATED)


def test_the_host_list_shows_each_hosts_price_and_where_it_comes_from(
    catalog, member_client, make_host
):
    make_host(name="west", gpu_description="3090", area=Area.WEST_CHINA.value)
    make_host(name="south", purpose=Purpose.IMAGE_PROCESSING.value)
    make_host(name="odd", cpu_cores=3)
    page = member_client.get("/hosts/").content.decode()
    assert "¥2.50 / h" in page and "from template 3090 west" in page
    assert "¥3.60–¥4.50 / h" in page and "one of 2 templates" in page
    assert 'class="basis basis-inferred"' in page and 'class="basis basis-estimated"' in page
    assert 'class="basis basis-unknown"' in page


def test_the_host_page_says_what_it_cost_this_month_and_costs_a_day(
    catalog, member_client, make_host
):
    now = timezone.now()
    month_start = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    since = max(month_start, now - timedelta(hours=4))
    host = make_host(gpu_description="3090", area=Area.WEST_CHINA.value, first_seen_at=since)
    HostStatusChange.objects.create(host=host, status=HostStatus.RUNNING, at=since)
    hours = Decimal(int((now - since).total_seconds()) // 36) / 100

    cost = selectors.host_cost(host=host, now=now)
    assert cost.month.low == (Decimal("2.50") * hours).quantize(Decimal("0.01"))
    assert cost.per_day == Figure.exact(Decimal("60.00"), Basis.INFERRED)  # running: 24 h

    page = member_client.get(f"/hosts/{host.id}/").content.decode()
    assert "This month so far" in page and "¥60.00" in page
    assert "inferred from template 3090 west" in page

    host.status = HostStatus.OFF.value
    host.save()
    assert selectors.host_cost(host=host).per_day.high == Decimal("0.00")  # off: nothing a day
