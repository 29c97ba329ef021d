"""Cloud disks in a real browser, with a real Celery worker doing the work against the
simulator: a member creates a disk mounted on an off host and sees it on the host's page,
detaches it and destroys it; and deletes a host with a disk attached, told that the disk is
kept."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from dashboard.models import Disk, Host
from dashboard.services import hosts_sync
from tests.e2e.conftest import sign_in
from vmclient.types import BillingType, DiskStatus, HostStatus

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def owner(make_member):
    """Lin, a Creator: she makes disks and manages her own disks and hosts."""
    return make_member("lin", "Creator")


@pytest.fixture
def off_host(fleet, owner, worker):
    """An off pay-as-you-go host of Lin's, in South China, created yesterday (it has run); its
    disks mount, unmount and are destroyed within a second, the worker following them."""
    for change in ("mount_seconds", "unmount_seconds", "destroy_seconds"):
        setattr(fleet.config, change, 1.0)
    upstream = fleet.fleet.add_host(
        status=HostStatus.OFF,
        use_type=BillingType.PAY_AS_YOU_GO,
        area=0,
        name="render-disk",
        create_time=fleet.clock.now_ms() - 86_400_000,
    )
    assert hosts_sync().ok
    Host.objects.filter(pk=upstream.id).update(owner=owner, owner_name=owner.username)
    return Host.objects.get(pk=upstream.id)


def test_create_a_disk_on_an_off_host_detach_it_and_destroy_it(
    page, live_server, fleet, worker, owner, off_host
):
    sign_in(page, live_server, owner)
    before = set(fleet.fleet.storage.disks)

    # Create: from the host's Disks card, mounted on it.
    page.goto(f"{live_server.url}/hosts/{off_host.id}/")
    page.locator("#host-disks").get_by_role("link", name="New disk on this host…").click()
    expect(page.get_by_label("Mount on host")).to_have_value(off_host.id)
    page.get_by_label("Size (GB)").fill("40")
    page.get_by_role("button", name="Create the disk").click()
    expect(page.locator(".operation-card .badge")).to_have_text("Succeeded", timeout=20_000)
    (new_id,) = set(fleet.fleet.storage.disks) - before
    assert fleet.request_count("/v1/PveMachineHardDisk/open/create") == 1

    # On the host's page: mounted, with a detach button (the host is off).
    page.goto(f"{live_server.url}/hosts/{off_host.id}/")
    mounted = page.locator(f"#mounted-{new_id}")
    expect(mounted).to_contain_text("40 GB")
    expect(mounted).to_contain_text("In use")
    mounted.get_by_role("button", name="Detach").click()
    expect(page.locator(f"#mounted-{new_id}")).to_have_count(0, timeout=20_000)
    assert fleet.fleet.storage.disks[new_id].status is DiskStatus.WAITING

    # Destroy, from the disk's page: its name typed, its data said to be gone.
    page.goto(f"{live_server.url}/disks/{new_id}/")
    page.get_by_role("link", name="Destroy…").click()
    expect(page.locator(".delete-form")).to_contain_text("Its data is gone for ever")
    name = page.locator(".delete-form code").inner_text()
    assert name == Disk.objects.get(pk=new_id).label
    page.locator(".delete-form").get_by_role("textbox").fill(name)
    page.get_by_role("button", name="Destroy the disk and its data").click()
    expect(page.locator(".operation-card .badge")).to_have_text("Succeeded", timeout=20_000)
    assert new_id not in fleet.fleet.storage.disks
    page.goto(f"{live_server.url}/disks/{new_id}/")
    expect(page.locator("#disk-panel .page-head .badge")).to_have_text("Gone")


def test_a_host_deleted_with_a_disk_attached_keeps_the_disk(
    page, live_server, fleet, worker, owner, off_host
):
    disk = fleet.fleet.storage.add_disk(
        name="data-kept", status=DiskStatus.IN_USE, pve_id=off_host.id
    )
    assert hosts_sync().ok
    sign_in(page, live_server, owner)

    page.goto(f"{live_server.url}/hosts/{off_host.id}/delete/")
    kept = page.locator(".disks-kept")
    expect(kept).to_contain_text("1 cloud disk is mounted on this host")
    expect(kept).to_contain_text("data-kept")
    page.get_by_role("textbox").fill("render-disk")
    page.get_by_role("button", name="Delete the host").click()
    expect(page.locator(".operation-card .badge")).to_have_text("Succeeded", timeout=20_000)

    assert hosts_sync().ok
    page.goto(f"{live_server.url}/disks/{disk.id}/")
    expect(page.locator("#disk-panel .page-head .badge")).to_have_text("Not mounted")
    expect(page.locator("#disk-panel")).to_contain_text("not mounted")
