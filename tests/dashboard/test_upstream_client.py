"""`dashboard.upstream.get_client`: one client per process, built from the XDS_* settings."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from dashboard import upstream as factory


@pytest.fixture(autouse=True)
def fresh_factory():
    factory.reset_client()
    yield
    factory.reset_client()


@pytest.fixture
def configured(settings, simulator):
    settings.XDS_BASE_URL = simulator.url
    settings.XDS_UUID = simulator.uuid
    settings.XDS_SECRET = simulator.secret
    settings.XDS_TIMEOUT = 4.0
    settings.XDS_CONNECT_TIMEOUT = 1.5
    return simulator


def test_get_client_builds_one_client_from_the_settings(configured):
    client = factory.get_client()
    assert client is factory.get_client()
    assert client.base_url == configured.url and client.uuid == configured.uuid
    assert (client.timeout, client.connect_timeout) == (4.0, 1.5)


def test_threads_share_the_client_and_its_token(configured):
    barrier = threading.Barrier(8)

    def call(_):
        barrier.wait()
        client = factory.get_client()
        client.list_images()
        return client

    with ThreadPoolExecutor(max_workers=8) as pool:
        clients = set(pool.map(call, range(8)))
    assert len(clients) == 1
    assert configured.request_count("/v1/auth/getToken") == 1


def test_changed_settings_build_a_new_client(configured, settings, make_simulator):
    first = factory.get_client()
    other = make_simulator()
    settings.XDS_BASE_URL = other.url
    second = factory.get_client()
    assert second is not first and second.base_url == other.url


def test_the_factory_module_keeps_no_secret_in_clear(configured):
    factory.get_client()
    assert configured.secret not in repr(factory._client_key)
