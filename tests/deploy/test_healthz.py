"""/healthz: 200 when the database, the broker, a recent sync and the upstream account are all
fine, 503 naming what is not; open without a login; never a secret in the answer."""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import OperationalError
from django.utils import timezone

from dashboard import health
from dashboard.liveness import WORKER_HEARTBEAT_KEY
from dashboard.models import SyncState
from dashboard.upstream import reset_client
from tests.conftest import free_port

pytestmark = pytest.mark.django_db

SECRET = "sentinel-secret-3f9a1c"


@pytest.fixture
def account(make_simulator, settings):
    """A simulated account the dashboard is configured for."""
    sim = make_simulator(secret=SECRET)
    settings.XDS_BASE_URL = sim.url
    settings.XDS_UUID = sim.uuid
    settings.XDS_SECRET = SECRET
    reset_client()
    yield sim
    reset_client()


@pytest.fixture(autouse=True)
def worker_running(settings, tmp_path):
    """A worker beats, as one does while it consumes; the tests of the worker check stop it.
    No upstream answer is kept in the process from another test."""
    settings.XDS_WORKER_HEARTBEAT_FILE = str(tmp_path / "worker-heartbeat")
    health._upstream_answers.clear()
    worker_beat()


def worker_beat(seconds_ago: float = 1) -> None:
    from dashboard.liveness import beat

    beat("celery@test")
    value = cache.get(WORKER_HEARTBEAT_KEY)
    cache.set(WORKER_HEARTBEAT_KEY, {**value, "at": value["at"] - seconds_ago})


def synced(seconds_ago: float = 1) -> SyncState:
    at = timezone.now() - timedelta(seconds=seconds_ago)
    state, _ = SyncState.objects.update_or_create(
        job=SyncState.Job.HOSTS, defaults={"last_attempt_at": at, "last_success_at": at}
    )
    return state


def get_health(client):
    response = client.get("/healthz")
    assert response["Content-Type"] == "application/json"
    return response, response.json()


def test_healthy_answers_200_with_every_check_ok(client, account):
    synced(seconds_ago=5)

    response, body = get_health(client)

    assert response.status_code == 200
    assert body["status"] == "ok" and body["failing"] == []
    assert set(body["checks"]) == {"database", "broker", "sync", "upstream", "worker"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["sync"]["age_seconds"] == pytest.approx(5, abs=2)


def test_is_open_without_a_login_and_never_cached(client, account):
    synced()

    response = client.get("/healthz")

    assert response.status_code == 200  # not a redirect to the login page
    assert "no-store" in response["Cache-Control"]


def test_only_reads(client, account):
    assert client.post("/healthz").status_code == 405


def test_an_unreachable_broker_fails(client, account, settings):
    synced()
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"

    response, body = get_health(client)

    assert response.status_code == 503
    assert body["status"] == "failing" and body["failing"] == ["broker"]
    assert body["checks"]["broker"] == {
        "ok": False,
        "transport": "redis",
        "error": body["checks"]["broker"]["error"],
    }


def test_a_broker_url_password_is_not_in_the_answer(client, account, settings):
    synced()
    settings.CELERY_BROKER_URL = f"redis://:broker-pass-77@127.0.0.1:{free_port()}/0"

    response = client.get("/healthz")

    assert response.status_code == 503
    assert b"broker-pass-77" not in response.content


def test_an_upstream_that_refuses_the_secret_fails(client, make_simulator, settings):
    sim = make_simulator(secret="the-real-one")
    settings.XDS_BASE_URL, settings.XDS_UUID, settings.XDS_SECRET = sim.url, sim.uuid, SECRET
    reset_client()
    synced()

    response, body = get_health(client)

    assert response.status_code == 503
    assert body["failing"] == ["upstream"]
    upstream = body["checks"]["upstream"]
    assert upstream["ok"] is False and upstream["error"] == "AuthenticationError"
    assert upstream["code"] == 401 and upstream["trace_id"]
    assert SECRET.encode() not in response.content
    reset_client()


def test_an_unreachable_upstream_fails(client, settings):
    settings.XDS_BASE_URL = f"http://127.0.0.1:{free_port()}"
    settings.XDS_CONNECT_TIMEOUT = 0.5
    reset_client()
    synced()

    _, body = get_health(client)

    assert body["failing"] == ["upstream"]
    assert body["checks"]["upstream"]["error"] == "ConnectionFailed"
    reset_client()


def test_the_upstream_answer_is_cached_for_a_minute(client, account):
    synced()

    for _ in range(5):
        _, body = get_health(client)

    assert account.request_count("/v1/auth/getToken") == 1
    assert body["checks"]["upstream"] == {**body["checks"]["upstream"], "ok": True, "cached": True}


def test_another_account_is_checked_afresh(client, account, settings):
    synced()
    get_health(client)
    settings.XDS_SECRET = "another-secret-entirely"
    reset_client()

    _, body = get_health(client)

    assert body["failing"] == ["upstream"] and body["checks"]["upstream"]["cached"] is False


def test_no_worker_seen_fails(client, account):
    synced()
    cache.delete(WORKER_HEARTBEAT_KEY)

    response, body = get_health(client)

    assert response.status_code == 503 and body["failing"] == ["worker"]
    assert body["checks"]["worker"]["error"] == "NoWorkerSeen"


def test_a_worker_not_seen_for_a_while_fails(client, account, settings):
    synced()
    worker_beat(seconds_ago=settings.XDS_HEALTH_WORKER_MAX_AGE + 5)

    response, body = get_health(client)

    assert response.status_code == 503 and body["failing"] == ["worker"]
    assert body["checks"]["worker"]["age_seconds"] > settings.XDS_HEALTH_WORKER_MAX_AGE


def test_probes_sign_in_upstream_once_a_period_even_with_the_cache_down(client, account, settings):
    """Anonymous probes must not make the dashboard sign in at the provider once each when the
    shared cache is down: the process keeps the answer too."""
    from tests.dashboard.workers import RedisServer

    if not RedisServer.available():
        pytest.skip("no redis-server on this machine")
    stopped = RedisServer().start()
    stopped.stop()
    working = settings.CACHES
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": stopped.url,
        }
    }
    synced()
    before = account.request_count("/v1/auth/getToken")

    try:
        bodies = [get_health(client)[1] for _ in range(20)]
    finally:
        settings.CACHES = working

    assert account.request_count("/v1/auth/getToken") - before <= 1
    assert all(body["checks"]["upstream"]["ok"] for body in bodies)
    assert bodies[0]["checks"]["worker"]["error"] == "ConnectionError"  # the cache is down


def test_a_stale_sync_fails(client, account, settings):
    synced(seconds_ago=settings.XDS_HEALTH_SYNC_MAX_AGE + 10)

    response, body = get_health(client)

    assert response.status_code == 503
    assert body["failing"] == ["sync"]
    assert body["checks"]["sync"]["max_age_seconds"] == settings.XDS_HEALTH_SYNC_MAX_AGE


def test_the_sync_may_be_three_intervals_old_by_default(settings):
    assert settings.XDS_HEALTH_SYNC_MAX_AGE == 3 * settings.XDS_SYNC_INTERVAL


def test_no_sync_yet_fails(client, account):
    response, body = get_health(client)

    assert response.status_code == 503
    assert body["failing"] == ["sync"]
    assert body["checks"]["sync"]["last_success_at"] is None


def test_a_failing_sync_names_the_upstream_code(client, account):
    state = synced(seconds_ago=1000)
    state.last_error_at = timezone.now()
    state.error_code = "1037"
    state.error_trace_id = "trace-abc"
    state.save()

    _, body = get_health(client)

    sync = body["checks"]["sync"]
    assert sync["last_error_code"] == "1037" and sync["last_error_trace_id"] == "trace-abc"


def test_a_database_that_fails_fails(client, account, monkeypatch):
    synced()

    class BrokenConnection:
        vendor = "postgresql"

        def cursor(self):
            raise OperationalError("password authentication failed: hunter2")

    monkeypatch.setattr(health, "connection", BrokenConnection())

    response, body = get_health(client)

    assert response.status_code == 503
    assert body["checks"]["database"] == {
        "ok": False,
        "vendor": "postgresql",
        "error": "OperationalError",
    }
    assert b"hunter2" not in response.content


def test_passing_probes_are_logged_at_debug_failing_ones_at_warning(client, monkeypatch, caplog):
    report = {"status": "ok", "failing": []}
    monkeypatch.setattr(health, "health_report", lambda: report)
    caplog.set_level(logging.DEBUG, logger="dashboard.access")

    client.get("/healthz")
    report = {"status": "failing", "failing": ["sync"]}
    client.get("/healthz")

    assert [r.levelname for r in caplog.records if r.name == "dashboard.access"] == [
        "DEBUG",
        "WARNING",
    ]


# --- manage.py healthz ---------------------------------------------------------------------------


def run_command(*args: str, capsys) -> tuple[int, dict]:
    try:
        call_command("healthz", *args)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, json.loads(capsys.readouterr().out)


def test_the_command_runs_the_checks_and_exits_non_zero_when_failing(account, capsys):
    code, report = run_command(capsys=capsys)
    assert code == 1 and report["failing"] == ["sync"]

    synced()
    code, report = run_command(capsys=capsys)
    assert code == 0 and report["status"] == "ok"


def test_the_command_runs_only_the_named_checks(account, capsys):
    code, report = run_command("--check", "database", "--check", "broker", capsys=capsys)

    assert code == 0 and list(report["checks"]) == ["database", "broker"]


def test_beat_is_healthy_while_its_schedule_file_is_fresh(settings, tmp_path, capsys):
    settings.CELERY_BEAT_SCHEDULE_FILENAME = str(tmp_path / "celerybeat-schedule")
    code, report = run_command("--check", "beat", capsys=capsys)
    assert code == 1 and report["checks"]["beat"]["error"] == "NoScheduleFile"

    schedule = tmp_path / "celerybeat-schedule.dat"  # dbm may add a suffix
    schedule.write_bytes(b"x")
    code, _ = run_command("--check", "beat", capsys=capsys)
    assert code == 0

    old = time.time() - settings.XDS_HEALTH_BEAT_MAX_AGE - 5
    os.utime(schedule, (old, old))
    code, report = run_command("--check", "beat", capsys=capsys)
    assert code == 1 and report["checks"]["beat"]["age_seconds"] > settings.XDS_HEALTH_BEAT_MAX_AGE


def test_this_worker_is_healthy_while_its_heartbeat_file_is_fresh(settings, tmp_path, capsys):
    heartbeat = tmp_path / "worker-heartbeat"
    heartbeat.unlink()
    code, report = run_command("--check", "this-worker", capsys=capsys)
    assert code == 1 and report["checks"]["this-worker"]["error"] == "NoHeartbeatFile"

    heartbeat.write_bytes(b"")
    code, _ = run_command("--check", "this-worker", capsys=capsys)
    assert code == 0

    old = time.time() - settings.XDS_HEALTH_WORKER_MAX_AGE - 5
    os.utime(heartbeat, (old, old))
    code, report = run_command("--check", "this-worker", capsys=capsys)
    assert code == 1


@pytest.mark.django_db(transaction=True)
def test_the_command_asks_a_running_server_with_an_allowed_host(live_server, account, capsys):
    code, report = run_command("--http", f"{live_server.url}/healthz", capsys=capsys)
    assert code == 1 and report["failing"] == ["sync"]  # the server answered 503, not 400

    synced()
    code, report = run_command("--http", f"{live_server.url}/healthz", capsys=capsys)
    assert code == 0 and report["status"] == "ok"


def test_the_command_reports_a_server_that_does_not_answer(capsys):
    code, report = run_command("--http", f"http://127.0.0.1:{free_port()}/healthz", capsys=capsys)

    assert code == 1 and report["status"] == "unreachable"
