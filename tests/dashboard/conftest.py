"""Fixtures for the dashboard's tests: an isolated cache, a member who is logged in, a simulator
the client is pointed at, a quick way to put hosts in the mirror, operations asked for and run,
the simulator's disks and images synced, and a real worker for a module."""

from __future__ import annotations

import contextlib
import itertools
import os
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.models import Disk, Host
from dashboard.upstream import reset_client
from vmclient.types import Area, BillingType, HostStatus

_ids = itertools.count(1)

# The create form for the simulator's pay-as-you-go package (¥4.50 / h), before the review.
PAYG = {"package": "Pi8tcH1NSd", "image": "8991", "billing": "payg"}
CREATE_KEY = "5b1c9f0e-8d7a-4c3b-9e2f-1a0b9c8d7e6f"


def payg_confirmed(key: str = CREATE_KEY) -> dict:
    """The PAYG create form as a member confirms it after the review, at ¥4.50 / h."""
    return {**PAYG, "idempotency_key": key, "confirmed_price": "4.50", "confirm": "1"}


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
def member(make_member):
    """A member who may buy hosts and power any host (Creator and Operator); deleting a host
    needs them to own it."""
    return make_member("member", "Creator", "Operator")


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


@pytest.fixture
def ada(make_member):
    """A member holding the Admin role (neither staff nor superuser)."""
    return make_member("ada", "Admin")


@pytest.fixture
def cleo(make_member):
    """A member holding the Creator role."""
    return make_member("cleo", "Creator")


@pytest.fixture
def deliver_notifications_at_once(monkeypatch):
    """Notifications are delivered in the test instead of by a worker."""
    from dashboard import services, tasks

    monkeypatch.setattr(tasks.deliver_notification, "delay", services.notification_deliver)


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


# --- Operations ---------------------------------------------------------------------------------


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "real_worker: runs of operations go through the real broker to a real Celery worker",
    )


@pytest.fixture(autouse=True)
def dispatched(request, monkeypatch):
    """Runs of operations the code under test dispatched, as (operation id, dispatch id,
    countdown), instead of publishing them. Tests marked `real_worker` publish for real."""
    if request.node.get_closest_marker("real_worker"):
        return None
    from dashboard import tasks

    calls: list[tuple[int, str, float | None]] = []

    def record(args=(), kwargs=None, countdown=None, **options):
        calls.append((args[0], args[1], countdown))

    monkeypatch.setattr(tasks.run_operation, "apply_async", record)
    return calls


@pytest.fixture
def catalog_cached(sim):
    """The simulator's catalog in the cache, as the worker's refresh leaves it."""
    from dashboard import services

    assert services.catalog_refresh() is not None
    return sim


@pytest.fixture
def ask(member, django_capture_on_commit_callbacks):
    """Ask for an operation as a member would (the dispatch runs once the transaction commits)."""
    from dashboard import services

    def ask(kind, host=None, *, user=None, key=None, **params):
        with django_capture_on_commit_callbacks(execute=True):
            return services.operation_request(
                user=user or member,
                kind=kind,
                host=host,
                params=params or None,
                idempotency_key=key or uuid.uuid4(),
            )

    return ask


@pytest.fixture
def run(dispatched):
    """Play the dispatched runs of an operation in this process, as a worker would, until it is
    final; `between()` is called after each run (to move the simulator's clock on)."""
    from dashboard import services

    def run(operation, *, client=None, between=None, max_runs=60):
        for _ in range(max_runs):
            operation.refresh_from_db()
            if operation.is_final:
                return operation
            services.operation_run(
                operation_id=operation.pk, dispatch_id=operation.dispatch_id, client=client
            )
            if between is not None:
                between()
        operation.refresh_from_db()
        return operation

    return run


@pytest.fixture
def redeliver():
    """redeliver(operation, killed_in="iter_disks"): the operation's message delivered five times
    to a worker killed (SystemExit) whenever its run calls that method of the client, so the
    message is never acknowledged; what each delivery came to, or "killed". The message keeps
    the dispatch id the database holds."""
    from types import SimpleNamespace

    from dashboard import services

    def killed(*args, **kwargs):
        raise SystemExit("killed")

    def redeliver(operation, *, killed_in: str, times: int = 5) -> list:
        dying = SimpleNamespace(**{killed_in: killed})
        operation.refresh_from_db()
        outcomes = []
        for _ in range(times):
            try:
                outcomes.append(
                    services.operation_run(
                        operation_id=operation.pk, dispatch_id=operation.dispatch_id, client=dying
                    )
                )
            except SystemExit:
                outcomes.append("killed")
        operation.refresh_from_db()
        return outcomes

    return redeliver


@pytest.fixture
def mirrored(sim):
    """Put a host in the simulator and mirror it, as a sync would."""
    from dashboard import services

    def mirrored(*, owner=None, **overrides) -> Host:
        upstream = sim.fleet.add_host(**overrides)
        services.host_mirror_save(host=_client_host(upstream.id))
        if owner is not None:  # as if `owner`'s create had bought it
            Host.objects.filter(id=upstream.id).update(owner=owner, owner_name=owner.username)
        return Host.objects.get(id=upstream.id)

    return mirrored


def _client_host(host_id):
    from dashboard.upstream import get_client

    return get_client().get_host(host_id)


# --- Disks and personal images ------------------------------------------------------------------


@pytest.fixture
def storage(sim):
    """The simulator's disks and personal images."""
    return sim.fleet.storage


@pytest.fixture
def synced(sim):
    """synced(): a sync of hosts, disks and images, which must succeed; returns the mirrored
    disks by id."""
    from dashboard import services

    def synced() -> dict:
        assert services.hosts_sync().ok
        return {disk.id: disk for disk in Disk.objects.all()}

    return synced


@pytest.fixture
def aged(sim):
    """The creation time of a host made a day ago (one the mirror did not see being born)."""
    return sim.clock.now_ms() - 86_400_000


# --- Real workers -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def worker_queue():
    """A queue of the module's own and an in-process worker consuming it, for all the module's
    tests (starting and stopping a worker costs a second or more)."""
    from tests.dashboard.workers import in_process_worker, own_queue

    with own_queue() as name, in_process_worker():
        yield name


def pytest_sessionfinish(session):
    """SQLite leaves its write-ahead log beside the test database Django deleted."""
    from django.conf import settings

    name = settings.DATABASES["default"].get("TEST", {}).get("NAME")
    if name and str(name).startswith(str(settings.VAR_DIR)):
        for suffix in ("-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(f"{name}{suffix}")


def _own_redis(**options):
    from tests.dashboard.workers import RedisServer

    if not RedisServer.available():
        if os.environ.get("XDS_REQUIRE_SERVICES"):
            pytest.fail(f"{RedisServer.binary} is missing: this test cannot run")
        pytest.skip("no redis-server on this machine")
    server = RedisServer(**options).start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def redis_server():
    """A redis-server of the test's own, that it may stop and start."""
    yield from _own_redis()


@pytest.fixture
def persistent_redis_server():
    """A redis-server of the test's own that keeps what it holds across a stop and a start, as
    the production broker does (an append-only file)."""
    yield from _own_redis(persistent=True)
