"""The pages' polls: one request per interval answers only the rows that moved, 204 when none
did, and 286 (htmx: stop polling) once nothing on the page is changing."""

from __future__ import annotations

import pytest
from django.db.models import F
from django.utils import timezone

from dashboard.models import Host, SyncState
from vmclient.types import HostStatus

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def versions(*hosts) -> str:
    return ",".join(f"{h.id}:{h.version}" for h in hosts)


def stamp(client) -> str:
    """The sync stamp the page was rendered with (so the poll does not resend the status)."""
    from dashboard.selectors import sync_state_get

    return sync_state_get().stamp


def change(host, **values):
    """What a sync does to a host that changed upstream."""
    Host.objects.filter(id=host.id).update(
        **values, version=F("version") + 1, changed_at=timezone.now()
    )


def test_nothing_moved_while_hosts_are_still_changing_answers_204(member_client, make_hosts):
    booting = make_hosts(3, status=HostStatus.BOOTING)
    response = member_client.get(
        f"/hosts/live/?v={versions(*booting)}&s={stamp(member_client)}", headers=HTMX
    )
    assert response.status_code == 204
    assert response.content == b""


def test_only_the_rows_that_moved_are_sent_out_of_band(member_client, make_hosts):
    booting = make_hosts(4, status=HostStatus.BOOTING)
    change(booting[1], status=HostStatus.RUNNING)
    change(booting[2], name="renamed while booting")

    response = member_client.get(
        f"/hosts/live/?v={versions(*booting)}&s={stamp(member_client)}", headers=HTMX
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<tr ") == 2
    assert f'<tr id="host-{booting[1].id}" class="host-row" hx-swap-oob="true">' in html
    assert f'id="host-{booting[2].id}"' in html
    assert "renamed while booting" in html
    assert f'id="host-{booting[0].id}"' not in html
    # Rows come first: an HTML parser drops table rows that follow other elements.
    assert html.lstrip().startswith("<tr ")
    # The next poll asks only for the hosts still changing, at their new versions.
    poller = html[html.index('<div id="host-poller"') :]
    assert 'hx-swap-oob="true"' in poller
    assert booting[1].id not in poller.split(">", 1)[0]
    assert f"{booting[2].id}%3A2" in poller
    assert f"{booting[0].id}%3A1" in poller


def test_286_stops_polling_once_nothing_is_changing(member_client, make_hosts):
    booting = make_hosts(2, status=HostStatus.BOOTING)
    for host in booting:
        change(host, status=HostStatus.RUNNING)

    response = member_client.get(
        f"/hosts/live/?v={versions(*booting)}&s={stamp(member_client)}", headers=HTMX
    )

    assert response.status_code == 286
    html = response.content.decode()
    assert html.count('hx-swap-oob="true"') == 3  # the two settled rows and an idle poller
    assert '<div id="host-poller" class="poller" hx-swap-oob="true"></div>' in html


def test_a_host_that_settled_unseen_stops_the_polling_too(member_client, make_host):
    running = make_host(status=HostStatus.RUNNING)
    response = member_client.get(
        f"/hosts/live/?v={versions(running)}&s={stamp(member_client)}", headers=HTMX
    )
    assert response.status_code == 286
    assert "<tr" not in response.content.decode()


def test_a_host_that_vanished_upstream_shows_as_gone(member_client, make_host):
    host = make_host(status=HostStatus.SHUTTING_DOWN)
    change(host, gone_at=timezone.now())
    response = member_client.get(
        f"/hosts/live/?v={versions(host)}&s={stamp(member_client)}", headers=HTMX
    )
    assert response.status_code == 286
    assert "status-gone" in response.content.decode()


def test_the_sync_status_is_resent_only_when_a_sync_finished(member_client, make_hosts):
    booting = make_hosts(1, status=HostStatus.BOOTING)
    before = stamp(member_client)
    SyncState.objects.create(
        job=SyncState.Job.HOSTS, last_attempt_at=timezone.now(), last_success_at=timezone.now()
    )
    response = member_client.get(f"/hosts/live/?v={versions(*booting)}&s={before}", headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<div id="sync-status" class="sync-status" hx-swap-oob="true">' in html
    assert '<div id="sync-banner" hx-swap-oob="true">' in html
    assert "<tr" not in html
    after = stamp(member_client)
    assert f"s={after}" in html
    again = member_client.get(f"/hosts/live/?v={versions(*booting)}&s={after}", headers=HTMX)
    assert again.status_code == 204


@pytest.mark.parametrize("raw", ["", "garbage", "a:b,c:", ":1", "x:1:2," * 500, "%00:1"])
def test_bad_poll_parameters_stop_polling_instead_of_failing(member_client, raw):
    response = member_client.get(f"/hosts/live/?v={raw}", headers=HTMX)
    assert response.status_code == 286


@pytest.mark.parametrize("count", [10, 200])
def test_a_poll_costs_a_fixed_number_of_queries(
    member_client, make_hosts, count, django_assert_max_num_queries
):
    booting = make_hosts(count, status=HostStatus.BOOTING)
    for host in booting[::2]:
        change(host, status=HostStatus.RUNNING)
    # + the member's permissions, the labels and the operations in flight on those hosts
    with django_assert_max_num_queries(7):
        response = member_client.get(f"/hosts/live/?v={versions(*booting)}", headers=HTMX)
    assert response.status_code == 200


def test_the_detail_poll_answers_204_then_the_panel_then_286(member_client, make_host):
    host = make_host(status=HostStatus.BOOTING)
    url = f"/hosts/{host.id}/live/?s={stamp(member_client)}&v="
    assert member_client.get(url + "1", headers=HTMX).status_code == 204

    change(host, status=HostStatus.CHARGING)
    response = member_client.get(url + "1", headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<section id="host-panel" class="host-panel" hx-swap-oob="true">' in html
    assert f"/hosts/{host.id}/live/?v=2" in html  # the next poller, at the new version

    change(host, status=HostStatus.RUNNING)
    response = member_client.get(url + "2", headers=HTMX)
    assert response.status_code == 286
    html = response.content.decode()
    assert "status-running" in html
    assert "hx-trigger" not in html
