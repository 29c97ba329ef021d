"""The simulator's cloud disks and personal images, on the wire: the docs' rules with their
codes, `true` before anything is done, the slow transitions, arrears, the docs' quirks (a stale
`pveId`, two path spellings, `id` in the path or the body), seeding, faults and control."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from tests.vmclient.test_client_disks import DISKS, off_host
from vmclient.simulator import Fault, Simulator
from vmclient.types import DiskStatus, HostStatus, PersonalImageStatus

DOCUMENTED = "/v1/open/image/personal/"
EXAMPLES = "/v1/PveMachine/image/"


def put(upstream, path, body):
    return upstream.request("PUT", path, json=body).json()


def create(upstream, **body):
    body = {"area": 0, "memory": 20, "isMount": 0, **body}
    return upstream.post(DISKS + "create", body)


def info(upstream, disk_id):
    return upstream.get(DISKS + f"info/{disk_id}")["data"]


# --- create ------------------------------------------------------------------------------------


def test_create_answers_the_new_disks_id(simulator, upstream):
    answer = create(upstream, memory=100, area=2)
    assert answer["code"] == 0 and isinstance(answer["data"], str) and answer["traceId"]
    disk = info(upstream, answer["data"])
    assert disk["memory"] == 100 and disk["area"] == 2 and disk["status"] == 0
    assert disk["isMount"] == 0 and disk["pveId"] is None and disk["amount"] == "0.20"
    assert set(disk) == {
        "id", "uuid", "name", "pveId", "isMount", "bus", "area", "memory", "useType", "amount",
        "status", "createTime",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"isMount": None}, 1007),
        ({"isMount": 2}, 220020),
        ({"isMount": "yes"}, 220020),
        ({"isMount": 1}, 220015),
        ({"isMount": 1, "pveId": ""}, 220015),
        ({"area": "x"}, 1007),
        ({"area": 5}, 1003),
        ({"memory": None}, 1007),
        ({"memory": 19}, 220013),
        ({"memory": 0}, 220013),
    ],
)
def test_create_checks_its_parameters(simulator, upstream, body, code):
    assert create(upstream, **body)["code"] == code
    assert simulator.fleet.storage.disks == {}


def test_the_area_quota_is_configuration(simulator, upstream):
    simulator.config.disk_area_quota_gb = 20480  # what another page of the docs says
    assert create(upstream, memory=15000)["code"] == 0
    assert create(upstream, memory=5481)["code"] == 220014
    assert create(upstream, memory=5480)["code"] == 0
    assert create(upstream, memory=1000, area=1)["code"] == 0  # per area


def test_a_destroying_disk_holds_its_quota_until_it_is_gone(simulator, upstream):
    simulator.config.disk_area_quota_gb = 100
    disk_id = create(upstream, memory=100)["data"]
    assert put(upstream, DISKS + "updateStatus", {"id": disk_id, "status": 5})["data"] is True
    assert create(upstream, memory=20)["code"] == 220014
    assert upstream.get(DISKS + "memoryTotal/0")["data"] == {"memory": 100}
    simulator.clock.advance(simulator.config.destroy_seconds)
    assert upstream.get(DISKS + "memoryTotal/0")["data"] == {"memory": 0}
    assert create(upstream, memory=20)["code"] == 0


# --- mount, unmount, destroy ------------------------------------------------------------------


def test_update_status_answers_true_before_anything_is_done(simulator, upstream):
    host = off_host(simulator)
    disk_id = create(upstream, isMount=1, pveId=host.id)["data"]
    assert info(upstream, disk_id)["status"] == 1  # mounting
    simulator.clock.advance(simulator.config.mount_seconds)
    assert info(upstream, disk_id)["status"] == 2

    assert put(upstream, DISKS + "updateStatus", {"id": disk_id, "status": 0})["data"] is True
    during = info(upstream, disk_id)
    assert (during["status"], during["isMount"]) == (2, 1)  # accepted, not done
    assert put(upstream, DISKS + "updateStatus", {"id": disk_id, "status": 0})["data"] is True
    simulator.clock.advance(simulator.config.unmount_seconds)
    after = info(upstream, disk_id)
    # The docs' example: unmounted, yet pveId still names the last host.
    assert (after["status"], after["isMount"], after["pveId"]) == (0, 0, host.id)
    again = put(upstream, DISKS + "updateStatus", {"id": disk_id, "status": 0})
    assert again["code"] == 220006


@pytest.mark.parametrize(
    ("body", "code"),
    [({"status": 0}, 1007), ({"id": "x", "status": 0}, 220001), ({"id": None}, 1007)],
)
def test_update_status_checks_its_parameters(upstream, body, code):
    assert put(upstream, DISKS + "updateStatus", body)["code"] == code


def test_update_status_refuses_a_status_other_than_unmount_or_destroy(simulator, upstream):
    disk_id = create(upstream)["data"]
    assert put(upstream, DISKS + "updateStatus", {"id": disk_id, "status": 3})["code"] == 1003


def test_unmount_needs_the_host_off_and_destroy_needs_the_disk_unmounted(simulator, upstream):
    host = off_host(simulator)
    disk = simulator.fleet.storage.add_disk(status=DiskStatus.IN_USE, pve_id=host.id)
    assert put(upstream, DISKS + "updateStatus", {"id": disk.id, "status": 5})["code"] == 220022
    host.status = HostStatus.RUNNING
    assert put(upstream, DISKS + "updateStatus", {"id": disk.id, "status": 0})["code"] == 220009
    host.status = HostStatus.OFF
    assert put(upstream, DISKS + "updateStatus", {"id": disk.id, "status": 0})["code"] == 0
    assert put(upstream, DISKS + "updateStatus", {"id": disk.id, "status": 5})["code"] == 220022
    simulator.clock.advance(simulator.config.unmount_seconds)
    assert put(upstream, DISKS + "updateStatus", {"id": disk.id, "status": 5})["code"] == 0
    assert put(upstream, DISKS + "updateStatus", {"id": disk.id, "status": 5})["code"] == 220022


def test_mount_takes_the_disk_in_the_body_and_the_host_as_pve_id(simulator, upstream):
    host = off_host(simulator)
    disk = simulator.fleet.storage.add_disk()
    assert upstream.post(DISKS + "pveCreate", {"id": disk.id})["code"] == 220015
    assert upstream.post(DISKS + "pveCreate", {"pveId": host.id})["code"] == 1007
    assert upstream.post(DISKS + "pveCreate", {"id": disk.id, "pveId": host.id})["data"] is True
    assert disk.status is DiskStatus.MOUNTING and disk.pve_id == host.id


def test_a_disk_moves_between_two_off_hosts_on_one_node_only(simulator, upstream):
    first, second, third = off_host(simulator), off_host(simulator), off_host(simulator)
    nodes = simulator.fleet.storage.host_nodes
    nodes.update({first.id: "n1", second.id: "n1", third.id: "n2"})
    disk = simulator.fleet.storage.add_disk(status=DiskStatus.IN_USE, pve_id=first.id)
    mount = lambda host: upstream.post(DISKS + "pveCreate", {"id": disk.id, "pveId": host.id})  # noqa: E731
    assert mount(first)["code"] == 220002
    assert mount(third)["code"] == 220024
    first.status = HostStatus.RUNNING
    assert mount(second)["code"] == 220009
    first.status = HostStatus.OFF
    assert mount(second)["code"] == 0 and disk.pve_id == second.id


def test_what_a_disk_in_the_middle_of_a_change_answers_a_mount(simulator, upstream):
    host = off_host(simulator)
    storage = simulator.fleet.storage
    mount = lambda disk: upstream.post(DISKS + "pveCreate", {"id": disk.id, "pveId": host.id})  # noqa: E731
    assert mount(storage.add_disk(status=DiskStatus.DESTROYING))["code"] == 1003
    pending = storage.add_disk(status=DiskStatus.IN_USE, pve_id=host.id)
    put(upstream, DISKS + "updateStatus", {"id": pending.id, "status": 0})
    other = off_host(simulator)
    assert upstream.post(DISKS + "pveCreate", {"id": pending.id, "pveId": other.id})["code"] == (
        1005
    )


def test_thirty_disks_per_host_counting_those_being_mounted(simulator, upstream):
    host = off_host(simulator)
    for _ in range(29):
        simulator.fleet.storage.add_disk(status=DiskStatus.IN_USE, pve_id=host.id, memory=20)
    simulator.config.disk_area_quota_gb = 10_000
    assert create(upstream, isMount=1, pveId=host.id)["code"] == 0  # the 30th, mounting
    assert create(upstream, isMount=1, pveId=host.id)["code"] == 220010


def test_a_foreign_host_answers_1001(simulator, upstream):
    simulator.fleet.foreign_host_ids.add("Foreign")
    assert create(upstream, isMount=1, pveId="Foreign")["code"] == 1001


def test_a_deleted_hosts_disks_are_unmounted_and_kept(simulator, upstream):
    host = off_host(simulator)
    disk = simulator.fleet.storage.add_disk(status=DiskStatus.IN_USE, pve_id=host.id)
    assert upstream.delete(f"/v1/pve/open/delete/{host.id}")["data"] is True
    kept = info(upstream, disk.id)
    assert (kept["status"], kept["isMount"], kept["pveId"]) == (0, 0, host.id)


def test_disks_are_stopped_for_arrears_while_the_wallet_is_empty(simulator, upstream):
    host = off_host(simulator)
    storage = simulator.fleet.storage
    mounted = storage.add_disk(status=DiskStatus.IN_USE, pve_id=host.id)
    loose = storage.add_disk()
    simulator.config.wallet_balance = Decimal(0)
    for disk in (mounted, loose):
        stopped = info(upstream, disk.id)
        assert (stopped["status"], stopped["isMount"]) == (3, 0)
    assert upstream.post(DISKS + "pveCreate", {"id": loose.id, "pveId": host.id})["code"] == 6003
    assert create(upstream)["code"] == 6003
    simulator.config.wallet_balance = Decimal(50)  # paid
    assert info(upstream, mounted.id)["status"] == 0  # back to waiting, not remounted


# --- listing ------------------------------------------------------------------------------------


def test_get_list_pages_at_most_100_and_filters(simulator, upstream):
    host = off_host(simulator, area=1)
    storage = simulator.fleet.storage
    for _ in range(120):
        storage.add_disk(area=0)
    storage.add_disk(area=1, status=DiskStatus.IN_USE, pve_id=host.id)
    storage.add_disk(area=1, pve_id=host.id)  # unmounted, pveId still the last host
    page = upstream.post(DISKS + "getList", {"page": 1, "pageSize": 500})["data"]
    assert len(page["data"]) == 100 and page["totalCounts"] == 122
    by_host = upstream.post(DISKS + "getList", {"page": 1, "pageSize": 10, "pveId": host.id})
    assert by_host["data"]["totalCounts"] == 2  # the filter reads pveId as stored
    in_use = upstream.post(DISKS + "getList", {"page": 1, "pageSize": 10, "status": "2"})
    assert in_use["data"]["totalCounts"] == 1
    area = upstream.post(DISKS + "getList", {"page": 1, "pageSize": 10, "area": 1})
    assert area["data"]["totalCounts"] == 2
    assert upstream.post(DISKS + "getList", {"page": 0, "pageSize": 10})["code"] == 1007
    assert upstream.post(DISKS + "getList", {"page": 1, "pageSize": 1, "area": "x"})["code"] == (
        1007
    )


def test_numbers_as_strings_apply_to_disks(make_simulator):
    sim = make_simulator(numbers_as_strings=True)
    disk = sim.fleet.storage.add_disk(memory=40)
    from tests.simulator_fixtures import RawUpstream

    raw = RawUpstream(sim)
    raw.authenticate()
    shown = raw.get(DISKS + f"info/{disk.id}")["data"]
    assert shown["memory"] == "40" and shown["status"] == "0"
    assert raw.get(DISKS + "memoryTotal/0")["data"] == {"memory": "40"}


def test_memory_total_checks_its_area(upstream):
    assert upstream.get(DISKS + "memoryTotal/x")["code"] == 1007
    assert upstream.get(DISKS + "memoryTotal/3")["code"] == 1003


# --- personal images ---------------------------------------------------------------------------


def test_images_on_both_spellings_with_the_id_in_the_body_path_or_query(simulator, upstream):
    host = off_host(simulator)
    assert upstream.post(DOCUMENTED + "add", {"machineId": host.id, "imageName": "a"})["data"]
    assert upstream.post(EXAMPLES + "add", {"machineId": host.id, "imageName": "b"})["data"]
    listed = upstream.get(DOCUMENTED + "getList")["data"]
    assert listed == upstream.get(EXAMPLES + "getList")["data"]
    ids = {i["imageName"]: i["id"] for i in listed["data"]}
    assert all(isinstance(v, int) for v in ids.values())
    assert put(upstream, DOCUMENTED + "update", {"id": ids["a"], "imageName": "a2"})["data"]
    assert put(upstream, EXAMPLES + f"update/{ids['b']}", {"imageName": "b2"})["data"]
    assert put(upstream, DOCUMENTED + "update", {"imageName": "x"})["code"] == 1007
    gone = upstream.request("DELETE", DOCUMENTED + "delete", params={"id": ids["a"]}).json()
    assert gone["data"] is True
    assert upstream.request("DELETE", EXAMPLES + f"delete/{ids['b']}").json()["data"] is True
    assert upstream.request("DELETE", DOCUMENTED + "delete").json()["code"] == 1007
    assert simulator.fleet.storage.images == {}


def test_a_spelling_switched_off_answers_404(make_simulator):
    sim = make_simulator(personal_image_paths="examples")
    response = requests.get(sim.url + DOCUMENTED + "getList", timeout=5)
    assert response.status_code == 404 and "code" not in response.json()
    sim.config.personal_image_paths = "documented"
    assert requests.get(sim.url + EXAMPLES + "getList", timeout=5).status_code == 404


def test_the_image_list_filters_and_pages_ten_by_default(simulator, upstream):
    host = off_host(simulator)
    storage = simulator.fleet.storage
    for number in range(12):
        storage.put_image(
            host, f"render-{number}", status=PersonalImageStatus.USABLE, create_time=1
        )
    storage.put_image(host, "office", status=PersonalImageStatus.FAILED, create_time=1)
    first = upstream.get(DOCUMENTED + "getList")["data"]
    assert len(first["data"]) == 10 and first["totalCounts"] == 13
    assert upstream.get(DOCUMENTED + "getList", imageName="render")["data"]["totalCounts"] == 12
    assert upstream.get(DOCUMENTED + "getList", status=2)["data"]["totalCounts"] == 1
    assert upstream.get(DOCUMENTED + "getList", datacenterKey="HZ")["data"]["totalCounts"] == 13


def test_an_image_of_an_unknown_or_expired_host_is_an_illegal_request(simulator, upstream):
    expired = simulator.fleet.add_host(status=HostStatus.EXPIRED)
    for machine in ("NoSuchHost", expired.id):
        answer = upstream.post(DOCUMENTED + "add", {"machineId": machine, "imageName": "x"})
        assert answer["code"] == 200001
    assert upstream.post(DOCUMENTED + "add", {"imageName": "x"})["code"] == 1007


def test_renaming_to_its_own_name_is_fine_to_anothers_is_not(simulator, upstream):
    host = off_host(simulator)
    storage = simulator.fleet.storage
    one = storage.put_image(host, "one", status=PersonalImageStatus.USABLE, create_time=1)
    storage.put_image(host, "two", status=PersonalImageStatus.USABLE, create_time=1)
    assert put(upstream, DOCUMENTED + "update", {"id": one.id, "imageName": "one"})["data"]
    assert put(upstream, DOCUMENTED + "update", {"id": one.id, "imageName": "two"})["code"] == (
        200003
    )
    assert put(upstream, DOCUMENTED + "update", {"id": "abc", "imageName": "z"})["code"] == 200001


# --- seeding, faults, control ---------------------------------------------------------------


def test_a_seeded_fleet_has_disks_on_pay_as_you_go_hosts_and_a_few_images():
    sim = Simulator(hosts=300, rng_seed=3)
    storage = sim.fleet.storage
    mounted = [d for d in storage.disks.values() if d.on_host]
    assert len(mounted) >= 10 and [d for d in storage.disks.values() if not d.on_host]
    for disk in mounted:
        host = sim.fleet.hosts[disk.pve_id]
        assert host.use_type == 0 and host.area == disk.area and host.has_run
    for area in (0, 1, 2):
        assert storage.usage(area) <= sim.config.disk_area_quota_gb * 0.6
    statuses = {i.status for i in storage.images.values()}
    assert PersonalImageStatus.USABLE in statuses and len(storage.images) >= 3
    again = Simulator(hosts=300, rng_seed=3).fleet.storage
    assert [(d.id, d.pve_id, d.memory) for d in again.disks.values()] == [
        (d.id, d.pve_id, d.memory) for d in storage.disks.values()
    ]
    assert Simulator(hosts=0).fleet.storage.disks == {}


def test_seeding_disks_leaves_the_seeded_hosts_as_they_were():
    with_disks = Simulator(hosts=80, rng_seed=5).fleet
    assert with_disks.storage.disks
    from random import Random

    from vmclient.simulator import SimulatorConfig
    from vmclient.simulator.clock import Clock
    from vmclient.simulator.fleet import Fleet
    from vmclient.simulator.seed import populate

    bare = Fleet(SimulatorConfig(), Clock(), Random(5))
    populate(bare, 80)
    assert sorted(with_disks.hosts) == sorted(bare.hosts)


@pytest.mark.parametrize(
    ("path", "wrong"),
    [
        (DISKS + "create", ["unexpected"]),
        (DISKS + "getList", "系统繁忙"),
        (DISKS + "info/", "系统繁忙"),
        (DISKS + "memoryTotal/", "系统繁忙"),
        (DISKS + "updateStatus", ["unexpected"]),
        (DOCUMENTED + "getList", "系统繁忙"),
    ],
)
def test_wrong_data_faults_fit_each_endpoint(simulator, upstream, path, wrong):
    simulator.add_fault(Fault("wrong_data", path=path))
    disk = simulator.fleet.storage.add_disk()
    calls = {
        DISKS + "create": lambda: create(upstream),
        DISKS + "getList": lambda: upstream.post(path, {"page": 1, "pageSize": 1}),
        DISKS + "info/": lambda: upstream.get(path + disk.id),
        DISKS + "memoryTotal/": lambda: upstream.get(path + "0"),
        DISKS + "updateStatus": lambda: put(upstream, path, {"id": disk.id, "status": 5}),
        DOCUMENTED + "getList": lambda: upstream.get(path),
    }
    answer = calls[path]()
    assert answer["code"] == 0 and answer["data"] == wrong
    assert disk.status is DiskStatus.WAITING  # a "before" fault: nothing happened


def test_state_and_control_endpoints_know_disks_and_images(simulator):
    host = off_host(simulator)
    added = requests.post(
        simulator.url + "/_sim/disks",
        json={"pve_id": host.id, "status": 2, "memory": 60},
        timeout=5,
    ).json()
    assert added["pveId"] == host.id and added["isMount"] == 1 and added["memory"] == 60
    bad = requests.post(simulator.url + "/_sim/disks", json={"colour": "red"}, timeout=5)
    assert bad.status_code == 400
    state = requests.get(simulator.url + "/_sim/state", timeout=5).json()
    assert state["disks"] == 1 and state["disk_counts"]["IN_USE"] == 1
    assert state["personal_images"] == 0
    config = requests.post(
        simulator.url + "/_sim/config", json={"personal_image_paths": "sideways"}, timeout=5
    )
    assert config.status_code == 400


def test_one_disk_can_be_stopped_for_arrears_and_paid(simulator, upstream):
    host = off_host(simulator)
    disk = simulator.fleet.storage.add_disk(status=DiskStatus.IN_USE, pve_id=host.id)
    other = simulator.fleet.storage.add_disk(status=DiskStatus.IN_USE, pve_id=host.id)
    stopped = requests.post(
        simulator.url + "/_sim/disk-arrears", json={"id": disk.id, "arrears": True}, timeout=5
    ).json()
    assert (stopped["status"], stopped["isMount"], stopped["pveId"]) == (3, 0, host.id)
    assert info(upstream, other.id)["status"] == 2  # the others are untouched
    simulator.clock.advance(600)
    assert info(upstream, disk.id)["status"] == 3  # until paid
    simulator.fleet.storage.set_arrears(disk.id, False)
    assert info(upstream, disk.id)["status"] == 0
    for bad in ({"id": disk.id}, {"id": "NoSuchDisk", "arrears": True}):
        answer = requests.post(simulator.url + "/_sim/disk-arrears", json=bad, timeout=5)
        assert answer.status_code == 400
