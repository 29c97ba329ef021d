"""docker-compose.yml, the Dockerfile and their files, checked without Docker: the compose file
parses, every command a service or health check runs exists in the project with the options it
is given, every file they reference exists, and the Redis instances are configured for their
jobs (the broker keeps every task, the cache may forget)."""

from __future__ import annotations

import fnmatch
import importlib
import json
import re
import shlex
from functools import cache
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from django.core.management import get_commands

from tests.deploy.conftest import PYTHON, ROOT, run_in_project

COMPOSE = ROOT / "docker-compose.yml"
APP_SERVICES = ("migrate", "web", "worker", "beat")


@cache
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def service(name: str) -> dict:
    return compose()["services"][name]


def interpolate(text: str) -> str:
    """Compose's ${VAR:-default} / ${VAR:?error} with nothing set, and $$ for a literal $."""
    text = re.sub(r"\$\{(\w+):-([^}]*)\}", r"\2", text)
    text = re.sub(r"\$\{(\w+)(:?\?[^}]*)?\}", r"\1-value", text)
    return text.replace("$$", "$")


def argv(command) -> list[str]:
    if isinstance(command, str):
        return shlex.split(interpolate(command))
    return [interpolate(str(part)) for part in command]


@cache
def help_text(*args: str) -> str:
    result = run_in_project([PYTHON, *args, "--help"], check=True)
    return result.stdout


def options(words: list[str]) -> list[str]:
    return [w.split("=", 1)[0] for w in words if w.startswith("--")]


def assert_runs_in_the_project(words: list[str]) -> None:
    """The command exists here and accepts every option it is given."""
    program, *rest = words
    if program == "python" and rest[:1] == ["manage.py"]:
        name = rest[1]
        assert name in get_commands(), f"manage.py has no command {name!r}"
        text = help_text("manage.py", name)
    elif program == "python" and rest[:1] == ["-c"]:
        compile(rest[1], "<healthcheck>", "exec")
        return
    elif program == "celery":
        app = next(w.split("=", 1)[1] for w in rest if w.startswith("--app="))
        module = importlib.import_module(f"{app}.celery")
        assert module.app.main == app
        subcommand = next(w for w in rest if not w.startswith("-"))
        assert subcommand in ("worker", "beat", "inspect")
        args = ["-m", "celery", f"--app={app}", subcommand]
        if subcommand == "inspect":
            args.append(rest[rest.index("inspect") + 1])
        text = help_text(*args)
        rest = rest[rest.index(subcommand) :]  # --app belongs to celery itself
    elif program == "gunicorn":
        config = rest[rest.index("--config") + 1]
        assert (ROOT / config).is_file()
        target = next(w for w in rest if ":" in w and not w.startswith("-"))
        module, attribute = target.split(":")
        assert callable(getattr(importlib.import_module(module), attribute))
        text = help_text("-m", "gunicorn")
    else:
        pytest.fail(f"unexpected program {program!r} in {words}")
    for option in options(rest):
        assert option in text, f"{' '.join(words)}: {option} is not an option"


# --- The compose file --------------------------------------------------------------------------


def test_the_compose_file_has_the_stack_and_an_optional_simulator():
    assert set(compose()["services"]) == {
        *APP_SERVICES,
        "postgres",
        "broker",
        "cache",
        "simulator",
    }
    assert service("simulator")["profiles"] == ["simulator"]
    assert all("profiles" not in s for n, s in compose()["services"].items() if n != "simulator")


@pytest.mark.parametrize("name", [*APP_SERVICES, "simulator"])
def test_each_command_exists_in_the_project(name):
    assert_runs_in_the_project(argv(service(name)["command"]))


def test_the_image_runs_gunicorn_by_default():
    assert_runs_in_the_project(json.loads(dockerfile_instructions("CMD")[-1]))


@pytest.mark.parametrize("name", ["web", "worker", "beat", "simulator"])
def test_each_app_health_check_exists_in_the_project(name):
    kind, *command = service(name)["healthcheck"]["test"]
    words = argv(command[0]) if kind == "CMD-SHELL" else argv(command)
    assert_runs_in_the_project(words)


def test_every_service_but_the_one_shot_migrate_has_a_health_check():
    for name, spec in compose()["services"].items():
        if name == "migrate":
            assert spec["restart"] == "no" and "healthcheck" not in spec
        else:
            assert spec["healthcheck"]["test"], name


def test_the_web_health_check_asks_healthz_on_gunicorns_port():
    web = service("web")
    url = web["healthcheck"]["test"][-1]
    bind = re.search(r'"GUNICORN_BIND", "([^"]+)"', (ROOT / "deploy/gunicorn.conf.py").read_text())
    port = bind[1].rsplit(":", 1)[1]
    assert url == f"http://127.0.0.1:{port}/healthz"
    assert argv(web["ports"])[0].endswith(f":{port}")


def test_a_stuck_worker_or_beat_is_restarted():
    """Docker does not restart an unhealthy container: the worker and beat exit by themselves
    when stuck (dashboard/liveness.py), so they must be restarted whenever they exit, and their
    health checks must read the same liveness the watchdogs act on."""
    from django.conf import settings

    for name, check in (("worker", "this-worker"), ("beat", "beat")):
        spec = service(name)
        assert spec["restart"] in ("always", "unless-stopped", "on-failure"), name
        assert argv(spec["healthcheck"]["test"][1:])[-2:] == ["--check", check], name
    # The worker's watchdog ends a stuck shutdown before docker's stop grace period runs out.
    grace = int(service("worker")["stop_grace_period"].rstrip("s"))
    assert grace >= settings.XDS_WORKER_WATCHDOG_SECONDS
    # A worker that loses the broker exits instead of reconnecting a pool in place.
    assert settings.CELERY_BROKER_CONNECTION_RETRY is False
    assert settings.CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP is True


def test_migrations_run_once_before_the_app_starts():
    for name in ("web", "worker", "beat"):
        depends = service(name)["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        for backing in ("postgres", "broker", "cache"):
            assert depends[backing]["condition"] == "service_healthy"
    assert service("migrate")["command"] == ["python", "manage.py", "migrate", "--noinput"]


def test_the_app_takes_settings_from_an_env_file_and_the_services_from_compose():
    for name in APP_SERVICES:
        spec = service(name)
        assert spec["env_file"] == ".env"
        environment = {k: interpolate(str(v)) for k, v in spec["environment"].items()}
        assert urlparse(environment["DATABASE_URL"]).hostname == "postgres"
        # Two Redis instances: the broker never shares memory (or eviction) with the cache.
        assert urlparse(environment["CELERY_BROKER_URL"]).hostname == "broker"
        assert urlparse(environment["CACHE_URL"]).hostname == "cache"
        # No secret key of its own: the settings refuse to start without the one in .env.
        assert "DJANGO_SECRET_KEY" not in environment and "DJANGO_DEBUG" not in environment


def test_every_variable_the_compose_file_reads_is_in_the_env_example():
    example = (ROOT / "deploy" / "compose.env.example").read_text()
    documented = set(re.findall(r"^(\w+)=", example, re.MULTILINE))
    used = set(re.findall(r"\$\{(\w+)", COMPOSE.read_text()))
    assert used <= documented
    assert {"DJANGO_SECRET_KEY", "POSTGRES_PASSWORD", "XDS_UUID", "XDS_SECRET"} <= documented


def test_every_file_a_service_mounts_exists_and_named_volumes_are_declared():
    declared = set(compose()["volumes"])
    mounted = set()
    for spec in compose()["services"].values():
        for volume in spec.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (ROOT / source).is_file(), source
            else:
                mounted.add(source)
    assert mounted == declared == {"postgres-data", "broker-data", "beat-schedule"}


def test_beat_keeps_its_schedule_where_the_settings_put_it():
    var_dir = dockerfile_env()["XDS_VAR_DIR"]
    assert f"beat-schedule:{var_dir}" in service("beat")["volumes"]


def test_the_broker_keeps_queued_tasks_and_never_evicts_them():
    broker = service("broker")
    conf = redis_conf(broker)
    assert conf["appendonly"] == "yes"
    assert conf["maxmemory-policy"] == "noeviction"
    assert conf["dir"] == "/data"
    assert "broker-data:/data" in broker["volumes"]


def test_the_cache_is_memory_only_and_evicts_the_least_recently_used():
    conf = redis_conf(service("cache"))
    assert conf["maxmemory-policy"] == "allkeys-lru"
    assert conf["appendonly"] == "no"
    assert "maxmemory" in conf


def redis_conf(spec: dict) -> dict[str, str]:
    config_path = spec["command"][-1]
    source = next(v.split(":")[0] for v in spec["volumes"] if v.split(":")[1] == config_path)
    settings = {}
    for line in (ROOT / source).read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.strip().partition(" ")
            settings[key] = value
    return settings


# --- The Dockerfile ------------------------------------------------------------------------------


@cache
def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), " ".join(rest.split())))
    return instructions


def dockerfile_instructions(keyword: str) -> list[str]:
    return [rest for k, rest in dockerfile() if k == keyword]


def dockerfile_env() -> dict[str, str]:
    env = {}
    for rest in dockerfile_instructions("ENV"):
        for pair in shlex.split(rest):
            key, _, value = pair.partition("=")
            env[key] = value
    return env


def dockerfile_copies() -> list[str]:
    """The project paths the runtime image copies (not those from another stage)."""
    sources = []
    for rest in dockerfile_instructions("COPY"):
        words = rest.split()
        if not any(w.startswith("--from") for w in words):
            sources += [w for w in words[:-1] if not w.startswith("--")]
    return sources


def test_the_image_is_multi_stage_and_runs_as_an_unprivileged_user():
    stages = dockerfile_instructions("FROM")
    assert len(stages) >= 2 and all(s.startswith("python:3.11") for s in stages)
    user = dockerfile_instructions("USER")[-1]
    assert user.split(":")[0] not in ("root", "0")
    # USER comes after everything that needs root.
    keywords = [k for k, _ in dockerfile()]
    assert keywords.index("USER") > max(i for i, k in enumerate(keywords) if k == "RUN")


def test_the_image_installs_only_the_locked_hashes():
    installs = [r for r in dockerfile_instructions("RUN") if "pip install" in r]
    assert installs and all("--require-hashes" in r for r in installs)
    assert any("requirements/prod.lock" in r for r in dockerfile_instructions("COPY"))
    lock = (ROOT / "requirements" / "prod.lock").read_text()
    for package in ("gunicorn", "whitenoise", "django", "celery", "psycopg"):
        assert re.search(rf"^{package}==\S+ \\\n\s+--hash=sha256:", lock, re.MULTILINE), package


def test_the_image_collects_static_files_for_whitenoise():
    assert any("collectstatic" in r for r in dockerfile_instructions("RUN"))
    env = dockerfile_env()
    assert env["XDS_SERVE_STATIC"] == "true" and env["XDS_STATIC_ROOT"].startswith("/app/")


def test_everything_the_image_copies_exists_and_is_not_ignored():
    ignored = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith(("#", "!"))
    ]
    for source in dockerfile_copies():
        path = source.rstrip("/")
        assert (ROOT / path).exists(), source
        assert not any(fnmatch.fnmatch(path, pattern) for pattern in ignored), source
    # What the commands above need is in the image.
    copied = {Path(s.rstrip("/")).parts[0] for s in dockerfile_copies()}
    assert {"manage.py", "dashboard", "vmclient", "templates", "static", "deploy"} <= copied


def test_local_state_and_secrets_stay_out_of_the_build_context():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", "var", ".env"} <= ignored


def test_every_setting_read_from_the_environment_is_documented_in_the_env_example():
    settings_text = (ROOT / "dashboard" / "settings.py").read_text()
    ours = set(re.findall(r'env_\w+\(\s*"(\w+)"', settings_text))
    knobs = re.findall(
        r'(?:env_\w+|_bind)\(\s*"(\w+)"', (ROOT / "deploy/gunicorn.conf.py").read_text()
    )
    demo = {"WEB_PORT", "SIM_PORT", "DEMO_HOSTS"}
    documented = set(re.findall(r"^(\w+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert ours | set(knobs) | demo <= documented
