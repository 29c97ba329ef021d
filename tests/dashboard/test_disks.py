"""Cloud disks in the dashboard: the mirror (synced with the hosts), the provider's rules
checked before anything is sent, and each disk operation run against the simulator over real
HTTP (the runs played in this process, the simulator's clock moved on between them)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from dashboard import services
from dashboard.models import AuditEvent, Disk, Host, Notification, Operation, SyncState
from dashboard.refusals import OperationRefused
from vmclient.simulator import Fault
from vmclient.types import BillingType, DiskStatus, HostStatus

pytestmark = pytest.mark.django_db

DISKS = "/v1/PveMachineHardDisk/open/"


def later(sim):
    return lambda: sim.clock.advance(20)


@pytest.fixture
def off_host(mirrored, member, aged):
    """A pay-as-you-go host of the member's, off, that has run before, in South China."""
    return mirrored(owner=member, status=HostStatus.OFF, area=0, create_time=aged)


# --- The mirror -------------------------------------------------------------------------------


def test_the_sync_mirrors_every_disk_with_its_host_and_price(sim, storage, synced, off_host):
    mounted = storage.add_disk(status=DiskStatus.IN_USE, pve_id=off_host.id, memory=200)
    loose = storage.add_disk(memory=50, area=1)
    for _ in range(120):  # more than one page of 100
        storage.add_disk(memory=20, area=2)

    disks = synced()

    assert len(disks) == 122
    assert disks[mounted.id].host_id == off_host.id
    assert disks[mounted.id].status == DiskStatus.IN_USE
    assert disks[mounted.id].size_gb == 200
    assert disks[mounted.id].price_per_hour == Decimal("0.40")
    assert disks[loose.id].host_id is None and disks[loose.id].area == 1
    assert SyncState.objects.get(job="disks").item_count == 122


def test_a_disk_unmounted_upstream_is_no_longer_on_its_host(sim, storage, synced, off_host):
    disk = storage.add_disk(status=DiskStatus.IN_USE, pve_id=off_host.id)
    synced()
    # The provider keeps the last host in `pveId` after an unmount: `isMount` says it is off.
    disk.status, disk.is_mount = DiskStatus.WAITING, 0

    assert synced()[disk.id].host_id is None
    assert sim.fleet.storage.disks[disk.id].pve_id == off_host.id


def test_a_partial_disk_listing_marks_no_disk_gone(sim, storage, synced, member_client):
    from dashboard.upstream import get_client

    disks = [storage.add_disk(memory=20) for _ in range(150)]
    synced()
    del storage.disks[disks[0].id]
    # The gateway fails every listing call from page 2 on (page 1 arrived, over real HTTP).
    client = get_client()
    first_page = client.list_disks_page

    def then_fail(page=1, *args, **kwargs):
        answer = first_page(page, *args, **kwargs)
        sim.add_fault(Fault(kind="html_502", path=DISKS + "getList", times=None))
        return answer

    client.list_disks_page = then_fail

    services.hosts_sync(client=client)

    assert not Disk.objects.filter(gone_at__isnull=False).exists()
    assert SyncState.objects.get(job="disks").is_failing
    assert SyncState.objects.get(job="hosts").is_failing is False
    assert "could not list every disk" in member_client.get("/disks/").content.decode()

    del client.list_disks_page
    sim.clear_faults()
    synced()
    assert list(Disk.objects.filter(gone_at__isnull=False).values_list("id", flat=True)) == [
        disks[0].id
    ]


def test_a_disk_stopped_for_arrears_tells_its_owner_and_the_admins(
    sim, storage, synced, member, make_member
):
    admin = make_member("ada", "Admin")
    disk = storage.add_disk()
    synced()
    Disk.objects.filter(pk=disk.id).update(owner=member, owner_name=member.username)
    sim.config.wallet_balance = Decimal("0")  # the provider stops its disks for arrears

    synced()
    synced()  # once, not at every sync

    (alert,) = Notification.objects.filter(kind="disk_arrears")
    assert set(alert.recipients) == {member.username, admin.username}
    assert disk.id in alert.body


# --- Rules checked before anything is sent ---------------------------------------------------


def ask_disk(kind, *, user, disk=None, host=None, **params):
    return services.operation_request(
        user=user, kind=kind, disk=disk, host=host, params=params, idempotency_key=uuid.uuid4()
    )


@pytest.mark.parametrize(
    ("host_fields", "reason"),
    [
        ({"use_type": BillingType.RENTAL}, "pay-as-you-go"),
        ({"status": HostStatus.RUNNING}, "must be off"),
        ({"area": 1}, "same area"),
        # Seen from its creation on, and only ever off.
        ({"has_run": False, "create_time": None}, "never been started"),
    ],
)
def test_a_mount_the_provider_would_refuse_is_refused_before_sending(
    sim, storage, synced, mirrored, member, aged, host_fields, reason
):
    fields = {"status": HostStatus.OFF, "area": 0, "create_time": aged, **host_fields}
    if fields["create_time"] is None:
        fields["create_time"] = sim.clock.now_ms()
    host = mirrored(owner=member, **fields)
    disk = storage.add_disk(area=0)
    synced()
    Disk.objects.filter(pk=disk.id).update(owner=member)
    sim.clear_request_log()

    with pytest.raises(OperationRefused, match=reason):
        ask_disk("disk_attach", user=member, disk=Disk.objects.get(pk=disk.id), host=host)
    with pytest.raises(OperationRefused, match=reason):
        ask_disk("disk_create", user=member, host=host, area=0, size_gb=50)

    assert sim.request_count() == 0
    refused = AuditEvent.objects.filter(action="operation_refused")
    assert refused.count() == 2 and reason in refused.first().summary


def test_a_host_with_30_disks_takes_no_more(sim, storage, synced, member, off_host):
    for _ in range(30):
        storage.add_disk(status=DiskStatus.IN_USE, pve_id=off_host.id, memory=20)
    synced()

    with pytest.raises(OperationRefused, match="30 disks"):
        ask_disk("disk_create", user=member, host=off_host, area=0, size_gb=20)


def test_the_area_quota_counts_the_disks_held_and_the_creates_in_flight(
    sim, storage, synced, member, settings
):
    settings.XDS_DISK_AREA_QUOTA_GB = 300
    storage.add_disk(area=0, memory=200)
    synced()

    ask_disk("disk_create", user=member, area=0, size_gb=60)  # queued: 260 of 300
    with pytest.raises(OperationRefused, match="40 GB are left"):
        ask_disk("disk_create", user=member, area=0, size_gb=50)
    with pytest.raises(OperationRefused, match="at least 20 GB"):
        ask_disk("disk_create", user=member, area=0, size_gb=10)
    ask_disk("disk_create", user=member, area=1, size_gb=250)  # another area's quota


def test_a_mounted_disk_cannot_be_destroyed(sim, storage, synced, member, off_host):
    disk = storage.add_disk(status=DiskStatus.IN_USE, pve_id=off_host.id)
    synced()
    Disk.objects.filter(pk=disk.id).update(owner=member)

    with pytest.raises(OperationRefused, match="detach it first"):
        ask_disk("disk_destroy", user=member, disk=Disk.objects.get(pk=disk.id))


# --- Runs against the simulator --------------------------------------------------------------


def test_a_disk_created_on_an_off_host_is_bought_once_mounted_and_owned(
    sim, storage, synced, run, member, off_host
):
    operation = ask_disk("disk_create", user=member, host=off_host, area=0, size_gb=80)
    operation = run(operation, between=later(sim))

    assert operation.state == "succeeded", operation.message
    (upstream,) = storage.disks.values()
    assert sim.request_count(DISKS + "create") == 1
    disk = Disk.objects.get(pk=upstream.id)
    assert (disk.host_id, disk.status, disk.size_gb) == (off_host.id, DiskStatus.IN_USE, 80)
    assert disk.owner == member
    assert operation.disk_id == disk.id
    finished = AuditEvent.objects.get(action="operation_finished", operation_id=operation.pk)
    assert finished.details["disk_id"] == disk.id


def test_detach_then_destroy(sim, storage, synced, run, member, off_host):
    upstream = storage.add_disk(status=DiskStatus.IN_USE, pve_id=off_host.id)
    synced()
    Disk.objects.filter(pk=upstream.id).update(owner=member)

    disk = Disk.objects.get(pk=upstream.id)
    detach = run(ask_disk("disk_detach", user=member, disk=disk), between=later(sim))
    assert detach.state == "succeeded", detach.message
    assert detach.host_id == off_host.id
    assert Disk.objects.get(pk=upstream.id).host_id is None

    disk = Disk.objects.get(pk=upstream.id)
    destroy = run(ask_disk("disk_destroy", user=member, disk=disk), between=later(sim))
    assert destroy.state == "succeeded", destroy.message
    assert upstream.id not in storage.disks
    assert Disk.objects.get(pk=upstream.id).is_gone


def test_power_off_then_attach_is_one_request(sim, storage, synced, run, mirrored, member, aged):
    host = mirrored(owner=member, status=HostStatus.RUNNING, area=0, create_time=aged)
    upstream = storage.add_disk(area=0)
    synced()
    Disk.objects.filter(pk=upstream.id).update(owner=member)

    operation = ask_disk(
        "disk_attach",
        user=member,
        disk=Disk.objects.get(pk=upstream.id),
        host=host,
        power_off_first=True,
    )
    assert operation.params["power_off_first"] is True
    operation = run(operation, between=later(sim))

    assert operation.state == "succeeded", operation.message
    assert Operation.objects.count() == 1
    assert sim.fleet.hosts[host.id].status is HostStatus.OFF
    assert storage.disks[upstream.id].status is DiskStatus.IN_USE
    assert Host.objects.get(pk=host.id).status == HostStatus.OFF


def test_a_refusal_from_the_provider_fails_the_create_with_its_code(
    sim, storage, synced, run, member
):
    sim.config.wallet_balance = Decimal("0")  # less than an hour of the disk: 6003

    operation = run(ask_disk("disk_create", user=member, area=0, size_gb=100))

    assert operation.state == "failed"
    assert operation.error_code == "6003"
    assert "No disk was created" in operation.message
    assert not storage.disks


def test_a_create_whose_answer_is_cut_off_finds_its_disk_and_never_sends_again(
    sim, storage, synced, run, member, off_host
):
    storage.add_disk(area=0, memory=80)  # an older disk of the same size is not the one
    synced()
    sim.add_fault(Fault(kind="truncated_json", path=DISKS + "create", phase="after"))

    operation = run(ask_disk("disk_create", user=member, area=0, size_gb=80), between=later(sim))

    assert operation.state == "succeeded", operation.message
    assert sim.request_count(DISKS + "create") == 1
    assert len(storage.disks) == 2
    assert Disk.objects.get(pk=operation.disk_id).owner == member
    assert "answer_lost" in operation.events.values_list("event", flat=True)


def test_a_disk_create_above_the_team_limit_waits_for_approval(
    sim, storage, synced, member, member_client
):
    from dashboard.models import TeamPolicy

    storage.add_disk(area=0, memory=100)  # 0.20 an hour: 0.002 a GB
    synced()
    policy = TeamPolicy.current()
    policy.approval_threshold = Decimal("0.50")
    policy.save()

    cheap = ask_disk("disk_create", user=member, area=0, size_gb=200)
    dear = ask_disk("disk_create", user=member, area=0, size_gb=300)
    unknown = ask_disk("disk_create", user=member, area=2, size_gb=20)  # no price known there

    assert cheap.state == "queued" and cheap.params["hourly_price"] == "0.4000"
    assert dear.state == "awaiting"
    assert unknown.state == "awaiting" and unknown.params["hourly_price"] is None
    page = member_client.get(f"/operations/{unknown.pk}/").content.decode()
    assert "hourly price cannot be estimated yet" in page
    assert "¥0.40" not in page


def test_a_disk_create_redelivered_again_and_again_ends_unknown_not_failed(
    sim, member, settings, redeliver
):
    settings.XDS_ACTION_MAX_REDELIVERIES = 2
    operation = ask_disk("disk_create", user=member, area=0, size_gb=40)
    Operation.objects.filter(pk=operation.pk).update(
        state="waiting", attempts=1, dispatch_id="d1", dispatches=1
    )

    # The worker is killed while it looks for the new disk.
    outcomes = redeliver(operation, killed_in="iter_disks")

    assert outcomes == ["killed", "killed", "killed", "gave up", "final"]
    assert operation.state == "unknown" and operation.error_code == "redelivered"
    assert "may have made a disk" in operation.message
    assert sim.request_count(DISKS + "create") == 0


def test_every_disk_action_is_audited_requested_and_finished(sim, storage, synced, run, member):
    upstream = storage.add_disk()
    synced()
    Disk.objects.filter(pk=upstream.id).update(owner=member)

    operation = run(
        ask_disk("disk_destroy", user=member, disk=Disk.objects.get(pk=upstream.id)),
        between=later(sim),
    )

    rows = AuditEvent.objects.filter(operation_id=operation.pk).order_by("id")
    assert [row.action for row in rows] == ["operation_requested", "operation_finished"]
    assert all(row.details["disk_id"] == upstream.id for row in rows)
    assert rows[0].summary.startswith("Destroy disk ")
    assert rows[1].summary.endswith(": succeeded") and rows[1].actor == member
