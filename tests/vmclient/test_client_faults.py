"""Injected faults reach the caller as the right named errors; retries follow the money rules."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import free_port
from tests.vmclient.test_client import CREATE_PATHS, IMAGE, PACKAGE, client_for
from vmclient.client import XuandashiClient
from vmclient.errors import (
    AlreadyBooting,
    ConnectionDropped,
    ConnectionFailed,
    HtmlErrorPage,
    MalformedResponse,
    MissingEnvelopeCode,
    OutcomeUnknown,
    ReadTimedOut,
    RequestInProgress,
    UnexpectedData,
    UpstreamInterfaceError,
    UpstreamSystemError,
    XdsError,
)
from vmclient.simulator import Fault
from vmclient.types import HostStatus, PeriodType

IMAGES = "/v1/pve/open/image"

# fault kind -> the error a read sees when the fault does not go away
READ_FAULTS = {
    "html_502": HtmlErrorPage,
    "error_500": UpstreamSystemError,
    "interface_503": UpstreamInterfaceError,
    "http_500": UpstreamSystemError,
    "truncated_json": MalformedResponse,
    "not_json": MalformedResponse,
    "no_code": MissingEnvelopeCode,
    "wrong_data": UnexpectedData,
    "drop": ConnectionDropped,
}
RETRIED_KINDS = sorted(k for k in READ_FAULTS if k not in ("no_code", "wrong_data"))


def _fault(kind, path, **kw):
    if kind == "hang":
        kw.setdefault("seconds", 1.0)
    return Fault(kind, path=path, **kw)


# --- what each fault becomes --------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "error"), sorted(READ_FAULTS.items()))
def test_a_lasting_fault_on_a_read_raises_its_named_error(simulator, kind, error):
    simulator.add_fault(_fault(kind, IMAGES, times=None))
    with client_for(simulator, retries=0) as client, pytest.raises(error) as caught:
        client.list_images()
    assert type(caught.value) is error
    assert isinstance(caught.value, XdsError)


def test_an_nginx_502_page_keeps_its_status(simulator):
    simulator.add_fault(Fault("html_502", path=IMAGES))
    with client_for(simulator, retries=0) as client, pytest.raises(HtmlErrorPage) as caught:
        client.list_images()
    assert caught.value.http_status == 502 and caught.value.retryable
    assert "502 Bad Gateway" in str(caught.value)


def test_a_500_envelope_keeps_code_message_and_trace_id(simulator):
    simulator.add_fault(Fault("http_500", path=IMAGES))
    with client_for(simulator, retries=0) as client, pytest.raises(UpstreamSystemError) as caught:
        client.list_images()
    err = caught.value
    assert err.code == 500 and err.http_status == 500 and err.upstream_message == "系统错误"
    assert err.trace_id and err.trace_id in str(err)


def test_a_hanging_upstream_is_a_read_timeout(simulator):
    simulator.add_fault(Fault("hang", path=IMAGES, seconds=2.0, times=None))
    client = client_for(simulator, retries=0, timeout=0.3)
    with client, pytest.raises(ReadTimedOut) as caught:
        client.list_images()
    assert caught.value.retryable and caught.value.may_have_been_sent


def test_a_closed_port_is_a_connection_failure(simulator):
    client = XuandashiClient(f"http://127.0.0.1:{free_port()}", "u", "s", retries=0)
    with client, pytest.raises(ConnectionFailed) as caught:
        client.list_images()
    assert caught.value.retryable and not caught.value.may_have_been_sent


def test_an_unresolvable_host_is_a_connection_failure():
    client = XuandashiClient("http://no-such-host.invalid", "u", "s", retries=0)
    with client, pytest.raises(ConnectionFailed):
        client.list_images()


def test_a_spring_404_error_document_is_not_an_envelope(simulator):
    client = XuandashiClient(simulator.url + "/nowhere", simulator.uuid, simulator.secret)
    with client, pytest.raises(MissingEnvelopeCode) as caught:
        client.list_images()
    assert caught.value.http_status == 404 and not caught.value.retryable


# --- reads and power actions retry ----------------------------------------------------------------


@pytest.mark.parametrize("kind", [*RETRIED_KINDS, "hang"])
def test_a_read_is_retried_after_a_one_time_fault(simulator, kind):
    simulator.add_fault(_fault(kind, IMAGES, times=1))
    with client_for(simulator, timeout=0.5) as client:
        assert client.list_images()
    assert simulator.request_count(IMAGES) == 2


def test_request_in_progress_is_retried_for_reads(simulator):
    body = b'{"code": 1005, "msg": "\xe8\xaf\xb7\xe6\xb1\x82\xe5\xa4\x84\xe7\x90\x86\xe4\xb8\xad"}'
    simulator.add_fault(Fault("raw", path=IMAGES, body=body))
    with client_for(simulator) as client:
        assert client.list_images()
    assert simulator.request_count(IMAGES) == 2


def test_a_read_gives_up_after_its_retries(simulator):
    simulator.add_fault(Fault("error_500", path=IMAGES, times=None))
    with client_for(simulator, retries=3) as client, pytest.raises(UpstreamSystemError):
        client.list_images()
    assert simulator.request_count(IMAGES) == 4


@pytest.mark.parametrize("kind", ["no_code", "wrong_data"])
def test_answers_that_a_retry_cannot_fix_are_not_retried(simulator, kind):
    simulator.add_fault(Fault(kind, path=IMAGES, times=None))
    with client_for(simulator) as client, pytest.raises(XdsError):
        client.list_images()
    assert simulator.request_count(IMAGES) == 1


def test_a_business_error_is_not_retried(simulator):
    simulator.add_fault(Fault("raw", path=IMAGES, body=b'{"code": 1001, "msg": "x"}'))
    with client_for(simulator) as client, pytest.raises(XdsError):
        client.list_images()
    assert simulator.request_count(IMAGES) == 1


def test_the_token_fetch_is_retried_too(simulator):
    simulator.add_fault(Fault("html_502", path="/v1/auth/getToken"))
    with client_for(simulator) as client:
        assert client.list_images()
    assert simulator.request_count("/v1/auth/getToken") == 2


def test_backoff_is_exponential_capped_and_jittered(simulator):
    slept = []
    simulator.add_fault(Fault("error_500", path=IMAGES, times=None))
    client = client_for(simulator, retries=4, backoff=1.0, max_backoff=3.0, sleep=slept.append)
    with client, pytest.raises(UpstreamSystemError):
        client.list_images()
    ceilings = [1.0, 2.0, 3.0, 3.0]
    assert len(slept) == 4
    for delay, ceiling in zip(slept, ceilings, strict=True):
        assert ceiling / 2 <= delay <= ceiling


def test_a_power_action_is_retried_after_a_gateway_error(simulator):
    host = simulator.fleet.add_host(status=HostStatus.RUNNING)
    simulator.add_fault(Fault("html_502", path="/v1/pve/open/reboot/"))
    with client_for(simulator) as client:
        assert client.reboot(host.id) is None
    assert simulator.fleet.hosts[host.id].status is HostStatus.BOOTING


def test_power_on_whose_answer_was_lost_is_accepted_when_the_retry_says_already_booting(
    simulator,
):
    host = simulator.fleet.add_host(status=HostStatus.OFF)
    simulator.add_fault(Fault("drop", path="/v1/pve/open/operate/", phase="after"))
    with client_for(simulator) as client:
        assert client.power_on(host.id) is None
    assert simulator.fleet.hosts[host.id].status is HostStatus.BOOTING
    assert simulator.request_count("/v1/pve/open/operate/") == 2


def test_power_on_of_a_booting_host_is_still_already_booting(simulator):
    host = simulator.fleet.add_host(status=HostStatus.BOOTING)
    with client_for(simulator) as client, pytest.raises(AlreadyBooting):
        client.power_on(host.id)
    assert simulator.request_count("/v1/pve/open/operate/") == 1


def test_a_power_action_answered_false_is_not_accepted(simulator):
    from vmclient.errors import ActionNotAccepted

    host = simulator.fleet.add_host(status=HostStatus.OFF)
    simulator.add_fault(
        Fault("raw", path="/v1/pve/open/operate/", body=b'{"code":0,"data":false,"traceId":"t"}')
    )
    with client_for(simulator) as client, pytest.raises(ActionNotAccepted) as caught:
        client.power_on(host.id)
    assert caught.value.trace_id == "t" and caught.value.may_have_acted is False


# --- deletes retry only what was never sent -----------------------------------------------------


@pytest.mark.parametrize("kind", ["html_502", "error_500", "drop", "truncated_json"])
def test_a_delete_is_not_repeated_once_it_may_have_been_sent(simulator, kind):
    host = simulator.fleet.add_host(status=HostStatus.OFF)
    simulator.add_fault(Fault(kind, path="/v1/pve/open/delete/"))
    with client_for(simulator) as client, pytest.raises(XdsError) as caught:
        client.delete_host(host.id)
    assert not isinstance(caught.value, ConnectionFailed)
    assert simulator.request_count("/v1/pve/open/delete/") == 1


def test_a_delete_is_retried_when_the_connection_could_not_be_made():
    slept = []
    port = free_port()
    client = XuandashiClient(f"http://127.0.0.1:{port}", "u", "s", retries=2, sleep=slept.append)
    client._tokens.get = lambda: "token"  # the token would also need the dead upstream
    with client, pytest.raises(ConnectionFailed):
        client.delete_host("abc")
    assert len(slept) == 2


# --- creates: never repeated, uncertain outcomes reported ---------------------------------------

AFTER_FAULTS = [
    "html_502",
    "error_500",
    "interface_503",
    "http_500",
    "truncated_json",
    "not_json",
    "no_code",
    "wrong_data",
    "drop",
    "hang",
]


def _create(client, path):
    if path.endswith("createRent"):
        return client.create_rental(PACKAGE, IMAGE, 1, PeriodType.DAY)
    return client.create_pay_as_you_go(PACKAGE, IMAGE)


@pytest.mark.parametrize("path", CREATE_PATHS)
@pytest.mark.parametrize("kind", AFTER_FAULTS)
def test_a_create_whose_answer_is_lost_is_outcome_unknown_and_buys_exactly_one_host(
    simulator, kind, path
):
    simulator.add_fault(_fault(kind, path, phase="after"))
    with client_for(simulator, timeout=0.3) as client:
        client.list_images()  # the token, so that only the create is in play
        with pytest.raises(OutcomeUnknown) as caught:
            _create(client, path)
    assert len(simulator.fleet.hosts) == 1
    assert simulator.request_count(path) == 1
    err = caught.value
    assert err.retryable is False and isinstance(err.cause, XdsError)
    assert err.params["packageId"] == PACKAGE and err.params["imageId"] == IMAGE
    assert "secret" not in repr(err.params).lower()
    assert err.operation in ("create_pay_as_you_go", "create_rental")


@pytest.mark.parametrize("path", CREATE_PATHS)
@pytest.mark.parametrize("kind", ["html_502", "error_500", "drop", "hang"])
def test_a_create_refused_by_a_fault_is_not_repeated_either(simulator, kind, path):
    simulator.add_fault(_fault(kind, path, phase="before"))
    with client_for(simulator, timeout=0.3) as client, pytest.raises(OutcomeUnknown):
        _create(client, path)
    assert simulator.request_count(path) == 1


def test_a_create_that_times_out_after_buying_carries_the_timeout_as_cause(simulator):
    simulator.add_fault(Fault("hang", path=CREATE_PATHS[1], phase="after", seconds=1.0))
    with client_for(simulator, timeout=0.3) as client, pytest.raises(OutcomeUnknown) as caught:
        client.create_rental(PACKAGE, IMAGE, 2, PeriodType.WEEK)
    assert isinstance(caught.value.cause, ReadTimedOut)
    assert caught.value.params == {
        "packageId": PACKAGE,
        "imageId": IMAGE,
        "periodNumber": 2,
        "periodType": 2,
    }
    assert len(simulator.fleet.hosts) == 1


@pytest.mark.parametrize("path", CREATE_PATHS)
def test_a_create_that_could_not_connect_is_a_connection_failure_and_not_repeated(path):
    slept = []
    port = free_port()
    client = XuandashiClient(f"http://127.0.0.1:{port}", "u", "s", retries=5, sleep=slept.append)
    client._tokens.get = lambda: "token"
    with client, pytest.raises(ConnectionFailed) as caught:
        _create(client, path)
    assert caught.value.retryable  # safe for the caller to try again: nothing was sent
    assert slept == []


def test_a_create_answered_1005_is_outcome_unknown(make_simulator):
    sim = make_simulator(duplicate_create_window=60)
    with client_for(sim) as client:
        client.create_pay_as_you_go(PACKAGE, IMAGE)
        with pytest.raises(OutcomeUnknown) as caught:
            client.create_pay_as_you_go(PACKAGE, IMAGE)
    assert isinstance(caught.value.cause, RequestInProgress)
    assert len(sim.fleet.hosts) == 1


def test_a_create_answered_with_an_unknown_code_is_outcome_unknown(simulator):
    simulator.add_fault(
        Fault("raw", path=CREATE_PATHS[0], body=b'{"code": 6004, "msg": "x", "traceId": "t"}')
    )
    with client_for(simulator) as client, pytest.raises(OutcomeUnknown) as caught:
        client.create_pay_as_you_go(PACKAGE, IMAGE)
    assert caught.value.code == 6004 and caught.value.trace_id == "t"


def test_a_create_answered_with_a_4xx_page_bought_nothing(simulator):
    simulator.add_fault(
        Fault(
            "raw",
            path=CREATE_PATHS[0],
            status=429,
            body=b"<html>slow down</html>",
            content_type="text/html",
        )
    )
    with client_for(simulator) as client, pytest.raises(HtmlErrorPage) as caught:
        client.create_pay_as_you_go(PACKAGE, IMAGE)
    assert caught.value.http_status == 429


def test_an_outcome_unknown_keeps_its_cause_and_nothing_is_sent_again(simulator):
    simulator.add_fault(Fault("html_502", path=CREATE_PATHS[0], phase="after"))
    with client_for(simulator) as client, pytest.raises(OutcomeUnknown) as caught:
        client.create_pay_as_you_go(PACKAGE, IMAGE)
    err = caught.value
    assert isinstance(err.cause, HtmlErrorPage) and err.http_status == 502
    [host_id] = simulator.fleet.hosts
    with client_for(simulator) as client:
        assert client.list_every_host().has(host_id)  # how a caller reconciles


# --- logging ------------------------------------------------------------------------------------


def test_each_exchange_is_logged_once_with_method_path_code_trace_duration_attempt(
    simulator, caplog
):
    caplog.set_level(logging.DEBUG, logger="vmclient")
    simulator.add_fault(Fault("error_500", path=IMAGES))
    with client_for(simulator) as client:
        client.list_images()
    records = [r for r in caplog.records if r.name == "vmclient" and hasattr(r, "xds_path")]
    assert [(r.xds_method, r.xds_path, r.xds_attempt, r.xds_code) for r in records] == [
        ("POST", "/v1/auth/getToken", 1, 0),
        ("GET", IMAGES, 1, 500),
        ("GET", IMAGES, 2, 0),
    ]
    assert all(r.xds_trace_id and r.xds_duration_ms >= 0 for r in records)
    assert "duration_ms=" in records[1].getMessage() and "UpstreamSystemError" in (
        records[1].getMessage()
    )


def test_query_strings_are_not_logged(simulator, caplog):
    caplog.set_level(logging.DEBUG, logger="vmclient")
    with client_for(simulator) as client:
        client.list_hosts_page(1)
    messages = [r.getMessage() for r in caplog.records if r.name == "vmclient"]
    assert any("/v1/pve/open/mypage" in m for m in messages)
    assert not any("pageSize" in m for m in messages)


def test_host_unavailable_is_left_to_the_user_to_retry(simulator):
    from vmclient.errors import HostUnavailable

    host = simulator.fleet.add_host(status=HostStatus.SHUTTING_DOWN)
    with client_for(simulator) as client, pytest.raises(HostUnavailable) as caught:
        client.reboot(host.id)
    assert caught.value.retryable  # a person may try again in a few minutes
    assert simulator.request_count("/v1/pve/open/reboot/") == 1


def test_vmclient_core_modules_import_nothing_from_django_nor_prometheus():
    import subprocess
    import sys

    code = (
        "import sys, vmclient.client, vmclient.errors, vmclient.parsing, vmclient.types;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('django', 'prometheus_client')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(  # noqa: S603 - a fixed command
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=root
    )
    assert result.returncode == 0, result.stdout + result.stderr
