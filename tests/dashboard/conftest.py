"""Fixtures for the dashboard's tests: an isolated cache, a member who is logged in, a simulator
the client is pointed at, and a quick way to put hosts in the mirror."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from dashboard.models import Host
from vmclient.factory import reset_client
from vmclient.types import Area, BillingType, HostStatus

_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def isolated_cache(settings):
    """Each test gets its own empty cache (CI's Redis is shared with nothing of ours)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"xds-test-{uuid.uuid4().hex}",
        }
    }
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def enqueued(monkeypatch):
    """Tasks the code under test enqueued (by name), instead of publishing them to a broker."""
    from dashboard import tasks

    names: list[str] = []
    for task in (tasks.sync_hosts, tasks.refresh_catalog):
        monkeypatch.setattr(task, "delay", lambda *a, _name=task.name, **kw: names.append(_name))
    return names


@pytest.fixture
def point_client_at(settings):
    """Points the dashboard's upstream client at a simulator."""

    def point(sim):
        settings.XDS_BASE_URL = sim.url
        settings.XDS_UUID = sim.uuid
        settings.XDS_SECRET = sim.secret
        reset_client()
        return sim

    yield point
    reset_client()


@pytest.fixture
def sim(make_simulator, point_client_at):
    """An empty simulator the dashboard talks to."""
    return point_client_at(make_simulator(hosts=0))


@pytest.fixture
def member(django_user_model, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast
    return django_user_model.objects.create_user("member", password="a-long-test-password")


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


def host_values(**overrides) -> dict:
    """Field values of a plausible running Linux host; keywords override."""
    n = next(_ids)
    now = timezone.now()
    values = {
        "id": f"h{n:06d}",
        "name": f"host-{n}",
        "gpu_description": "RTX 4090",
        "gpu_number": 1,
        "memory_gb": 32,
        "cpu_cores": 8,
        "disk_gb": 200,
        "operating_system": "Ubuntu Server",
        "login_user": "root",
        "address": "203.0.113.10",
        "port": 22000 + n % 1000,
        "status": HostStatus.RUNNING.value,
        "area": Area.SOUTH_CHINA.value,
        "billing_type": BillingType.PAY_AS_YOU_GO.value,
        "created_at": now - timedelta(days=1, minutes=n),
        "expires_at": None,
        "first_seen_at": now,
        "last_seen_at": now,
        "changed_at": now,
        "status_changed_at": now,
    }
    values.update(overrides)
    return values


@pytest.fixture
def make_host(db):
    def make(**overrides) -> Host:
        return Host.objects.create(**host_values(**overrides))

    return make


@pytest.fixture
def make_hosts(db):
    def make(count: int, **overrides) -> list[Host]:
        return Host.objects.bulk_create([Host(**host_values(**overrides)) for _ in range(count)])

    return make
