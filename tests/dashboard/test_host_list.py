"""/hosts/: the table, its search, filters, sort and pagination, HTMX partials, bad parameters,
and a query count that does not grow with the fleet."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.models import Host
from vmclient.types import Area, BillingType, HostStatus

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "HX-Target": "host-table"}


def row_ids(response) -> list[str]:
    return [host.id for host in response.context["page"].object_list]


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get("/hosts/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/hosts/")


def test_an_htmx_request_without_a_session_gets_a_client_redirect(client):
    response = client.get(
        "/hosts/live/?v=x:1",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/hosts/?q=a"},
    )
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/accounts/login/?next=/hosts/%3Fq%3Da")


def test_the_table_shows_each_host(member_client, make_host):
    make_host(
        id="QzyHraLXEr",
        name="render-01",
        gpu_number=2,
        gpu_description="RTX 4090",
        cpu_cores=16,
        memory_gb=64,
        disk_gb=500,
        operating_system="Windows Server",
        area=Area.WEST_CHINA,
        billing_type=BillingType.RENTAL,
        status=HostStatus.RUNNING,
        expires_at=timezone.now() + timedelta(days=20),
    )
    response = member_client.get("/hosts/")
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "render-01",
        "QzyHraLXEr",
        'class="badge status-running"',
        "2 × RTX 4090",
        "16 cores · 64 GB · 500 GB",
        "Windows Server",
        "West China",
        "Rental",
        'href="/hosts/QzyHraLXEr/"',
    ):
        assert text in html, text


def test_rentals_about_to_expire_stand_out(member_client, make_host, settings):
    settings.XDS_EXPIRY_WARNING_DAYS = 3
    soon = make_host(billing_type=BillingType.RENTAL, expires_at=timezone.now() + timedelta(days=1))
    later = make_host(
        billing_type=BillingType.RENTAL, expires_at=timezone.now() + timedelta(days=9)
    )
    html = member_client.get("/hosts/").content.decode()
    assert f'<tr id="host-{soon.id}" class="host-row is-expiring"' in html
    assert f'<tr id="host-{later.id}" class="host-row"' in html
    assert html.count("expires soon") == 1


def test_search_matches_name_or_id(member_client, make_host):
    a = make_host(name="alpha-render")
    b = make_host(id="ZZtopHost1", name="beta")
    make_host(name="gamma")
    assert row_ids(member_client.get("/hosts/?q=ALPHA")) == [a.id]
    assert row_ids(member_client.get("/hosts/?q=ztop")) == [b.id]


@pytest.mark.parametrize(
    ("query", "matching"),
    [
        ("status=booting", {"status": HostStatus.BOOTING}),
        ("status=shutting-down", {"status": HostStatus.SHUTTING_DOWN}),
        ("area=international", {"area": Area.INTERNATIONAL}),
        ("billing=rental", {"billing_type": BillingType.RENTAL}),
        ("os=Debian", {"operating_system": "Debian"}),
    ],
)
def test_filters(member_client, make_host, make_hosts, query, matching):
    make_hosts(3)
    wanted = make_host(**matching)
    assert row_ids(member_client.get(f"/hosts/?{query}")) == [wanted.id]


def test_gone_hosts_are_hidden_unless_asked_for(member_client, make_host):
    present = make_host()
    gone = make_host(gone_at=timezone.now())
    assert row_ids(member_client.get("/hosts/")) == [present.id]
    assert row_ids(member_client.get("/hosts/?status=gone")) == [gone.id]
    assert "status-gone" in member_client.get("/hosts/?status=gone").content.decode()


def test_the_changing_filter_lists_hosts_worth_watching(member_client, make_host):
    make_host(status=HostStatus.RUNNING)
    booting = make_host(status=HostStatus.BOOTING)
    charging = make_host(status=HostStatus.CHARGING)
    assert set(row_ids(member_client.get("/hosts/?status=changing"))) == {booting.id, charging.id}


def test_sorting_both_ways(member_client, make_host):
    for name in ("b", "c", "a"):
        make_host(name=name)
    names = lambda r: [h.name for h in r.context["page"].object_list]  # noqa: E731
    assert names(member_client.get("/hosts/?sort=name")) == ["a", "b", "c"]
    assert names(member_client.get("/hosts/?sort=-name")) == ["c", "b", "a"]
    html = member_client.get("/hosts/?sort=name").content.decode()
    assert 'aria-sort="ascending"' in html
    assert 'href="?sort=-name"' in html  # clicking again reverses


def test_newest_first_by_default_and_hosts_without_expiry_sort_last(member_client, make_host):
    now = timezone.now()
    old = make_host(created_at=now - timedelta(days=3))
    new = make_host(created_at=now - timedelta(hours=1))
    assert row_ids(member_client.get("/hosts/")) == [new.id, old.id]
    expiring = make_host(expires_at=now + timedelta(days=5))
    assert row_ids(member_client.get("/hosts/?sort=expires"))[0] == expiring.id
    assert row_ids(member_client.get("/hosts/?sort=-expires"))[0] == expiring.id


def test_server_side_pagination(member_client, make_hosts):
    make_hosts(120)
    first = member_client.get("/hosts/")
    assert len(row_ids(first)) == 50
    assert "120 hosts" in first.content.decode()
    third = member_client.get("/hosts/?page=3")
    assert len(row_ids(third)) == 20
    assert not set(row_ids(first)) & set(row_ids(third))
    assert 'href="?page=2"' in first.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "page=abc",
        "page=-3",
        "page=99999999999999999999",
        "status=zzz",
        "sort=drop%20table",
        "sort=-password",
        "area=moon",
        "billing=free",
        "q=" + "x" * 500,
        "os=%00",
        "page=2&status=zzz&sort=drop%20table&area=",
    ],
)
def test_bad_query_parameters_fall_back_to_defaults(member_client, make_hosts, query):
    make_hosts(3)
    response = member_client.get(f"/hosts/?{query}")
    assert response.status_code == 200
    assert response.context["page"].number == 1


def test_a_page_past_the_end_shows_the_last_page(member_client, make_hosts):
    make_hosts(60)
    assert member_client.get("/hosts/?page=9").context["page"].number == 2


def test_a_bad_value_does_not_drop_the_good_ones(member_client, make_host):
    make_host(status=HostStatus.OFF, area=Area.WEST_CHINA)
    make_host(status=HostStatus.OFF, area=Area.SOUTH_CHINA)
    response = member_client.get("/hosts/?status=zzz&area=west-china&sort=nope")
    assert len(row_ids(response)) == 1
    assert response.context["filters"]["sort"] == "-created"


def test_htmx_gets_only_the_table_and_the_response_varies_on_it(member_client, make_hosts):
    make_hosts(3)
    full = member_client.get("/hosts/?status=running")
    partial = member_client.get("/hosts/?status=running", headers=HTMX)
    assert "HX-Request" in full["Vary"] and "HX-Request" in partial["Vary"]
    assert full.content.decode().startswith("<!doctype html>")
    html = partial.content.decode()
    assert "<html" not in html and '<form class="filters"' not in html
    assert html.lstrip().startswith('<div id="host-table"')
    # The filter form's hidden sort follows the table's (out of band).
    assert 'id="filter-sort" value="-created" hx-swap-oob="true"' in html


def test_a_history_restore_gets_the_whole_page(member_client):
    response = member_client.get(
        "/hosts/?q=x", headers={**HTMX, "HX-History-Restore-Request": "true"}
    )
    assert response.content.decode().startswith("<!doctype html>")


def test_links_work_without_javascript_and_push_the_url(member_client, make_hosts):
    make_hosts(60)
    html = member_client.get("/hosts/?status=running").content.decode()
    assert 'href="?status=running&amp;page=2" hx-get="?status=running&amp;page=2"' in html
    assert 'hx-push-url="true"' in html


def test_a_settled_page_polls_at_the_slow_interval(member_client, make_hosts, settings):
    settings.XDS_POLL_SETTLED_SECONDS = 15
    make_hosts(5, status=HostStatus.RUNNING)
    html = member_client.get("/hosts/").content.decode()
    assert html.count('hx-trigger="every') == 1
    assert 'hx-trigger="every 15s, xds:poll"' in html


def test_one_poller_for_the_page_whatever_the_number_of_changing_rows(member_client, make_hosts):
    booting = make_hosts(7, status=HostStatus.BOOTING)
    make_hosts(5, status=HostStatus.RUNNING)
    html = member_client.get("/hosts/").content.decode()
    assert html.count('hx-trigger="every') == 1
    poller = html[html.index('id="host-poller"') :].split(">", 1)[0]
    for host in booting:
        assert f"{host.id}%3A{host.version}" in poller


@pytest.mark.parametrize("count", [10, 500])
def test_queries_do_not_grow_with_the_fleet(
    member_client, make_hosts, count, django_assert_max_num_queries
):
    """Session, user, the member's permissions, sync state, mirror version, count, page, the
    labels, the leases, the operations in flight and the purchase prices on the page; the full
    page adds the OS, owner and label lists, the summary and the expiry counts."""
    make_hosts(count // 2, status=HostStatus.BOOTING)
    make_hosts(count - count // 2)
    with django_assert_max_num_queries(16):
        assert member_client.get("/hosts/?sort=name&billing=payg").status_code == 200
    with django_assert_max_num_queries(11):
        assert member_client.get("/hosts/?page=2", headers=HTMX).status_code == 200
    assert Host.objects.count() == count
