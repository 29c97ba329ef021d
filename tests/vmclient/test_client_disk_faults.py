"""Faults on the disk and personal image calls: reads and actions retry what passes (220025 with
backoff), creates are never sent twice (a lost answer is OutcomeUnknown and exactly one disk or
image results), and an action repeated after a lost answer that did it is done."""

from __future__ import annotations

import pytest

from tests.vmclient.test_client import client_for
from tests.vmclient.test_client_disks import DISKS, off_host
from tests.vmclient.test_client_faults import AFTER_FAULTS, READ_FAULTS, RETRIED_KINDS, _fault
from vmclient.errors import (
    DiskNotUnmounted,
    OutcomeUnknown,
    ReadTimedOut,
    RequestTimedOutOrTooFrequent,
    XdsError,
)
from vmclient.simulator import Fault
from vmclient.types import DiskStatus, PersonalImageStatus

IMAGES = "/v1/open/image/personal/"
READS = {
    "getList": lambda client: list(client.iter_disks()),
    "info": lambda client: client.get_disk("D1"),
    "memoryTotal": lambda client: client.disk_usage(0),
    "images": lambda client: client.list_personal_images(),
}


def _read_path(name):
    return IMAGES + "getList" if name == "images" else DISKS + name


@pytest.fixture
def with_a_disk(simulator):
    storage = simulator.fleet.storage
    disk = storage.add_disk(memory=20)
    storage.disks["D1"] = storage.disks.pop(disk.id)
    disk.id = "D1"
    return simulator


# --- reads ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("read", sorted(READS))
@pytest.mark.parametrize("kind", RETRIED_KINDS)
def test_a_read_is_retried_past_a_passing_fault(with_a_disk, read, kind):
    sim = with_a_disk
    sim.add_fault(_fault(kind, _read_path(read)))
    with client_for(sim) as client:
        READS[read](client)
    assert sim.request_count(_read_path(read)) == 2


@pytest.mark.parametrize("read", sorted(READS))
@pytest.mark.parametrize("kind", sorted(READ_FAULTS))
def test_a_fault_that_stays_reaches_the_caller_as_its_named_error(with_a_disk, read, kind):
    sim = with_a_disk
    sim.add_fault(_fault(kind, _read_path(read), times=None))
    with client_for(sim, retries=1) as client, pytest.raises(READ_FAULTS[kind]):
        READS[read](client)


def test_220025_is_retried_with_backoff_and_then_answers(simulator):
    slept = []
    simulator.config.disk_calls_throttled = 2
    with client_for(simulator, retries=3, backoff=1.0, sleep=slept.append) as client:
        assert client.disk_usage(0) == 0
    assert simulator.request_count(DISKS + "memoryTotal") == 3
    assert len(slept) == 2 and 0.5 <= slept[0] <= 1.0 and 1.0 <= slept[1] <= 2.0


def test_220025_that_does_not_pass_reaches_the_caller_retryable(simulator):
    simulator.config.disk_calls_throttled = 10
    with (
        client_for(simulator, retries=2) as client,
        pytest.raises(RequestTimedOutOrTooFrequent) as caught,
    ):
        client.get_disk("any")
    assert caught.value.retryable and simulator.request_count(DISKS) == 3


def test_an_attach_answered_220025_is_retried_and_done(simulator):
    host = off_host(simulator)
    disk = simulator.fleet.storage.add_disk(memory=20)
    simulator.config.disk_calls_throttled = 1
    with client_for(simulator) as client:
        client.attach_disk(disk.id, host.id)
    assert disk.status is DiskStatus.MOUNTING and disk.pve_id == host.id


# --- creates: never repeated ------------------------------------------------------------------


@pytest.mark.parametrize("kind", AFTER_FAULTS)
def test_a_disk_create_whose_answer_is_lost_is_outcome_unknown_and_buys_one_disk(simulator, kind):
    simulator.add_fault(_fault(kind, DISKS + "create", phase="after"))
    with client_for(simulator, timeout=0.3) as client:
        client.disk_usage(0)  # the token, so that only the create is in play
        with pytest.raises(OutcomeUnknown) as caught:
            client.create_disk(area=0, size_gb=20)
    assert len(simulator.fleet.storage.disks) == 1
    assert simulator.request_count(DISKS + "create") == 1
    err = caught.value
    assert err.may_have_acted and not err.retryable and err.operation == "create_disk"
    assert err.params == {"area": 0, "memory": 20, "isMount": 0}


def test_the_lost_disk_is_found_by_listing(simulator):
    host = off_host(simulator)
    simulator.add_fault(Fault("hang", path=DISKS + "create", phase="after", seconds=1.0))
    with client_for(simulator, timeout=0.3) as client:
        with pytest.raises(OutcomeUnknown) as caught:
            client.create_disk(area=0, size_gb=40, host_id=host.id)
        assert isinstance(caught.value.cause, ReadTimedOut)
        (found,) = [d for d in client.iter_disks() if d.host_id == host.id and d.size_gb == 40]
    assert found.status is DiskStatus.MOUNTING


def test_a_disk_create_answered_220025_is_not_repeated(simulator):
    simulator.config.disk_calls_throttled = 1
    with client_for(simulator) as client, pytest.raises(OutcomeUnknown) as caught:
        client.create_disk(area=0, size_gb=20)
    assert isinstance(caught.value.cause, RequestTimedOutOrTooFrequent)
    assert simulator.request_count(DISKS + "create") == 1


@pytest.mark.parametrize("kind", ["html_502", "error_500", "drop", "hang"])
def test_a_disk_create_refused_by_a_fault_is_not_repeated_either(simulator, kind):
    simulator.add_fault(_fault(kind, DISKS + "create"))
    with client_for(simulator, timeout=0.3) as client, pytest.raises(OutcomeUnknown):
        client.create_disk(area=0, size_gb=20)
    assert simulator.request_count(DISKS + "create") == 1


@pytest.mark.parametrize("kind", ["drop", "error_500", "truncated_json", "hang"])
def test_a_personal_image_create_whose_answer_is_lost_makes_one_image(simulator, kind):
    host = off_host(simulator)
    simulator.add_fault(_fault(kind, IMAGES + "add", phase="after"))
    with client_for(simulator, timeout=0.3) as client:
        with pytest.raises(OutcomeUnknown) as caught:
            client.create_personal_image(host.id, "golden")
        assert caught.value.operation == "create_personal_image"
        assert [i.name for i in client.list_personal_images()] == ["golden"]
    assert simulator.request_count(IMAGES + "add") == 1


# --- actions repeated after a lost answer ------------------------------------------------------


def test_an_attach_whose_answer_was_lost_is_done_when_the_retry_says_already_mounted(simulator):
    host = off_host(simulator)
    disk = simulator.fleet.storage.add_disk(memory=20)
    simulator.add_fault(Fault("drop", path=DISKS + "pveCreate", phase="after"))
    with client_for(simulator) as client:
        assert client.attach_disk(disk.id, host.id) is None
    assert simulator.request_count(DISKS + "pveCreate") == 2
    assert disk.status is DiskStatus.MOUNTING


def test_a_detach_whose_answer_was_lost_is_done_when_the_retry_says_already_unmounted(simulator):
    host = off_host(simulator)
    disk = simulator.fleet.storage.add_disk(status=DiskStatus.IN_USE, pve_id=host.id, memory=20)
    simulator.config.unmount_seconds = 0  # unmounted before the repeat arrives
    simulator.add_fault(Fault("error_500", path=DISKS + "updateStatus", phase="after"))
    with client_for(simulator) as client:
        assert client.detach_disk(disk.id) is None
    assert simulator.request_count(DISKS + "updateStatus") == 2
    assert disk.status is DiskStatus.WAITING


def test_a_destroy_whose_answer_was_lost_says_it_may_have_acted(simulator):
    disk = simulator.fleet.storage.add_disk(memory=20)
    simulator.add_fault(Fault("drop", path=DISKS + "updateStatus", phase="after"))
    with client_for(simulator) as client, pytest.raises(DiskNotUnmounted) as caught:
        client.destroy_disk(disk.id)
    # The repeat found the disk being destroyed: not "failed", the caller follows the disk.
    assert caught.value.may_have_acted is True
    assert disk.status is DiskStatus.DESTROYING


def test_a_destroy_refused_at_once_did_nothing(simulator):
    host = off_host(simulator)
    disk = simulator.fleet.storage.add_disk(status=DiskStatus.IN_USE, pve_id=host.id, memory=20)
    with client_for(simulator) as client, pytest.raises(DiskNotUnmounted) as caught:
        client.destroy_disk(disk.id)
    assert caught.value.may_have_acted is False and disk.status is DiskStatus.IN_USE


def test_a_rename_whose_answer_was_lost_is_done_when_the_retry_says_the_name_is_taken(simulator):
    image = simulator.fleet.storage.put_image(
        off_host(simulator), "old", status=PersonalImageStatus.USABLE, create_time=0
    )
    # A provider that refuses an image its own name: the repeat answers 200003.
    original = simulator.fleet.storage._name_taken
    simulator.fleet.storage._name_taken = lambda name, other_than=None: original(name)
    simulator.add_fault(Fault("drop", path=IMAGES + "update", phase="after"))
    with client_for(simulator) as client:
        assert client.rename_personal_image(str(image.id), "new") is None
    assert image.image_name == "new" and simulator.request_count(IMAGES + "update") == 2


def test_a_delete_whose_answer_was_lost_is_done_when_the_retry_says_unknown_id(simulator):
    image = simulator.fleet.storage.put_image(
        off_host(simulator), "old", status=PersonalImageStatus.USABLE, create_time=0
    )
    simulator.add_fault(Fault("html_502", path=IMAGES + "delete", phase="after"))
    with client_for(simulator) as client:
        assert client.delete_personal_image(str(image.id)) is None
    assert simulator.fleet.storage.images == {}
    assert simulator.request_count(IMAGES + "delete") == 2


def test_an_action_answered_false_is_not_accepted(simulator):
    from vmclient.errors import ActionNotAccepted

    disk = simulator.fleet.storage.add_disk(memory=20)
    simulator.add_fault(
        Fault("raw", path=DISKS + "updateStatus", body=b'{"code":0,"data":false,"traceId":"t"}')
    )
    with client_for(simulator) as client, pytest.raises(ActionNotAccepted) as caught:
        client.destroy_disk(disk.id)
    assert caught.value.may_have_acted is False and disk.status is DiskStatus.WAITING


def test_no_fault_leaks_anything_but_xds_errors(simulator):
    simulator.add_fault(Fault("raw", path=DISKS, body=b'{"code":0,"data":{"data":"x"}}'))
    with client_for(simulator) as client, pytest.raises(XdsError):
        list(client.iter_disks())
