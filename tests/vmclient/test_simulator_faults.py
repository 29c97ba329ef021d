"""Injected faults look on the wire like the failures a real provider and its gateway produce."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
import requests

from vmclient.simulator import Fault

OPEN = "/v1/pve/open"
PAGE = f"{OPEN}/mypage"
CREATE = f"{OPEN}/createquantity"
RENT = f"{OPEN}/createRent"
PAYG_BODY = {"packageId": "Rz7NwXe2Fb", "imageId": "8991"}
RENT_BODY = {"packageId": "Pi8tcH1NSd", "imageId": "8991", "periodNumber": 1, "periodType": 3}


def page(upstream) -> requests.Response:
    return upstream.request("GET", PAGE, params={"page": 1, "pageSize": 25})


def test_html_502_is_nginx_s_error_page(simulator, upstream):
    simulator.add_fault(Fault("html_502"))
    answer = page(upstream)
    assert answer.status_code == 502
    assert answer.headers["Content-Type"] == "text/html"
    assert "<center>nginx</center>" in answer.text


@pytest.mark.parametrize(
    ("kind", "code", "msg"), [("error_500", 500, "系统错误"), ("interface_503", 503, "接口异常")]
)
def test_envelope_errors_answer_http_200_with_their_code(simulator, upstream, kind, code, msg):
    simulator.add_fault(Fault(kind))
    answer = page(upstream)
    assert answer.status_code == 200
    document = answer.json()
    assert (document["code"], document["msg"], document["success"]) == (code, msg, False)
    assert document["traceId"]


def test_http_500_carries_an_envelope(simulator, upstream):
    simulator.add_fault(Fault("http_500"))
    answer = page(upstream)
    assert answer.status_code == 500
    assert answer.json()["code"] == 500


def test_truncated_json_is_a_valid_answer_cut_in_the_middle(simulator, upstream):
    simulator.fleet.add_host()
    full = page(upstream).content
    simulator.add_fault(Fault("truncated_json", phase="after"))
    cut = page(upstream)
    assert cut.status_code == 200
    assert 0 < len(cut.content) < len(full)
    assert full.startswith(cut.content[:40])
    with pytest.raises(ValueError):
        json.loads(cut.content)


def test_truncated_json_before_the_request_is_still_not_json(simulator, upstream):
    simulator.add_fault(Fault("truncated_json", path=CREATE))
    answer = upstream.request("POST", CREATE, json=PAYG_BODY)
    with pytest.raises(ValueError):
        answer.json()
    assert simulator.fleet.hosts == {}


def test_not_json_is_plain_text_with_http_200(simulator, upstream):
    simulator.add_fault(Fault("not_json"))
    answer = page(upstream)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain")
    with pytest.raises(ValueError):
        answer.json()


def test_no_code_is_an_envelope_without_code(simulator, upstream):
    simulator.add_fault(Fault("no_code"))
    document = page(upstream).json()
    assert "code" not in document
    assert "data" in document and "msg" in document


@pytest.mark.parametrize("phase", ["before", "after"])
def test_wrong_data_is_a_success_with_data_of_another_shape(simulator, upstream, phase):
    simulator.add_fault(Fault("wrong_data", path=PAGE, phase=phase))
    document = page(upstream).json()
    assert document["code"] == 0
    assert isinstance(document["data"], str)
    simulator.add_fault(Fault("wrong_data", path=CREATE, phase=phase))
    created = upstream.post(CREATE, PAYG_BODY)
    assert created["code"] == 0 and isinstance(created["data"], list)


def test_hang_outlasts_a_client_with_a_shorter_read_timeout(simulator, upstream):
    simulator.add_fault(Fault("hang", seconds=0.5))
    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        upstream.request("GET", f"{OPEN}/image", timeout=0.1)
    assert time.monotonic() - started < 0.4
    assert upstream.get(f"{OPEN}/image")["code"] == 0  # the next call is answered normally


def test_hang_then_answers_normally_to_a_patient_client(simulator, upstream):
    simulator.add_fault(Fault("hang", seconds=0.2))
    started = time.monotonic()
    assert upstream.get(f"{OPEN}/image")["code"] == 0
    assert time.monotonic() - started >= 0.2


def test_a_hung_create_still_buys_the_host_after_the_client_gave_up(simulator, upstream):
    simulator.add_fault(Fault("hang", path=CREATE, seconds=0.3))
    with pytest.raises(requests.ReadTimeout):
        upstream.request("POST", CREATE, json=PAYG_BODY, timeout=0.1)
    deadline = time.monotonic() + 2
    while not simulator.fleet.hosts and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(simulator.fleet.hosts) == 1


def test_drop_closes_the_connection_without_an_answer(simulator, upstream):
    simulator.add_fault(Fault("drop"))
    with pytest.raises(requests.ConnectionError):
        page(upstream)
    assert page(upstream).json()["code"] == 0


def test_raw_answers_exactly_what_it_is_given(simulator, upstream):
    simulator.add_fault(Fault("raw", status=418, body="I'm a teapot", content_type="text/x-tea"))
    answer = page(upstream)
    assert answer.status_code == 418
    assert answer.headers["Content-Type"] == "text/x-tea"
    assert answer.content == b"I'm a teapot"


def test_a_fault_before_the_request_leaves_no_effect(simulator, upstream):
    simulator.add_fault(Fault("error_500", path=RENT))
    assert upstream.post(RENT, RENT_BODY)["code"] == 500
    assert simulator.fleet.hosts == {}
    assert simulator.config.wallet_balance == Decimal(10000)


@pytest.mark.parametrize("kind", ["error_500", "html_502", "drop", "truncated_json"])
def test_a_fault_after_the_request_hides_a_create_that_happened(simulator, upstream, kind):
    simulator.add_fault(Fault(kind, path=RENT, phase="after"))
    try:
        answer = upstream.request("POST", RENT, json=RENT_BODY)
        assert answer.status_code != 200 or answer.json()["code"] != 0
    except (requests.ConnectionError, ValueError):
        pass  # the client cannot know what happened: that is the point
    assert len(simulator.fleet.hosts) == 1
    assert simulator.config.wallet_balance == Decimal(10000) - Decimal("3240.00")


def test_faults_match_path_prefix_and_method(simulator, upstream):
    simulator.add_fault(Fault("error_500", path=f"{OPEN}/one", method="get"))
    host = simulator.fleet.add_host()
    assert upstream.get(f"{OPEN}/image")["code"] == 0
    assert upstream.delete(f"{OPEN}/delete/{host.id}")["code"] == 0
    assert upstream.get(f"{OPEN}/one/{host.id}")["code"] == 500


def test_a_fault_fires_its_number_of_times_then_is_gone(simulator, upstream):
    fault = simulator.add_fault(Fault("error_500", times=2))
    codes = [page(upstream).json()["code"] for _ in range(3)]
    assert codes == [500, 500, 0]
    assert fault.times == 0


def test_a_fault_without_a_count_fires_until_cleared(simulator, upstream):
    simulator.add_fault(Fault("interface_503", times=None))
    assert [page(upstream).json()["code"] for _ in range(4)] == [503] * 4
    simulator.clear_faults()
    assert page(upstream).json()["code"] == 0


def test_faults_fire_in_the_order_they_were_added(simulator, upstream):
    simulator.add_fault(Fault("error_500"))
    simulator.add_fault(Fault("interface_503"))
    assert [page(upstream).json()["code"] for _ in range(3)] == [500, 503, 0]


def test_latency_delays_every_answer(simulator, upstream):
    simulator.config.latency = 0.15
    started = time.monotonic()
    page(upstream)
    assert time.monotonic() - started >= 0.15


def test_faults_never_touch_the_control_endpoints(simulator, upstream):
    simulator.add_fault(Fault("html_502", times=None))
    assert requests.get(f"{simulator.url}/_sim/state", timeout=5).status_code == 200
    assert requests.delete(f"{simulator.url}/_sim/faults", timeout=5).status_code == 200
    assert page(upstream).status_code == 200


def test_a_fault_on_get_token_breaks_authentication(simulator):
    simulator.add_fault(Fault("html_502", path="/v1/auth/getToken"))
    answer = requests.post(
        f"{simulator.url}/v1/auth/getToken",
        json={"uuid": simulator.uuid, "secret": simulator.secret},
        timeout=5,
    )
    assert answer.status_code == 502


@pytest.mark.parametrize(
    "fields",
    [{"kind": "explode"}, {"kind": "drop", "phase": "during"}, {"kind": "drop", "times": 0}],
)
def test_an_invalid_fault_is_refused(fields):
    with pytest.raises(ValueError):
        Fault(**fields)
