"""The disk pages as a member sees them: the list and its filters, its live poll, a disk's page,
the Disks card of a host's page (what is mounted, attach and detach, and why not), the
destroy confirmation, and what a host's delete says of its disks."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.models import Disk, Host, Operation
from vmclient.types import BillingType, DiskStatus, HostStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def host_of(mirrored, member, aged):
    def host_of(**fields):
        return mirrored(owner=member, **{"area": 0, "create_time": aged, **fields})

    return host_of


def mine(disk_id, member):
    Disk.objects.filter(pk=disk_id).update(owner=member, owner_name=member.username)


@pytest.fixture
def host_with_two_disks(storage, synced, member, host_of):
    """host_with_two_disks(**fields): a host of the member's and two disks of theirs, one mounted
    on it ("data-on"), one free ("data-free"), synced; the host and the two disks."""

    def make(**fields):
        host = host_of(**fields)
        on = storage.add_disk(name="data-on", status=DiskStatus.IN_USE, pve_id=host.id)
        free = storage.add_disk(name="data-free")
        synced()
        mine(on.id, member)
        mine(free.id, member)
        return host, on, free

    return make


def card(page: str) -> str:
    return page.split('id="host-disks"', 1)[1].split('<div class="card">', 1)[0]


def test_the_list_shows_every_disk_and_filters_them(
    sim, storage, synced, member, member_client, host_of
):
    host = host_of(status=HostStatus.OFF, name="render-01")
    on = storage.add_disk(name="data-on", status=DiskStatus.IN_USE, pve_id=host.id, memory=200)
    storage.add_disk(name="data-off", area=1, memory=50)
    synced()
    mine(on.id, member)

    page = member_client.get("/disks/").content.decode()
    row = page.split(f'id="disk-{on.id}"', 1)[1].split("</tr>", 1)[0]
    assert "data-on" in row and "In use" in row and "200 GB" in row and "South China" in row
    assert "render-01" in row and "member" in row and "¥0.40" in row
    assert "data-off" in page

    def names(query):
        return re.findall(
            r'class="disk-name"[^>]*>([^<]+)<', member_client.get(query).content.decode()
        )

    assert names("/disks/?mounted=yes") == ["data-on"]
    assert names("/disks/?mounted=no") == ["data-off"]
    assert names("/disks/?status=unmounted") == ["data-off"]
    assert names("/disks/?area=west-china") == ["data-off"]
    assert names("/disks/?owner=mine") == ["data-on"]
    assert names("/disks/?owner=none") == ["data-off"]
    assert sorted(names("/disks/?status=bogus&area=nowhere")) == ["data-off", "data-on"]


def test_the_list_poll_answers_only_when_a_disk_moved(sim, storage, synced, member_client):
    disk = storage.add_disk()
    synced()
    page = member_client.get("/disks/").content.decode()
    poll = re.search(r'hx-get="(/disks/live/[^"]+)"', page).group(1).replace("&amp;", "&")

    assert member_client.get(poll, headers={"HX-Request": "true"}).status_code == 204
    Disk.objects.filter(pk=disk.id).update(status=DiskStatus.MOUNTING, version=5)
    moved = member_client.get(poll, headers={"HX-Request": "true"})
    assert moved.status_code == 200 and "Mounting" in moved.content.decode()


def test_the_host_card_shows_what_is_mounted_and_offers_detach_on_an_off_host(
    sim, member_client, host_with_two_disks
):
    host, on, _ = host_with_two_disks(status=HostStatus.OFF)

    shown = card(member_client.get(f"/hosts/{host.id}/").content.decode())

    assert "data-on" in shown and f"/disks/{on.id}/detach/" in shown
    assert f"/hosts/{host.id}/disks/attach/" in shown and "data-free" in shown
    assert "Power off, then attach" not in shown


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"use_type": BillingType.RENTAL, "status": HostStatus.OFF}, "this one is a rental"),
        ({"status": HostStatus.BOOTING}, "must be off to mount a disk"),
    ],
)
def test_the_host_card_says_why_attach_is_not_offered(
    sim, storage, synced, member, member_client, host_of, fields, reason
):
    host = host_of(**fields)
    mine(storage.add_disk().id, member)
    synced()
    mine(next(iter(storage.disks)), member)

    shown = card(member_client.get(f"/hosts/{host.id}/").content.decode())

    assert "disks/attach/" not in shown
    assert reason in shown


def test_a_running_host_is_offered_power_off_then_attach_and_not_detach(
    sim, member_client, host_with_two_disks
):
    host, on, free = host_with_two_disks(status=HostStatus.RUNNING)

    shown = card(member_client.get(f"/hosts/{host.id}/").content.decode())

    assert "Power off, then attach" in shown and 'name="power_off_first"' in shown
    assert f"/disks/{on.id}/detach/" not in shown
    assert "must be off to detach" in shown

    key = "6a8d1f0e-1b2c-4d3e-8f9a-0b1c2d3e4f5a"
    form = {"disk": free.id, "host": host.id, "power_off_first": "1", "idempotency_key": key}
    assert member_client.post(f"/hosts/{host.id}/disks/attach/", form).status_code == 302
    operation = Operation.objects.get()
    assert (operation.kind, operation.disk_id, operation.host_id) == (
        "disk_attach",
        free.id,
        host.id,
    )
    assert operation.params["power_off_first"] is True


def test_a_disk_of_another_area_or_a_full_host_is_not_offered(
    sim, storage, synced, member, member_client, host_of
):
    host = host_of(status=HostStatus.OFF)
    mine(storage.add_disk(area=1).id, member)
    synced()
    assert "in another area" in card(member_client.get(f"/hosts/{host.id}/").content.decode())

    for _ in range(30):
        storage.add_disk(status=DiskStatus.IN_USE, pve_id=host.id, memory=20)
    storage.add_disk(area=0)
    synced()
    assert "already has 30 disks" in card(member_client.get(f"/hosts/{host.id}/").content.decode())


def test_destroying_asks_for_the_name_and_says_the_data_is_gone(
    sim, storage, synced, member, member_client
):
    disk = storage.add_disk(name="scratch-07")
    synced()
    mine(disk.id, member)
    key = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"

    page = member_client.get(f"/disks/{disk.id}/destroy/").content.decode()
    assert "Its data is gone for ever" in page

    wrong = member_client.post(
        f"/disks/{disk.id}/destroy/", {"name": "scratch", "idempotency_key": key}
    )
    assert "That is not the disk&#x27;s name." in wrong.content.decode()
    assert not Operation.objects.exists()

    right = member_client.post(
        f"/disks/{disk.id}/destroy/", {"name": "scratch-07", "idempotency_key": key}
    )
    assert right.status_code == 302
    assert Operation.objects.get().kind == "disk_destroy"


def test_a_mounted_disk_page_says_to_detach_before_destroying(
    sim, storage, synced, member, member_client, host_of
):
    host = host_of(status=HostStatus.RUNNING)
    disk = storage.add_disk(status=DiskStatus.IN_USE, pve_id=host.id)
    synced()
    mine(disk.id, member)

    page = member_client.get(f"/disks/{disk.id}/").content.decode()

    assert "detach it first" in page
    assert f"/disks/{disk.id}/destroy/" not in page


def test_the_create_form_says_what_is_left_of_each_area(
    sim, storage, synced, member_client, settings
):
    settings.XDS_DISK_AREA_QUOTA_GB = 500
    storage.add_disk(area=0, memory=120)
    synced()

    page = member_client.get("/disks/new/").content.decode()

    assert "South China: 380 GB left (120 of 500 GB held)" in page
    assert "West China: 500 GB left" in page


def test_a_host_delete_says_its_disks_are_kept_and_the_rental_time_lost(
    sim, storage, synced, member, member_client, host_of
):
    host = host_of(status=HostStatus.OFF, name="render-09")
    disk = storage.add_disk(name="data-09", status=DiskStatus.IN_USE, pve_id=host.id)
    synced()
    Host.objects.filter(pk=host.pk).update(
        billing_type=BillingType.RENTAL, expires_at=timezone.now() + timedelta(days=10)
    )

    page = member_client.get(f"/hosts/{host.id}/delete/").content.decode()

    assert "1 cloud disk is mounted on this host" in page
    assert "still billed by the hour" in page and "data-09" in page
    assert f"/disks/{disk.id}/" in page
    assert "gives up about" in page  # the prepaid rental time


@pytest.mark.parametrize("count", [2, 60])
def test_the_disk_list_costs_a_fixed_number_of_queries(
    member_client, make_host, count, django_assert_max_num_queries
):
    """Session, user, permissions, sync state, the disks (their hosts joined) and their count,
    the operations in flight on them and on their hosts, the mirror's version, the owners, the
    area quotas (two) and the disk job's state."""
    host = make_host(status=HostStatus.OFF)
    now = timezone.now()
    Disk.objects.bulk_create(
        Disk(
            id=f"d{n}",
            host=host if n % 2 else None,
            status=n % 3,
            area=0,
            size_gb=20,
            first_seen_at=now,
            last_seen_at=now,
            changed_at=now,
        )
        for n in range(count)
    )
    with django_assert_max_num_queries(13):
        page = member_client.get("/disks/").content.decode()
    assert page.count('class="disk-name"') == min(count, 50)


def test_a_viewer_sees_disks_and_why_but_no_button(
    sim, storage, synced, client, make_member, host_of
):
    host = host_of(status=HostStatus.OFF)
    on = storage.add_disk(status=DiskStatus.IN_USE, pve_id=host.id)
    free = storage.add_disk()
    synced()
    client.force_login(make_member("vic", "Viewer"))

    disk_page = client.get(f"/disks/{free.id}/").content.decode()
    host_page = card(client.get(f"/hosts/{host.id}/").content.decode())

    assert "Your role does not allow you to attach or detach disks." in disk_page
    assert "Your role does not allow you to destroy disks." in disk_page
    assert "<form" not in disk_page.split('id="disk-panel"', 1)[1].split("Operations", 1)[0]
    assert on.id in host_page and "<form" not in host_page
    assert "New disk" not in client.get("/disks/").content.decode()
    assert client.get("/disks/new/").status_code == 403
