"""The simulator answers like the provider: envelope, auth, catalog, creates, power, paging.

Everything goes over real HTTP with `requests`; time moves with `clock.advance`, never sleep.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import requests

from tests.simulator_fixtures import RawUpstream
from tests.vmclient.test_parsing import PACKAGE as REFERENCE_PACKAGE
from vmclient.simulator import Simulator, SimulatorConfig
from vmclient.types import HostStatus

PAYG_ONLY = "Rz7NwXe2Fb"  # 渲染-RTX4090, BZ, useType 0, 8.80/h
RENTAL_ONLY = "Hd4YpQs9Lc"  # 渲染-RTX4090x2, BZ, useType 1
BOTH = "Pi8tcH1NSd"  # 图像处理-Ubuntu, BZ, useType 2, 5.00/h x 0.9
NO_GPU = "kQ3vLmT8aZ"  # 普通办公-Windows, BZ, no gpuNumber at all
BZ_UBUNTU = "8991"
BZ_WINDOWS = "8989"
BL_DEBIAN = "9102"

OPEN = "/v1/pve/open"


def connect(sim: Simulator) -> RawUpstream:
    raw = RawUpstream(sim)
    raw.authenticate()
    return raw


def create(raw: RawUpstream, package=PAYG_ONLY, image=BZ_UBUNTU) -> dict:
    return raw.post(f"{OPEN}/createquantity", {"packageId": package, "imageId": image})


def rent(raw: RawUpstream, package=BOTH, image=BZ_UBUNTU, number=1, period=3) -> dict:
    body = {"packageId": package, "imageId": image, "periodNumber": number, "periodType": period}
    return raw.post(f"{OPEN}/createRent", body)


def status_of(raw: RawUpstream, host_id: str) -> int:
    return int(raw.get(f"{OPEN}/one/{host_id}")["data"]["status"])


# --- envelope and authentication ---------------------------------------------------------------


def test_get_token_issues_a_token_with_its_lifetime_in_the_later_envelope(simulator):
    answer = requests.post(
        f"{simulator.url}/v1/auth/getToken",
        json={"uuid": simulator.uuid, "secret": simulator.secret},
        timeout=5,
    )
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    document = answer.json()
    assert list(document) == ["code", "success", "msg", "data", "traceId"]
    assert document["code"] == 0 and document["success"] is True and document["msg"] == "success"
    assert re.fullmatch(r"[0-9a-f]{32}", document["traceId"])
    assert len(document["data"]["token"]) >= 20
    assert document["data"]["effectiveTime"] == 1_800_000


@pytest.mark.parametrize(
    "body",
    [{"uuid": "SIMULATED", "secret": "wrong"}, {"uuid": "A27550582", "secret": "simulated-secret"}],
)
def test_wrong_account_or_secret_answers_401_with_http_200(simulator, body):
    answer = requests.post(f"{simulator.url}/v1/auth/getToken", json=body, timeout=5)
    assert answer.status_code == 200
    assert answer.json()["code"] == 401
    assert answer.json()["msg"] == "身份认证失败"


@pytest.mark.parametrize("body", [{}, {"uuid": "SIMULATED"}, {"secret": "x"}, [], "text"])
def test_get_token_without_its_fields_answers_1007(simulator, body):
    answer = requests.post(f"{simulator.url}/v1/auth/getToken", json=body, timeout=5)
    assert answer.json()["code"] == 1007
    assert answer.json()["msg"] == "请求缺少必要参数"


@pytest.mark.parametrize("token", [None, "", "not-a-token"])
def test_calls_without_a_live_token_answer_401(simulator, token):
    headers = {} if token is None else {"Finovy-Access-Token": token}
    answer = requests.get(f"{simulator.url}{OPEN}/image", headers=headers, timeout=5)
    assert answer.status_code == 200
    assert answer.json()["code"] == 401


def test_token_expires_when_the_simulated_clock_passes_its_lifetime(simulator, upstream):
    simulator.clock.advance(1799)
    assert upstream.get(f"{OPEN}/image")["code"] == 0
    simulator.clock.advance(2)
    assert upstream.get(f"{OPEN}/image")["code"] == 401
    upstream.authenticate()
    assert upstream.get(f"{OPEN}/image")["code"] == 0


def test_token_lifetime_follows_the_config(make_simulator):
    sim = make_simulator(token_lifetime_ms=60_000)
    raw = RawUpstream(sim)
    answer = raw.post("/v1/auth/getToken", {"uuid": sim.uuid, "secret": sim.secret})
    assert answer["data"]["effectiveTime"] == 60_000
    raw.token = answer["data"]["token"]
    sim.clock.advance(61)
    assert raw.get(f"{OPEN}/image")["code"] == 401


def test_expire_tokens_invalidates_every_issued_token(simulator, upstream):
    second = connect(simulator)
    simulator.expire_tokens()
    assert upstream.get(f"{OPEN}/image")["code"] == 401
    assert second.get(f"{OPEN}/image")["code"] == 401


def test_earlier_tokens_stay_valid_after_a_new_one_is_issued(simulator, upstream):
    first = upstream.token
    upstream.authenticate()
    assert upstream.get(f"{OPEN}/image", headers={"Finovy-Access-Token": first})["code"] == 0


def test_every_error_envelope_carries_a_fresh_trace_id(upstream):
    first = upstream.get(f"{OPEN}/one/nope")
    second = upstream.get(f"{OPEN}/one/nope")
    assert first["code"] == second["code"] == 1003
    assert first["success"] is False and first["data"] is None
    assert first["traceId"] != second["traceId"]


def test_unknown_path_answers_http_404_json(upstream):
    answer = upstream.request("GET", "/v1/pve/open/nothing")
    assert answer.status_code == 404
    assert answer.json()["status"] == 404
    assert answer.json()["path"] == "/v1/pve/open/nothing"


def test_wrong_method_answers_http_405(upstream):
    answer = upstream.request("POST", f"{OPEN}/image", json={})
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "GET"


def test_business_errors_are_http_200_with_the_code_in_the_envelope(upstream):
    answer = upstream.request("GET", f"{OPEN}/reboot/unknownid")
    assert answer.status_code == 200
    assert answer.json()["code"] == 1003


# --- templates and images ----------------------------------------------------------------------


def test_pay_as_you_go_list_holds_templates_sold_by_the_hour(upstream):
    templates = upstream.get(f"{OPEN}/packAge/0")["data"]
    assert {t["useType"] for t in templates} == {"0", "2"}
    assert PAYG_ONLY in {t["packageId"] for t in templates}
    assert RENTAL_ONLY not in {t["packageId"] for t in templates}


def test_rental_list_holds_templates_sold_by_the_period(upstream):
    templates = upstream.get(f"{OPEN}/packAge/1")["data"]
    assert {t["useType"] for t in templates} == {"1", "2"}
    assert RENTAL_ONLY in {t["packageId"] for t in templates}


def test_catalog_covers_every_type_area_purpose_and_gpu(simulator, upstream):
    templates = (
        upstream.get(f"{OPEN}/packAge/0")["data"] + upstream.get(f"{OPEN}/packAge/1")["data"]
    )
    assert 8 <= len(simulator.fleet.packages) <= 12
    assert {t["type"] for t in templates} == {"BZ", "BL", "ceph"}
    assert {t["area"] for t in templates} == {"0", "1", "2"}
    assert {t["pveMachineType"] for t in templates} == {"0", "1", "2"}
    gpus = {t["gpuName"] for t in templates}
    assert {None, "GeForce RTX 4090 24G", "GeForce RTX 3090 24G", "NVIDIA A100 80G"} <= gpus


def test_templates_carry_every_documented_field_and_prices_with_their_scale(upstream):
    answer = upstream.request("GET", f"{OPEN}/packAge/0")
    example = next(t for t in answer.json()["data"] if t["packageId"] == BOTH)
    # The reference example's fields and values, with the GPU the simulator gives that template.
    assert example == {**REFERENCE_PACKAGE, "gpuNumber": 1, "gpuName": "GeForce RTX 3090 24G"}
    assert '"amount":5.00' in answer.text  # written like the provider's example, not 5.0


def test_a_template_without_gpu_may_leave_gpu_number_out(upstream):
    templates = upstream.get(f"{OPEN}/packAge/0")["data"]
    office = next(t for t in templates if t["packageId"] == NO_GPU)
    assert "gpuNumber" not in office
    assert office["gpuName"] is None


@pytest.mark.parametrize(("kind", "code"), [("2", 1003), ("x", 1007), ("-1", 1003)])
def test_template_list_of_an_unknown_billing_type_is_refused(upstream, kind, code):
    assert upstream.get(f"{OPEN}/packAge/{kind}")["code"] == code


def test_every_template_type_has_an_image(upstream):
    images = upstream.get(f"{OPEN}/image")["data"]
    assert 8 <= len(images) <= 12
    assert set(images[0]) == {"imageId", "type", "systemImageName", "systemImageVersion"}
    templates = (
        upstream.get(f"{OPEN}/packAge/0")["data"] + upstream.get(f"{OPEN}/packAge/1")["data"]
    )
    assert {t["type"] for t in templates} <= {i["type"] for i in images}
    names = {i["systemImageName"] for i in images}
    assert names == {"Windows", "Windows Server", "Ubuntu Server", "Debian"}


# --- creates -----------------------------------------------------------------------------------


def test_pay_as_you_go_create_returns_the_new_id_and_the_host_boots(simulator, upstream):
    answer = create(upstream)
    assert answer["code"] == 0
    host_id = answer["data"]
    assert re.fullmatch(r"[A-Za-z]{10}", host_id)

    host = upstream.get(f"{OPEN}/one/{host_id}")["data"]
    assert host["status"] == str(int(HostStatus.BOOTING))
    assert host["useType"] == "0" and host["expirationTime"] is None
    assert host["name"].startswith("渲染-RTX4090")
    assert host["gpuConfiguration"] == "GeForce RTX 4090 24G" and host["gpuNumber"] == 1
    assert (host["memory"], host["cpu"], host["rigidDisk"]) == (64, 16, 1000)
    assert host["operatingSystem"] == "Ubuntu Server" and host["hostAccount"] == "root"
    assert host["area"] == "0" and host["pveMachineType"] == "1"
    assert host["address"] == "" and host["port"] == 0  # assigned on the first boot
    assert abs(host["createTime"] - simulator.clock.now_ms()) < 5_000

    simulator.clock.advance(29)
    assert status_of(upstream, host_id) == HostStatus.BOOTING
    simulator.clock.advance(2)
    host = upstream.get(f"{OPEN}/one/{host_id}")["data"]
    assert host["status"] == str(int(HostStatus.RUNNING))
    assert host["address"].startswith("ssh-") and 22000 <= host["port"] < 32000


def test_windows_hosts_connect_over_rdp_ports(simulator, upstream):
    host_id = create(upstream, image=BZ_WINDOWS)["data"]
    simulator.clock.advance(31)
    host = upstream.get(f"{OPEN}/one/{host_id}")["data"]
    assert host["operatingSystem"] == "Windows Server" and host["hostAccount"] == "administrator"
    assert host["address"].startswith("rdp-") and 33890 <= host["port"] < 36000


def test_rental_create_pays_up_front_and_expires_after_its_period(simulator, upstream):
    answer = rent(upstream, package=BOTH, number=2, period=3)  # two months
    assert answer["code"] == 0
    price = Decimal("5.00") * Decimal("0.9") * 720 * 2
    assert simulator.config.wallet_balance == Decimal(10000) - price
    host = upstream.get(f"{OPEN}/one/{answer['data']}")["data"]
    assert host["useType"] == "1"
    assert host["expirationTime"] - host["createTime"] == 2 * 720 * 3_600_000


@pytest.mark.parametrize(("period", "hours"), [(1, 24), (2, 168), (3, 720), (4, 2160), (5, 8760)])
def test_rental_price_is_amount_times_discount_times_hours(simulator, upstream, period, hours):
    simulator.config.wallet_balance = Decimal(1_000_000)
    assert rent(upstream, package=RENTAL_ONLY, period=period)["code"] == 0
    price = Decimal("17.00") * Decimal("0.85") * hours
    assert simulator.config.wallet_balance == Decimal(1_000_000) - price


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"packageId": PAYG_ONLY},
        {"imageId": BZ_UBUNTU},
        {"packageId": "", "imageId": BZ_UBUNTU},
        {"packageId": None, "imageId": BZ_UBUNTU},
        {"packageId": [PAYG_ONLY], "imageId": BZ_UBUNTU},
    ],
)
def test_create_without_its_parameters_answers_1007(simulator, upstream, body):
    assert upstream.post(f"{OPEN}/createquantity", body)["code"] == 1007
    assert simulator.fleet.hosts == {}


def test_create_with_a_body_that_is_not_json_answers_1007(simulator, upstream):
    answer = upstream.request("POST", f"{OPEN}/createquantity", data=b"packageId=x")
    assert answer.json()["code"] == 1007


@pytest.mark.parametrize(
    ("number", "period"),
    [(0, 3), (-1, 3), ("x", 3), (1.5, 3), (None, 3), (1, 6), (1, -1), (1, None), (1, "month")],
)
def test_rental_with_an_invalid_period_answers_1007(simulator, upstream, number, period):
    assert rent(upstream, number=number, period=period)["code"] == 1007
    assert simulator.fleet.hosts == {}


def test_rental_accepts_numbers_sent_as_strings(upstream):
    assert rent(upstream, number="2", period="1")["code"] == 0


@pytest.mark.parametrize(("package", "image"), [("NoSuchPkg0", BZ_UBUNTU), (PAYG_ONLY, "0000")])
def test_create_with_an_unknown_template_or_image_answers_1003(simulator, upstream, package, image):
    answer = create(upstream, package=package, image=image)
    assert answer["code"] == 1003
    assert answer["msg"] in ("主机模板不存在", "镜像不存在")
    assert simulator.fleet.hosts == {}


def test_template_not_sold_for_the_billing_type_answers_1003(simulator, upstream):
    by_the_hour = create(upstream, package=RENTAL_ONLY)
    assert by_the_hour["code"] == 1003 and "按量" in by_the_hour["msg"]
    by_the_period = rent(upstream, package=PAYG_ONLY)
    assert by_the_period["code"] == 1003 and "包时段" in by_the_period["msg"]
    assert simulator.fleet.hosts == {}


def test_template_and_image_of_different_types_answer_7005(simulator, upstream):
    answer = create(upstream, package=PAYG_ONLY, image=BL_DEBIAN)
    assert answer["code"] == 7005
    assert answer["msg"] == "主机模板类型与镜像类型不一致"
    assert rent(upstream, package=BOTH, image=BL_DEBIAN)["code"] == 7005
    assert simulator.fleet.hosts == {}


def test_hour_period_is_refused_in_the_later_version(simulator, upstream):
    answer = rent(upstream, period=0)
    assert answer["code"] == 1003
    assert simulator.fleet.hosts == {}


def test_hour_period_is_accepted_in_the_original_version(make_simulator):
    sim = make_simulator(doc_version="original")
    raw = connect(sim)
    assert rent(raw, package=BOTH, number=3, period=0) == {
        "code": 0,
        "data": True,
        "msg": "success",
    }
    host = next(iter(sim.fleet.hosts.values()))
    assert host.expiration_time - host.create_time == 3 * 3_600_000
    assert sim.config.wallet_balance == Decimal(10000) - Decimal("5.00") * Decimal("0.9") * 3


def test_unverified_account_cannot_create_or_power_on_but_can_power_off(simulator, upstream):
    off = simulator.fleet.add_host(status=HostStatus.OFF)
    running = simulator.fleet.add_host(status=HostStatus.RUNNING)
    simulator.config.real_name_verified = False
    answer = create(upstream)
    assert answer["code"] == 1037 and answer["msg"] == "未进行实名认证"
    assert rent(upstream)["code"] == 1037
    assert upstream.get(f"{OPEN}/operate/{off.id}", type=1)["code"] == 1037
    assert upstream.get(f"{OPEN}/operate/{running.id}", type=0)["code"] == 0
    assert len(simulator.fleet.hosts) == 2


def test_no_resources_answers_6002_on_creates_and_power_on(simulator, upstream):
    off = simulator.fleet.add_host(status=HostStatus.OFF)
    simulator.config.resources_available = False
    assert create(upstream)["code"] == 6002
    answer = rent(upstream)
    assert answer["code"] == 6002 and answer["msg"] == "资源不足, 请重新选择配置"
    assert upstream.get(f"{OPEN}/operate/{off.id}", type=1)["code"] == 6002
    assert simulator.fleet.hosts[off.id].status is HostStatus.OFF
    assert len(simulator.fleet.hosts) == 1
    assert simulator.config.wallet_balance == Decimal(10000)


def test_creation_waiting_answers_6005_for_the_next_n_creates(simulator, upstream):
    simulator.config.creation_waiting = 2
    assert create(upstream)["code"] == 6005
    assert rent(upstream)["code"] == 6005
    assert simulator.fleet.hosts == {}
    assert simulator.config.creation_waiting == 0
    assert create(upstream)["code"] == 0


def test_wallet_error_answers_9000_on_rental_creates(simulator, upstream):
    simulator.config.wallet_error = True
    answer = rent(upstream)
    assert answer["code"] == 9000 and answer["msg"] == "钱包异常"
    assert simulator.fleet.hosts == {}
    assert create(upstream)["code"] == 0  # pay-as-you-go is billed after use


def test_rental_costing_more_than_the_balance_answers_9001_and_buys_nothing(simulator, upstream):
    simulator.config.wallet_balance = Decimal("3239.99")  # one month of BOTH costs 3240.00
    answer = rent(upstream, package=BOTH, number=1, period=3)
    assert answer["code"] == 9001 and answer["msg"] == "钱包余额不足"
    assert simulator.fleet.hosts == {}
    assert simulator.config.wallet_balance == Decimal("3239.99")
    simulator.config.wallet_balance = Decimal("3240.00")
    assert rent(upstream, package=BOTH, number=1, period=3)["code"] == 0
    assert simulator.config.wallet_balance == 0


def test_repeated_identical_create_answers_1005_when_the_guard_is_on(simulator, upstream):
    simulator.config.duplicate_create_window = 5.0
    assert create(upstream)["code"] == 0
    assert create(upstream)["code"] == 1005
    assert create(upstream, image=BZ_WINDOWS)["code"] == 0  # another request is no duplicate
    simulator.clock.advance(6)
    assert create(upstream)["code"] == 0
    assert len(simulator.fleet.hosts) == 3


def test_original_version_create_answers_true_and_the_host_is_found_by_listing(make_simulator):
    sim = make_simulator(doc_version="original", hosts=3)
    raw = connect(sim)
    assert create(raw) == {"code": 0, "data": True, "msg": "success"}
    newest = raw.get(f"{OPEN}/mypage", page=1, pageSize=1)["data"]["data"][0]
    assert newest["name"].startswith("渲染-RTX4090")
    assert newest["id"] in sim.fleet.hosts


# --- power on and off --------------------------------------------------------------------------


def test_power_on_boots_an_off_host(simulator, upstream):
    host = simulator.fleet.add_host(status=HostStatus.OFF)
    answer = upstream.get(f"{OPEN}/operate/{host.id}", type=1)
    assert answer["code"] == 0 and answer["data"] is True
    assert status_of(upstream, host.id) == HostStatus.BOOTING
    simulator.clock.advance(31)
    assert status_of(upstream, host.id) == HostStatus.RUNNING


def test_power_off_a_pay_as_you_go_host_goes_through_charging(simulator, upstream):
    host = simulator.fleet.add_host(status=HostStatus.RUNNING, use_type=0)
    assert upstream.get(f"{OPEN}/operate/{host.id}", type=0)["data"] is True
    assert status_of(upstream, host.id) == HostStatus.SHUTTING_DOWN
    simulator.clock.advance(21)
    assert status_of(upstream, host.id) == HostStatus.CHARGING
    simulator.clock.advance(10)
    assert status_of(upstream, host.id) == HostStatus.OFF


def test_power_off_a_rental_host_goes_straight_to_off(simulator, upstream):
    host = simulator.fleet.add_host(status=HostStatus.RUNNING, use_type=1)
    upstream.get(f"{OPEN}/operate/{host.id}", type=0)
    simulator.clock.advance(21)
    assert status_of(upstream, host.id) == HostStatus.OFF


def test_several_transitions_due_at_once_are_applied_in_order(simulator, upstream):
    host = simulator.fleet.add_host(status=HostStatus.RUNNING, use_type=0)
    upstream.get(f"{OPEN}/operate/{host.id}", type=0)
    simulator.clock.advance(600)
    assert status_of(upstream, host.id) == HostStatus.OFF


def test_durations_follow_the_config_when_the_change_starts(simulator, upstream):
    simulator.config.boot_seconds = 2
    host_id = create(upstream)["data"]
    simulator.config.boot_seconds = 300
    simulator.clock.advance(3)
    assert status_of(upstream, host_id) == HostStatus.RUNNING


@pytest.mark.parametrize(
    ("status", "kind", "code"),
    [
        (HostStatus.BOOTING, 1, 6000),
        (HostStatus.BOOTING, 0, 6000),
        (HostStatus.SHUTTING_DOWN, 1, 6001),
        (HostStatus.SHUTTING_DOWN, 0, 6001),
        (HostStatus.CHARGING, 1, 6001),
        (HostStatus.EXPIRED, 1, 1003),
        (HostStatus.EXPIRED, 0, 1003),
    ],
)
def test_power_during_a_change_or_after_expiry_is_refused(simulator, upstream, status, kind, code):
    host = simulator.fleet.add_host(status=status, use_type=1 if status == 5 else 0)
    answer = upstream.get(f"{OPEN}/operate/{host.id}", type=kind)
    assert answer["code"] == code
    assert simulator.fleet.hosts[host.id].status is status


@pytest.mark.parametrize(
    ("status", "kind"),
    [(HostStatus.RUNNING, 1), (HostStatus.OFF, 0), (HostStatus.CHARGING, 0)],
)
def test_power_to_where_the_host_already_is_is_an_accepted_no_op(simulator, upstream, status, kind):
    host = simulator.fleet.add_host(status=status)
    answer = upstream.get(f"{OPEN}/operate/{host.id}", type=kind)
    assert (answer["code"], answer["data"]) == (0, True)
    assert simulator.fleet.hosts[host.id].status is status


def test_power_on_a_pay_as_you_go_host_with_an_empty_wallet_answers_6003(simulator, upstream):
    hourly = simulator.fleet.add_host(status=HostStatus.OFF, use_type=0)
    rental = simulator.fleet.add_host(status=HostStatus.OFF, use_type=1)
    simulator.config.wallet_balance = Decimal(0)
    answer = upstream.get(f"{OPEN}/operate/{hourly.id}", type=1)
    assert answer["code"] == 6003 and answer["msg"] == "钱包余额不足"
    assert upstream.get(f"{OPEN}/operate/{rental.id}", type=1)["code"] == 0


@pytest.mark.parametrize("kind", [None, "", "2", "on"])
def test_operate_without_a_valid_type_answers_1007(simulator, upstream, kind):
    host = simulator.fleet.add_host(status=HostStatus.OFF)
    params = {} if kind is None else {"type": kind}
    assert upstream.get(f"{OPEN}/operate/{host.id}", **params)["code"] == 1007


@pytest.mark.parametrize(
    "path", ["operate/{id}?type=1", "reboot/{id}", "one/{id}"], ids=["operate", "reboot", "one"]
)
def test_calls_on_an_unknown_host_answer_1003(upstream, path):
    answer = upstream.request("GET", f"{OPEN}/" + path.format(id="QzyHraLXEr")).json()
    assert answer["code"] == 1003
    assert answer["msg"] == "主机不存在"


def test_calls_on_another_accounts_host_answer_1001(simulator, upstream):
    simulator.fleet.foreign_host_ids.add("OtherAcct1")
    assert upstream.get(f"{OPEN}/one/OtherAcct1")["code"] == 1001
    assert upstream.get(f"{OPEN}/operate/OtherAcct1", type=0)["code"] == 1001
    answer = upstream.delete(f"{OPEN}/delete/OtherAcct1")
    assert answer["code"] == 1001 and answer["msg"] == "权限不足"


# --- reboot ------------------------------------------------------------------------------------


def test_reboot_takes_a_running_host_through_booting(simulator, upstream):
    simulator.config.reboot_seconds = 5
    host = simulator.fleet.add_host(status=HostStatus.RUNNING)
    answer = upstream.get(f"{OPEN}/reboot/{host.id}")
    assert (answer["code"], answer["data"]) == (0, True)
    assert status_of(upstream, host.id) == HostStatus.BOOTING
    simulator.clock.advance(6)
    assert status_of(upstream, host.id) == HostStatus.RUNNING


def test_reboot_of_a_host_that_never_started_answers_7002(simulator, upstream):
    host_id = create(upstream)["data"]
    answer = upstream.get(f"{OPEN}/reboot/{host_id}")
    assert answer["code"] == 7002 and answer["msg"] == "未启动的主机不能重启"
    simulator.clock.advance(31)
    assert upstream.get(f"{OPEN}/reboot/{host_id}")["code"] == 0


@pytest.mark.parametrize(
    "status",
    [HostStatus.BOOTING, HostStatus.SHUTTING_DOWN, HostStatus.CHARGING, HostStatus.EXPIRED],
)
def test_reboot_of_an_unavailable_host_answers_7003(simulator, upstream, status):
    host = simulator.fleet.add_host(status=status)
    answer = upstream.get(f"{OPEN}/reboot/{host.id}")
    assert answer["code"] == 7003 and answer["msg"] == "虚拟机不可用，不能重启"


def test_reboot_of_an_off_host_answers_7004(simulator, upstream):
    host = simulator.fleet.add_host(status=HostStatus.OFF)
    answer = upstream.get(f"{OPEN}/reboot/{host.id}")
    assert answer["code"] == 7004 and answer["msg"] == "主机未运行，不能重启"


# --- one host, expiry, delete ------------------------------------------------------------------


def test_one_host_carries_every_field_of_the_later_version(simulator, upstream):
    host = simulator.fleet.add_host(status=HostStatus.RUNNING, use_type=1)
    data = upstream.get(f"{OPEN}/one/{host.id}")["data"]
    assert list(data) == [
        "id", "name", "gpuConfiguration", "gpuNumber", "memory", "cpu", "rigidDisk",
        "operatingSystem", "hostAccount", "hostPw", "address", "port", "mac", "ipv4",
        "pveMachineType", "useType", "status", "area", "createTime", "expirationTime",
    ]  # fmt: skip
    assert data["hostPw"] == host.host_pw and data["hostPw"] != "*****"
    assert re.fullmatch(r"52:54:00(:[0-9a-f]{2}){3}", data["mac"])
    assert data["expirationTime"] > data["createTime"]


def test_one_host_in_the_original_version_spells_ipv4_and_masks_the_password(make_simulator):
    sim = make_simulator(doc_version="original")
    host = sim.fleet.add_host()
    document = connect(sim).get(f"{OPEN}/one/{host.id}")
    assert list(document) == ["code", "data", "msg"]
    data = document["data"]
    assert "ipV4" in data and "ipv4" not in data
    assert not {"status", "useType", "area"} & set(data)
    assert data["hostPw"] == "*****"


def test_a_host_without_gpu_shows_a_dash(simulator, upstream):
    host = simulator.fleet.add_host(package_id=NO_GPU)
    data = upstream.get(f"{OPEN}/one/{host.id}")["data"]
    assert data["gpuConfiguration"] == "-"
    assert data["gpuNumber"] in (0, None)


def test_a_rental_host_becomes_expired_when_its_time_passes(simulator, upstream):
    host_id = rent(upstream, period=1)["data"]  # one day
    simulator.clock.advance(86_399)
    upstream.authenticate()  # a day outlives the token
    assert status_of(upstream, host_id) == HostStatus.RUNNING
    simulator.clock.advance(2)
    assert status_of(upstream, host_id) == HostStatus.EXPIRED
    assert simulator.fleet.hosts[host_id].status is HostStatus.EXPIRED


def test_expiry_during_a_shutdown_wins(simulator, upstream):
    now = simulator.clock.now_ms()
    host = simulator.fleet.add_host(use_type=1, expiration_time=now + 5_000)
    upstream.get(f"{OPEN}/operate/{host.id}", type=0)
    simulator.clock.advance(60)
    assert status_of(upstream, host.id) == HostStatus.EXPIRED


def test_delete_removes_a_host_once(simulator, upstream):
    host = simulator.fleet.add_host(status=HostStatus.RUNNING)
    assert upstream.delete(f"{OPEN}/delete/{host.id}")["data"] is True
    assert upstream.get(f"{OPEN}/one/{host.id}")["code"] == 1003
    again = upstream.delete(f"{OPEN}/delete/{host.id}")
    assert (again["code"], again["data"]) == (0, False)


@pytest.mark.parametrize("status", [HostStatus.BOOTING, HostStatus.SHUTTING_DOWN])
def test_delete_of_a_host_in_the_middle_of_a_change_answers_false(simulator, upstream, status):
    host = simulator.fleet.add_host(status=status)
    assert upstream.delete(f"{OPEN}/delete/{host.id}")["data"] is False
    assert host.id in simulator.fleet.hosts


@pytest.mark.parametrize("status", [HostStatus.OFF, HostStatus.CHARGING, HostStatus.EXPIRED])
def test_delete_of_a_settled_host_succeeds(simulator, upstream, status):
    host = simulator.fleet.add_host(status=status)
    assert upstream.delete(f"{OPEN}/delete/{host.id}")["data"] is True


# --- pages -------------------------------------------------------------------------------------


def test_pages_list_every_host_once_newest_first(make_simulator):
    sim = make_simulator(hosts=60)
    raw = connect(sim)
    seen = []
    for page in (1, 2, 3):
        data = raw.get(f"{OPEN}/mypage", page=page, pageSize=25)["data"]
        assert data["totalCounts"] == 60
        seen.extend(data["data"])
    assert [len(seen[:25]), len(seen[25:50]), len(seen[50:])] == [25, 25, 10]
    assert len({h["id"] for h in seen}) == 60
    keys = [(-h["createTime"], h["id"]) for h in seen]
    assert keys == sorted(keys)


def test_page_size_above_the_maximum_is_silently_clamped(make_simulator):
    sim = make_simulator(hosts=60)
    data = connect(sim).get(f"{OPEN}/mypage", page=1, pageSize=100)["data"]
    assert len(data["data"]) == 25
    assert data["totalCounts"] == 60
    sim.config.max_page_size = 10
    assert len(connect(sim).get(f"{OPEN}/mypage", page=1, pageSize=25)["data"]["data"]) == 10


def test_a_page_past_the_end_is_empty(make_simulator):
    sim = make_simulator(hosts=5)
    data = connect(sim).get(f"{OPEN}/mypage", page=2, pageSize=25)["data"]
    assert data == {"data": [], "totalCounts": 5}


def test_an_empty_fleet_lists_no_hosts(upstream):
    assert upstream.get(f"{OPEN}/mypage", page=1, pageSize=25)["data"] == {
        "data": [],
        "totalCounts": 0,
    }


@pytest.mark.parametrize(
    "params",
    [{}, {"page": 1}, {"pageSize": 25}, {"page": 0, "pageSize": 25}, {"page": 1, "pageSize": "x"}],
)
def test_page_without_valid_parameters_answers_1007(upstream, params):
    assert upstream.get(f"{OPEN}/mypage", **params)["code"] == 1007


def test_a_host_bought_while_listing_shifts_later_pages(make_simulator):
    sim = make_simulator(hosts=30)
    raw = connect(sim)
    first = raw.get(f"{OPEN}/mypage", page=1, pageSize=25)["data"]["data"]
    create(raw)
    second = raw.get(f"{OPEN}/mypage", page=2, pageSize=25)["data"]
    assert second["totalCounts"] == 31
    assert second["data"][0]["id"] == first[-1]["id"]  # seen twice: it moved to page 2


def test_numbers_as_strings_sends_counts_specs_and_prices_as_strings(make_simulator):
    sim = make_simulator(hosts=3, numbers_as_strings=True)
    raw = connect(sim)
    page = raw.get(f"{OPEN}/mypage", page=1, pageSize=25)["data"]
    assert page["totalCounts"] == "3"
    host = page["data"][0]
    assert isinstance(host["memory"], str) and isinstance(host["port"], str)
    assert isinstance(host["createTime"], str)
    template = next(t for t in raw.get(f"{OPEN}/packAge/0")["data"] if t["packageId"] == BOTH)
    assert (template["amount"], template["discount"], template["gpuNumber"]) == ("5.00", "0.9", "1")


# --- versions ----------------------------------------------------------------------------------


def test_original_version_has_no_extras_no_gpu_name_and_no_status(make_simulator):
    sim = make_simulator(doc_version="original", hosts=2)
    raw = connect(sim)
    images = raw.get(f"{OPEN}/image")
    assert list(images) == ["code", "data", "msg"]
    assert all("gpuName" not in t for t in raw.get(f"{OPEN}/packAge/0")["data"])
    for host in raw.get(f"{OPEN}/mypage", page=1, pageSize=25)["data"]["data"]:
        assert "status" not in host and "ipV4" in host
    error = raw.get(f"{OPEN}/one/nope")
    assert list(error) == ["code", "data", "msg"] and error["code"] == 1003


def test_switching_the_doc_version_live_changes_the_next_answer(simulator, upstream):
    host = simulator.fleet.add_host()
    assert "ipv4" in upstream.get(f"{OPEN}/one/{host.id}")["data"]
    simulator.config.doc_version = "original"
    assert "ipV4" in upstream.get(f"{OPEN}/one/{host.id}")["data"]
    assert simulator.config.create_returns_id is False
    simulator.config.doc_version = "later"
    assert simulator.config.mask_passwords is False


def test_explicit_switches_win_over_the_doc_version():
    config = SimulatorConfig.original(mask_passwords=False, envelope_extras=True)
    assert config.mask_passwords is False and config.envelope_extras is True
    assert config.ipv4_field == "ipV4"
    with pytest.raises(ValueError):
        SimulatorConfig(doc_version="2024")


# --- the seeded fleet --------------------------------------------------------------------------


def test_seeded_fleet_is_deterministic_from_the_seed():
    first, again, other = Simulator(hosts=40), Simulator(hosts=40), Simulator(hosts=40, rng_seed=2)
    assert list(first.fleet.hosts) == list(again.fleet.hosts)
    assert [h.name for h in first.fleet.hosts.values()] == [
        h.name for h in again.fleet.hosts.values()
    ]
    assert list(first.fleet.hosts) != list(other.fleet.hosts)


def test_seeded_fleet_of_5000_hosts_looks_real():
    # How fast it is built is the benchmarks' business (a timed test fails on a busy machine).
    sim = Simulator(hosts=5000)
    hosts = list(sim.fleet.hosts.values())
    assert len(hosts) == 5000
    now = sim.clock.now_ms()
    counts = sim.fleet.status_counts()
    assert counts["RUNNING"] + counts["OFF"] > 0.75 * 5000
    for status in ("BOOTING", "SHUTTING_DOWN", "CHARGING", "EXPIRED"):
        assert 0 < counts[status] < 0.1 * 5000
    rentals = [h for h in hosts if h.use_type == 1]
    assert 0.25 < len(rentals) / 5000 < 0.45
    assert any(now < h.expiration_time < now + 3 * 86_400_000 for h in rentals)
    assert any(h.expiration_time > now + 60 * 86_400_000 for h in rentals)
    assert all(h.expiration_time is None for h in hosts if h.use_type == 0)
    assert all(h.create_time < now for h in hosts)
    assert min(h.create_time for h in hosts) < now - 90 * 86_400_000
    assert len({h.name for h in hosts}) == 5000
    assert any(re.fullmatch(r"render-node-\d{3}", h.name) for h in hosts)
    assert any(re.fullmatch(r"训练机-\d{2,}", h.name) for h in hosts)


def test_a_small_seeded_fleet_pages_through_http(make_simulator):
    sim = make_simulator(hosts=7, rng_seed=3)
    page = connect(sim).get(f"{OPEN}/mypage", page=1, pageSize=25)["data"]
    assert page["totalCounts"] == 7
    assert {h["id"] for h in page["data"]} == set(sim.fleet.hosts)


# --- concurrency -------------------------------------------------------------------------------


def test_twenty_parallel_page_reads_are_all_answered(make_simulator):
    sim = make_simulator(hosts=500)
    token = connect(sim).token

    def read(page: int) -> list[str]:
        answer = requests.get(
            f"{sim.url}{OPEN}/mypage",
            params={"page": page, "pageSize": 25},
            headers={"Finovy-Access-Token": token},
            timeout=5,
        )
        return [h["id"] for h in answer.json()["data"]["data"]]

    with ThreadPoolExecutor(max_workers=20) as pool:
        pages = list(pool.map(read, range(1, 21)))
    ids = [host_id for page in pages for host_id in page]
    assert len(ids) == 500 and set(ids) == set(sim.fleet.hosts)
