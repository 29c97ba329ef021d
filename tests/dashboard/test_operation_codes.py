"""Every refusal the provider documents ends the operation as failed, with the error's message in
English and Chinese, its code and the trace id to quote to the provider's support. Each code is
provoked in the simulator the way the provider would answer it."""

from __future__ import annotations

import json

import pytest

from dashboard import services
from dashboard.models import Operation
from dashboard.wording import error_words_in
from vmclient.errors import ApiError, error_for_code
from vmclient.simulator import Fault
from vmclient.types import HostStatus

pytestmark = pytest.mark.django_db


def assert_failed_with(operation: Operation, code: int) -> None:
    error = error_for_code(code)
    assert operation.state == "failed", operation.message
    assert operation.error_code == str(code)
    # A create the provider refused says first that nothing was bought (6005 says so itself).
    bought_nothing = operation.is_create and code != 6005
    assert operation.message == ("Nothing was bought. " if bought_nothing else "") + (
        error_words_in(error(), "en")
    )
    assert operation.message_in("zh-hans") == ("未购买任何主机。" if bought_nothing else "") + (
        error_words_in(error(), "zh-hans")
    )
    assert operation.trace_id  # the provider's, from the answer's envelope
    last = operation.events.last()
    assert (last.event, last.code, last.trace_id) == ("failed", str(code), operation.trace_id)
    assert (last.detail_in("en"), last.detail_in("zh-hans")) == (
        operation.message_in("en"),
        operation.message_in("zh-hans"),
    )


def buy(ask, kind="create_payg", **params):
    params = {"package_id": "Pi8tcH1NSd", "image_id": "8991", **params}
    if kind == "create_rental":
        params.update(period_type=3, period_number=1)
    return ask(kind, **params)


@pytest.mark.parametrize(
    ("code", "kind", "config"),
    [
        (1037, "create_payg", {"real_name_verified": False}),
        (1037, "create_rental", {"real_name_verified": False}),
        (6002, "create_payg", {"resources_available": False}),
        (6002, "create_rental", {"resources_available": False}),
        (9000, "create_rental", {"wallet_error": True}),
        (9001, "create_rental", {"wallet_balance": 0}),
    ],
)
def test_a_refused_create_fails_with_the_codes_message(
    catalog_cached, ask, run, code, kind, config
):
    for name, value in config.items():
        setattr(catalog_cached.config, name, value)
    operation = run(buy(ask, kind))
    assert_failed_with(operation, code)
    assert not catalog_cached.fleet.hosts


@pytest.mark.parametrize("path", ["/v1/pve/open/createquantity", "/v1/pve/open/createRent"])
def test_no_permission_on_a_create_fails_with_its_message_and_trace_id(
    catalog_cached, ask, run, path
):
    envelope = {
        "code": 1001,
        "success": False,
        "msg": "权限不足",
        "data": None,
        "traceId": "t-1001",
    }
    catalog_cached.add_fault(Fault(kind="raw", path=path, body=json.dumps(envelope)))
    kind = "create_payg" if path.endswith("createquantity") else "create_rental"
    operation = run(buy(ask, kind))
    assert_failed_with(operation, 1001)
    assert operation.trace_id == "t-1001"


def test_a_template_and_image_of_different_types_fail_with_7005(catalog_cached, member, run):
    """The form and the service never send such a pair; were one sent (a catalog changed
    under a queued create), the provider's 7005 still ends it with its message."""
    params = services.pricing.create_params_checked(
        kind="create_payg", params={"package_id": "Pi8tcH1NSd", "image_id": "8991"}
    )
    params["image_id"] = "9102"  # a BL image for a BZ template
    operation = Operation.objects.create(
        kind="create_payg", requested_by=member, requested_by_name="member", params=params
    )
    services.operation_dispatch(operation=operation)
    assert_failed_with(run(operation), 7005)


def test_creation_waiting_until_the_deadline_fails_with_6005(catalog_cached, ask, run, settings):
    settings.XDS_CREATE_RETRY_SECONDS = 60
    settings.XDS_CREATE_DEADLINE = 30
    catalog_cached.config.creation_waiting = 1
    assert_failed_with(run(buy(ask)), 6005)


@pytest.fixture
def host(sim, mirrored, member):
    """A host the mirror thinks is in `mirror_status`, while the simulator has it in `status`;
    the member owns it (so may delete it too)."""

    def host(status, mirror_status=None, **upstream):
        row = mirrored(status=status, owner=member, **upstream)
        if mirror_status is not None:
            type(row).objects.filter(id=row.id).update(status=mirror_status)
            row.refresh_from_db()
        return row

    return host


@pytest.mark.parametrize(
    ("code", "kind", "setup"),
    [
        (1037, "power_on", {"config": {"real_name_verified": False}}),
        (6000, "power_on", {"status": HostStatus.BOOTING}),
        (6002, "power_on", {"config": {"resources_available": False}}),
        (6003, "power_on", {"config": {"wallet_balance": 0}}),
        (6001, "power_off", {"status": HostStatus.SHUTTING_DOWN}),
        (7002, "reboot", {"upstream": {"has_run": False}}),
        (7003, "reboot", {"status": HostStatus.CHARGING}),
        (7004, "reboot", {"status": HostStatus.OFF}),
    ],
)
def test_a_refused_action_fails_with_the_codes_message(sim, host, ask, run, code, kind, setup):
    allowed = {"power_on": HostStatus.OFF}.get(kind, HostStatus.RUNNING)
    row = host(setup.get("status", allowed), allowed, **setup.get("upstream", {}))
    for name, value in setup.get("config", {}).items():
        setattr(sim.config, name, value)
    assert_failed_with(run(ask(kind, row)), code)


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("power_on", HostStatus.OFF),
        ("power_off", HostStatus.RUNNING),
        ("reboot", HostStatus.RUNNING),
        ("delete", HostStatus.OFF),
    ],
)
def test_another_accounts_host_fails_with_no_permission(sim, host, ask, run, kind, status):
    row = host(status)
    sim.fleet.foreign_host_ids.add(row.id)
    del sim.fleet.hosts[row.id]
    assert_failed_with(run(ask(kind, row)), 1001)


def test_every_documented_code_is_covered_here():
    """The codes the issue lists all have a named error with its own words in both languages (a
    new one added to the client without its words would fail here)."""
    for code in (1001, 1037, 6000, 6001, 6002, 6003, 6005, 7002, 7003, 7004, 7005, 9000, 9001):
        error = error_for_code(code)
        assert error.upstream_code == code
        words = error_words_in(error(), "en"), error_words_in(error(), "zh-hans")
        assert words[0] != words[1]
        assert words[0] != error_words_in(ApiError(), "en")  # not the words of an unknown code
