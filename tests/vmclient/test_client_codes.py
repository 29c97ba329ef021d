"""Every documented upstream code, provoked for real in the simulator, reaches its named error."""

from __future__ import annotations

import json

import pytest

from tests.vmclient.test_client import IMAGE, PACKAGE, client_for
from vmclient import errors
from vmclient.client import XuandashiClient
from vmclient.simulator import Fault
from vmclient.simulator.codes import MESSAGES
from vmclient.types import HostStatus, PeriodType

CEPH_PACKAGE = "Mv9SgBy6Rt"  # type ceph, pay-as-you-go: does not fit the BZ image


def _foreign(sim, client):
    sim.fleet.foreign_host_ids.add("ForeignOne")
    client.power_on("ForeignOne")


def _expired(sim, client):
    client.power_on(sim.fleet.add_host(status=HostStatus.EXPIRED, use_type=1).id)


def _real_name(sim, client):
    sim.config.real_name_verified = False
    client.create_rental(PACKAGE, IMAGE, 1, PeriodType.DAY)


def _booting(sim, client):
    client.power_on(sim.fleet.add_host(status=HostStatus.BOOTING).id)


def _shutting_down(sim, client):
    client.power_off(sim.fleet.add_host(status=HostStatus.SHUTTING_DOWN).id)


def _no_resources(sim, client):
    sim.config.resources_available = False
    client.create_pay_as_you_go(PACKAGE, IMAGE)


def _empty_wallet_power_on(sim, client):
    sim.config.wallet_balance = 0
    client.power_on(sim.fleet.add_host(status=HostStatus.OFF, use_type=0).id)


def _creation_waiting(sim, client):
    sim.config.creation_waiting = 1
    client.create_pay_as_you_go(PACKAGE, IMAGE)


def _reboot_never_started(sim, client):
    client.reboot(client.create_pay_as_you_go(PACKAGE, IMAGE))


def _reboot_unavailable(sim, client):
    client.reboot(sim.fleet.add_host(status=HostStatus.SHUTTING_DOWN).id)


def _reboot_off(sim, client):
    client.reboot(sim.fleet.add_host(status=HostStatus.OFF).id)


def _mismatch(sim, client):
    client.create_pay_as_you_go(CEPH_PACKAGE, IMAGE)


def _wallet_error(sim, client):
    sim.config.wallet_error = True
    client.create_rental(PACKAGE, IMAGE, 1, PeriodType.YEAR)


def _wallet_too_low(sim, client):
    sim.config.wallet_balance = 1
    client.create_rental(PACKAGE, IMAGE, 1, PeriodType.YEAR)


def _wrong_secret(sim, client):
    XuandashiClient(sim.url, sim.uuid, "not-the-secret").list_images()


def _fault(kind):
    def provoke(sim, client):
        sim.add_fault(Fault(kind, path="/v1/pve/open/image", times=None))
        client.list_images()

    return provoke


def _raw(code):
    def provoke(sim, client):
        body = {"code": code, "success": False, "msg": MESSAGES[code], "traceId": f"raw-{code}"}
        sim.add_fault(Fault("raw", path="/v1/pve/open/image", body=json.dumps(body).encode()))
        client.list_images()

    return provoke


SCENARIOS = {
    401: _wrong_secret,
    500: _fault("error_500"),
    503: _fault("interface_503"),
    1001: _foreign,
    1003: _expired,
    1005: _raw(1005),  # a create answered 1005 is OutcomeUnknown: see test_client_faults
    1007: _raw(1007),  # the client never sends a request missing a parameter
    1037: _real_name,
    6000: _booting,
    6001: _shutting_down,
    6002: _no_resources,
    6003: _empty_wallet_power_on,
    6005: _creation_waiting,
    7002: _reboot_never_started,
    7003: _reboot_unavailable,
    7004: _reboot_off,
    7005: _mismatch,
    9000: _wallet_error,
    9001: _wallet_too_low,
}


@pytest.mark.parametrize("code", sorted(SCENARIOS))
def test_each_documented_code_reaches_its_named_error(simulator, code):
    with client_for(simulator, retries=0) as client, pytest.raises(errors.XdsError) as caught:
        SCENARIOS[code](simulator, client)
    err = caught.value
    assert type(err) is errors.error_for_code(code)
    assert err.code == code
    expected_msg = "主机已到期" if code == 1003 else MESSAGES[code]
    assert err.upstream_message == expected_msg
    assert err.trace_id
    assert f"code {code}" in str(err) and err.trace_id in str(err)


def test_codes_of_the_original_version_have_no_trace_id(make_simulator):
    sim = make_simulator(doc_version="original", wallet_balance=1)
    with client_for(sim) as client, pytest.raises(errors.WalletBalanceTooLow) as caught:
        client.create_rental(PACKAGE, IMAGE, 1, PeriodType.YEAR)
    assert caught.value.trace_id is None and "trace id none" in str(caught.value)
    assert caught.value.upstream_message == "钱包余额不足"


def test_a_refused_create_buys_nothing_and_a_later_one_works(simulator):
    simulator.config.creation_waiting = 1
    with client_for(simulator) as client:
        with pytest.raises(errors.CreationWaiting) as caught:
            client.create_pay_as_you_go(PACKAGE, IMAGE)
        assert caught.value.retryable
        assert simulator.request_count("/v1/pve/open/createquantity") == 1  # never auto-retried
        assert simulator.fleet.hosts == {}
        assert client.create_pay_as_you_go(PACKAGE, IMAGE) in simulator.fleet.hosts


def test_an_unknown_template_is_a_business_error_showing_the_upstream_reason(simulator):
    with client_for(simulator) as client, pytest.raises(errors.BusinessError) as caught:
        client.create_pay_as_you_go("NoSuchPkg", IMAGE)
    assert caught.value.upstream_message == "主机模板不存在"


def test_an_unknown_code_is_a_generic_api_error(simulator):
    body = b'{"code": 4321, "msg": "\xe6\x96\xb0\xe9\x94\x99\xe8\xaf\xaf", "traceId": "t-4321"}'
    simulator.add_fault(Fault("raw", path="/v1/pve/open/image", body=body))
    with client_for(simulator) as client, pytest.raises(errors.ApiError) as caught:
        client.list_images()
    err = caught.value
    assert type(err) is errors.ApiError
    assert (err.code, err.upstream_message, err.trace_id) == (4321, "新错误", "t-4321")
