"""Whatever the upstream answers, the caller sees a typed result or an XdsError, nothing else.

Arbitrary JSON, arbitrary bytes, random HTTP statuses and envelopes with random `data` are served
for each endpoint with `Fault(kind="raw", times=None)`, over real HTTP, by one simulator per
module (the faults are cleared between examples).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.vmclient.test_client import IMAGE, PACKAGE, client_for
from vmclient.errors import OutcomeUnknown, XdsError
from vmclient.simulator import Fault, Simulator
from vmclient.types import (
    Disk,
    DiskPage,
    Host,
    HostPage,
    Image,
    Package,
    PeriodType,
    PersonalImage,
)

DISKS = "/v1/PveMachineHardDisk/open/"
IMAGES = "/v1/open/image/personal/"

PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def shared():
    sim = Simulator(hosts=0).start()
    client = client_for(sim, retries=0, timeout=2.0)
    client.authenticate()
    try:
        yield sim, client
    finally:
        client.close()
        sim.stop()


def _create_rental(client):
    return client.create_rental(PACKAGE, IMAGE, 1, PeriodType.DAY)


# path served the fault -> (call, check on a successful result)
CALLS = {
    "/v1/pve/open/packAge/": (
        lambda c: c.list_packages(0),
        lambda r: isinstance(r, list) and all(isinstance(p, Package) for p in r),
    ),
    "/v1/pve/open/image": (
        lambda c: c.list_images(),
        lambda r: isinstance(r, list) and all(isinstance(i, Image) for i in r),
    ),
    "/v1/pve/open/createquantity": (
        lambda c: c.create_pay_as_you_go(PACKAGE, IMAGE),
        lambda r: r is None or (isinstance(r, str) and r),
    ),
    "/v1/pve/open/createRent": (
        _create_rental,
        lambda r: r is None or (isinstance(r, str) and r),
    ),
    "/v1/pve/open/operate/": (lambda c: c.power_on("h1"), lambda r: r is None),
    "/v1/pve/open/reboot/": (lambda c: c.reboot("h1"), lambda r: r is None),
    "/v1/pve/open/one/": (lambda c: c.get_host("h1"), lambda r: isinstance(r, Host)),
    "/v1/pve/open/mypage": (
        lambda c: c.list_hosts_page(1),
        lambda r: isinstance(r, HostPage) and r.total >= 0,
    ),
    "/v1/pve/open/delete/": (lambda c: c.delete_host("h1"), lambda r: isinstance(r, bool)),
    # Cloud disks
    DISKS + "create": (
        lambda c: c.create_disk(area=0, size_gb=20),
        lambda r: isinstance(r, str) and r,
    ),
    DISKS + "pveCreate": (lambda c: c.attach_disk("d1", "h1"), lambda r: r is None),
    DISKS + "getList": (
        lambda c: c.list_disks_page(1),
        lambda r: isinstance(r, DiskPage) and r.total >= 0,
    ),
    DISKS + "info/": (lambda c: c.get_disk("d1"), lambda r: isinstance(r, Disk)),
    DISKS + "updateStatus": (lambda c: c.destroy_disk("d1"), lambda r: r is None),
    DISKS + "memoryTotal/": (
        lambda c: c.disk_usage(0),
        lambda r: isinstance(r, int) and r >= 0,
    ),
    # Personal images (a 404 falls back on the other spelling, which the simulator answers)
    IMAGES + "getList": (
        lambda c: c.list_personal_images(),
        lambda r: isinstance(r, list) and all(isinstance(i, PersonalImage) for i in r),
    ),
    IMAGES + "add": (
        lambda c: c.create_personal_image("h1", "golden"),
        lambda r: r is None or (isinstance(r, str) and r),
    ),
    IMAGES + "update": (lambda c: c.rename_personal_image("1", "n"), lambda r: r is None),
    IMAGES + "delete": (lambda c: c.delete_personal_image("1"), lambda r: r is None),
}
PATHS = sorted(CALLS)
CREATES = (
    "/v1/pve/open/createquantity",
    "/v1/pve/open/createRent",
    DISKS + "create",
    IMAGES + "add",
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)
HOST_KEYS = [
    "id",
    "name",
    "gpuConfiguration",
    "gpuNumber",
    "memory",
    "cpu",
    "rigidDisk",
    "operatingSystem",
    "hostAccount",
    "hostPw",
    "address",
    "port",
    "mac",
    "ipv4",
    "ipV4",
    "pveMachineType",
    "useType",
    "status",
    "area",
    "createTime",
    "expirationTime",
]
PACKAGE_KEYS = [
    "packageId",
    "name",
    "gpuNumber",
    "gpuName",
    "memoryNumber",
    "rigidDiskNumber",
    "cpuNumber",
    "bandWidth",
    "amount",
    "discount",
    "type",
    "pveMachineType",
    "area",
    "useType",
]
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-5, max_value=2_000_000_000_000)
    | st.sampled_from(["", "-", "0", "2", "5.00", "*****", "true", "abc", "1695639270000"])
    | st.floats(allow_nan=False, allow_infinity=False)
)
hosts = st.dictionaries(st.sampled_from(HOST_KEYS), scalars, max_size=len(HOST_KEYS))
packages = st.dictionaries(st.sampled_from(PACKAGE_KEYS), scalars, max_size=len(PACKAGE_KEYS))
data_values = (
    json_values
    | hosts
    | st.lists(packages, max_size=3)
    | st.lists(st.fixed_dictionaries({"imageId": scalars, "type": scalars}), max_size=3)
    | st.fixed_dictionaries({"data": st.lists(hosts, max_size=3) | scalars, "totalCounts": scalars})
    | st.sampled_from([True, False, "true", "false", "dyMFQQgHIW", "", None])
)
codes = st.sampled_from([0, 0, 0, "0", 401, 500, 503, 1003, 1005, 6005, 9001, 4242, -1, None])
envelopes = st.fixed_dictionaries(
    {"code": codes},
    optional={
        "data": data_values,
        "msg": st.none() | st.text(max_size=20) | st.integers(),
        "traceId": st.none() | st.text(max_size=20) | st.integers(),
        "success": st.none() | st.booleans() | st.sampled_from(["true", "false", "yes"]),
    },
)
statuses = st.sampled_from([200, 200, 200, 201, 204, 301, 400, 401, 404, 429, 500, 502, 503])
content_types = st.sampled_from(["application/json", "text/html", "text/plain", ""])


def _serve(sim, path, body: bytes, status=200, content_type="application/json"):
    sim.clear_faults()
    sim.clear_request_log()
    sim.add_fault(
        Fault("raw", path=path, times=None, status=status, body=body, content_type=content_type)
    )


def _call_only_raises_xds_errors(sim, client, path):
    call, check = CALLS[path]
    try:
        result = call(client)
    except XdsError as err:
        # Whatever the failure, its text is readable and carries no credential.
        assert str(err) and repr(err)
        assert sim.secret not in str(err)
        if path in CREATES:
            log = [r.path for r in sim.request_log_snapshot()]
            sent = [i for i, p in enumerate(log) if p == path]
            assert len(sent) <= 2  # at most the one repeat after a 401, with a new token:
            if len(sent) == 2:
                assert "/v1/auth/getToken" in log[sent[0] : sent[1]]
        return err
    finally:
        sim.clear_faults()
    assert check(result), result
    return result


@PROPERTY_SETTINGS
@given(path=st.sampled_from(PATHS), document=json_values)
def test_any_json_answer_gives_a_result_or_an_xds_error(shared, path, document):
    sim, client = shared
    _serve(sim, path, json.dumps(document).encode())
    _call_only_raises_xds_errors(sim, client, path)


@PROPERTY_SETTINGS
@given(path=st.sampled_from(PATHS), envelope=envelopes)
def test_any_envelope_gives_a_result_or_an_xds_error(shared, path, envelope):
    sim, client = shared
    _serve(sim, path, json.dumps(envelope).encode())
    _call_only_raises_xds_errors(sim, client, path)


@settings(PROPERTY_SETTINGS, max_examples=40)
@given(
    path=st.sampled_from(PATHS),
    body=st.binary(max_size=200),
    status=statuses,
    content_type=content_types,
)
def test_any_bytes_and_status_give_a_result_or_an_xds_error(
    shared, path, body, status, content_type
):
    sim, client = shared
    _serve(sim, path, body, status=status, content_type=content_type)
    _call_only_raises_xds_errors(sim, client, path)


@settings(PROPERTY_SETTINGS, max_examples=40)
@given(path=st.sampled_from(CREATES), envelope=envelopes, status=statuses)
def test_a_create_never_reports_success_unless_the_upstream_said_code_0(
    shared, path, envelope, status
):
    sim, client = shared
    _serve(sim, path, json.dumps(envelope).encode(), status=status)
    outcome = _call_only_raises_xds_errors(sim, client, path)
    if not isinstance(outcome, XdsError):
        assert str(envelope["code"]) == "0"
    elif str(envelope.get("code")) in ("0", "500", "503", "1005", "4242", "-1", "None"):
        # The upstream may have bought something: only OutcomeUnknown may say so (a 401
        # after which the repeat also failed is the one refusal here).
        assert isinstance(outcome, OutcomeUnknown) or status in (400, 401, 404, 429)


@settings(PROPERTY_SETTINGS, max_examples=30)
@given(page=st.fixed_dictionaries({"data": st.lists(hosts, max_size=4), "totalCounts": scalars}))
def test_iter_hosts_ends_on_any_page_answer(shared, page):
    sim, client = shared
    _serve(sim, "/v1/pve/open/mypage", json.dumps({"code": 0, "data": page}).encode())
    try:
        hosts_seen = list(client.iter_hosts())
    except XdsError:
        return
    finally:
        sim.clear_faults()
    assert len({h.id for h in hosts_seen}) == len(hosts_seen)
    assert sim.request_count("/v1/pve/open/mypage") <= 3
