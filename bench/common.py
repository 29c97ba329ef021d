"""What every benchmark shares: a throwaway Django environment and honest statistics.

Each benchmark runs in its own temporary XDS_VAR_DIR (SQLite unless DATABASE_URL says
otherwise), so it never touches a developer's data.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def options(doc: str, **defaults) -> argparse.Namespace:
    """The command line of a benchmark described by `doc`: `--name` for each of `defaults`,
    read as its default's type (a list default takes one or more values of its items' type)."""
    parser = argparse.ArgumentParser(description=doc)
    for name, default in defaults.items():
        if isinstance(default, list):
            parser.add_argument(f"--{name}", type=type(default[0]), nargs="+", default=default)
        else:
            parser.add_argument(f"--{name}", type=type(default), default=default)
    return parser.parse_args()


def setup_django() -> Path:
    """Point Django at a fresh var dir, migrate, and return the dir."""
    sys.path.insert(0, str(ROOT))
    var_dir = Path(tempfile.mkdtemp(prefix="xds-bench-"))
    os.environ.setdefault("XDS_VAR_DIR", str(var_dir))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return var_dir


def timed(
    fn: Callable[[], object], *, runs: int, warmup: int = 3, cpu: list[float] | None = None
) -> list[float]:
    """Wall times in milliseconds of `runs` calls, after `warmup` unmeasured ones. With `cpu`,
    also this thread's CPU milliseconds of each call, appended to it: on a loaded machine the
    wall time mostly measures the other processes, the CPU time much less so."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.thread_time()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
        if cpu is not None:
            cpu.append((time.thread_time() - start_cpu) * 1000)
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median": statistics.median(ordered), "p95": p95, "n": len(ordered)}


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    db = os.environ.get("DATABASE_URL", "sqlite").split(":", 1)[0]
    rev = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return (
        f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, db {db}, "
        f"commit {rev or '?'}"
    )


def report(title: str, rows: list[tuple[str, dict[str, float] | str]]) -> None:
    print(f"\n## {title}\n{machine()}\n")
    for label, value in rows:
        if isinstance(value, dict):
            print(
                f"- {label}: median {value['median']:.1f} ms, p95 {value['p95']:.1f} ms "
                f"(n={value['n']})"
            )
        else:
            print(f"- {label}: {value}")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def session_cookie(username: str = "bench") -> str:
    """A signed-in session for `username` (created as a superuser), as a Cookie header value."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    user_model = get_user_model()
    user = user_model.objects.filter(username=username).first()
    if user is None:
        user = user_model.objects.create_superuser(username, password="bench-password-1")
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def start_gunicorn(port: int, workers: int, env: dict[str, str]) -> subprocess.Popen:
    """The production web server on loopback, with the same config file the image uses."""
    import urllib.request

    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py",
         "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "dashboard.wsgi:application"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_LOG_LEVEL": "WARNING", **env},
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=1)
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn did not start")
