"""/packages/ and /images/: the cached catalog, never fetched during a request."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.utils import timezone

from dashboard import services
from dashboard.models import SyncState
from dashboard.selectors import CATALOG_CACHE_KEY
from dashboard.upstream import build_client
from vmclient.simulator import Fault

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(sim):
    assert services.catalog_refresh() is not None
    return sim


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    assert client.get("/packages/").status_code == 302
    assert client.get("/images/").status_code == 302


def test_the_refresh_caches_both_billing_types_and_the_images(catalog):
    cached = cache.get(CATALOG_CACHE_KEY)
    assert len(cached["images"]) == 9
    assert {p.listed_for for p in cached["packages"]} == {0, 1}
    assert SyncState.objects.get(job=SyncState.Job.CATALOG).item_count == len(cached["packages"])


def test_templates_show_specs_prices_billing_and_compatible_images(member_client, catalog):
    response = member_client.get("/packages/")
    assert response.status_code == 200
    html = response.content.decode()
    row = html[html.index('<tr id="package-Pi8tcH1NSd">') :].split("</tr>", 1)[0]
    for text in (
        "图像处理-Ubuntu",
        "1 × GeForce RTX 3090 24G",
        "16 cores · 16 GB · 512 GB",
        "International",
        "Pay-as-you-go",
        "Rental",
        "¥4.50 / h",  # 5.00 with 10% off
        "before discount ¥5.00",
        "Windows Server 2022 数据中心中文版 x64",
        "Ubuntu Server 22.04 LTS x64",
    ):
        assert text in row, text
    assert "Debian" not in row  # a BL/ceph image, not of this template's type
    # A template listed for both billing types appears once.
    assert html.count('id="package-Pi8tcH1NSd"') == 1


def test_templates_filter_by_billing_and_area(member_client, catalog):
    rental_only = member_client.get("/packages/?billing=rental").context["catalog"].templates
    assert rental_only
    assert all(1 in row.billing_types for row in rental_only)
    west = member_client.get("/packages/?area=west-china").context["catalog"].templates
    assert west and all(row.package.area == 1 for row in west)


@pytest.mark.parametrize("query", ["billing=9", "area=moon", "billing=&area=%ff", "page=abc"])
def test_bad_catalog_parameters_fall_back_to_everything(member_client, catalog, query):
    response = member_client.get(f"/packages/?{query}")
    assert response.status_code == 200
    assert len(response.context["catalog"].templates) == 10


def test_the_catalog_filter_swaps_only_the_catalog_for_htmx(member_client, catalog):
    response = member_client.get("/packages/?billing=payg", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="catalog">')
    assert "HX-Request" in response["Vary"]


def test_images_are_grouped_by_system(member_client, catalog):
    response = member_client.get("/images/")
    assert response.status_code == 200
    groups = response.context["catalog"].image_groups
    assert [g.system for g in groups] == ["Debian", "Ubuntu Server", "Windows", "Windows Server"]
    ubuntu = next(g for g in groups if g.system == "Ubuntu Server")
    assert {r.image.image_id for r in ubuntu.images} == {"8991", "9103", "9201"}
    assert all(r.template_count > 0 for r in ubuntu.images)
    html = response.content.decode()
    assert '<tr id="image-8989">' in html


def test_an_empty_cache_shows_loading_and_asks_the_worker_once(member_client, db, enqueued):
    response = member_client.get("/packages/")
    assert response.status_code == 200
    assert "Catalog loading" in response.content.decode()
    assert 'hx-trigger="every 5s"' in response.content.decode()
    assert enqueued == ["dashboard.tasks.refresh_catalog"]
    member_client.get("/images/")
    assert enqueued == ["dashboard.tasks.refresh_catalog"]  # asked a moment ago


def test_a_failed_refresh_keeps_the_cached_catalog_and_shows_the_error(member_client, catalog):
    catalog.add_fault(Fault(kind="error_500", path="/v1/pve/open/image", times=None))

    assert services.catalog_refresh(client=build_client(retries=0)) is None

    assert cache.get(CATALOG_CACHE_KEY) is not None
    html = member_client.get("/packages/").content.decode()
    assert "Templates and images cannot be refreshed" in html
    assert '<tr id="package-Pi8tcH1NSd">' in html


def test_catalog_pages_cost_a_fixed_number_of_queries(
    member_client, catalog, django_assert_max_num_queries
):
    # Session, user, and the member's permissions (their own and their roles', one query).
    with django_assert_max_num_queries(4):
        member_client.get("/packages/")
    # /images/ also reads the personal image mirror: the images and their operations in flight,
    # the image creates not yet found, the mirror's version (two), how the last listing went.
    with django_assert_max_num_queries(10):
        member_client.get("/images/")


def test_the_images_page_costs_as_many_queries_with_many_personal_images(
    member_client, catalog, make_host, django_assert_max_num_queries
):
    from dashboard.models import PersonalImage

    now = timezone.now()
    for n in range(30):
        PersonalImage.objects.create(
            id=str(5000 + n), name=f"image-{n}", status=n % 4, first_seen_at=now,
            last_seen_at=now, changed_at=now,
        )  # fmt: skip
    with django_assert_max_num_queries(10):
        html = member_client.get("/images/").content.decode()
    assert html.count('class="image-row') == 30
