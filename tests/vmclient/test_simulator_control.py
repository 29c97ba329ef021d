"""Controlling the simulator: from Python, over /_sim/ from another process, and as a command."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.simulator_fixtures import RawUpstream
from vmclient.simulator import Simulator, SimulatorConfig
from vmclient.types import HostStatus

OPEN = "/v1/pve/open"
ROOT = Path(__file__).resolve().parents[2]


def control(sim: Simulator, method: str, action: str, body=None) -> requests.Response:
    return requests.request(method, f"{sim.url}/_sim/{action}", json=body, timeout=5)


# --- /_sim/ endpoints --------------------------------------------------------------------------


def test_state_counts_hosts_by_status_and_shows_the_config_without_the_secret(make_simulator):
    sim = make_simulator(hosts=40, secret="very-secret-value")
    answer = control(sim, "GET", "state")
    assert answer.status_code == 200
    state = answer.json()
    assert state["hosts"] == 40 == sum(state["counts"].values())
    assert set(state["counts"]) == {s.name for s in HostStatus}
    assert state["config"]["uuid"] == "SIMULATED"
    assert state["config"]["wallet_balance"] == "10000"
    assert "secret" not in state["config"]
    assert "very-secret-value" not in answer.text


def test_config_updates_change_the_next_answer(simulator, upstream):
    host = simulator.fleet.add_host()
    answer = control(
        simulator, "POST", "config", {"doc_version": "original", "mask_passwords": False}
    )
    assert answer.status_code == 200
    assert answer.json()["ipv4_field"] == "ipV4"
    document = upstream.get(f"{OPEN}/one/{host.id}")
    assert list(document) == ["code", "data", "msg"]
    assert document["data"]["hostPw"] == host.host_pw
    control(simulator, "POST", "config", {"wallet_balance": "12.50", "boot_seconds": 5})
    assert str(simulator.config.wallet_balance) == "12.50"
    assert simulator.config.boot_seconds == 5.0


@pytest.mark.parametrize(
    "body",
    [{"nonsense": 1}, {"latency": "slow"}, {"real_name_verified": 1}, {"doc_version": "x"}, [1]],
)
def test_config_updates_with_unknown_fields_or_wrong_types_are_refused(simulator, body):
    answer = control(simulator, "POST", "config", body)
    assert answer.status_code == 400
    assert simulator.config == SimulatorConfig()


def test_faults_are_armed_and_cleared_over_http(simulator, upstream):
    fault = {
        "kind": "raw",
        "status": 503,
        "body": "维护中",
        "content_type": "text/plain",
        "times": None,
    }
    assert control(simulator, "POST", "faults", fault).status_code == 200
    assert control(simulator, "GET", "state").json()["faults"][0]["body"] == "维护中"
    answer = upstream.request("GET", f"{OPEN}/image")
    assert (answer.status_code, answer.content.decode()) == (503, "维护中")
    assert control(simulator, "DELETE", "faults").status_code == 200
    assert upstream.get(f"{OPEN}/image")["code"] == 0


def test_an_invalid_fault_over_http_is_refused(simulator):
    assert control(simulator, "POST", "faults", {"kind": "explode"}).status_code == 400
    assert control(simulator, "POST", "faults", {"path": "/v1"}).status_code == 400
    assert control(simulator, "POST", "faults", {"kind": "drop", "colour": 1}).status_code == 400


def test_clock_advances_over_http(simulator, upstream):
    host_id = upstream.post(
        f"{OPEN}/createquantity", {"packageId": "Rz7NwXe2Fb", "imageId": "8991"}
    )["data"]
    before = simulator.clock.now_ms()
    answer = control(simulator, "POST", "clock", {"advance": 31})
    assert answer.json()["now_ms"] >= before + 31_000
    assert upstream.get(f"{OPEN}/one/{host_id}")["data"]["status"] == "2"
    assert control(simulator, "POST", "clock", {"advance": -1}).status_code == 400
    assert control(simulator, "POST", "clock", {}).status_code == 400


def test_expire_tokens_over_http(simulator, upstream):
    assert control(simulator, "POST", "expire-tokens").status_code == 200
    assert upstream.get(f"{OPEN}/image")["code"] == 401


def test_request_log_over_http_shows_the_count_and_the_last_hundred(simulator, upstream):
    for page in range(1, 106):
        upstream.get(f"{OPEN}/mypage", page=page, pageSize=25)
    log = control(simulator, "GET", "requests").json()
    assert log["count"] == 106  # the token request, then 105 pages
    assert len(log["requests"]) == 100
    assert log["requests"][-1]["path"] == f"{OPEN}/mypage"
    assert log["requests"][-1]["query"] == {"page": "105", "pageSize": "25"}
    assert control(simulator, "DELETE", "requests").status_code == 200
    assert control(simulator, "GET", "requests").json() == {"count": 0, "requests": []}


def test_hosts_are_added_over_http(simulator, upstream):
    answer = control(simulator, "POST", "hosts", {"status": 0, "use_type": 1, "name": "demo-01"})
    assert answer.status_code == 200
    host_id = answer.json()["id"]
    data = upstream.get(f"{OPEN}/one/{host_id}")["data"]
    assert (data["name"], data["status"], data["useType"]) == ("demo-01", "0", "1")
    assert control(simulator, "POST", "hosts", {"colour": "red"}).status_code == 400


def test_a_host_with_a_hostile_id_is_added_over_http_and_found_by_it(simulator, upstream):
    """What a careless provider could send: the id is data, quoted as one path segment."""
    answer = control(simulator, "POST", "hosts", {"id": "../../etc/passwd", "name": "<b>x</b>"})
    assert answer.status_code == 200 and answer.json()["id"] == "../../etc/passwd"
    data = upstream.get(f"{OPEN}/one/..%2F..%2Fetc%2Fpasswd")["data"]
    assert (data["id"], data["name"]) == ("../../etc/passwd", "<b>x</b>")


def test_unknown_control_endpoints_answer_404_and_wrong_methods_405(simulator):
    assert control(simulator, "GET", "nothing").status_code == 404
    assert control(simulator, "GET", "clock").status_code == 405


# --- the Python side ---------------------------------------------------------------------------


def test_request_log_records_api_calls_but_not_control_calls(simulator, upstream):
    upstream.get(f"{OPEN}/mypage", page=1, pageSize=25)
    upstream.get(f"{OPEN}/image")
    control(simulator, "GET", "state")
    assert simulator.request_count() == 3
    assert simulator.request_count(f"{OPEN}/mypage") == 1
    assert simulator.request_count("/v1/auth") == 1
    record = simulator.request_log[1]
    assert (record.method, record.path, record.query) == (
        "GET",
        f"{OPEN}/mypage",
        {"page": "1", "pageSize": "25"},
    )
    assert abs(record.time - simulator.clock.now()) < 5
    simulator.clear_request_log()
    assert simulator.request_count() == 0


def test_log_lines_never_contain_the_secret_or_a_token(make_simulator, caplog):
    sim = make_simulator(secret="s3cr3t-value-xyz")
    with caplog.at_level(logging.DEBUG, logger="vmclient.simulator"):
        raw = RawUpstream(sim)
        token = raw.authenticate()
        raw.get(f"{OPEN}/mypage", page=1, pageSize=25)
        raw.get(f"{OPEN}/image", headers={"Finovy-Access-Token": "stale-token-123"})
    assert "GET /v1/pve/open/mypage?page=1&pageSize=25 -> 200 code=0" in caplog.text
    for secret in ("s3cr3t-value-xyz", token, "stale-token-123"):
        assert secret not in caplog.text


def test_fleet_add_host_refuses_unknown_fields(simulator):
    with pytest.raises(TypeError):
        simulator.fleet.add_host(colour="red")


def test_an_added_expired_host_is_a_rental_that_expired(simulator):
    host = simulator.fleet.add_host(status=HostStatus.EXPIRED)
    assert host.use_type == 1
    assert host.expiration_time <= simulator.clock.now_ms()


def test_reading_fleet_hosts_after_advancing_the_clock_shows_the_new_status(simulator):
    host = simulator.fleet.add_host(status=HostStatus.BOOTING)
    simulator.clock.advance(31)
    assert simulator.fleet.hosts[host.id].status is HostStatus.RUNNING


def test_stopping_closes_kept_alive_connections(simulator, upstream):
    assert upstream.get(f"{OPEN}/image")["code"] == 0  # the session now holds a connection
    url = simulator.url
    simulator.stop()
    with pytest.raises(requests.ConnectionError):
        upstream.session.get(f"{url}{OPEN}/image", timeout=2)
    simulator.stop()  # twice is fine


def test_context_manager_starts_and_stops():
    with Simulator(hosts=2) as sim:
        url = sim.url
        assert requests.get(f"{url}/_sim/state", timeout=5).json()["hosts"] == 2
    assert not sim.running
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/_sim/state", timeout=2)


def test_start_twice_is_refused(simulator):
    with pytest.raises(RuntimeError):
        simulator.start()


def test_url_before_start_is_an_error():
    with pytest.raises(RuntimeError):
        Simulator().url  # noqa: B018


# --- manage.py simulator -----------------------------------------------------------------------


def _run_command(*args: str) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 (our own command, fixed arguments)
        [sys.executable, "-u", "manage.py", "simulator", "--port", "0", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "DJANGO_LOG_LEVEL": "WARNING"},
    )


def _read_url(process: subprocess.Popen) -> tuple[str, list[str]]:
    lines = []
    for _ in range(3):
        line = process.stdout.readline()
        assert line, process.stderr.read()
        lines.append(line)
    url = lines[0].rsplit(" ", 1)[1].strip()
    return url, lines


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_command_serves_until_a_signal_and_stops_cleanly(stop_signal):
    process = _run_command("--hosts", "12", "--seed", "4", "--doc-version", "original")
    try:
        url, lines = _read_url(process)
        assert "account uuid SIMULATED, secret simulated-secret" in lines[1]
        state = requests.get(f"{url}/_sim/state", timeout=5).json()
        assert state["hosts"] == 12
        assert state["config"]["doc_version"] == "original"
        process.send_signal(stop_signal)
        out, _ = process.communicate(timeout=10)
        assert process.returncode == 0
        assert "stopped" in out
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_command_does_not_print_a_configured_secret():
    process = _run_command("--hosts", "0", "--uuid", "A27550582", "--secret", "real-secret-value")
    try:
        url, lines = _read_url(process)
        assert "A27550582" in lines[1]
        answer = requests.post(
            f"{url}/v1/auth/getToken",
            json={"uuid": "A27550582", "secret": "real-secret-value"},
            timeout=5,
        ).json()
        assert answer["code"] == 0
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
        assert "real-secret-value" not in "".join(lines) + out + err
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
