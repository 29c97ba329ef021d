"""/metrics: closed to the public, and its numbers move when things happen."""

from __future__ import annotations

import ipaddress
import threading
import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families

from dashboard import liveness, services, tasks
from dashboard.models import AlertChannel, AlertDelivery, Notification
from tests.dashboard.chat_receivers import Platform
from vmclient.simulator import Fault
from vmclient.types import HostStatus

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-0123456789abcdef"


@pytest.fixture
def scrape(client, settings):
    settings.XDS_METRICS_TOKEN = TOKEN

    def scrape() -> dict[tuple[str, tuple], float]:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith("text/plain; version=")
        samples = {}
        for family in text_string_to_metric_families(response.content.decode()):
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return samples

    return scrape


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_are_closed_to_the_public(client, settings):
    settings.XDS_METRICS_TOKEN = ""
    settings.XDS_METRICS_ALLOWED_NETWORKS = []
    assert client.get("/metrics").status_code == 404  # not configured: not there

    settings.XDS_METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong-token-000000").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200

    settings.XDS_METRICS_TOKEN = ""
    settings.XDS_METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("10.0.0.0/8")]
    assert client.get("/metrics").status_code == 403  # the test client is 127.0.0.1
    # A forged X-Forwarded-For from an untrusted address does not get in.
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="10.1.2.3").status_code == 403
    settings.XDS_METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("127.0.0.0/8")]
    assert client.get("/metrics").status_code == 200


def test_a_signed_in_member_without_the_token_is_refused_too(client, settings, make_member):
    settings.XDS_METRICS_TOKEN = TOKEN
    client.force_login(make_member("ada", "Admin"))
    assert client.get("/metrics").status_code == 403


def test_operations_and_provider_calls_move(scrape, mirrored, ask, run, sim):
    host = mirrored(status=HostStatus.OFF)
    before = scrape()
    operation = run(ask("power_on", host), between=lambda: sim.clock.advance(31))
    assert operation.state == "succeeded"
    after = scrape()

    assert value(after, "xds_operations", kind="power_on", state="succeeded") == (
        value(before, "xds_operations", kind="power_on", state="succeeded") + 1
    )
    count = "xds_operation_duration_seconds_count"
    assert value(after, count, kind="power_on", state="succeeded") == 1
    assert value(after, "xds_operation_duration_seconds_bucket", kind="power_on",
                 state="succeeded", le="+Inf") == 1  # fmt: skip
    operate = {"method": "GET", "endpoint": "/v1/pve/open/operate/{id}"}
    calls = [
        labels
        for (name, labels) in after
        if name == "xds_upstream_calls_total" and dict(labels)["endpoint"] == operate["endpoint"]
    ]
    assert calls, sorted(name for name, _labels in after)
    assert value(after, "xds_upstream_calls_total", **operate, code="0", outcome="ok") >= 1

    # An error of the provider's is counted by its endpoint and code.
    body = '{"code": 6003, "msg": "余额不足", "data": null}'
    sim.add_fault(Fault(kind="raw", path="/v1/pve/open/operate", body=body, times=None))
    failed = run(
        ask("power_on", mirrored(status=HostStatus.OFF)), between=lambda: sim.clock.advance(31)
    )
    assert failed.state == "failed"
    later = scrape()
    errors = [
        (dict(labels), count)
        for (name, labels), count in later.items()
        if name == "xds_upstream_calls_total" and dict(labels).get("code") == "6003"
    ]
    assert errors and errors[0][0]["endpoint"] == operate["endpoint"]
    assert errors[0][0]["outcome"] != "ok"
    assert value(later, "xds_operations", kind="power_on", state="failed") == 1


def test_sync_age_duration_and_outcome(scrape, sim):
    sim.fleet.add_host()
    assert services.hosts_sync().ok
    samples = scrape()
    assert value(samples, "xds_sync_last_ok", job="hosts") == 1
    assert value(samples, "xds_sync_items", job="hosts") == 1
    assert 0 <= value(samples, "xds_sync_last_success_age_seconds", job="hosts") < 60
    assert ("xds_sync_last_duration_seconds", (("job", "hosts"),)) in samples

    sim.add_fault(Fault(kind="raw", path="/v1/pve/open/mypage", body="<html>", times=None))
    assert not services.hosts_sync().ok
    assert value(scrape(), "xds_sync_last_ok", job="hosts") == 0


def test_queue_depth_and_worker_heartbeat(scrape, settings):
    from dashboard.celery import app

    queue = f"xds-metrics-test-{uuid.uuid4().hex[:8]}"
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    assert value(scrape(), "xds_queue_depth", queue=queue) == 0
    assert value(scrape(), "xds_broker_up") == 1
    try:
        for _ in range(3):
            tasks.sweep_alerts.apply_async(queue=queue)
        assert value(scrape(), "xds_queue_depth", queue=queue) == 3
    finally:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge(queue)

    assert ("xds_worker_heartbeat_age_seconds", ()) not in scrape()
    liveness.beat("worker@test")
    assert 0 <= value(scrape(), "xds_worker_heartbeat_age_seconds") < 5


def test_alerts_sent_and_failed_by_channel(scrape, django_capture_on_commit_callbacks):
    server = Platform("dingtalk", "SECright")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        good = AlertChannel.objects.create(
            name="good", kind="dingtalk", url=server.url, secret="SECright", alert_kinds=[]
        )
        bad = AlertChannel.objects.create(
            name="bad", kind="dingtalk", url=server.url, secret="SECwrong", alert_kinds=[]
        )
        with django_capture_on_commit_callbacks(execute=False):  # no retry is queued
            services.alert_test(good, None)
            services.alert_test(bad, None)
    finally:
        server.shutdown()
        server.server_close()
    samples = scrape()
    sent = {"channel": "good", "channel_kind": "dingtalk", "state": "sent"}
    assert value(samples, "xds_alert_deliveries", **sent) == 1
    waiting = {"channel": "bad", "channel_kind": "dingtalk", "state": "pending"}
    assert value(samples, "xds_alert_deliveries", **waiting) == 1
    assert (
        value(samples, "xds_alert_delivery_failures_total", channel="bad", channel_kind="dingtalk")
        == 1
    )
    assert AlertDelivery.objects.get(channel=bad).last_result.startswith("errcode 310000")


def test_the_sample_grafana_dashboard_reads_only_metrics_that_exist(
    scrape, sim, mirrored, ask, run, django_capture_on_commit_callbacks
):
    """Every series deploy/grafana/xds-dashboard.json queries is one /metrics serves, once
    something happened (a sync, an operation, an alert, a worker's heartbeat)."""
    import json
    import re
    from pathlib import Path

    dashboard = json.loads(
        (Path(__file__).resolve().parents[2] / "deploy/grafana/xds-dashboard.json").read_text()
    )
    queried = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\bxds_[a-z_]+", target["expr"])
    }
    assert services.hosts_sync().ok
    run(ask("power_on", mirrored(status=HostStatus.OFF)), between=lambda: sim.clock.advance(31))
    liveness.beat("worker@test")
    server = Platform("webhook")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        channel = AlertChannel.objects.create(
            name="hook", kind="webhook", url=server.url, alert_kinds=[]
        )
        AlertDelivery.objects.create(channel=channel, state="failed", failures=2)
        with django_capture_on_commit_callbacks(execute=True):
            services.notification_deliver(
                Notification.objects.create(key="k", kind="expired", subject="s", body="b").pk
            )
    finally:
        server.shutdown()
        server.server_close()
    served = {name for name, _labels in scrape()}
    assert queried - served == set()


def test_upstream_calls_counted_by_another_process_are_scraped(scrape, redis_server):
    """The worker counts its calls in the shared cache; the web process that answers the scrape
    reads them (here: a second Python process, as a worker is)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from django.test import override_settings

    code = (
        "import django; django.setup();"
        "from dashboard.upstream_calls import record_exchange;"
        "from vmclient.client import CallRecord;"
        "[record_exchange(CallRecord('DELETE', '/v1/pve/open/delete/{id}', 1, 200, 1005,"
        " 'UpstreamSystemError', 0.25)) for _ in range(3)]"
    )
    environment = {**os.environ, "CACHE_URL": redis_server.url}
    result = subprocess.run(  # noqa: S603 - a fixed command
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_server.url,
            "KEY_PREFIX": "xds",  # as settings.py has it
        }
    }
    with override_settings(CACHES=caches):
        samples = scrape()
    labels = {
        "method": "DELETE",
        "endpoint": "/v1/pve/open/delete/{id}",
        "code": "1005",
        "outcome": "UpstreamSystemError",
    }
    assert value(samples, "xds_upstream_calls_total", **labels) == 3
    assert value(samples, "xds_upstream_call_seconds_total", **labels) == 0.75


def test_with_the_cache_down_calls_still_work_and_metrics_still_answer(scrape, sim, redis_server):
    from dashboard.upstream import get_client
    from tests.dashboard.cache_down import cache_unreachable

    sim.fleet.add_host()
    assert services.hosts_sync().ok
    with cache_unreachable(redis_server):
        assert get_client().list_hosts_page().hosts  # the counting failed, not the call
        samples = scrape()
    assert value(samples, "xds_sync_items", job="hosts") == 1  # from the database
    assert ("xds_worker_heartbeat_age_seconds", ()) not in samples
