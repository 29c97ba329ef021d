"""The same settings run on every combination a deployment may choose: SQLite or PostgreSQL, the
embedded filesystem broker or Redis. Each combination starts a fresh process (settings are read
once per process), which checks the project, reaches its database, broker and cache, and reports.

PostgreSQL and Redis come from DATABASE_URL / CELERY_BROKER_URL / CACHE_URL when they name
servers (as in CI), else from the usual local addresses. Unreachable, they fail the test when
XDS_REQUIRE_SERVICES is set and skip it otherwise."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap

import pytest

from tests.conftest import reachable
from tests.deploy.conftest import PYTHON, child_env, require_or_skip, run_in_project


def _server_url(name: str, fallback: str, schemes: tuple[str, ...]) -> str:
    value = os.environ.get(name, "")
    return value if value.startswith(schemes) else fallback


POSTGRES = _server_url(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test", ("postgres", "postgresql")
)
REDIS_BROKER = _server_url("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0", ("redis",))
REDIS_CACHE = _server_url("CACHE_URL", "redis://127.0.0.1:6379/1", ("redis",))

_SCRIPT = textwrap.dedent(
    """
    import json, uuid
    import django
    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from pathlib import Path
    from dashboard.health import check_broker, check_database

    call_command("check", databases=["default"], fail_level="WARNING", verbosity=0)
    database, broker = check_database(), check_broker()
    key = "xds:settings-test:" + uuid.uuid4().hex
    cache.set(key, "here", 30)
    cached = cache.get(key)
    cache.delete(key)
    print(json.dumps({
        "vendor": connection.vendor,
        "database_ok": database["ok"],
        "broker": broker["transport"],
        "broker_ok": broker["ok"],
        "cache": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1],
        "cache_ok": cached == "here",
        # beat can write its schedule file (nothing else may have created var/)
        "beat_dir_ok": Path(settings.CELERY_BEAT_SCHEDULE_FILENAME).parent.is_dir(),
    }))
    """
)


def run_settings(tmp_path, **env: str) -> dict:
    result = run_in_project(
        [PYTHON, "-c", _SCRIPT],
        child_env(tmp_path / "var", DJANGO_SETTINGS_MODULE="dashboard.settings", **env),
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
@pytest.mark.parametrize("broker", ["filesystem", "redis"])
def test_the_settings_run_on_every_database_and_broker(tmp_path, database, broker):
    env: dict[str, str] = {}
    if database == "postgresql":
        if not reachable(POSTGRES, 5432):
            require_or_skip(f"PostgreSQL is unreachable at {POSTGRES.rsplit('@', 1)[-1]}")
        env["DATABASE_URL"] = POSTGRES
    if broker == "redis":
        if not reachable(REDIS_BROKER, 6379):
            require_or_skip(f"Redis is unreachable at {REDIS_BROKER.rsplit('@', 1)[-1]}")
        env["CELERY_BROKER_URL"] = REDIS_BROKER
        env["CACHE_URL"] = REDIS_CACHE

    report = run_settings(tmp_path, **env)

    assert report == {
        "vendor": database,
        "database_ok": True,
        "broker": broker,
        "broker_ok": True,
        "cache": "RedisCache" if broker == "redis" else "FileBasedCache",
        "cache_ok": True,
        "beat_dir_ok": True,
    }


def test_the_embedded_defaults_stay_under_the_var_directory(tmp_path):
    run_settings(tmp_path)

    assert {p.name for p in (tmp_path / "var").iterdir()} >= {"broker", "cache", "db.sqlite3"}
    assert sorted(p.name for p in (tmp_path / "var" / "broker").iterdir()) == [
        "control",
        "processed",
        "queue",
    ]


def _manage(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = child_env(tmp_path / "var", **env)
    for name in ("DJANGO_SECRET_KEY", "DJANGO_SECRET_KEY_FILE"):
        environment.pop(name, None)  # the one bin/test gives the run
    return run_in_project([PYTHON, "manage.py", *args], environment)


def test_without_a_secret_key_nothing_but_development_starts(tmp_path):
    done = _manage(tmp_path, "check")

    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert "DJANGO_SECRET_KEY is not set" in line
    assert 'python -c "import secrets; print(secrets.token_urlsafe(50))"' in line


def test_development_runs_on_a_known_key_that_the_deployment_check_flags(tmp_path):
    done = _manage(tmp_path, "check", "--deploy", DJANGO_DEBUG="true")

    assert "security.W009" in done.stdout + done.stderr  # the key is known to everyone
