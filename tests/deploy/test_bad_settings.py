"""A bad setting stops the process at start with one line that names the variable, the value
(never a secret's) and what is allowed; no traceback, nothing accepted that fails later.

Every variable of .env.example with a bad value is tried in-process, by executing the settings
module again with that environment (fast); a representative few are then tried through each
entry point as a real process: manage.py, the WSGI module, gunicorn with our config, the Celery
worker and beat, the demo, and the management commands' arguments.
"""

from __future__ import annotations

import re
import runpy
import socket

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.deploy.conftest import PYTHON, ROOT, child_env, run_in_project

SETTINGS = ROOT / "dashboard" / "settings.py"
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
A_FILE = "<a file>"  # replaced by the path of a file, where a directory is expected
A_DIRECTORY = "<a directory>"  # replaced by the path of a directory, where a file is expected
A_CERTIFICATE = "<a certificate>"  # replaced by the path of a file holding a PEM certificate
PASSWORD = "pa55-w0rd-xyz"
SECRET = "the-account-s3cret-value"


def bad(env: dict[str, str], *shown: str, hidden: str | None = None, id: str | None = None):
    """A bad environment; the message must contain each of `shown` and never `hidden`."""
    name = next(iter(env))
    return pytest.param(env, shown or (name,), hidden, id=id or f"{name}={env[name]!s:.30}")


# The variable named first is the one the message must name (with its value, unless hidden).
BAD_SETTINGS = [
    # --- Django ---
    bad({"DJANGO_SECRET_KEY": "short"}, "DJANGO_SECRET_KEY", "50", hidden="short"),
    bad({"DJANGO_SECRET_KEY": "x" * 60}, "DJANGO_SECRET_KEY", hidden="x" * 60, id="key-one-char"),
    bad({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG", "maybe"),
    bad({"DJANGO_ALLOWED_HOSTS": ""}, "DJANGO_ALLOWED_HOSTS"),
    bad({"DJANGO_ALLOWED_HOSTS": "https://dash.example.com"}, "DJANGO_ALLOWED_HOSTS", "https://"),
    bad({"DJANGO_TIME_ZONE": "Mars/Olympus"}, "DJANGO_TIME_ZONE", "Mars/Olympus"),
    bad({"DJANGO_LOG_LEVEL": "LOUD"}, "DJANGO_LOG_LEVEL", "LOUD", "WARNING"),
    bad({"DJANGO_HTTPS": "sometimes"}, "DJANGO_HTTPS", "sometimes"),
    bad({"DJANGO_CSRF_TRUSTED_ORIGINS": "dash.example.com"}, "DJANGO_CSRF_TRUSTED_ORIGINS"),
    bad({"XDS_VAR_DIR": A_FILE}, "XDS_VAR_DIR"),
    # --- Database ---
    bad({"DATABASE_URL": "garbage"}, "DATABASE_URL", "garbage", "postgres://"),
    bad(
        {"DATABASE_URL": f"mysql://xds:{PASSWORD}@db/xds"},
        "DATABASE_URL",
        "mysql",
        hidden=PASSWORD,
        id="DATABASE_URL-scheme-with-password",
    ),
    bad({"DATABASE_CONN_MAX_AGE": "-1"}, "DATABASE_CONN_MAX_AGE", "-1"),
    bad({"DATABASE_CONNECT_TIMEOUT": "0"}, "DATABASE_CONNECT_TIMEOUT", "0"),
    # --- Celery ---
    bad(
        {"CELERY_BROKER_URL": f"amqp://xds:{PASSWORD}@rabbit//"},
        "CELERY_BROKER_URL",
        "redis://",
        hidden=PASSWORD,
    ),
    bad({"CELERY_BROKER_URL": "redis//broker:6379/0"}, "CELERY_BROKER_URL", "redis//broker"),
    bad({"XDS_TASK_TIME_LIMIT": "10"}, "XDS_TASK_TIME_LIMIT", "10"),
    bad({"XDS_BROKER_VISIBILITY_TIMEOUT": "60"}, "XDS_BROKER_VISIBILITY_TIMEOUT"),
    bad({"XDS_WORKER_CONCURRENCY": "0"}, "XDS_WORKER_CONCURRENCY", "0"),
    # --- The upstream ---
    bad({"XDS_BASE_URL": "client.xuandashi.com"}, "XDS_BASE_URL", "client.xuandashi.com"),
    bad({"XDS_UUID": ""}, "XDS_UUID"),
    bad({"XDS_SECRET": ""}, "XDS_SECRET"),
    bad({"XDS_SECRET_FILE": "/nonexistent/secret"}, "XDS_SECRET_FILE", "/nonexistent/secret"),
    bad(
        {"XDS_SECRET_FILE": A_FILE, "XDS_SECRET": SECRET},
        "XDS_SECRET",
        "XDS_SECRET_FILE",
        hidden=SECRET,
        id="XDS_SECRET-and-its-file",
    ),
    bad({"XDS_TIMEOUT": "0"}, "XDS_TIMEOUT", "0"),
    bad({"XDS_TIMEOUT": "-3"}, "XDS_TIMEOUT", "-3"),
    bad({"XDS_TIMEOUT": "nan"}, "XDS_TIMEOUT", "nan"),
    bad({"XDS_TIMEOUT": "inf"}, "XDS_TIMEOUT", "inf"),
    bad({"XDS_TIMEOUT": "ten"}, "XDS_TIMEOUT", "ten"),
    bad({"XDS_CONNECT_TIMEOUT": "nan"}, "XDS_CONNECT_TIMEOUT", "nan"),
    # --- The fleet mirror and live pages ---
    bad({"CACHE_URL": f"memcached://xds:{PASSWORD}@cache:11211"}, "CACHE_URL", hidden=PASSWORD),
    bad({"XDS_SYNC_INTERVAL": "0"}, "XDS_SYNC_INTERVAL", "0"),
    bad({"XDS_SYNC_CONCURRENCY": "0"}, "XDS_SYNC_CONCURRENCY", "0"),
    bad({"XDS_CATALOG_CACHE_SECONDS": "1.5"}, "XDS_CATALOG_CACHE_SECONDS", "1.5"),
    bad({"XDS_POLL_SECONDS": "0"}, "XDS_POLL_SECONDS", "0"),
    bad({"XDS_POLL_HIDDEN_SECONDS": "often"}, "XDS_POLL_HIDDEN_SECONDS", "often"),
    bad({"XDS_POLL_SETTLED_SECONDS": "0"}, "XDS_POLL_SETTLED_SECONDS", "0"),
    bad({"XDS_EXPIRY_WARNING_DAYS": "-1"}, "XDS_EXPIRY_WARNING_DAYS", "-1"),
    # --- Logs ---
    bad({"XDS_LOG_FORMAT": "xml"}, "XDS_LOG_FORMAT", "xml"),
    bad({"XDS_LOG_STREAM": "stdlog"}, "XDS_LOG_STREAM", "stdlog"),
    # --- Health checks ---
    bad({"XDS_HEALTH_SYNC_MAX_AGE": "0"}, "XDS_HEALTH_SYNC_MAX_AGE", "0"),
    bad({"XDS_HEALTH_UPSTREAM_CACHE_SECONDS": "-5"}, "XDS_HEALTH_UPSTREAM_CACHE_SECONDS", "-5"),
    bad({"XDS_HEALTH_BEAT_MAX_AGE": "soon"}, "XDS_HEALTH_BEAT_MAX_AGE", "soon"),
    bad({"XDS_HEALTH_WORKER_MAX_AGE": "0"}, "XDS_HEALTH_WORKER_MAX_AGE", "0"),
    # --- Worker liveness and locks ---
    bad({"XDS_WORKER_HEARTBEAT_SECONDS": "nan"}, "XDS_WORKER_HEARTBEAT_SECONDS", "nan"),
    bad({"XDS_WORKER_HEARTBEAT_SECONDS": "40"}, "XDS_WORKER_HEARTBEAT_SECONDS"),
    bad({"XDS_WORKER_WATCHDOG_SECONDS": "-1"}, "XDS_WORKER_WATCHDOG_SECONDS", "-1"),
    bad({"XDS_WORKER_HEARTBEAT_FILE": A_DIRECTORY}, "XDS_WORKER_HEARTBEAT_FILE"),
    bad({"XDS_LOCK_SECONDS": "1"}, "XDS_LOCK_SECONDS", "1"),
    bad({"XDS_PASSWORD_TIMEOUT": "0"}, "XDS_PASSWORD_TIMEOUT", "0"),
    bad({"XDS_PASSWORD_TIMEOUT": "45"}, "XDS_PASSWORD_TIMEOUT", "45"),
    # --- Static files ---
    bad({"XDS_SERVE_STATIC": "2"}, "XDS_SERVE_STATIC", "2"),
    bad({"XDS_STATIC_ROOT": A_FILE}, "XDS_STATIC_ROOT"),
    # --- Actions ---
    bad({"XDS_TASK_QUEUE": ""}, "XDS_TASK_QUEUE"),
    bad({"XDS_TASK_QUEUE": "my queue"}, "XDS_TASK_QUEUE", "my queue"),
    bad({"XDS_ACTION_POLL_SECONDS": "nan"}, "XDS_ACTION_POLL_SECONDS", "nan"),
    bad({"XDS_ACTION_TIMEOUT": "0"}, "XDS_ACTION_TIMEOUT", "0"),
    bad({"XDS_ACTION_TASK_TIME_LIMIT": "0"}, "XDS_ACTION_TASK_TIME_LIMIT", "0"),
    bad({"XDS_ACTION_REQUEUE_SECONDS": "0"}, "XDS_ACTION_REQUEUE_SECONDS", "0"),
    bad({"XDS_ACTION_STALE_SECONDS": "x"}, "XDS_ACTION_STALE_SECONDS", "x"),
    bad({"XDS_ACTION_RECONCILE_INTERVAL": "0"}, "XDS_ACTION_RECONCILE_INTERVAL", "0"),
    bad({"XDS_ACTION_MAX_REDELIVERIES": "0"}, "XDS_ACTION_MAX_REDELIVERIES", "0"),
    bad({"XDS_CREATE_RETRY_SECONDS": "inf"}, "XDS_CREATE_RETRY_SECONDS", "inf"),
    bad({"XDS_CREATE_RETRY_MAX_SECONDS": "5"}, "XDS_CREATE_RETRY_MAX_SECONDS", "5"),
    bad({"XDS_CREATE_DEADLINE": "0"}, "XDS_CREATE_DEADLINE", "0"),
    bad({"XDS_DISK_AREA_QUOTA_GB": "10"}, "XDS_DISK_AREA_QUOTA_GB", "10"),
    bad({"XDS_CREATE_FIND_TIMEOUT": "0"}, "XDS_CREATE_FIND_TIMEOUT", "0"),
    bad({"XDS_CREATE_CLOCK_SKEW_SECONDS": "-1"}, "XDS_CREATE_CLOCK_SKEW_SECONDS", "-1"),
    # --- HTTPS (checked whether DJANGO_HTTPS is on or not) ---
    bad({"XDS_HSTS_SECONDS": "-1"}, "XDS_HSTS_SECONDS", "-1"),
    bad({"XDS_HSTS_INCLUDE_SUBDOMAINS": "all"}, "XDS_HSTS_INCLUDE_SUBDOMAINS", "all"),
    bad({"XDS_HSTS_PRELOAD": "x"}, "XDS_HSTS_PRELOAD", "x"),
    # --- Sign-in ---
    bad({"XDS_SESSION_IDLE_MINUTES": "0"}, "XDS_SESSION_IDLE_MINUTES", "0"),
    bad({"XDS_LOGIN_FAILURE_LIMIT": "0"}, "XDS_LOGIN_FAILURE_LIMIT", "0"),
    bad({"XDS_LOGIN_COOLOFF_MINUTES": "0"}, "XDS_LOGIN_COOLOFF_MINUTES", "0"),
    bad({"XDS_TRUSTED_PROXIES": "0.0.0.0/0"}, "XDS_TRUSTED_PROXIES", "0.0.0.0/0"),
    bad({"XDS_TRUSTED_PROXIES": "10.0.0.1,::/0"}, "XDS_TRUSTED_PROXIES", "::/0"),
    bad({"XDS_TRUSTED_PROXIES": "proxy.local"}, "XDS_TRUSTED_PROXIES", "proxy.local"),
    # --- Single sign-on ---
    bad(
        {"XDS_OIDC_CLIENT_ID": "dash", "XDS_OIDC_CLIENT_SECRET": SECRET},
        "XDS_OIDC_CLIENT_ID",
        "XDS_OIDC_ISSUER",
        hidden=SECRET,
        id="XDS_OIDC_CLIENT_ID-without-an-issuer",
    ),
    bad(
        {
            "XDS_OIDC_CLIENT_SECRET": "",
            "XDS_OIDC_CLIENT_ID": "dash",
            "XDS_OIDC_ISSUER": "https://id.example.com",
        },
        "XDS_OIDC_CLIENT_SECRET",
    ),
    bad({"XDS_OIDC_NAME": ""}, "XDS_OIDC_NAME"),
    bad({"XDS_OIDC_ISSUER": "id.example.com"}, "XDS_OIDC_ISSUER", "id.example.com"),
    bad({"XDS_OIDC_AUTHORIZATION_ENDPOINT": "/authorize"}, "XDS_OIDC_AUTHORIZATION_ENDPOINT"),
    bad({"XDS_OIDC_TOKEN_ENDPOINT": "ftp://id.example.com/token"}, "XDS_OIDC_TOKEN_ENDPOINT"),
    bad({"XDS_OIDC_USERINFO_ENDPOINT": "userinfo"}, "XDS_OIDC_USERINFO_ENDPOINT", "userinfo"),
    bad({"XDS_OIDC_JWKS_URI": "keys.json"}, "XDS_OIDC_JWKS_URI", "keys.json"),
    bad({"XDS_OIDC_SCOPES": "email profile"}, "XDS_OIDC_SCOPES", "openid"),
    bad({"XDS_OIDC_SIGN_ALGO": "none"}, "XDS_OIDC_SIGN_ALGO", "none", "RS256"),
    bad({"XDS_OIDC_USERNAME_CLAIM": "user name"}, "XDS_OIDC_USERNAME_CLAIM", "user name"),
    bad({"XDS_OIDC_GROUPS_CLAIM": "groups?"}, "XDS_OIDC_GROUPS_CLAIM", "groups?"),
    bad({"XDS_OIDC_ROLE_MAP": "admins=Root"}, "XDS_OIDC_ROLE_MAP", "admins=Root", "Viewer"),
    bad({"XDS_LDAP_SERVER_URI": "ldap.example.com"}, "XDS_LDAP_SERVER_URI", "ldap://"),
    bad({"XDS_LDAP_START_TLS": "maybe"}, "XDS_LDAP_START_TLS", "maybe"),
    bad(
        {"XDS_LDAP_USER_DN_TEMPLATE": "uid=alice,ou=people,dc=example,dc=org"},
        "XDS_LDAP_USER_DN_TEMPLATE",
        "%(user)s",
    ),
    bad(
        {
            "XDS_LDAP_USER_SEARCH_BASE": "ou=people,dc=example,dc=org",
            "XDS_LDAP_SERVER_URI": "ldap://ldap.example.com",
            "XDS_LDAP_USER_DN_TEMPLATE": "uid=%(user)s,ou=people,dc=example,dc=org",
        },
        "XDS_LDAP_USER_DN_TEMPLATE",
        "XDS_LDAP_USER_SEARCH_BASE",
        id="XDS_LDAP_USER_SEARCH_BASE-and-a-template",
    ),
    bad({"XDS_LDAP_USER_FILTER": "uid=%(user)s"}, "XDS_LDAP_USER_FILTER", "uid=%(user)s"),
    bad(
        {
            "XDS_LDAP_BIND_DN": "",
            "XDS_LDAP_BIND_PASSWORD": SECRET,
            "XDS_LDAP_SERVER_URI": "ldap://ldap.example.com",
            "XDS_LDAP_USER_SEARCH_BASE": "ou=people,dc=example,dc=org",
        },
        "XDS_LDAP_BIND_DN",
        hidden=SECRET,
        id="XDS_LDAP_BIND_DN-missing",
    ),
    bad(
        {
            "XDS_LDAP_BIND_PASSWORD": SECRET,
            "XDS_LDAP_BIND_PASSWORD_FILE": "/nonexistent/ldap-password",
        },
        "XDS_LDAP_BIND_PASSWORD",
        hidden=SECRET,
    ),
    bad(
        {
            "XDS_LDAP_GROUP_SEARCH_BASE": "",
            "XDS_LDAP_ROLE_MAP": "admins=Admin",
            "XDS_LDAP_SERVER_URI": "ldap://ldap.example.com",
            "XDS_LDAP_USER_SEARCH_BASE": "ou=people,dc=example,dc=org",
        },
        "XDS_LDAP_GROUP_SEARCH_BASE",
        id="XDS_LDAP_GROUP_SEARCH_BASE-missing-for-a-map",
    ),
    bad({"XDS_LDAP_GROUP_TYPE": "activeDirectory"}, "XDS_LDAP_GROUP_TYPE", "activeDirectory"),
    bad({"XDS_LDAP_ROLE_MAP": "=Admin"}, "XDS_LDAP_ROLE_MAP", "=Admin"),
    bad({"XDS_EMAIL_LANGUAGES": "fr"}, "XDS_EMAIL_LANGUAGES", "fr", "zh-hans"),
    bad({"XDS_EMAIL_LANGUAGES": " , "}, "XDS_EMAIL_LANGUAGES", id="XDS_EMAIL_LANGUAGES-none"),
    bad({"XDS_OIDC_SIGN_OUT_AT_PROVIDER": "maybe"}, "XDS_OIDC_SIGN_OUT_AT_PROVIDER", "maybe"),
    bad(
        {"XDS_OIDC_END_SESSION_ENDPOINT": "id.example.com/logout"},
        "XDS_OIDC_END_SESSION_ENDPOINT",
        "https://",
    ),
    bad({"XDS_LDAP_CA_FILE": "/nonexistent/team-ca.pem"}, "XDS_LDAP_CA_FILE", "cannot be read"),
    bad({"XDS_LDAP_CA_FILE": A_DIRECTORY}, "XDS_LDAP_CA_FILE", "cannot be read", id="CA-dir"),
    bad({"XDS_LDAP_CA_FILE": A_FILE}, "XDS_LDAP_CA_FILE", "no PEM certificate", id="CA-not-PEM"),
    bad(
        {
            "XDS_LDAP_CA_FILE": A_CERTIFICATE,
            "XDS_LDAP_SERVER_URI": "ldap://ldap.example.com",
            "XDS_LDAP_USER_SEARCH_BASE": "ou=people,dc=example,dc=org",
        },
        "XDS_LDAP_CA_FILE",
        "not encrypted",
        "XDS_LDAP_START_TLS",
        id="XDS_LDAP_CA_FILE-without-TLS",
    ),
    # --- Many hosts, schedules, approvals and alerts ---
    bad({"XDS_BULK_MAX_HOSTS": "0"}, "XDS_BULK_MAX_HOSTS", "0"),
    bad({"XDS_API_TOKEN_MAX_DAYS": "0"}, "XDS_API_TOKEN_MAX_DAYS", "0"),
    bad({"XDS_API_TOKEN_MAX_DAYS": "100000"}, "XDS_API_TOKEN_MAX_DAYS", "100000"),
    bad({"XDS_API_RATE_PER_MINUTE": "many"}, "XDS_API_RATE_PER_MINUTE", "many"),
    bad({"XDS_SCHEDULE_CHECK_SECONDS": "0"}, "XDS_SCHEDULE_CHECK_SECONDS", "0"),
    bad({"XDS_SCHEDULE_GRACE_MINUTES": "0"}, "XDS_SCHEDULE_GRACE_MINUTES", "0"),
    bad({"XDS_APPROVAL_EXPIRY_HOURS": "0"}, "XDS_APPROVAL_EXPIRY_HOURS", "0"),
    bad({"XDS_EXPIRY_ALERT_DAYS": "a,b"}, "XDS_EXPIRY_ALERT_DAYS", "a"),
    bad({"XDS_EXPIRY_ALERT_DAYS": "7,0"}, "XDS_EXPIRY_ALERT_DAYS", "0"),
    bad({"XDS_EXPIRY_ALERT_DAYS": ""}, "XDS_EXPIRY_ALERT_DAYS"),
    bad({"XDS_STUCK_MINUTES": "0"}, "XDS_STUCK_MINUTES", "0"),
    bad({"XDS_ALERT_CHECK_SECONDS": "0"}, "XDS_ALERT_CHECK_SECONDS", "0"),
    bad(
        {"XDS_WEBHOOK_URL": "ftp://hooks.example.com/T0/tok-abc123"},
        "XDS_WEBHOOK_URL",
        "https://",
        hidden="tok-abc123",
    ),
    bad({"XDS_PUBLIC_URL": "dash.example.com"}, "XDS_PUBLIC_URL", "https://"),
    # --- Metrics ---
    bad({"XDS_METRICS_TOKEN": "short"}, "XDS_METRICS_TOKEN", "16", hidden="short"),
    bad(
        {"XDS_METRICS_ALLOWED_NETWORKS": "10.0.0.300"}, "XDS_METRICS_ALLOWED_NETWORKS", "10.0.0.300"
    ),
    bad(
        {"XDS_METRICS_ALLOWED_NETWORKS": "10.0.0.0/8,0.0.0.0/0"},
        "XDS_METRICS_ALLOWED_NETWORKS",
        "every",
    ),
    bad({"XDS_LEASE_MAX_HOURS": "0"}, "XDS_LEASE_MAX_HOURS", "0"),
    bad({"XDS_LEASE_REMIND_MINUTES": "soon"}, "XDS_LEASE_REMIND_MINUTES", "soon"),
    bad({"XDS_RUNWAY_ALERT_HOURS": "-1"}, "XDS_RUNWAY_ALERT_HOURS", "-1"),
    # --- E-mail ---
    bad({"DJANGO_EMAIL_BACKEND": "smtp"}, "DJANGO_EMAIL_BACKEND", "smtp"),
    bad({"DJANGO_EMAIL_BACKEND": "nowhere.mail.Backend"}, "DJANGO_EMAIL_BACKEND", "nowhere"),
    bad({"DJANGO_EMAIL_HOST": "smtp.example.com:587"}, "DJANGO_EMAIL_HOST", "DJANGO_EMAIL_PORT"),
    bad({"DJANGO_EMAIL_PORT": "70000"}, "DJANGO_EMAIL_PORT", "70000"),
    bad({"DJANGO_EMAIL_USE_TLS": "tls"}, "DJANGO_EMAIL_USE_TLS", "tls"),
    bad({"DJANGO_DEFAULT_FROM_EMAIL": "the dashboard"}, "DJANGO_DEFAULT_FROM_EMAIL"),
]

# The containers' gunicorn settings (deploy/gunicorn.conf.py).
BAD_GUNICORN_SETTINGS = [
    bad({"WEB_CONCURRENCY": "0"}, "WEB_CONCURRENCY", "0"),
    bad({"GUNICORN_TIMEOUT": "thirty"}, "GUNICORN_TIMEOUT", "thirty"),
    bad({"GUNICORN_BIND": "127.0.0.1"}, "GUNICORN_BIND", "127.0.0.1"),
    bad({"GUNICORN_BIND": "0.0.0.0:99999"}, "GUNICORN_BIND", "99999"),
    bad({"FORWARDED_ALLOW_IPS": "proxy.local"}, "FORWARDED_ALLOW_IPS", "proxy.local"),
]


def _with_files(env: dict[str, str], tmp_path) -> dict[str, str]:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory\n")
    a_certificate = tmp_path / "a-certificate.pem"
    a_certificate.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    paths = {A_FILE: str(a_file), A_DIRECTORY: str(tmp_path), A_CERTIFICATE: str(a_certificate)}
    return {k: paths.get(v, v) for k, v in env.items()}


def _refusal(monkeypatch, tmp_path, path, env: dict[str, str]) -> str:
    monkeypatch.setenv("XDS_VAR_DIR", str(tmp_path / "var"))
    for name, value in _with_files(env, tmp_path).items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured) as refused:
        runpy.run_path(str(path))
    return str(refused.value)


def _assert_clear(message: str, shown, hidden) -> None:
    assert "\n" not in message.strip(), message
    for fragment in shown:
        assert fragment in message, message
    if hidden:
        assert hidden not in message, message


@pytest.mark.parametrize(("env", "shown", "hidden"), BAD_SETTINGS)
def test_a_bad_setting_is_refused_with_one_clear_line(monkeypatch, tmp_path, env, shown, hidden):
    _assert_clear(_refusal(monkeypatch, tmp_path, SETTINGS, env), shown, hidden)


@pytest.mark.parametrize(("env", "shown", "hidden"), BAD_GUNICORN_SETTINGS)
def test_a_bad_gunicorn_setting_is_refused_with_one_clear_line(
    monkeypatch, tmp_path, env, shown, hidden
):
    _assert_clear(_refusal(monkeypatch, tmp_path, GUNICORN_CONF, env), shown, hidden)


def test_every_variable_of_the_env_example_with_a_bad_value_is_tried():
    documented = set(re.findall(r"^(\w+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    tried = {next(iter(p.values[0])) for p in BAD_SETTINGS + BAD_GUNICORN_SETTINGS}
    # Free text (any value is someone's name or password), and the demo's own (see below).
    no_bad_value = {"DJANGO_EMAIL_HOST_USER", "DJANGO_EMAIL_HOST_PASSWORD"}
    demo = {"WEB_PORT", "SIM_PORT", "DEMO_HOSTS"}
    assert documented - tried - no_bad_value - demo == set()


def test_the_settings_as_documented_in_the_env_example_are_accepted(monkeypatch, tmp_path):
    """.env.example, copied as it is, starts (with a secret key filled in)."""
    example = (ROOT / ".env.example").read_text()
    for name, value in re.findall(r"^(\w+)=(.*)$", example, re.MULTILINE):
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DJANGO_SECRET_KEY", "a-key-for-this-test-" + "0123456789" * 4)
    monkeypatch.setenv("XDS_VAR_DIR", str(tmp_path / "var"))
    loaded = runpy.run_path(str(SETTINGS))
    assert loaded["XDS_TIMEOUT"] == 10.0 and loaded["XDS_EXPIRY_ALERT_DAYS"] == [1, 7]

    # gunicorn takes every value its config module sets (it checks their types too).
    from gunicorn.config import Config

    config = Config()
    for name, value in runpy.run_path(str(GUNICORN_CONF)).items():
        if name in config.settings:
            config.set(name, value)
    assert config.workers == 3 and config.forwarded_allow_ips == ["127.0.0.1", "::1"]


def test_any_setting_can_come_from_a_file_and_an_empty_name_beside_it_is_no_conflict(
    monkeypatch, tmp_path
):
    (tmp_path / "secret").write_text(SECRET + "\n")
    (tmp_path / "timeout").write_text("25\n")
    monkeypatch.setenv("XDS_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("XDS_SECRET", "")  # as compose.env.example leaves it
    monkeypatch.setenv("XDS_SECRET_FILE", str(tmp_path / "secret"))
    monkeypatch.setenv("XDS_TIMEOUT_FILE", str(tmp_path / "timeout"))

    loaded = runpy.run_path(str(SETTINGS))

    assert loaded["XDS_SECRET"] == SECRET and loaded["XDS_TIMEOUT"] == 25.0


# --- Each entry point, as a real process ----------------------------------------------------


def _run(argv: list[str], tmp_path, timeout: float = 30, **env: str):
    return run_in_project(argv, child_env(tmp_path / "var", **env), timeout=timeout)


def _assert_one_clear_line(done, *shown: str, hidden: str | None = None) -> str:
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "Traceback" not in output, output
    lines = [line for line in done.stderr.splitlines() if all(s in line for s in shown)]
    assert len(lines) == 1, output
    if hidden:
        assert hidden not in output
    return lines[0]


MANAGE = [PYTHON, "manage.py"]
CELERY = [PYTHON, "-m", "celery", "-A", "dashboard"]


@pytest.mark.parametrize(
    ("argv", "env", "shown"),
    [
        pytest.param(
            [*MANAGE, "check"], {"XDS_EXPIRY_ALERT_DAYS": "a,b"}, ["XDS_EXPIRY_ALERT_DAYS"],
            id="manage.py",
        ),
        pytest.param(
            [PYTHON, "-c", "import dashboard.wsgi"], {"DJANGO_TIME_ZONE": "Nowhere/Land"},
            ["DJANGO_TIME_ZONE", "Nowhere/Land"], id="wsgi",
        ),
        pytest.param(
            [*CELERY, "worker", "--pool", "solo"], {"DJANGO_LOG_LEVEL": "LOUD"},
            ["DJANGO_LOG_LEVEL", "LOUD"], id="celery-worker",
        ),
        pytest.param(
            [*CELERY, "beat"], {"XDS_TIMEOUT": "nan"}, ["XDS_TIMEOUT", "nan"], id="celery-beat",
        ),
        pytest.param(
            [PYTHON, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "dashboard.wsgi"],
            {"XDS_TRUSTED_PROXIES": "0.0.0.0/0"}, ["XDS_TRUSTED_PROXIES"], id="gunicorn",
        ),
        pytest.param(
            [PYTHON, "-m", "bin.demo_supervisor"], {"DEMO_HOSTS": "many"}, ["DEMO_HOSTS", "many"],
            id="demo",
        ),
    ],
)  # fmt: skip
def test_each_entry_point_stops_with_one_line_and_no_traceback(tmp_path, argv, env, shown):
    done = _run(argv, tmp_path, DJANGO_SETTINGS_MODULE="dashboard.settings", **env)
    _assert_one_clear_line(done, *shown)


def test_a_service_url_password_never_appears_in_the_error(tmp_path):
    done = _run([*MANAGE, "check"], tmp_path, DATABASE_URL=f"mysql://xds:{PASSWORD}@db/xds")
    _assert_one_clear_line(done, "DATABASE_URL", hidden=PASSWORD)


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["simulator", "--port", "99999"], "argument --port"),
        (["simulator", "--latency", "nan"], "argument --latency"),
        (["healthz", "--timeout", "0"], "argument --timeout"),
    ],
)
def test_a_bad_command_argument_is_one_clear_line(tmp_path, args, shown):
    done = _run([*MANAGE, *args], tmp_path)
    _assert_one_clear_line(done, shown)


def test_a_taken_port_for_the_simulator_is_one_clear_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _run([*MANAGE, "simulator", "--port", str(port)], tmp_path)
    assert _assert_one_clear_line(done, "cannot listen on", str(port))


# --- Service URLs are masked where they are shown ---------------------------------------------


def test_error_reports_mask_the_passwords_in_service_urls(settings, rf):
    """The DEBUG page and error mails show the settings and the request's environment."""
    from django.views.debug import get_default_exception_reporter_filter

    settings.CELERY_BROKER_URL = f"redis://:{PASSWORD}@broker:6379/0"
    settings.DATABASE_URL = f"postgres://xds:{PASSWORD}@postgres:5432/xds"
    request = rf.get("/", DATABASE_URL=f"postgres://xds:{PASSWORD}@postgres:5432/xds")
    report = get_default_exception_reporter_filter()

    shown = str(report.get_safe_settings()) + str(report.get_safe_request_meta(request))
    assert PASSWORD not in shown
    assert "redis://:[REDACTED]@broker:6379/0" in shown
