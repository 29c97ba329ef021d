"""Every documented code of the cloud disk and personal image calls, provoked for real in the
simulator through the client, reaches its named error with the code, the provider's message and
the trace id."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.vmclient.test_client import client_for
from tests.vmclient.test_client_disks import DISKS, off_host
from vmclient import errors
from vmclient.simulator import Fault
from vmclient.simulator.codes import MESSAGES
from vmclient.types import MAX_DISKS_PER_HOST, DiskStatus, HostStatus

IMAGES = "/v1/open/image/personal/"


def _in_use_on(sim, host, **fields):
    return sim.fleet.storage.add_disk(
        status=DiskStatus.IN_USE, pve_id=host.id, area=host.area, memory=20, **fields
    )


def _unknown_host(sim, client):
    client.attach_disk(sim.fleet.storage.add_disk(memory=20).id, "NoSuchHost")


def _unknown_disk(sim, client):
    client.attach_disk("NoSuchDisk", off_host(sim).id)


def _already_mounted(sim, client):
    host = off_host(sim)
    client.attach_disk(_in_use_on(sim, host).id, host.id)


def _already_unmounted(sim, client):
    client.detach_disk(sim.fleet.storage.add_disk(memory=20).id)


def _unmount_while_mounting(sim, client):
    host = off_host(sim)
    client.detach_disk(client.create_disk(area=0, size_gb=20, host_id=host.id))


def _host_running(sim, client):
    host = sim.fleet.add_host(status=HostStatus.RUNNING, use_type=0, area=0)
    client.create_disk(area=0, size_gb=20, host_id=host.id)


def _thirty_disks(sim, client):
    host = off_host(sim)
    for _ in range(MAX_DISKS_PER_HOST):
        _in_use_on(sim, host)
    client.create_disk(area=0, size_gb=20, host_id=host.id)


def _never_started(sim, client):
    host = off_host(sim, has_run=False)
    client.attach_disk(sim.fleet.storage.add_disk(memory=20).id, host.id)


def _too_small(sim, client):
    client.create_disk(area=0, size_gb=19)


def _quota(sim, client):
    sim.config.disk_area_quota_gb = 100
    client.create_disk(area=1, size_gb=60)
    client.create_disk(area=1, size_gb=41)


def _expired_host(sim, client):
    host = sim.fleet.add_host(status=HostStatus.EXPIRED, area=0)
    client.create_disk(area=0, size_gb=20, host_id=host.id)


def _rental_host(sim, client):
    host = sim.fleet.add_host(status=HostStatus.OFF, use_type=1, area=0)
    client.create_disk(area=0, size_gb=20, host_id=host.id)


def _other_area(sim, client):
    host = off_host(sim, area=1)
    client.create_disk(area=0, size_gb=20, host_id=host.id)


def _destroy_mounted(sim, client):
    client.destroy_disk(_in_use_on(sim, off_host(sim)).id)


def _other_node(sim, client):
    first, second = off_host(sim), off_host(sim)
    sim.fleet.storage.host_nodes.update({first.id: "node-a", second.id: "node-b"})
    client.attach_disk(_in_use_on(sim, first).id, second.id)


def _throttled(sim, client):
    sim.config.disk_calls_throttled = 1
    client.disk_usage(0)


def _unknown_image(sim, client):
    client.rename_personal_image("424242", "new name")


def _too_many_images(sim, client):
    sim.config.max_personal_images = 1
    client.create_personal_image(off_host(sim).id, "first")
    client.create_personal_image(off_host(sim).id, "second")


def _name_taken(sim, client):
    client.create_personal_image(off_host(sim).id, "golden")
    client.create_personal_image(off_host(sim).id, "golden")


def _raw(code, path):
    """A code the client cannot provoke: it never sends the request that earns it."""

    def provoke(sim, client):
        body = {"code": code, "success": False, "msg": MESSAGES[code], "traceId": f"raw-{code}"}
        sim.add_fault(Fault("raw", path=path, body=json.dumps(body).encode()))
        client.create_disk(area=0, size_gb=20, host_id=off_host(sim).id)

    return provoke


SCENARIOS = {
    1021: _unknown_host,
    220001: _unknown_disk,
    220002: _already_mounted,
    220006: _already_unmounted,
    220007: _unmount_while_mounting,
    220009: _host_running,
    220010: _thirty_disks,
    220012: _never_started,
    220013: _too_small,
    220014: _quota,
    220015: _raw(220015, DISKS + "create"),  # the client always names the host it mounts on
    220016: _expired_host,
    220017: _rental_host,
    220018: _other_area,
    220020: _raw(220020, DISKS + "create"),  # the client always sends isMount 0 or 1
    220022: _destroy_mounted,
    220024: _other_node,
    220025: _throttled,
    200001: _unknown_image,
    200002: _too_many_images,
    200003: _name_taken,
}


def test_every_disk_and_image_code_has_a_scenario():
    codes = {c for c in errors.registered_codes() if c == 1021 or c >= 200000}
    assert codes == set(SCENARIOS)


@pytest.mark.parametrize("code", sorted(SCENARIOS))
def test_each_disk_and_image_code_reaches_its_named_error(simulator, code):
    with client_for(simulator, retries=0) as client, pytest.raises(errors.XdsError) as caught:
        SCENARIOS[code](simulator, client)
    err = caught.value
    if isinstance(err, errors.OutcomeUnknown):  # a create answered an uncertain code
        assert code == 220025
        err = err.cause
    assert type(err) is errors.error_for_code(code)
    assert err.code == code
    assert err.upstream_message == MESSAGES[code]
    assert err.trace_id
    assert f"code {code}" in str(err)


def test_a_rule_refused_create_buys_no_disk(simulator):
    with client_for(simulator) as client:
        for scenario in (_too_small, _rental_host, _other_area, _host_running):
            with pytest.raises(errors.XdsError) as caught:
                scenario(simulator, client)
            assert caught.value.may_have_acted is False
    assert simulator.fleet.storage.disks == {}


def test_a_wallet_that_does_not_cover_an_hour_refuses_a_disk_with_6003(simulator):
    simulator.config.wallet_balance = Decimal("0.01")
    with client_for(simulator) as client, pytest.raises(errors.PowerBalanceTooLow) as caught:
        client.create_disk(area=0, size_gb=100)  # 0.20 an hour
    assert caught.value.code == 6003 and simulator.fleet.storage.disks == {}


def test_a_disk_without_real_name_verification_is_refused_with_1037(simulator):
    simulator.config.real_name_verified = False
    with client_for(simulator) as client, pytest.raises(errors.RealNameRequired):
        client.create_disk(area=0, size_gb=20)
