"""The access token: fetched once, shared by threads, renewed on expiry, never leaked."""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from dashboard.wording import error_words_in
from tests.vmclient.test_client import IMAGE, PACKAGE, client_for
from vmclient.client import XuandashiClient
from vmclient.errors import AuthenticationError, XdsError
from vmclient.simulator import Fault
from vmclient.types import HostStatus

TOKEN_PATH = "/v1/auth/getToken"


def envelope_401() -> bytes:
    return json.dumps({"code": 401, "msg": "身份认证失败", "traceId": "t-401"}).encode()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_one_token_serves_many_calls(simulator):
    with client_for(simulator) as client:
        for _ in range(5):
            client.list_images()
    assert simulator.request_count(TOKEN_PATH) == 1


def test_token_expired_upstream_mid_session_is_renewed_transparently(simulator):
    with client_for(simulator) as client:
        client.list_images()
        simulator.clock.advance(simulator.config.token_lifetime_ms / 1000 + 1)
        assert client.list_images()
    assert simulator.request_count(TOKEN_PATH) == 2
    assert simulator.request_count("/v1/pve/open/image") == 3  # one refused with 401


def test_tokens_revoked_upstream_are_renewed_transparently(simulator):
    with client_for(simulator) as client:
        client.list_images()
        simulator.expire_tokens()
        client.list_packages(0)
    assert simulator.request_count(TOKEN_PATH) == 2


def test_token_is_renewed_before_it_expires_by_the_clients_clock(make_simulator):
    sim = make_simulator(token_lifetime_ms=1_800_000)
    clock = FakeClock()
    with client_for(sim, clock=clock) as client:
        client.list_images()
        clock.now += 1800 - 60 - 1  # just inside the 60 s margin
        client.list_images()
        assert sim.request_count(TOKEN_PATH) == 1
        clock.now += 2
        client.list_images()
    assert sim.request_count(TOKEN_PATH) == 2
    assert sim.request_count("/v1/pve/open/image") == 3  # no call was refused


def test_a_short_lived_token_keeps_a_tenth_of_its_life_as_margin(make_simulator):
    sim = make_simulator(token_lifetime_ms=100_000)
    clock = FakeClock()
    with client_for(sim, clock=clock) as client:
        client.list_images()
        clock.now += 89
        client.list_images()
        assert sim.request_count(TOKEN_PATH) == 1
        clock.now += 2
        client.list_images()
    assert sim.request_count(TOKEN_PATH) == 2


def test_concurrent_callers_after_expiry_fetch_one_token(simulator):
    with client_for(simulator) as client:
        client.list_images()
        simulator.expire_tokens()
        simulator.clear_request_log()
        simulator.config.latency = 0.05  # keeps the callers overlapping
        barrier = threading.Barrier(16)

        def call(_):
            barrier.wait()
            return client.list_hosts_page(1)

        with ThreadPoolExecutor(max_workers=16) as pool:
            pages = list(pool.map(call, range(16)))
    assert len(pages) == 16
    assert simulator.request_count(TOKEN_PATH) == 1


def test_concurrent_first_callers_fetch_one_token(simulator):
    simulator.config.latency = 0.05
    with client_for(simulator) as client:
        barrier = threading.Barrier(16)

        def call(_):
            barrier.wait()
            return client.list_images()

        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(call, range(16)))
    assert simulator.request_count(TOKEN_PATH) == 1


def test_a_second_401_is_an_authentication_error(simulator):
    simulator.add_fault(Fault("raw", path="/v1/pve/open/image", times=2, body=envelope_401()))
    with client_for(simulator) as client:
        with pytest.raises(AuthenticationError) as caught:
            client.list_images()
        assert simulator.request_count(TOKEN_PATH) == 2  # the first, and exactly one renewal
        assert caught.value.code == 401 and caught.value.trace_id == "t-401"
        assert client.list_images()  # the fault is spent: the next call works again


def test_an_http_401_page_also_renews_the_token(simulator):
    simulator.add_fault(
        Fault(
            "raw",
            path="/v1/pve/open/image",
            status=401,
            body=b"<html>401</html>",
            content_type="text/html",
        )
    )
    with client_for(simulator) as client:
        assert client.list_images()
    assert simulator.request_count(TOKEN_PATH) == 2


def test_a_wrong_secret_is_an_authentication_error_without_retries(make_simulator):
    sim = make_simulator(secret="the-right-one")
    client = XuandashiClient(sim.url, sim.uuid, "a-wrong-one", backoff=0.01)
    with client, pytest.raises(AuthenticationError) as caught:
        client.list_images()
    assert sim.request_count(TOKEN_PATH) == 1
    assert sim.request_count("/v1/pve/") == 0
    err = caught.value
    assert err.code == 401 and err.trace_id and err.upstream_message == "身份认证失败"


def test_a_create_refused_with_401_is_sent_again_once_and_buys_one_host(simulator):
    with client_for(simulator) as client:
        client.list_images()
        simulator.expire_tokens()
        host_id = client.create_pay_as_you_go(PACKAGE, IMAGE)
    assert list(simulator.fleet.hosts) == [host_id]
    assert simulator.request_count("/v1/pve/open/createquantity") == 2  # the first refused


def test_authenticate_fetches_a_fresh_token(simulator):
    with client_for(simulator) as client:
        client.authenticate()
        client.authenticate()
        client.list_images()
    assert simulator.request_count(TOKEN_PATH) == 2


def test_the_token_is_sent_in_the_finovy_header(simulator):
    import requests

    headers = []

    class Recording(requests.Session):
        def send(self, request, **kwargs):
            headers.append(dict(request.headers))
            return super().send(request, **kwargs)

    with client_for(simulator, session_factory=Recording) as client:
        client.list_images()
        token = client._tokens._token
    assert "Finovy-Access-Token" not in headers[0]
    assert headers[1]["Finovy-Access-Token"] == token


def test_secret_and_token_never_reach_logs_errors_or_reprs(simulator, caplog):
    secret = simulator.secret
    tokens = set()
    errors: list[XdsError] = []
    caplog.set_level(logging.DEBUG)
    with client_for(simulator, retries=1) as client:
        client.list_images()
        tokens.add(client._tokens._token)
        simulator.expire_tokens()
        host = simulator.fleet.add_host(status=HostStatus.BOOTING)
        client.get_host(host.id)
        tokens.add(client._tokens._token)
        for kind in ("html_502", "truncated_json", "no_code", "wrong_data", "drop"):
            simulator.add_fault(Fault(kind, path="/v1/pve/open/image", times=None))
            try:
                client.list_images()
            except XdsError as err:
                errors.append(err)
            simulator.clear_faults()
        for call in (lambda: client.power_on(host.id), lambda: client.reboot(host.id)):
            try:
                call()
            except XdsError as err:
                errors.append(err)
        simulator.add_fault(Fault("drop", path="/v1/pve/open/createquantity", phase="after"))
        try:
            client.create_pay_as_you_go(PACKAGE, IMAGE)
        except XdsError as err:
            errors.append(err)
        texts = [repr(client), repr(client._tokens), caplog.text]
    with XuandashiClient(simulator.url, simulator.uuid, "wrong") as bad:
        try:
            bad.list_images()
        except XdsError as err:
            errors.append(err)
        texts.append(repr(bad))
    assert len(errors) == 9
    texts += [str(err) for err in errors] + [repr(err) for err in errors]
    texts += [error_words_in(err, lang) for err in errors for lang in ("en", "zh-hans")]
    for text in texts:
        assert secret not in text and "wrong" not in text.replace("wrong_data", "")
        for token in tokens:
            assert token not in text
