"""Fixtures for the deployment tests: free ports, an environment for child processes that
cannot touch the developer's var/, and an isolated cache."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable

# What a child process must not inherit from the test run: the services the suite was told to
# use, and anything that would point it somewhere else than the test says.
_SERVICE_VARIABLES = (
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "CACHE_URL",
    "XDS_BASE_URL",
    "XDS_UUID",
    "XDS_SECRET",
    "XDS_VAR_DIR",
    "XDS_LOG_FORMAT",
    "XDS_LOG_STREAM",
    "DJANGO_DEBUG",
    "DJANGO_SETTINGS_MODULE",
    "WEB_PORT",
    "SIM_PORT",
)


def child_env(var_dir: Path, **overrides: str) -> dict[str, str]:
    """The environment of a child process: embedded defaults under `var_dir`, then overrides."""
    env = {k: v for k, v in os.environ.items() if k not in _SERVICE_VARIABLES}
    env["XDS_VAR_DIR"] = str(var_dir)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(overrides)
    return env


def run_in_project(
    argv: list[str], env: dict[str, str] | None = None, *, timeout: float = 60, check: bool = False
) -> subprocess.CompletedProcess:
    """`argv` run to its end in the project's folder with `env` (this process's environment if
    None), its output captured as text."""
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=check
    )


def require_or_skip(what: str) -> None:
    """CI (XDS_REQUIRE_SERVICES) fails a test whose service is missing; a laptop skips it."""
    if os.environ.get("XDS_REQUIRE_SERVICES"):
        pytest.fail(f"XDS_REQUIRE_SERVICES is set but {what}")
    pytest.skip(what)
