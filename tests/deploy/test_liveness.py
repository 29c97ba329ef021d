"""The worker's and beat's liveness (dashboard/liveness.py): a real worker beats while its
consumer runs, and the watchdog ends a process whose beat stopped, with its children, non-zero,
however stuck the process is (here: a main thread that never returns, as Celery's shutdown can
block on a broken pool)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.deploy.conftest import PYTHON, ROOT, child_env, run_in_project

STUCK = """
import subprocess, sys, time
import django
django.setup()
from dashboard import liveness
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print(child.pid, flush=True)
liveness.beat("celery@stuck")
liveness.start_worker_watchdog()
time.sleep(60)  # stuck: no beat any more, and nothing here ever returns
"""


def test_the_watchdog_ends_a_worker_whose_consumer_stopped_beating(tmp_path):
    env = child_env(
        tmp_path,
        DJANGO_SETTINGS_MODULE="dashboard.settings",
        XDS_WORKER_WATCHDOG_SECONDS="2",
        XDS_WORKER_HEARTBEAT_SECONDS="1",
        XDS_HEALTH_WORKER_MAX_AGE="2",
    )
    started = time.monotonic()
    stuck = run_in_project([PYTHON, "-c", STUCK], env, timeout=30)

    assert stuck.returncode == 1, stuck.stderr
    assert time.monotonic() - started < 15
    assert "no sign of life" in stuck.stdout + stuck.stderr
    child = int(stuck.stdout.split()[0])
    time.sleep(0.2)
    assert not _alive(child)  # the pool goes with it


def _alive(pid: int) -> bool:
    """Running: its /proc entry exists and it is not a zombie waiting for a reaper."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def test_a_real_worker_beats_while_it_consumes(tmp_path):
    env = child_env(
        tmp_path,
        DJANGO_SETTINGS_MODULE="dashboard.settings",
        XDS_WORKER_HEARTBEAT_SECONDS="0.5",
        XDS_TASK_QUEUE="xds-liveness-test",
    )
    heartbeat = tmp_path / "worker-heartbeat"
    worker = subprocess.Popen(  # noqa: S603 - our own interpreter and code
        [
            *(PYTHON, "-m", "celery", "-A", "dashboard", "worker", "--pool", "solo"),
            *("--without-mingle", "--without-gossip", "--without-heartbeat"),
            *("-Q", "xds-liveness-test"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not heartbeat.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert heartbeat.exists()
        first = heartbeat.stat().st_mtime
        time.sleep(1.5)
        assert heartbeat.stat().st_mtime > first  # it goes on beating
        health = subprocess.run(  # noqa: S603
            [PYTHON, "manage.py", "healthz", "--check", "this-worker"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            timeout=60,
        )
        assert health.returncode == 0, health.stdout
    finally:
        worker.kill()
        worker.wait()
