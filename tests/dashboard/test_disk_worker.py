"""Disk operations end to end through the real broker and a real Celery worker, against the
simulator: a create asked for on its page and followed until mounted, and a create whose
answer is lost (the provider made the disk, the client gave up waiting): exactly one disk
results, found by listing, never sent again."""

from __future__ import annotations

import pytest

from dashboard.models import Disk, Operation
from tests.dashboard.workers import final
from vmclient.simulator import Fault
from vmclient.types import DiskStatus, HostStatus

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.real_worker]

CREATE = "/v1/PveMachineHardDisk/open/create"


@pytest.fixture
def sim(make_simulator, point_client_at, settings, worker_queue):
    """Disks that mount and are destroyed within a fraction of a second, polled every 0.1 s."""
    settings.XDS_ACTION_POLL_SECONDS = 0.1
    return point_client_at(
        make_simulator(mount_seconds=0.3, unmount_seconds=0.2, destroy_seconds=0.3)
    )


def test_a_disk_asked_for_on_its_page_is_made_and_mounted_once(
    sim, mirrored, member, member_client, aged
):
    host = mirrored(owner=member, status=HostStatus.OFF, area=0, create_time=aged)
    response = member_client.post(
        "/disks/new/",
        {
            "area": "south-china",
            "size_gb": "40",
            "host": host.id,
            "idempotency_key": "3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]

    operation = final(Operation.objects.get())

    assert operation.state == "succeeded", operation.message
    (upstream,) = sim.fleet.storage.disks.values()
    assert upstream.status is DiskStatus.IN_USE and upstream.pve_id == host.id
    disk = Disk.objects.get(pk=upstream.id)
    assert disk.host_id == host.id and disk.owner == member
    assert sim.request_count(CREATE) == 1


@pytest.mark.parametrize("fault", ["hang", "html_502"])
def test_a_lost_answer_to_a_disk_create_ends_with_exactly_one_disk(
    sim, ask, member, settings, fault
):
    settings.XDS_TIMEOUT = 0.5
    # The provider makes the disk, then its answer is lost: too late, or a gateway's page.
    sim.add_fault(Fault(kind=fault, path=CREATE, phase="after", seconds=1.5))

    operation = final(ask("disk_create", area=0, size_gb=60))

    assert operation.state == "succeeded", operation.message
    assert sim.request_count(CREATE) == 1
    (upstream,) = sim.fleet.storage.disks.values()
    assert operation.disk_id == upstream.id
    assert Disk.objects.get(pk=upstream.id).owner == member
    assert "answer_lost" in operation.events.values_list("event", flat=True)
