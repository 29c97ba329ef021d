"""`/healthz`: is this deployment working? For probes (compose, a load balancer, uptime checks).

Four checks, each answering `{"ok": bool, ...}`:

- database: a `SELECT 1` on the default database.
- broker: a connection to Celery's broker (for the embedded filesystem broker: its queue
  folder exists and is writable).
- sync: the last successful host sync is younger than XDS_HEALTH_SYNC_MAX_AGE (three sync
  intervals by default), which needs the beat, a worker and the upstream all working.
- upstream: the configured account can authenticate. The answer is cached for
  XDS_HEALTH_UPSTREAM_CACHE_SECONDS in the shared cache, so probes never hammer the provider.

Healthy (HTTP 200, `"status": "ok"`) means every check is ok; otherwise HTTP 503, `"status":
"failing"` and `"failing"` lists the checks that are not. The answer never carries an exception's
message (a URL in it could hold a password): only error class names and the provider's code and
trace id. The details go to the log, which is redacted.

`manage.py healthz` runs the same checks (and `beat`, which looks at the beat's schedule file)
in-process, or asks a URL, for container health checks.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from dashboard.liveness import WORKER_HEARTBEAT_KEY, beat_schedule_age, worker_heartbeat_file

logger = logging.getLogger(__name__)

# A probe must answer within its own timeout: a broker that does not accept a connection by then
# counts as down.
BROKER_TIMEOUT_SECONDS = 3.0

Check = dict[str, Any]


def _elapsed_ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)


def check_database() -> Check:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        logger.warning("health: the database is unreachable: %s", exc)
        return {"ok": False, "vendor": connection.vendor, "error": type(exc).__name__}
    return {"ok": True, "vendor": connection.vendor, "ms": _elapsed_ms(started)}


def check_broker() -> Check:
    from dashboard.celery import app

    url = settings.CELERY_BROKER_URL
    transport = urlparse(url).scheme or "?"
    started = time.monotonic()
    if transport == "filesystem":
        folder = app.conf.broker_transport_options.get("data_folder_in", "")
        ok = bool(folder) and os.path.isdir(folder) and os.access(folder, os.W_OK)
        if not ok:
            logger.warning("health: the broker's queue folder %s is not writable", folder)
            return {"ok": False, "transport": transport, "error": "QueueFolderNotWritable"}
        return {"ok": True, "transport": transport, "ms": _elapsed_ms(started)}
    try:
        with app.connection_for_write(url, connect_timeout=BROKER_TIMEOUT_SECONDS) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_SECONDS)
            # A TCP connection is not enough: a Redis that answers but refuses commands (a wrong
            # password, loading its append-only file) cannot queue tasks either.
            client = getattr(conn.default_channel, "client", None)
            if client is not None and hasattr(client, "ping"):
                client.ping()
    except Exception as exc:
        logger.warning("health: the broker is unreachable: %s", exc)
        return {"ok": False, "transport": transport, "error": type(exc).__name__}
    return {"ok": True, "transport": transport, "ms": _elapsed_ms(started)}


def check_sync() -> Check:
    from dashboard.models import SyncState

    max_age = settings.XDS_HEALTH_SYNC_MAX_AGE
    try:
        state = SyncState.objects.filter(job=SyncState.Job.HOSTS).first()
    except Exception as exc:
        logger.warning("health: cannot read the sync state: %s", exc)
        return {"ok": False, "max_age_seconds": max_age, "error": type(exc).__name__}
    last = state.last_success_at if state else None
    result: Check = {
        "ok": False,
        "last_success_at": last.isoformat() if last else None,
        "age_seconds": None,
        "max_age_seconds": max_age,
    }
    if last is not None:
        age = (timezone.now() - last).total_seconds()
        result["age_seconds"] = round(age)
        result["ok"] = age <= max_age
    if state is not None and state.is_failing:
        result["last_error_code"] = state.error_code
        result["last_error_trace_id"] = state.error_trace_id
    return result


def _upstream_cache_key() -> str:
    # One cached answer per account: another base URL, uuid or secret is checked afresh.
    secret = hashlib.sha256(str(settings.XDS_SECRET).encode()).hexdigest()
    account = f"{settings.XDS_BASE_URL}|{settings.XDS_UUID}|{secret}"
    return "xds:health:upstream:" + hashlib.sha256(account.encode()).hexdigest()[:24]


def _authenticate() -> Check:
    from dashboard.upstream import get_client
    from dashboard.wording import error_words
    from vmclient.errors import XdsError

    checked_at = timezone.now().isoformat()
    try:
        get_client().authenticate()
    except XdsError as exc:
        logger.warning("health: the upstream account cannot authenticate: %s", exc)
        return {
            "ok": False,
            "checked_at": checked_at,
            "error": type(exc).__name__,
            # Our own text for the code (it says what to check), never the raw answer.
            "message": error_words(exc),
            "code": exc.code,
            "trace_id": exc.trace_id,
        }
    except Exception as exc:
        logger.warning("health: the upstream check failed: %s", exc)
        return {"ok": False, "checked_at": checked_at, "error": type(exc).__name__}
    return {"ok": True, "checked_at": checked_at}


# The last upstream answer of this process, by account key: (monotonic time, result). The
# shared cache spares the provider across processes; this copy keeps the promise when that cache
# is down, so no anonymous probe can make a process sign in more than once per period.
_upstream_answers: dict[str, tuple[float, Check]] = {}
_upstream_lock = threading.Lock()


def check_upstream() -> Check:
    key = _upstream_cache_key()
    period = settings.XDS_HEALTH_UPSTREAM_CACHE_SECONDS
    # One probe at a time asks: the others wait for its answer instead of asking too.
    with _upstream_lock:
        kept = _upstream_answers.get(key)
        if kept is not None and time.monotonic() - kept[0] < period:
            return {**kept[1], "cached": True}
        try:
            cached = cache.get(key)
        except Exception as exc:  # a broken cache: this process's own copy is all there is
            logger.warning("health: cannot read the cached upstream check: %s", exc)
            cached = None
        if cached is not None:
            _upstream_answers[key] = (time.monotonic(), cached)
            return {**cached, "cached": True}
        result = _authenticate()
        _upstream_answers[key] = (time.monotonic(), result)
    try:
        cache.set(key, result, period)
    except Exception as exc:
        logger.warning("health: cannot cache the upstream check: %s", exc)
    return {**result, "cached": False}


def check_beat() -> Check:
    """Beat rewrites its schedule file after every task it sends (CELERY_BEAT_SYNC_EVERY = 1),
    so an old file means a stuck or dead beat. Only meaningful where the file is: the beat's
    own container."""
    max_age = settings.XDS_HEALTH_BEAT_MAX_AGE
    age = beat_schedule_age()
    if age is None:
        return {"ok": False, "max_age_seconds": max_age, "error": "NoScheduleFile"}
    return {"ok": age <= max_age, "age_seconds": round(age), "max_age_seconds": max_age}


def check_worker() -> Check:
    """Some worker is connected to the broker and consuming: each one's consumer writes a
    heartbeat to the shared cache while it runs (dashboard/liveness.py)."""
    max_age = settings.XDS_HEALTH_WORKER_MAX_AGE
    try:
        last = cache.get(WORKER_HEARTBEAT_KEY)
    except Exception as exc:
        logger.warning("health: cannot read the worker heartbeat: %s", exc)
        return {"ok": False, "max_age_seconds": max_age, "error": type(exc).__name__}
    if not last:
        return {"ok": False, "max_age_seconds": max_age, "error": "NoWorkerSeen"}
    age = max(0.0, time.time() - last["at"])
    return {
        "ok": age <= max_age,
        "age_seconds": round(age),
        "max_age_seconds": max_age,
        "hostname": last.get("hostname", ""),
    }


def check_this_worker() -> Check:
    """The worker of this container beats: its heartbeat file is fresh. Only meaningful where
    the file is: the worker's own container."""
    max_age = settings.XDS_HEALTH_WORKER_MAX_AGE
    try:
        age = time.time() - worker_heartbeat_file().stat().st_mtime
    except OSError:
        return {"ok": False, "max_age_seconds": max_age, "error": "NoHeartbeatFile"}
    return {"ok": age <= max_age, "age_seconds": round(age), "max_age_seconds": max_age}


# What /healthz checks, in order; `beat` and `this-worker` are for `manage.py healthz --check`
# in their own containers only.
CHECKS: dict[str, Callable[[], Check]] = {
    "database": check_database,
    "broker": check_broker,
    "sync": check_sync,
    "upstream": check_upstream,
    "worker": check_worker,
}
ALL_CHECKS: dict[str, Callable[[], Check]] = {
    **CHECKS,
    "beat": check_beat,
    "this-worker": check_this_worker,
}


def health_report(names: Iterable[str] | None = None) -> dict[str, Any]:
    """The report for the named checks (those of /healthz by default)."""
    names = list(CHECKS if names is None else names)
    checks = {name: ALL_CHECKS[name]() for name in names}
    failing = [name for name, result in checks.items() if not result["ok"]]
    return {"status": "failing" if failing else "ok", "failing": failing, "checks": checks}


@login_not_required
@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    report = health_report()
    return JsonResponse(report, status=503 if report["failing"] else 200)
