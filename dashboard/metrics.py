"""/metrics in Prometheus's text format (prometheus_client), closed to the public.

The web server, the Celery worker and beat are separate processes (separate containers in
compose), and any of the web's processes may answer a scrape. So nothing is counted in a
process's memory: every number is read when scraped, from what all processes share.

- The database: operations by kind and state and the durations of finished ones (a histogram
  built from their rows), the syncs' age, duration and outcome (SyncState), alerts sent and
  failed by channel (AlertDelivery), notifications and their e-mails.
- The shared cache (Redis in production): upstream calls and errors by endpoint and code, which
  dashboard.upstream_calls counts there as the client makes them, and the worker's heartbeat
  (dashboard.liveness).
- The broker: how many task messages wait in the dashboard's Celery queue.

This is instead of prometheus_client's multiprocess mode, which needs a directory shared by
every process, wiped at the right moment, and would still miss what is in the database.
Counters built from rows go down only when rows are deleted (Prometheus reads it as a reset).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import time
from collections import defaultdict

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db.models import Count, Sum
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)

from dashboard.client_ip import client_ip
from dashboard.middleware import role_not_required
from dashboard.upstream_calls import counted_calls

logger = logging.getLogger(__name__)

# Seconds; from a quick power action to a create that waits for the provider.
OPERATION_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 1800, 3600)


def _upstream_calls():
    calls = CounterMetricFamily(
        "xds_upstream_calls",
        "HTTP exchanges with the provider's API, by endpoint, envelope code and outcome "
        '("ok" or the error raised)',
        labels=["method", "endpoint", "code", "outcome"],
    )
    seconds = CounterMetricFamily(
        "xds_upstream_call_seconds",
        "Time spent in exchanges with the provider's API",
        labels=["method", "endpoint", "code", "outcome"],
    )
    for labels, (count, total_seconds) in counted_calls().items():
        calls.add_metric(list(labels), count)
        seconds.add_metric(list(labels), total_seconds)
    return [calls, seconds]


# --- Read at scrape time --------------------------------------------------------------------------


def _operations():
    from dashboard.models import Operation

    states = GaugeMetricFamily(
        "xds_operations", "Operations by kind and state", labels=["kind", "state"]
    )
    rows = Operation.objects.values("kind", "state").annotate(n=Count("id")).order_by()
    for row in rows:
        states.add_metric([row["kind"], row["state"]], row["n"])
    durations = HistogramMetricFamily(
        "xds_operation_duration_seconds",
        "Finished operations: from the member's request to the outcome",
        labels=["kind", "state"],
    )
    buckets: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * len(OPERATION_BUCKETS))
    sums: dict[tuple[str, str], float] = defaultdict(float)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    finished = Operation.objects.filter(finished_at__isnull=False).values_list(
        "kind", "state", "created_at", "finished_at"
    )
    for kind, state, created_at, finished_at in finished.iterator():
        seconds = max(0.0, (finished_at - created_at).total_seconds())
        key = (kind, state)
        counts[key] += 1
        sums[key] += seconds
        for i, bound in enumerate(OPERATION_BUCKETS):
            if seconds <= bound:
                buckets[key][i] += 1
    for key in sorted(counts):
        cumulative = [
            (str(bound), n) for bound, n in zip(OPERATION_BUCKETS, buckets[key], strict=True)
        ]
        durations.add_metric(list(key), [*cumulative, ("+Inf", counts[key])], sums[key])
    return [states, durations]


def _syncs(now):
    from dashboard.models import SyncState

    success_age = GaugeMetricFamily(
        "xds_sync_last_success_age_seconds", "Seconds since the job last succeeded", labels=["job"]
    )
    attempt_age = GaugeMetricFamily(
        "xds_sync_last_attempt_age_seconds", "Seconds since the job last ran", labels=["job"]
    )
    duration = GaugeMetricFamily(
        "xds_sync_last_duration_seconds", "How long the job's last run took", labels=["job"]
    )
    ok = GaugeMetricFamily(
        "xds_sync_last_ok", "1 if the job's last run succeeded, else 0", labels=["job"]
    )
    items = GaugeMetricFamily(
        "xds_sync_items", "Hosts (or templates) the job's last success saw", labels=["job"]
    )
    for state in SyncState.objects.all():
        if state.last_success_at:
            success_age.add_metric([state.job], (now - state.last_success_at).total_seconds())
        if state.last_attempt_at:
            attempt_age.add_metric([state.job], (now - state.last_attempt_at).total_seconds())
            ok.add_metric(
                [state.job], 1.0 if state.last_success_at == state.last_attempt_at else 0.0
            )
        if state.last_duration_seconds is not None:
            duration.add_metric([state.job], state.last_duration_seconds)
        if state.item_count is not None:
            items.add_metric([state.job], state.item_count)
    return [success_age, attempt_age, duration, ok, items]


def queue_depth() -> int | None:
    """Task messages waiting in the dashboard's queue (not those a worker holds, such as retries
    waiting for their countdown); None when the broker cannot be read."""
    from dashboard.celery import app

    try:
        with app.connection_for_read(connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
            # A declare (not passive: Redis has no key for an empty queue) answers the count.
            declared = conn.default_channel.queue_declare(
                queue=settings.CELERY_TASK_DEFAULT_QUEUE, passive=False
            )
            return int(declared.message_count)
    except Exception as exc:
        logger.warning("metrics: cannot read the queue's length: %s", exc)
        return None


def _queue_and_workers():
    from dashboard.liveness import WORKER_HEARTBEAT_KEY, beat_schedule_age

    families = []
    depth = queue_depth()
    up = GaugeMetricFamily("xds_broker_up", "1 if the Celery broker answered the scrape")
    up.add_metric([], 0.0 if depth is None else 1.0)
    families.append(up)
    if depth is not None:
        queue = GaugeMetricFamily(
            "xds_queue_depth", "Task messages waiting in the Celery queue", labels=["queue"]
        )
        queue.add_metric([settings.CELERY_TASK_DEFAULT_QUEUE], depth)
        families.append(queue)
    last = cache.get(WORKER_HEARTBEAT_KEY)
    if last:
        heartbeat = GaugeMetricFamily(
            "xds_worker_heartbeat_age_seconds",
            "Seconds since a worker's consumer last beat (dashboard/liveness.py)",
        )
        heartbeat.add_metric([], max(0.0, time.time() - last["at"]))
        families.append(heartbeat)
    beat_age = beat_schedule_age()
    if beat_age is not None:  # only where beat's schedule file is (the beat container, the demo)
        beat = GaugeMetricFamily(
            "xds_beat_schedule_age_seconds", "Seconds since beat last wrote its schedule"
        )
        beat.add_metric([], beat_age)
        families.append(beat)
    return families


def _alerts():
    from dashboard.models import AlertDelivery, Notification

    deliveries = GaugeMetricFamily(
        "xds_alert_deliveries",
        "Alerts (and test messages) to chat channels, by channel, kind and state "
        "(pending, sent, failed: given up)",
        labels=["channel", "channel_kind", "state"],
    )
    failures = CounterMetricFamily(
        "xds_alert_delivery_failures",
        "Attempts a chat channel did not take (refused, rate limited, unreachable)",
        labels=["channel", "channel_kind"],
    )
    rows = (
        AlertDelivery.objects.values("channel__name", "channel__kind", "state")
        .annotate(n=Count("id"), failed=Sum("failures"))
        .order_by()
    )
    failed_by_channel: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        channel = (row["channel__name"], row["channel__kind"])
        deliveries.add_metric([*channel, row["state"]], row["n"])
        failed_by_channel[channel] += row["failed"] or 0
    for channel, failed in sorted(failed_by_channel.items()):
        failures.add_metric(list(channel), failed)
    notifications = CounterMetricFamily(
        "xds_notifications", "Notifications made, by kind", labels=["kind"]
    )
    emails = GaugeMetricFamily(
        "xds_notification_emails",
        "Notifications by how their e-mail went (ok, failed, none: nobody to mail)",
        labels=["result"],
    )
    for row in Notification.objects.values("kind").annotate(n=Count("id")).order_by():
        notifications.add_metric([row["kind"]], row["n"])
    results = Notification.objects.values("email_result").annotate(n=Count("id")).order_by()
    totals: dict[str, int] = defaultdict(int)
    for row in results:
        result = row["email_result"]
        totals["ok" if result == "ok" else "none" if not result else "failed"] += row["n"]
    for result, n in sorted(totals.items()):
        emails.add_metric([result], n)
    return [deliveries, failures, notifications, emails]


class DashboardCollector:
    def collect(self):
        now = timezone.now()
        yield from _operations()
        yield from _syncs(now)
        yield from _alerts()
        try:
            yield from _upstream_calls()
        except Exception as exc:
            logger.warning("metrics: cannot read the upstream call counts: %s", exc)
        try:
            yield from _queue_and_workers()
        except Exception as exc:
            logger.warning("metrics: cannot read the queue or the worker heartbeat: %s", exc)


_registry = CollectorRegistry(auto_describe=False)
_registry.register(DashboardCollector())


# --- The page -------------------------------------------------------------------------------------


def _allowed(request: HttpRequest) -> bool | None:
    """True: a scraper we know; False: not; None: /metrics is not configured at all."""
    token, networks = settings.XDS_METRICS_TOKEN, settings.XDS_METRICS_ALLOWED_NETWORKS
    if not token and not networks:
        return None
    if token:
        header = request.headers.get("Authorization", "")
        scheme, _space, presented = header.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            presented.strip().encode(), token.encode()
        ):
            return True
    if networks:
        address = client_ip(request)
        if address is not None:
            ip = ipaddress.ip_address(address)
            if any(ip.version == network.version and ip in network for network in networks):
                return True
    return False


@login_not_required
@role_not_required
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    allowed = _allowed(request)
    if allowed is None:
        raise Http404("metrics are off")
    if not allowed:
        return HttpResponseForbidden(
            b"/metrics needs XDS_METRICS_TOKEN as a bearer token, or an address in "
            b"XDS_METRICS_ALLOWED_NETWORKS\n",
            content_type="text/plain; charset=utf-8",
        )
    return HttpResponse(generate_latest(_registry), content_type=CONTENT_TYPE_LATEST)
