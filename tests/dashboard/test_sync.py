"""The host sync against the simulator: a 1,000-host fleet listed in 40 pages, hosts appearing,
changing and vanishing between syncs, and the rule that a partial listing never makes hosts
vanish."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db.models import F

from dashboard import services
from dashboard.models import Host, SyncState
from dashboard.upstream import build_client
from tests.dashboard.workers import ROOT, wait_for
from vmclient.simulator import Fault
from vmclient.types import HostStatus

pytestmark = pytest.mark.django_db

MYPAGE = "/v1/pve/open/mypage"


@pytest.fixture
def big_fleet(make_simulator, point_client_at):
    sim = point_client_at(make_simulator(hosts=1000))
    sim.clear_request_log()
    return sim


def after_first_page(client, action):
    """The client, made to run `action` right after page 1 arrived (the other pages are then
    listed from the changed fleet), as a member buying or deleting a host mid-listing would."""
    read_page = client.list_hosts_page

    def list_hosts_page(page, page_size=25):
        result = read_page(page, page_size)
        if page == 1:
            action()
        return result

    client.list_hosts_page = list_hosts_page  # what the client's own listing calls
    return client


def test_a_first_sync_mirrors_all_1000_hosts_from_40_pages(big_fleet):
    result = services.hosts_sync()

    assert result.ok and result.complete
    assert (result.seen, result.created, result.pages) == (1000, 1000, 40)
    assert Host.objects.count() == 1000
    assert big_fleet.request_count(MYPAGE) == 40
    upstream = next(iter(big_fleet.fleet.hosts.values()))
    host = Host.objects.get(id=upstream.id)
    assert host.name == upstream.name
    assert (host.cpu_cores, host.memory_gb, host.disk_gb) == (
        upstream.cpu,
        upstream.memory,
        upstream.rigid_disk,
    )
    assert host.operating_system == upstream.operating_system
    assert host.status == int(upstream.status)
    assert host.area == upstream.area and host.billing_type == upstream.use_type
    assert host.login_user == (upstream.host_account or "")
    assert host.created_at is not None and host.last_seen_at is not None
    state = SyncState.objects.get(job=SyncState.Job.HOSTS)
    assert state.last_success_at is not None and state.item_count == 1000
    assert not state.is_failing


def test_the_password_is_never_stored(simulator, point_client_at):
    point_client_at(simulator)
    upstream = simulator.fleet.add_host(host_pw="S3cret-Passw0rd!")

    services.hosts_sync()

    assert not any("pw" in f.name or "password" in f.name for f in Host._meta.get_fields())
    row = Host.objects.filter(id=upstream.id).values().get()
    assert "S3cret-Passw0rd!" not in repr(row)


def test_hosts_appearing_changing_and_vanishing_between_syncs(big_fleet):
    services.hosts_sync()
    fleet = big_fleet.fleet.hosts
    first_sync = {h.id: h for h in Host.objects.all()}
    running = [h for h in fleet.values() if h.status is HostStatus.RUNNING]
    renamed, powered_off, unchanged = running[0], running[1], running[2]
    vanished = [h for h in running[3:5]]

    renamed.name = "renamed-upstream"
    powered_off.status = HostStatus.OFF
    for host in vanished:
        del fleet[host.id]
    new = [big_fleet.fleet.add_host() for _ in range(3)]

    result = services.hosts_sync()

    assert result.ok and result.complete
    assert (result.seen, result.created, result.gone) == (1001, 3, 2)
    assert Host.objects.count() == 1003  # the vanished stay, marked gone
    assert Host.objects.present().count() == 1001
    assert set(Host.objects.filter(gone_at__isnull=False).values_list("id", flat=True)) == {
        h.id for h in vanished
    }
    assert all(Host.objects.filter(id=h.id).exists() for h in new)

    row = Host.objects.get(id=renamed.id)
    assert row.name == "renamed-upstream"
    assert row.version == first_sync[renamed.id].version + 1
    assert row.status_changed_at == first_sync[renamed.id].status_changed_at  # same status

    row = Host.objects.get(id=powered_off.id)
    assert row.status == HostStatus.OFF
    assert row.status_changed_at > first_sync[powered_off.id].status_changed_at

    row = Host.objects.get(id=unchanged.id)
    assert row.version == first_sync[unchanged.id].version
    assert row.changed_at == first_sync[unchanged.id].changed_at
    assert row.last_seen_at > first_sync[unchanged.id].last_seen_at

    gone = Host.objects.get(id=vanished[0].id)
    assert gone.is_gone and gone.last_seen_at == first_sync[gone.id].last_seen_at

    # A host that comes back is un-marked.
    fleet[vanished[0].id] = vanished[0]
    result = services.hosts_sync()
    assert result.changed >= 1 and result.gone == 0
    assert Host.objects.get(id=vanished[0].id).gone_at is None


def test_a_failing_page_saves_what_arrived_marks_nothing_gone_and_records_the_error(big_fleet):
    services.hosts_sync()
    deleted = next(iter(big_fleet.fleet.hosts))
    del big_fleet.fleet.hosts[deleted]

    def break_the_upstream():
        big_fleet.add_fault(Fault(kind="error_500", path=MYPAGE, times=None))

    client = after_first_page(build_client(retries=0), break_the_upstream)
    result = services.hosts_sync(client=client)

    assert not result.ok and not result.complete
    assert result.gone == 0 and result.pages < 40
    assert Host.objects.filter(gone_at__isnull=False).count() == 0
    assert Host.objects.present().count() == 1000
    state = SyncState.objects.get(job=SyncState.Job.HOSTS)
    assert state.is_failing
    assert state.error_code == "500"
    assert state.error_trace_id  # the simulator sends one with every envelope
    assert state.error_message

    big_fleet.clear_faults()
    result = services.hosts_sync()
    assert result.ok and result.gone == 1
    assert not SyncState.objects.get(job=SyncState.Job.HOSTS).is_failing


def test_a_failing_first_page_changes_nothing(big_fleet):
    services.hosts_sync()
    big_fleet.fleet.hosts.clear()
    big_fleet.add_fault(Fault(kind="html_502", path=MYPAGE, times=None))

    result = services.hosts_sync(client=build_client(retries=0))

    assert result.error is not None and result.pages == 0
    assert Host.objects.present().count() == 1000
    assert SyncState.objects.get(job=SyncState.Job.HOSTS).error_code == "HtmlErrorPage"


def test_a_host_created_mid_listing_shifts_pages_without_harm(big_fleet):
    """Newest first: a host bought after page 1 pushes every host one place down, so one is
    listed twice and the last is never reached. Nothing may break or vanish."""
    services.hosts_sync()
    added = []
    client = after_first_page(build_client(), lambda: added.append(big_fleet.fleet.add_host()))

    result = services.hosts_sync(client=client)

    assert result.error is None
    assert not result.complete  # the total moved while listing
    assert result.gone == 0
    assert Host.objects.present().count() == 1000
    # The next sync sees the new host and everything else again.
    result = services.hosts_sync()
    assert result.complete and result.created == 1 and Host.objects.present().count() == 1001


def test_a_host_deleted_mid_listing_makes_no_other_host_vanish(big_fleet):
    services.hosts_sync()
    newest = min(big_fleet.fleet.hosts.values(), key=lambda h: (-h.create_time, h.id))
    first_page_host = newest.id

    def delete():
        del big_fleet.fleet.hosts[first_page_host]

    result = services.hosts_sync(client=after_first_page(build_client(), delete))

    assert result.gone == 0
    assert Host.objects.present().count() == 1000
    result = services.hosts_sync()
    assert result.gone == 1
    assert set(Host.objects.filter(gone_at__isnull=False).values_list("id", flat=True)) == {
        first_page_host
    }


def test_an_empty_fleet_syncs_and_marks_every_host_gone(sim, make_host):
    make_host()
    result = services.hosts_sync()
    assert result.ok and result.complete and result.seen == 0 and result.gone == 1


def test_syncs_never_overlap(big_fleet):
    assert cache.add(services.SYNC_LOCK_KEY, "another-worker", 60)

    result = services.hosts_sync()

    assert result.skipped and not result.ok
    assert big_fleet.request_count() == 0
    cache.delete(services.SYNC_LOCK_KEY)
    assert services.hosts_sync().ok


def test_the_lock_is_released_after_a_failure(big_fleet):
    big_fleet.add_fault(Fault(kind="html_502", path=MYPAGE, times=1))
    assert services.hosts_sync(client=build_client(retries=0)).error is not None
    assert cache.get(services.SYNC_LOCK_KEY) is None


def test_sync_hosts_command_prints_the_count(big_fleet):
    out = io.StringIO()
    call_command("sync_hosts", stdout=out)
    assert out.getvalue().strip() == "synced 1000 hosts"


def test_sync_hosts_command_fails_loudly_with_the_trace_id(sim, settings):
    sim.add_fault(Fault(kind="error_500", path=MYPAGE, times=None))
    with pytest.raises(CommandError, match="trace id"):
        call_command("sync_hosts", stdout=io.StringIO())


def test_the_beat_task_runs_the_sync(big_fleet):
    from dashboard import tasks

    tasks.sync_hosts.apply()

    assert Host.objects.count() == 1000


def test_the_beat_schedule_follows_the_sync_interval(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["xds-sync-hosts"]
    assert schedule["task"] == "dashboard.tasks.sync_hosts"
    assert schedule["schedule"] == settings.XDS_SYNC_INTERVAL


def test_text_the_database_cannot_hold_is_cleaned(simulator, point_client_at):
    """PostgreSQL refuses NUL in text; the upstream sends strings we do not control."""
    point_client_at(simulator)
    upstream = simulator.fleet.add_host(name="bad\x00name", host_account="r\x00oot")

    assert services.hosts_sync().ok

    host = Host.objects.get(id=upstream.id)
    assert (host.name, host.login_user) == ("badname", "root")


def test_a_sync_keeps_its_lock_while_it_runs_longer_than_the_lock_lasts(sim, settings):
    """The lock is short, but its holder refreshes it: a slow sync is never joined by another."""
    from dashboard.locks import cache_lock

    settings.XDS_LOCK_SECONDS = 3
    with cache_lock(services.SYNC_LOCK_KEY) as held:  # what a running sync holds
        assert held
        time.sleep(4)  # past the lock's expiry
        assert services.hosts_sync().skipped
    assert cache.get(services.SYNC_LOCK_KEY) is None
    assert services.hosts_sync().ok


def test_a_killed_sync_blocks_the_next_ones_only_until_its_lock_lapses(
    sim, settings, tmp_path, member_client
):
    """A worker killed in the middle of a sync (SIGKILL: nothing released) holds the sync lock
    only XDS_LOCK_SECONDS; meanwhile "Refresh now" says why nothing happens yet."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }
    sim.add_fault(Fault(kind="hang", path=MYPAGE, seconds=30, times=None))
    killed = subprocess.Popen(
        [sys.executable, "manage.py", "sync_hosts"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "dashboard.settings",
            "XDS_VAR_DIR": str(tmp_path),  # the same file cache as this test's
            "CACHE_URL": "",
            "DATABASE_URL": "",
            "XDS_BASE_URL": sim.url,
            "XDS_UUID": sim.uuid,
            "XDS_SECRET": sim.secret,
            "XDS_LOCK_SECONDS": "3",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: cache.get(services.SYNC_LOCK_KEY), timeout=30, what="the sync's lock")
    finally:
        killed.kill()
        killed.wait()
    sim.clear_faults()

    assert services.hosts_sync().skipped
    page = member_client.post("/sync/", headers={"HX-Request": "true"}).content.decode()
    assert "Another sync has been running since" in page

    time.sleep(3.5)
    assert services.hosts_sync().ok


def test_a_change_the_sync_sees_raises_a_version_another_writer_raised_meanwhile(
    make_simulator, point_client_at, monkeypatch
):
    """An operation (or an owner or label edit) bumps a row's version while a sync is between
    reading the mirror and writing it. The sync's change must still raise the version past the
    one the other writer left, or a page that already saw that version never gets the sync's
    change (its poll compares versions)."""
    from dashboard.services import sync as sync_module

    sim = point_client_at(make_simulator(hosts=3))
    services.hosts_sync()
    upstream = next(iter(sim.fleet.hosts.values()))
    upstream.name = "renamed-at-the-console"
    before = Host.objects.get(id=upstream.id).version
    mirrored_values = sync_module._mirrored_values
    bumped = []

    def another_writer_first(host):
        if not bumped:  # after the sync read the mirror, before it writes
            bumped.append(Host.objects.filter(id=upstream.id).update(version=F("version") + 1))
        return mirrored_values(host)

    monkeypatch.setattr(sync_module, "_mirrored_values", another_writer_first)
    services.hosts_sync()

    host = Host.objects.get(id=upstream.id)
    assert bumped and host.name == "renamed-at-the-console"
    assert host.version == before + 2  # the other writer's bump, then the sync's
