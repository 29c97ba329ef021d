"""Everywhere: "last synced N s ago", "refresh now", and the banner when the upstream fails."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import escape
from kombu.exceptions import OperationalError

from dashboard import services, tasks
from dashboard.models import SyncState
from dashboard.selectors import sync_state_get
from dashboard.upstream import build_client
from dashboard.wording import error_words
from vmclient.simulator import Fault

pytestmark = pytest.mark.django_db

PAGES = ["/hosts/", "/packages/", "/images/"]


def test_every_page_says_when_the_last_sync_was(member_client, make_host):
    synced_at = timezone.now() - timedelta(seconds=12)
    SyncState.objects.create(
        job=SyncState.Job.HOSTS, last_attempt_at=synced_at, last_success_at=synced_at
    )
    host = make_host()

    def seconds_since_sync() -> int:
        return int((timezone.now() - synced_at).total_seconds())

    for url in [*PAGES, f"/hosts/{host.id}/"]:
        # A loaded machine may take a second or more to render: the page must say one of the
        # ages the sync had while it was being drawn, and no other.
        before = seconds_since_sync()
        html = member_client.get(url).content.decode()
        ages = range(before, seconds_since_sync() + 1)
        assert "Last synced" in html, url
        assert any(f"{age} s ago</time>" in html for age in ages), (url, list(ages))
        assert 'hx-post="/sync/"' in html, url


def test_the_banner_shows_the_upstream_error_and_its_trace_id(member_client, sim, make_host):
    sim.add_fault(Fault(kind="error_500", path="/v1/pve/open/mypage", times=None))
    result = services.hosts_sync(client=build_client(retries=0))
    assert result.error is not None and result.error.trace_id
    host = make_host()

    for url in [*PAGES, f"/hosts/{host.id}/"]:
        response = member_client.get(url)
        assert response.status_code == 200, url  # pages keep rendering from the mirror
        html = response.content.decode()
        assert 'class="banner banner-error" role="alert"' in html, url
        assert "The host list cannot be synced" in html
        assert escape(error_words(result.error)) in html
        assert f"<code>{result.error.trace_id}</code>" in html
        assert "<code>500</code>" in html

    sim.clear_faults()
    assert services.hosts_sync().ok
    assert "banner-error" not in member_client.get("/hosts/").content.decode()


def test_the_banner_speaks_chinese_on_a_chinese_page(db):
    SyncState.objects.create(
        job=SyncState.Job.HOSTS,
        last_attempt_at=timezone.now(),
        last_error_at=timezone.now(),
        error_message="In English",
        error_message_frozen={"zh-hans": "中文说明"},  # a row written before keys
        error_trace_id="t-1",
    )
    context = {"sync_status": sync_state_get()}
    assert "In English" in render_to_string("base.html#sync-banner", context)
    with translation.override("zh-hans"):
        assert "中文说明" in render_to_string("base.html#sync-banner", context)


def test_a_stale_mirror_warns_that_the_worker_may_be_down(member_client, db):
    long_ago = timezone.now() - timedelta(hours=2)
    SyncState.objects.create(
        job=SyncState.Job.HOSTS, last_attempt_at=long_ago, last_success_at=long_ago
    )
    html = member_client.get("/hosts/").content.decode()
    assert "Is the Celery worker running?" in html


def test_refresh_now_enqueues_a_sync_and_waits_for_it(member_client, db, enqueued):
    response = member_client.post("/sync/", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert enqueued == ["dashboard.tasks.sync_hosts", "dashboard.tasks.refresh_catalog"]
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="sync-status"')
    assert "Sync started" in html
    assert 'hx-get="/sync/wait/?s=0&amp;until=' in html

    # A second click a moment later does not queue another sync.
    again = member_client.post("/sync/", headers={"HX-Request": "true"})
    assert len(enqueued) == 2
    assert "started a moment ago" in again.content.decode()


def test_refresh_now_without_javascript_redirects_back_with_a_message(member_client, enqueued):
    response = member_client.post("/sync/", headers={"Referer": "http://testserver/images/"})
    assert response.status_code == 302 and response["Location"] == "http://testserver/images/"
    assert enqueued == ["dashboard.tasks.sync_hosts", "dashboard.tasks.refresh_catalog"]
    html = member_client.get("/images/").content.decode()
    assert "Sync started" in html


def test_refresh_now_never_redirects_off_site(member_client, db):
    response = member_client.post("/sync/", headers={"Referer": "https://evil.example/"})
    assert response["Location"] == "/hosts/"


def test_refresh_now_with_the_broker_down_says_so(member_client, monkeypatch, db):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(tasks.sync_hosts, "delay", broker_down)

    response = member_client.post("/sync/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "task queue cannot be reached" in html
    assert "/sync/wait/" not in html

    response = member_client.post("/sync/", follow=True)
    assert response.status_code == 200
    assert "task queue cannot be reached" in response.content.decode()


def test_refresh_now_needs_a_post_and_a_login(member_client, client):
    assert member_client.get("/sync/").status_code == 405
    assert client.post("/sync/").status_code == 302


def test_the_wait_reloads_the_page_once_a_sync_finished(member_client, db):
    later = int(time.time()) + 60
    assert member_client.get(f"/sync/wait/?s=0&until={later}").status_code == 204
    SyncState.objects.create(job=SyncState.Job.HOSTS, last_attempt_at=timezone.now())
    response = member_client.get(f"/sync/wait/?s=0&until={later}")
    assert response["HX-Refresh"] == "true"


@pytest.mark.parametrize("until", ["1", "", "soon"])
def test_the_wait_gives_up_when_no_sync_comes(member_client, db, until):
    assert member_client.get(f"/sync/wait/?s=0&until={until}").status_code == 286


def test_refresh_now_with_the_real_task_runs_the_sync(member_client, sim, monkeypatch):
    """The button's task is the beat's task: run eagerly, it syncs."""
    sim.fleet.add_host(name="from-the-button")
    monkeypatch.setattr(tasks.sync_hosts, "delay", lambda: tasks.sync_hosts.apply())
    monkeypatch.setattr(tasks.refresh_catalog, "delay", lambda: tasks.refresh_catalog.apply())

    member_client.post("/sync/", headers={"HX-Request": "true"})

    assert "from-the-button" in member_client.get("/hosts/").content.decode()
    assert "Catalog loading" not in member_client.get("/packages/").content.decode()
