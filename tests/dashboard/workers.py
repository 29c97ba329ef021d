"""Real Celery workers for the operations' tests: no eager mode, the real broker (Redis in CI,
the filesystem transport locally), a queue of the test's own.

- `own_queue(broker_url=None)`: points this process's Celery app (what the views publish with,
  and in-process workers) at a fresh queue, on the configured broker or another one; purges
  and restores on exit.
- `in_process_worker()`: a worker consuming that queue in a thread of the test process (it
  shares the test's database and cache).
- `WorkerProcess`: `celery worker` in a child process, which a test can kill with SIGKILL.
- `RedisServer`: a redis-server of the test's own, on a free port, to stop and start.
- `wait_for(predicate)`: polls until true or fails the test.
- `final(operation)`: waits until a worker has brought the operation to a final state.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connection

from dashboard.celery import app
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def wait_for(
    predicate: Callable[[], object],
    *,
    timeout: float = 20,
    what: str = "it",
    worker: WorkerProcess | None = None,
) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            log = f"\nthe worker's output:\n{worker.output()[-5000:]}" if worker else ""
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}{log}")
        time.sleep(0.05)


def final(operation, *, timeout: float = 30, worker: WorkerProcess | None = None):
    """The operation, refreshed, once it is final; fails the test after `timeout` seconds."""

    def done():
        operation.refresh_from_db()
        return operation.is_final

    wait_for(done, timeout=timeout, what=f"operation {operation.pk} to finish", worker=worker)
    return operation


def _reset_publishing() -> None:
    """Forget the app's connection pool and routing, so the next publish follows the conf.
    (The pools themselves are kombu's, shared per URL: closing one would break the others.)"""
    app._pool = None
    app.__dict__.pop("amqp", None)


@contextmanager
def own_queue(*, broker_url: str | None = None) -> Iterator[str]:
    queue = f"xds-test-{uuid.uuid4().hex[:10]}"
    saved = {
        "broker_url": app.conf.broker_url,
        "task_default_queue": app.conf.task_default_queue,
        "broker_transport_options": dict(app.conf.broker_transport_options or {}),
    }
    saved_env = os.environ.get("CELERY_BROKER_URL")
    app.conf.task_default_queue = queue
    if broker_url is not None:
        # Celery reads CELERY_BROKER_URL from the environment before its conf (CI sets it).
        os.environ["CELERY_BROKER_URL"] = broker_url
        app.conf.broker_url = broker_url
        app.conf.broker_transport_options = {
            "visibility_timeout": settings.CELERY_BROKER_VISIBILITY_TIMEOUT
        }
    if app.conf.broker_url.startswith("filesystem://"):
        # The filesystem transport looks for messages once a second by default.
        app.conf.broker_transport_options = {
            **app.conf.broker_transport_options,
            "polling_interval": 0.05,
        }
    _reset_publishing()
    try:
        yield queue
    finally:
        with suppress(Exception), app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1)
            conn.default_channel.queue_purge(queue)
        for name, value in saved.items():
            app.conf[name] = value
        if saved_env is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = saved_env
        _reset_publishing()


@contextmanager
def in_process_worker(concurrency: int = 2):
    """A worker in threads of this process, on the queue `own_queue` chose. It does not sync at
    start as the real one does: the tests' upstream is a simulator they set up themselves."""
    from celery.signals import worker_ready

    from dashboard.tasks import sync_when_the_worker_starts

    worker_ready.disconnect(sync_when_the_worker_starts)
    try:
        with start_worker(
            app,
            pool="threads",
            concurrency=concurrency,
            perform_ping_check=False,
            shutdown_timeout=20,
            loglevel="WARNING",
        ) as worker:
            yield worker
    finally:
        worker_ready.connect(sync_when_the_worker_starts)


def _database_url() -> str:
    """The test database as a URL another process can open."""
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{name}"
    url = os.environ["DATABASE_URL"]
    return url.rsplit("/", 1)[0] + "/" + name


class WorkerProcess:
    """`celery worker` in a child process, on the test's queue and database."""

    def __init__(
        self, *, queue: str, sim, pool: str = "solo", concurrency: int = 1, **env: str
    ) -> None:
        self.pool, self.concurrency = pool, concurrency
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "dashboard.settings",
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": app.conf.broker_url,
            "XDS_TASK_QUEUE": queue,
            "XDS_BASE_URL": sim.url,
            "XDS_UUID": sim.uuid,
            "XDS_SECRET": sim.secret,
            "XDS_LOG_FORMAT": "plain",
            "CELERY_SKIP_CHECKS": "1",
            **env,
        }
        self.queue = queue
        self.process: subprocess.Popen | None = None
        self.log = ROOT / "var" / f"worker-{queue}.log"

    def start(self) -> WorkerProcess:
        celery = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(  # noqa: S603 (our own celery, our arguments)
                [
                    celery,
                    "-A",
                    "dashboard",
                    "worker",
                    "--pool",
                    self.pool,
                    "--concurrency",
                    str(self.concurrency),
                    "--queues",
                    self.queue,
                    "--without-heartbeat",
                    "--without-mingle",
                    "--without-gossip",
                    "--loglevel",
                    "INFO",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def kill(self) -> None:
        """SIGKILL: the worker gets no chance to acknowledge, requeue or clean up."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def close(self) -> None:
        self.kill()
        with suppress(FileNotFoundError):
            self.log.unlink()


class RedisServer:
    """A redis-server of the test's own, that the test stops and starts. Without persistence,
    unless `persistent`: then every write goes to an append-only file in a folder of its own,
    as the production broker keeps its queue across a restart."""

    binary = shutil.which("redis-server") or "/usr/bin/redis-server"

    def __init__(self, *, persistent: bool = False) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.folder = Path(tempfile.mkdtemp(prefix="xds-redis-")) if persistent else None

    @classmethod
    def available(cls) -> bool:
        return Path(cls.binary).exists()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(  # noqa: S603
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                *(
                    ["--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.folder)]
                    if self.folder
                    else ["--appendonly", "no"]
                ),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._accepts, timeout=10, what=f"redis-server on port {self.port}")
        return self

    def _accepts(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def close(self) -> None:
        self.stop()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
