"""Liveness of the Celery worker and beat: what tells a supervisor (compose) that one is stuck,
and what makes a stuck one exit so that it is restarted.

- The worker's consumer beats every XDS_WORKER_HEARTBEAT_SECONDS from its own timer, and only
  while it is connected (`Heartbeat`, a consumer bootstep). A beat records the time in the
  shared cache (`/healthz`'s "worker" check: is any worker consuming?) and in a file of the
  worker's own (`manage.py healthz --check worker`, the worker container's health check).
- A watchdog thread in the worker's main process exits it (code 1, its pool processes killed)
  once no beat has come for XDS_WORKER_WATCHDOG_SECONDS: a consumer that stopped consuming, or a
  shutdown that does not finish (Celery's own can block for good on a pool left in a bad
  state, ignoring SIGTERM), ends instead of hanging, and `restart: unless-stopped` starts a new
  one. Beat gets the same watchdog on its schedule file.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from glob import escape, glob
from pathlib import Path

from celery import bootsteps
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

# The last beat of any worker: {"hostname": ..., "at": epoch seconds}.
WORKER_HEARTBEAT_KEY = "xds:worker:heartbeat"

_last_beat: float | None = None  # monotonic; None until the consumer first connected


def worker_heartbeat_file() -> Path:
    return Path(settings.XDS_WORKER_HEARTBEAT_FILE)


def beat(hostname: str) -> None:
    """One heartbeat of a connected consumer. Never raises: a cache that is down must not stop
    the consumer (the file and the watchdog still see the beat)."""
    global _last_beat
    _last_beat = time.monotonic()
    try:
        worker_heartbeat_file().touch()
    except OSError as exc:
        logger.warning("worker heartbeat: cannot touch %s: %s", worker_heartbeat_file(), exc)
    try:
        cache.set(
            WORKER_HEARTBEAT_KEY,
            {"hostname": hostname, "at": time.time()},
            settings.XDS_HEALTH_WORKER_MAX_AGE * 2,
        )
    except Exception as exc:
        logger.warning("worker heartbeat: cannot write to the cache: %s", exc)


class Heartbeat(bootsteps.StartStopStep):
    """Beats from the consumer's timer while the consumer runs: after the broker connection and
    the task consumer are up, cancelled when the consumer stops or restarts."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent, **kwargs) -> None:
        super().__init__(parent, **kwargs)
        self.tref = None

    def start(self, parent) -> None:
        beat(parent.hostname)
        self.tref = parent.timer.call_repeatedly(
            settings.XDS_WORKER_HEARTBEAT_SECONDS, beat, (parent.hostname,)
        )

    def stop(self, parent) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None

    shutdown = stop


def _exit_now(what: str, age: float) -> None:
    logger.critical(
        "%s has shown no sign of life for %.0f s: exiting so that it is restarted", what, age
    )
    # Kill every child of ours (the pool), then leave without running Celery's shutdown: it is
    # what may be stuck. Their unacknowledged tasks are redelivered; every task may run twice.
    for pid in _children():
        with suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    logging.shutdown()
    os._exit(1)


def _children() -> list[int]:
    """Our child processes (the prefork pool), from /proc; empty where there is none."""
    me = os.getpid()
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == me:
            pids.append(int(stat.parent.name))
    return pids


def start_watchdog(what: str, age: Callable[[], float | None], max_age: float) -> None:
    """A daemon thread that exits the process once `age()` (seconds since its last sign of
    life, None while there is none yet to judge) is above `max_age`."""

    def watch() -> None:
        while True:
            time.sleep(max(0.5, min(5.0, max_age / 10)))
            seconds = age()
            if seconds is not None and seconds > max_age:
                _exit_now(what, seconds)

    threading.Thread(target=watch, name=f"xds-watchdog-{what}", daemon=True).start()


def start_worker_watchdog() -> None:
    start_watchdog(
        "the worker",
        lambda: None if _last_beat is None else time.monotonic() - _last_beat,
        settings.XDS_WORKER_WATCHDOG_SECONDS,
    )


def beat_schedule_age() -> float | None:
    """Seconds since beat last wrote its schedule file; None when there is none."""
    base = settings.CELERY_BEAT_SCHEDULE_FILENAME
    # dbm may add a suffix (.db, .dat) to the name it was given.
    files = [Path(p) for p in glob(escape(str(base)) + "*")]
    if not files:
        return None
    return time.time() - max(f.stat().st_mtime for f in files)


def start_beat_watchdog() -> None:
    started = time.time()

    def age() -> float | None:
        # Before beat's first write, count from its start.
        seconds = beat_schedule_age()
        return time.time() - started if seconds is None else min(seconds, time.time() - started)

    start_watchdog("beat", age, settings.XDS_HEALTH_BEAT_MAX_AGE)
