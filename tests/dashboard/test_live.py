"""The pages' polls. A page polls with the version of what it shows: 204 (nothing rendered) while
nothing moved, only the rows that moved when some did, the whole table when its rows are no
longer the same ones. Fast while something on it is changing, slow once settled, but never
stopped: a host can change at any time by another path (another member, a schedule, the
provider's console seen by the sync)."""

from __future__ import annotations

import html
import re
import uuid

import pytest
from django.db.models import F
from django.utils import timezone

from dashboard import services
from dashboard.models import Host, Operation, SyncState
from vmclient.types import HostStatus

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
POLLER = re.compile(r'<div id="host-poller"[^>]*?hx-get="([^"]+)"[^>]*?hx-trigger="every (\d+)s')


def poller(page) -> tuple[str, int]:
    """The poll URL and interval (seconds) of the page or poll answer."""
    match = POLLER.search(page.content.decode())
    assert match, "the page has a poller"
    return html.unescape(match.group(1)), int(match.group(2))


def change(host, **values):
    """What a sync does to a host that changed upstream."""
    Host.objects.filter(id=host.id).update(
        **values, version=F("version") + 1, changed_at=timezone.now()
    )


@pytest.fixture
def slow_poll(settings):
    settings.XDS_POLL_SECONDS = 5
    settings.XDS_POLL_SETTLED_SECONDS = 15


def test_a_settled_page_keeps_polling_slowly_and_answers_204(member_client, make_hosts, slow_poll):
    make_hosts(3, status=HostStatus.RUNNING)
    url, seconds = poller(member_client.get("/hosts/"))
    assert seconds == 15
    response = member_client.get(url, headers=HTMX)
    assert response.status_code == 204
    assert response.content == b""


def test_a_page_with_a_changing_row_polls_fast(member_client, make_hosts, slow_poll):
    make_hosts(2, status=HostStatus.RUNNING)
    make_hosts(1, status=HostStatus.BOOTING)
    assert poller(member_client.get("/hosts/"))[1] == 5


def test_a_power_off_seen_at_the_console_reaches_a_settled_page(
    member_client, mirrored, sim, slow_poll
):
    """Someone powers the host off at the provider's console: the next sync mirrors it, and the
    page that was showing it "Running" (settled, polling slowly) gets the row."""
    running = mirrored(status=HostStatus.RUNNING, name="render-1")
    other = mirrored(status=HostStatus.RUNNING, name="render-2")
    page = member_client.get("/hosts/")
    assert f'id="host-{running.id}"' in page.content.decode()
    url, _seconds = poller(page)

    with sim.fleet.lock:
        sim.fleet.hosts[running.id].status = HostStatus.OFF
    assert services.hosts_sync().ok
    calls = sim.request_count()

    response = member_client.get(url, headers=HTMX)
    assert response.status_code == 200
    answer = response.content.decode()
    row = answer[answer.index(f'<tr id="host-{running.id}"') :]
    assert 'hx-swap-oob="true"' in row.split(">", 1)[0]
    assert "status-off" in row.split("</tr>", 1)[0]
    assert f'id="host-{other.id}"' not in answer  # only the row that moved
    assert sim.request_count() == calls  # the poll asked the provider nothing
    # The next poll, at the versions it now shows, is quiet again.
    again, _seconds = poller(response)
    assert member_client.get(again, headers=HTMX).status_code == 204


def test_another_members_action_reaches_a_viewers_settled_page(
    client, make_member, make_host, ask, slow_poll
):
    viewer = make_member("vera", "Viewer")
    operator = make_member("otto", "Operator")
    host = make_host(status=HostStatus.RUNNING)
    client.force_login(viewer)
    url, seconds = poller(client.get("/hosts/"))
    assert seconds == 15

    ask(Operation.Kind.POWER_OFF, host, user=operator)

    response = client.get(url, headers=HTMX)
    assert response.status_code == 200
    answer = response.content.decode()
    assert f'<tr id="host-{host.id}"' in answer
    assert "Power off by otto" in answer
    assert poller(response)[1] == 5  # now something on the page is changing


def test_a_host_joining_the_page_brings_the_whole_table(member_client, make_host, slow_poll):
    old = make_host(status=HostStatus.RUNNING, name="old")
    url, _seconds = poller(member_client.get("/hosts/"))
    # Bought by someone else just now: the newest, so first on the page.
    new = make_host(status=HostStatus.RUNNING, name="bought", created_at=timezone.now())

    response = member_client.get(url, headers=HTMX)
    assert response.status_code == 200
    answer = response.content.decode()
    assert answer.lstrip().startswith('<div id="host-table" class="table-wrap" hx-swap-oob="true">')
    assert answer.index(f'id="host-{new.id}"') < answer.index(f'id="host-{old.id}"')
    assert answer.count('hx-swap-oob="true"') == 2  # the table, and the sort field it carries


def test_the_poll_keeps_the_pages_filters(member_client, make_host, slow_poll):
    make_host(status=HostStatus.RUNNING, name="alpha")
    beta = make_host(status=HostStatus.OFF, name="beta")
    url, _seconds = poller(member_client.get("/hosts/?status=off&sort=name"))
    assert "status=off" in url and "sort=name" in url
    make_host(status=HostStatus.RUNNING, name="gamma")  # not on this page: nothing to show
    assert member_client.get(url, headers=HTMX).status_code == 200  # the mirror moved...
    change(beta, name="beta-renamed")
    answer = member_client.get(url, headers=HTMX).content.decode()
    assert "beta-renamed" in answer
    assert "alpha" not in answer and "gamma" not in answer


@pytest.mark.parametrize("status", [HostStatus.RUNNING, HostStatus.BOOTING])
def test_the_sync_status_alone_is_resent_without_rows(
    member_client, make_hosts, slow_poll, status, django_assert_max_num_queries
):
    make_hosts(2, status=status)
    url, seconds = poller(member_client.get("/hosts/"))
    SyncState.objects.create(
        job=SyncState.Job.HOSTS, last_attempt_at=timezone.now(), last_success_at=timezone.now()
    )
    # The versions, then whether a row shown is changing: the page is not looked up again.
    with django_assert_max_num_queries(6):
        response = member_client.get(url, headers=HTMX)
    assert response.status_code == 200
    answer = response.content.decode()
    assert '<div id="sync-status" class="sync-status" hx-swap-oob="true">' in answer
    assert '<div id="sync-banner" hx-swap-oob="true">' in answer
    assert "<tr" not in answer
    again, again_seconds = poller(response)
    assert again_seconds == seconds == (15 if status == HostStatus.RUNNING else 5)
    assert member_client.get(again, headers=HTMX).status_code == 204


def test_a_host_that_vanished_upstream_shows_as_gone(member_client, make_host):
    host = make_host(status=HostStatus.SHUTTING_DOWN)
    url, _seconds = poller(member_client.get(f"/hosts/{host.id}/"))
    change(host, gone_at=timezone.now())
    response = member_client.get(url, headers=HTMX)
    assert response.status_code == 200
    assert "status-gone" in response.content.decode()


@pytest.mark.parametrize("raw", ["", "garbage", "a:b,c:", ":1", "x:1:2," * 500, "%00:1"])
def test_bad_poll_parameters_get_the_table_again_instead_of_failing(member_client, raw):
    response = member_client.get(f"/hosts/live/?v={raw}&at={raw}&page={raw}", headers=HTMX)
    assert response.status_code == 200
    assert 'id="host-poller"' in response.content.decode()


def test_a_settled_poll_at_5000_hosts_is_two_reads_and_no_upstream_call(
    member_client, make_hosts, sim, django_assert_max_num_queries
):
    make_hosts(5000, status=HostStatus.RUNNING)
    url, _seconds = poller(member_client.get("/hosts/"))
    calls = sim.request_count()
    # The session, the member, their permissions; then the sync status and the mirror version.
    with django_assert_max_num_queries(5):
        response = member_client.get(url, headers=HTMX)
    assert response.status_code == 204
    assert sim.request_count() == calls


@pytest.mark.parametrize("count", [10, 50])
def test_a_poll_that_moved_costs_a_fixed_number_of_queries(
    member_client, make_hosts, count, django_assert_max_num_queries
):
    booting = make_hosts(count, status=HostStatus.BOOTING)
    url, _seconds = poller(member_client.get("/hosts/"))
    for host in booting[::2]:
        change(host, status=HostStatus.RUNNING)
    # + the version reads, the page's count and rows, their labels, leases, operations in flight
    # and purchase prices
    with django_assert_max_num_queries(11):
        response = member_client.get(url, headers=HTMX)
    assert response.status_code == 200
    assert response.content.decode().count("<tr ") == len(booting[::2])


def test_the_detail_page_of_a_settled_host_polls_slowly_and_gets_a_change(
    member_client, make_host, slow_poll
):
    host = make_host(status=HostStatus.RUNNING)
    url, seconds = poller(member_client.get(f"/hosts/{host.id}/"))
    assert seconds == 15
    assert member_client.get(url, headers=HTMX).status_code == 204

    change(host, status=HostStatus.OFF)
    response = member_client.get(url, headers=HTMX)
    assert response.status_code == 200
    answer = response.content.decode()
    assert '<section id="host-panel" class="host-panel" hx-swap-oob="true">' in answer
    assert "status-off" in answer
    again, seconds = poller(response)
    assert seconds == 15
    assert member_client.get(again, headers=HTMX).status_code == 204


def test_the_detail_poll_of_a_changing_host_is_fast_and_a_sync_resends_only_the_poller(
    member_client, make_host, slow_poll
):
    host = make_host(status=HostStatus.BOOTING)
    url, seconds = poller(member_client.get(f"/hosts/{host.id}/"))
    assert seconds == 5
    SyncState.objects.create(
        job=SyncState.Job.HOSTS, last_attempt_at=timezone.now(), last_success_at=timezone.now()
    )
    response = member_client.get(url, headers=HTMX)
    answer = response.content.decode()
    assert 'id="host-panel"' not in answer  # a half-typed note in the panel stays
    assert '<div id="host-poller" class="poller" hx-swap-oob="true"' in answer
    assert member_client.get(poller(response)[0], headers=HTMX).status_code == 204


def test_a_settled_detail_poll_is_two_reads(
    member_client, make_host, django_assert_max_num_queries
):
    host = make_host(status=HostStatus.RUNNING)
    url, _seconds = poller(member_client.get(f"/hosts/{host.id}/"))
    with django_assert_max_num_queries(5):
        assert member_client.get(url, headers=HTMX).status_code == 204


def test_the_bulk_progress_answers_204_until_an_operation_moves(member_client, member, make_host):
    host = make_host(status=HostStatus.RUNNING)
    batch = uuid.uuid4()
    outcomes = services.bulk_request(
        user=member,
        kind=Operation.Kind.POWER_OFF,
        host_ids=[host.id],
        batch_key=batch,
    )
    assert outcomes[0].outcome == "started"
    operation = Operation.objects.get(batch=batch)
    url = f"/hosts/bulk/{batch}/?at={operation.version}"
    assert member_client.get(url, headers=HTMX).status_code == 204
    Operation.objects.filter(pk=operation.pk).update(
        state=Operation.State.SUCCEEDED, version=F("version") + 1
    )
    assert member_client.get(url, headers=HTMX).status_code == 286  # final: it stops
