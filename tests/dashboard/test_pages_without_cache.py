"""The cache's Redis down: the catalog it holds cannot be read and "refresh now" cannot be
debounced, but no page answers 500. The catalog pages and the create form say what is wrong and
keep asking; "refresh now" says no sync was started; the pages over the mirror do not notice."""

from __future__ import annotations

import pytest

from dashboard.models import Operation
from tests.dashboard.cache_down import cache_unreachable
from tests.dashboard.conftest import PAYG, payg_confirmed
from vmclient.types import HostStatus

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
UNREADABLE = "The catalog cannot be read right now"


@pytest.fixture
def cache_down(redis_server):
    with cache_unreachable(redis_server):
        yield


@pytest.mark.parametrize("url", ["/packages/", "/images/", "/hosts/new/?package=Pi8tcH1NSd"])
def test_catalog_pages_say_the_catalog_cannot_be_read(member_client, cache_down, url):
    page = member_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert UNREADABLE in html
    assert "Catalog loading" not in html
    # The box keeps asking, so the page recovers by itself once the cache is back.
    again = member_client.get(url, headers={**HTMX, "HX-Target": "catalog"})
    assert again.status_code == 200 and UNREADABLE in again.content.decode()


def test_the_price_box_says_the_catalog_cannot_be_read(member_client, cache_down):
    answer = member_client.get("/hosts/new/price/", PAYG, headers=HTMX)
    assert answer.status_code == 200
    assert UNREADABLE in answer.content.decode()


def test_a_confirmed_create_buys_nothing_and_says_why(member_client, cache_down):
    answer = member_client.post("/hosts/new/", payg_confirmed())
    assert answer.status_code == 200
    assert UNREADABLE in answer.content.decode()
    assert Operation.objects.count() == 0


def test_refresh_now_says_no_sync_was_started(member_client, cache_down, enqueued):
    answer = member_client.post("/sync/", follow=True)
    assert answer.status_code == 200
    assert "no sync was started" in answer.content.decode()
    partial = member_client.post("/sync/", headers=HTMX)
    assert partial.status_code == 200
    assert "no sync was started" in partial.content.decode()
    assert enqueued == []


def test_pages_over_the_mirror_do_not_need_the_cache(member_client, make_host, cache_down):
    host = make_host(status=HostStatus.BOOTING)
    for url in ("/hosts/", f"/hosts/{host.id}/", "/operations/", "/spend/", "/schedules/"):
        assert member_client.get(url).status_code == 200, url


def test_an_approval_waits_until_the_price_can_be_checked_again(
    client, make_member, catalog_cached, redis_server, django_capture_on_commit_callbacks
):
    from decimal import Decimal

    from dashboard.models import TeamPolicy

    policy = TeamPolicy.current()
    policy.approval_threshold = Decimal("1")
    policy.save()
    client.force_login(make_member("cleo", "Creator"))
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/hosts/new/", payg_confirmed())
    operation = Operation.objects.get()
    assert operation.state == Operation.State.AWAITING
    client.force_login(make_member("ada", "Admin"))

    with cache_unreachable(redis_server):
        answer = client.post(f"/operations/{operation.pk}/approve/", follow=True)

    assert answer.status_code == 200
    assert UNREADABLE in answer.content.decode()
    operation.refresh_from_db()
    assert operation.state == Operation.State.AWAITING  # nothing bought, nothing lost
