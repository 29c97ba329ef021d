"""The cloud disk calls over real HTTP against the simulator: typed results, every rule's
outcome, pages, both document versions, and arguments refused before anything is sent."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from tests.vmclient.test_client import client_for
from vmclient.errors import DiskNotFound, InvalidArgument, OutcomeUnknown
from vmclient.simulator import Fault
from vmclient.types import (
    MAX_DISK_PAGE_SIZE,
    Area,
    BillingType,
    Disk,
    DiskStatus,
    HostStatus,
)

DISKS = "/v1/PveMachineHardDisk/open/"


def off_host(sim, **fields):
    """A pay-as-you-go host that is off and has run: one a disk may be mounted on."""
    fields.setdefault("area", 0)
    return sim.fleet.add_host(status=HostStatus.OFF, use_type=0, **fields)


@pytest.fixture
def client(simulator):
    with client_for(simulator) as client:
        yield client


def disk_requests(sim):
    return [r for r in sim.request_log_snapshot() if r.path.startswith(DISKS)]


# --- create, read, usage ----------------------------------------------------------------------


def test_create_disk_returns_the_new_disks_id_and_get_disk_reads_it_typed(simulator, client):
    disk_id = client.create_disk(area=Area.WEST_CHINA, size_gb=50)
    disk = client.get_disk(disk_id)
    assert isinstance(disk, Disk) and disk.id == disk_id
    assert disk.area is Area.WEST_CHINA and disk.size_gb == 50
    assert disk.status is DiskStatus.WAITING and disk.host_id is None
    assert disk.price_per_hour == Decimal("0.10")  # sent as the string "0.10"
    assert isinstance(disk.created_at, datetime) and disk.created_at.tzinfo is not None
    assert disk.name and disk.uuid and disk.billing_type is BillingType.PAY_AS_YOU_GO
    assert simulator.fleet.storage.disks[disk_id].memory == 50


def test_a_disk_created_on_a_host_is_mounting_then_in_use_as_the_clock_moves(simulator, client):
    host = off_host(simulator)
    disk_id = client.create_disk(area=0, size_gb=20, host_id=host.id)
    disk = client.get_disk(disk_id)
    assert disk.status is DiskStatus.MOUNTING and disk.host_id == host.id
    assert disk.status.is_changing
    simulator.clock.advance(simulator.config.mount_seconds + 1)
    disk = client.get_disk(disk_id)
    assert disk.status is DiskStatus.IN_USE and disk.host_id == host.id and disk.mounted
    assert disk.bus == "scsi1"


def test_create_sends_area_size_and_the_host_as_the_docs_name_them(simulator, client):
    host = off_host(simulator, area=2)
    mounted = simulator.fleet.storage.disks[client.create_disk(area=2, size_gb=30, host_id=host.id)]
    assert (mounted.area, mounted.memory, mounted.is_mount, mounted.pve_id) == (2, 30, 1, host.id)
    loose = simulator.fleet.storage.disks[client.create_disk(area=1, size_gb=25)]
    assert (loose.area, loose.memory, loose.is_mount, loose.pve_id) == (1, 25, 0, None)


def test_disk_usage_is_the_gb_held_in_one_area(simulator, client):
    assert client.disk_usage(Area.SOUTH_CHINA) == 0
    client.create_disk(area=0, size_gb=20)
    client.create_disk(area=0, size_gb=100)
    client.create_disk(area=1, size_gb=40)
    assert client.disk_usage(0) == 120
    assert client.disk_usage(Area.WEST_CHINA) == 40
    assert client.disk_usage(2) == 0


def test_get_disk_of_an_unknown_id_is_disk_not_found(client):
    with pytest.raises(DiskNotFound) as caught:
        client.get_disk("NoSuchDisk")
    assert caught.value.code == 220001 and caught.value.trace_id


# --- attach, detach, destroy: accepted is not done --------------------------------------------


def test_attach_detach_destroy_each_answer_before_the_change_is_done(simulator, client):
    host = off_host(simulator)
    disk_id = client.create_disk(area=0, size_gb=20)

    assert client.attach_disk(disk_id, host.id) is None
    assert client.get_disk(disk_id).status is DiskStatus.MOUNTING
    simulator.clock.advance(simulator.config.mount_seconds)
    assert client.get_disk(disk_id).host_id == host.id

    assert client.detach_disk(disk_id) is None
    still = client.get_disk(disk_id)
    assert still.status is DiskStatus.IN_USE and still.host_id == host.id  # not done yet
    simulator.clock.advance(simulator.config.unmount_seconds)
    detached = client.get_disk(disk_id)
    assert detached.status is DiskStatus.WAITING and detached.host_id is None
    assert detached.last_host_id == host.id  # the docs' pveId keeps the last host
    assert detached.mounted is False

    assert client.destroy_disk(disk_id) is None
    assert client.get_disk(disk_id).status is DiskStatus.DESTROYING
    simulator.clock.advance(simulator.config.destroy_seconds)
    with pytest.raises(DiskNotFound):
        client.get_disk(disk_id)
    assert client.disk_usage(0) == 0


def test_detach_and_destroy_send_the_documented_status_codes(simulator, client):
    host = off_host(simulator)
    disk = simulator.fleet.storage.add_disk(status=DiskStatus.IN_USE, pve_id=host.id, memory=20)
    client.detach_disk(disk.id)
    assert simulator.fleet.storage.disks[disk.id].unmount_at is not None
    simulator.clock.advance(60)
    client.destroy_disk(disk.id)
    assert simulator.fleet.storage.disks[disk.id].status is DiskStatus.DESTROYING
    assert [r.method for r in disk_requests(simulator)] == ["PUT", "PUT"]


# --- listing -----------------------------------------------------------------------------------


def test_iter_disks_reads_every_disk_once_in_pages_of_at_most_100(simulator, client):
    for _ in range(230):
        simulator.fleet.storage.add_disk(area=1, memory=20)
    disks = list(client.iter_disks())
    assert len(disks) == 230 and len({d.id for d in disks}) == 230
    pages = [r for r in disk_requests(simulator) if r.path.endswith("getList")]
    assert len(pages) == 3


def test_iter_disks_follows_a_provider_that_serves_fewer_per_page(simulator, client):
    simulator.config.max_disk_page_size = 30
    for _ in range(75):
        simulator.fleet.storage.add_disk(area=1, memory=20)
    assert len({d.id for d in client.iter_disks()}) == 75


def test_an_account_without_disks_lists_none(client):
    assert list(client.iter_disks()) == []


def test_a_page_bigger_than_100_is_refused_before_sending(simulator, client):
    with pytest.raises(InvalidArgument) as caught:
        client.list_disks_page(1, MAX_DISK_PAGE_SIZE + 1)
    assert caught.value.maximum == 100 and simulator.request_count(DISKS) == 0


def test_disks_read_in_the_original_versions_shapes(make_simulator):
    sim = make_simulator(doc_version="original", numbers_as_strings=True)
    host = off_host(sim)
    sim.fleet.storage.add_disk(status=DiskStatus.IN_USE, pve_id=host.id, memory=40, area=0)
    with client_for(sim) as client:
        (disk,) = client.iter_disks()
        assert disk.size_gb == 40 and disk.host_id == host.id and disk.area is Area.SOUTH_CHINA
        assert disk.status is DiskStatus.IN_USE
        assert client.disk_usage(0) == 40


# --- arguments refused before anything is sent ------------------------------------------------


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        (lambda c: c.create_disk(area=3, size_gb=20), "area"),
        (lambda c: c.create_disk(area=True, size_gb=20), "area"),
        (lambda c: c.create_disk(area="0", size_gb=20), "area"),
        (lambda c: c.create_disk(area=0, size_gb=0), "not_positive"),
        (lambda c: c.create_disk(area=0, size_gb=20.5), "not_positive"),
        (lambda c: c.create_disk(area=0, size_gb=20, host_id=""), "invalid_id"),
        (lambda c: c.get_disk("a b"), "invalid_id"),
        (lambda c: c.attach_disk("d", None), "invalid_id"),
        (lambda c: c.detach_disk(""), "invalid_id"),
        (lambda c: c.destroy_disk(".."), "invalid_id"),
        (lambda c: c.disk_usage(-1), "area"),
    ],
)
def test_bad_arguments_are_refused_locally(simulator, client, call, reason):
    with pytest.raises(InvalidArgument) as caught:
        call(client)
    assert caught.value.reason == reason and caught.value.may_have_acted is False
    assert simulator.request_count(DISKS) == 0


def test_a_create_answered_without_an_id_is_outcome_unknown(simulator, client):
    # Code 0 says something was bought; without its id it must be found by listing.
    simulator.add_fault(
        Fault("raw", path=DISKS + "create", body=b'{"code":0,"data":true}', phase="after")
    )
    with pytest.raises(OutcomeUnknown) as caught:
        client.create_disk(area=0, size_gb=20)
    assert caught.value.operation == "create_disk"
    assert caught.value.params == {"area": 0, "memory": 20, "isMount": 0}
    assert len(simulator.fleet.storage.disks) == 1


def test_a_disk_stopped_for_arrears_is_not_mounted(simulator, client):
    host = off_host(simulator)
    disk = simulator.fleet.storage.add_disk(status=DiskStatus.IN_USE, pve_id=host.id)
    simulator.fleet.storage.set_arrears(disk.id, True)
    stopped = client.get_disk(disk.id)
    assert stopped.status is DiskStatus.STOPPED_FOR_ARREARS and stopped.host_id is None
    assert not stopped.status.is_changing
