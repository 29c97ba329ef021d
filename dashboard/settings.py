"""Settings for the dashboard, read from the environment (documented in .env.example).

With nothing set, the dashboard runs on embedded defaults: SQLite under var/, an embedded
filesystem broker for Celery, and the local simulator as the upstream.

Every value is read through the typed readers of dashboard.env, which refuse a bad one with a
one-line message naming the variable; checks across several settings use `refuse`.

The sections follow Django's own concerns, each written once: paths and secrets; apps and
middleware; the database; the cache and Celery (the beat schedule in one table); auth and
security; languages and time; logging; e-mail; then the dashboard's own XDS_* settings, and the
checks across sections last.
"""

import sys
from datetime import timedelta
from os import getpid
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.conf.locale import LANG_INFO

from dashboard.env import (
    LOG_LEVELS,
    env_bool,
    env_certificate_file,
    env_choice,
    env_float,
    env_import_path,
    env_int,
    env_int_list,
    env_list,
    env_mapping,
    env_networks,
    env_str,
    env_time_zone,
    env_url,
    mask_url_password,
    refuse,
    url_origins,
)
from dashboard.logging import logging_config


def _directory(name: str, path: Path) -> Path:
    """`path`, created if need be; a path that cannot be a directory stops the start."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        refuse(
            f"{name} must be a directory we can create and write, not {str(path)!r}: {exc.strerror}"
        )
    return path


# --- Paths and secrets --------------------------------------------------------------------------
BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = _directory("XDS_VAR_DIR", Path(env_str("XDS_VAR_DIR") or BASE_DIR / "var"))

# Development (DJANGO_DEBUG=true on a developer's machine) may run on a built-in key; anything
# else needs a key of its own: bin/demo keeps one in its var/ folder, bin/test makes one per run.
DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY", secret=True)
_MAKE_A_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(50))"'
if not SECRET_KEY and not DEBUG:
    refuse(
        f"DJANGO_SECRET_KEY is not set: make one with {_MAKE_A_KEY} and set it (or name a file"
        " holding it in DJANGO_SECRET_KEY_FILE); only development (DJANGO_DEBUG=true) may run"
        " without one"
    )
if not SECRET_KEY:
    # Known to everyone, so only for development; its prefix makes `check --deploy` flag it.
    SECRET_KEY = "django-insecure-development-only-" + "x" * 40
elif len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    # Django's own deployment check, as a hard rule: a short key can be guessed.
    refuse(
        "the value of DJANGO_SECRET_KEY is too weak: it needs at least 50 characters, 5 of them"
        f" different; make one with {_MAKE_A_KEY}"
    )
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
if not ALLOWED_HOSTS:
    refuse("DJANGO_ALLOWED_HOSTS must name at least one host (such as dashboard.example.com)")
for _host in ALLOWED_HOSTS:
    if "/" in _host or " " in _host:
        refuse(
            "DJANGO_ALLOWED_HOSTS must be host names (such as dashboard.example.com), "
            f"not {_host!r}"
        )

# The web process serves the collected static files itself (WhiteNoise: compressed copies with
# hashed names, cached for ever by browsers). The image turns it on and runs collectstatic at
# build; without it, runserver serves static files in development.
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("XDS_STATIC_ROOT") or VAR_DIR / "staticfiles")
if STATIC_ROOT.exists() and not STATIC_ROOT.is_dir():
    refuse(f"XDS_STATIC_ROOT must be a directory, not the file {str(STATIC_ROOT)!r}")
XDS_SERVE_STATIC = env_bool("XDS_SERVE_STATIC", False)
if XDS_SERVE_STATIC:
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

# --- Apps and middleware ------------------------------------------------------------------------
INSTALLED_APPS = [
    # The admin opens to staff and to the Admin role (dashboard.apps).
    "dashboard.apps.DashboardAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    # The API (dashboard/api/): REST framework, its OpenAPI document, and the docs page's
    # Swagger UI served from our static files (the sidecar ships them: no CDN).
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "vmclient",
    "dashboard",
    "axes",
]

MIDDLEWARE = [
    # Every request gets an id first thing (logs, the X-Request-ID response header).
    "dashboard.logging.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    *(["whitenoise.middleware.WhiteNoiseMiddleware"] if XDS_SERVE_STATIC else []),
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Members see the interface, and their messages, in their browser's language (or the one
    # they picked in the header).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Who and from where, for the audit trail.
    "dashboard.services.audit.AuditOriginMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Every page needs a login; the login page opts out (Django's LoginView is
    # login_not_required). Our subclass answers an HTMX request with a client redirect instead of
    # swapping the login page into a fragment.
    "dashboard.middleware.LoginRequiredMiddleware",
    # Every page but the few public ones also needs a role (an account nobody has given one sees
    # a page saying so); forbidden requests get a page that says why, and are audited.
    "dashboard.middleware.RoleRequiredMiddleware",
    # Moves an active session's expiry forward (XDS_SESSION_IDLE_MINUTES).
    "dashboard.middleware.IdleSessionMiddleware",
    # The sign-in lockout (AXES_* below).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dashboard.context_processors.sync_status",
                "dashboard.context_processors.approvals_waiting",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
DATABASE_URL = env_url(
    "DATABASE_URL",
    f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
    schemes=("postgres", "postgresql", "sqlite"),
    needs_host=False,
)
try:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
            conn_health_checks=True,
        )
    }
except ValueError:
    refuse(f"DATABASE_URL cannot be read as a database URL: {mask_url_password(DATABASE_URL)!r}")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A database that does not answer must fail a request (and a health check) within seconds, not
# after the operating system's TCP timeout.
DATABASE_CONNECT_TIMEOUT = env_int("DATABASE_CONNECT_TIMEOUT", 5, minimum=1)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", DATABASE_CONNECT_TIMEOUT
    )

# SQLite (the demo) is written by the web server and the worker's processes: write-ahead logging
# lets pages read while a sync writes, and a transaction takes the write lock when it begins (two
# cannot deadlock upgrading their locks, which fails at once with "database is locked") and waits
# up to 20 s for it.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if str(DATABASES["default"]["NAME"]) not in ("", ":memory:"):
        Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    _sqlite = DATABASES["default"].setdefault("OPTIONS", {})
    _sqlite.setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
    _sqlite.setdefault("transaction_mode", "IMMEDIATE")
    _sqlite.setdefault("timeout", 20)
    # SQLite's test database is a file, so a worker in another process (the tests that kill one)
    # sees it; one per test run, as two runs at once must not share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{getpid()}.sqlite3")}

# --- Cache and Celery ---------------------------------------------------------------------------
# The catalog cache and the locks must be shared by the web server and the Celery worker, which
# are separate processes: Redis in production, files under var/ for the embedded demo.
CACHE_URL = env_url("CACHE_URL", "", schemes=("redis", "rediss", "unix"), needs_host=False)
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "xds",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
# Locks shared through the cache (the host sync, each host's action runs) expire this many
# seconds after their holder last refreshed them; a holder refreshes its lock every third of it
# while it works, so a killed holder blocks the next one this long at most (dashboard/locks.py).
XDS_LOCK_SECONDS = env_int("XDS_LOCK_SECONDS", 30, minimum=3)

# No broker configured means the embedded filesystem transport: no server to run for a demo
# (writing each message atomically: dashboard/broker.py).
CELERY_BROKER_URL = env_url(
    "CELERY_BROKER_URL",
    "filesystem://",
    schemes=("redis", "rediss", "filesystem"),
    needs_host=False,
)
# Redis redelivers an unacknowledged task after the visibility timeout: it must outlast any task's
# time limit, countdown or retry backoff, or a slow task would run twice at once (checked below).
CELERY_BROKER_VISIBILITY_TIMEOUT = env_int("XDS_BROKER_VISIBILITY_TIMEOUT", 2 * 60 * 60, minimum=1)
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # Without this kombu writes its exchange bindings to ./control in the working directory.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # kombu polls the folder, one message a poll: at its default of 1 s, a burst of 100
        # actions would take 100 s to reach the worker.
        "polling_interval": 0.05,
        "visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT,
    }
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    # With a host name: the same broker, without kombu warning that none was supplied on every
    # connection.
    if CELERY_BROKER_URL == "filesystem://":
        CELERY_BROKER_URL = "filesystem://localhost//"
# A member's click must not hang on a dead broker: fail fast, the caller keeps the work queued.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker that loses the broker exits (code 1) instead of reconnecting in place, and its
# supervisor starts a fresh one, which waits for the broker (the retry on startup above). Celery's
# prefork pool does not survive a long outage in place: its time limits and the reading of its
# result pipes run on the consumer's event loop, which stops while the consumer reconnects, so
# on reconnection the overdue limits kill pool processes whose results were still unread, and
# the pool can be left unable to shut down (see dashboard/liveness.py for the watchdog).
CELERY_BROKER_CONNECTION_RETRY = False
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
# The Celery queue the dashboard's tasks go through: two dashboards (or a test run) can share one
# broker with queues of their own.
CELERY_TASK_DEFAULT_QUEUE = env_str(
    "XDS_TASK_QUEUE",
    "celery",
    required=True,
    pattern=r"[A-Za-z0-9._:-]+",
    allowed="a queue name of letters, digits and . _ : -",
)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
# At-least-once delivery: a task is acknowledged only when it ends, and requeued if its worker
# dies; every task is written to be safe to run twice.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# At least a minute: the soft limit, 30 s earlier, lets a task end cleanly.
CELERY_TASK_TIME_LIMIT = env_int("XDS_TASK_TIME_LIMIT", 15 * 60, minimum=60)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 30
# Task processes per worker (`celery worker --concurrency` overrides it, as the compose file does).
CELERY_WORKER_CONCURRENCY = env_int("XDS_WORKER_CONCURRENCY", 4, minimum=1)

# The worker's liveness (dashboard/liveness.py): its consumer beats this often while connected;
# a worker without a beat for XDS_WORKER_WATCHDOG_SECONDS exits so that it is restarted (also
# the bound on a warm shutdown); /healthz fails when no worker beat for XDS_HEALTH_WORKER_MAX_AGE.
XDS_WORKER_HEARTBEAT_SECONDS = env_float("XDS_WORKER_HEARTBEAT_SECONDS", 5.0, above=0)
XDS_WORKER_WATCHDOG_SECONDS = env_int("XDS_WORKER_WATCHDOG_SECONDS", 60, minimum=1)
XDS_HEALTH_WORKER_MAX_AGE = env_int("XDS_HEALTH_WORKER_MAX_AGE", 60, minimum=1)
XDS_WORKER_HEARTBEAT_FILE = env_str("XDS_WORKER_HEARTBEAT_FILE") or str(
    VAR_DIR / "worker-heartbeat"
)
if Path(XDS_WORKER_HEARTBEAT_FILE).is_dir():
    refuse(
        f"XDS_WORKER_HEARTBEAT_FILE must name a file, not the directory "
        f"{XDS_WORKER_HEARTBEAT_FILE!r}"
    )
if min(XDS_WORKER_WATCHDOG_SECONDS, XDS_HEALTH_WORKER_MAX_AGE) < XDS_WORKER_HEARTBEAT_SECONDS * 2:
    refuse(
        "XDS_WORKER_HEARTBEAT_SECONDS must be above 0 and at most half of "
        "XDS_WORKER_WATCHDOG_SECONDS and XDS_HEALTH_WORKER_MAX_AGE"
    )

# How often beat sends each periodic task. Each expires when the next one is due: one still
# queued then is worthless.
# Seconds between two syncs of the host list.
XDS_SYNC_INTERVAL = env_int("XDS_SYNC_INTERVAL", 30, minimum=1)
# How long templates and images stay cached; the worker refreshes them at half this period.
XDS_CATALOG_CACHE_SECONDS = env_int("XDS_CATALOG_CACHE_SECONDS", 600, minimum=1)
# Queued operations that have not started this many seconds after they were due (the broker was
# down when they were asked for) are enqueued again; also how often beat looks for them.
XDS_ACTION_REQUEUE_SECONDS = env_int("XDS_ACTION_REQUEUE_SECONDS", 15, minimum=1)
# How often the reconciler looks for operations in flight that no worker touches
# (XDS_ACTION_STALE_SECONDS below).
XDS_ACTION_RECONCILE_INTERVAL = env_int("XDS_ACTION_RECONCILE_INTERVAL", 15, minimum=1)
# How often beat looks for due power schedules.
XDS_SCHEDULE_CHECK_SECONDS = env_int("XDS_SCHEDULE_CHECK_SECONDS", 30, minimum=1)
# How often the rental-expiry and stuck-host alerts are checked.
XDS_ALERT_CHECK_SECONDS = env_int("XDS_ALERT_CHECK_SECONDS", 300, minimum=1)


def _every(task: str, seconds: float) -> dict:
    return {
        "task": f"dashboard.tasks.{task}",
        "schedule": float(seconds),
        "options": {"expires": float(seconds)},
    }


CELERY_BEAT_SCHEDULE = {
    "xds-sync-hosts": _every("sync_hosts", XDS_SYNC_INTERVAL),
    "xds-refresh-catalog": _every("refresh_catalog", XDS_CATALOG_CACHE_SECONDS / 2),
    "xds-requeue-operations": _every("requeue_operations", XDS_ACTION_REQUEUE_SECONDS),
    "xds-reconcile-operations": _every("reconcile_operations", XDS_ACTION_RECONCILE_INTERVAL),
    "xds-run-schedules": _every("run_schedules", XDS_SCHEDULE_CHECK_SECONDS),
    "xds-run-leases": _every("run_leases", XDS_SCHEDULE_CHECK_SECONDS),
    "xds-check-alerts": _every("check_alerts", XDS_ALERT_CHECK_SECONDS),
    "xds-expire-approvals": _every("expire_approvals", 300),
    "xds-sweep-alerts": _every("sweep_alerts", 60),
}
# var/ holds beat's schedule file whatever else is configured (with PostgreSQL and Redis, nothing
# else creates it). Beat writes it after every task it sends, so the file's age tells whether
# beat is alive (`manage.py healthz --check beat`, the beat container's health check).
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
Path(CELERY_BEAT_SCHEDULE_FILENAME).parent.mkdir(parents=True, exist_ok=True)
CELERY_BEAT_SYNC_EVERY = 1

# --- Auth and security --------------------------------------------------------------------------
# Single sign-on (dashboard/sso/): through an OpenID Connect provider, and with a directory
# password checked by an LDAP server, beside the local accounts. A directory's groups become
# roles through XDS_OIDC_ROLE_MAP / XDS_LDAP_ROLE_MAP on every sign-in (dashboard.sso.roles);
# without a map, roles stay as admins give them. The role names, as migration 0005 made them
# (dashboard.permissions.ROLES; a test checks they agree).
_ROLE_NAMES = ("Viewer", "Operator", "Creator", "Admin")
_CLAIM = r"[A-Za-z0-9_.:/-]+"
_CLAIM_ALLOWED = "a claim name of letters, digits and _ . : / -"
# OpenID Connect: on when a client id is set. Endpoints from the issuer's discovery document
# (fetched on first use), each unless named here.
XDS_OIDC_CLIENT_ID = env_str("XDS_OIDC_CLIENT_ID")
XDS_OIDC_CLIENT_SECRET = env_str("XDS_OIDC_CLIENT_SECRET", secret=True)
XDS_OIDC_NAME = env_str("XDS_OIDC_NAME", "single sign-on", required=True)
XDS_OIDC_ISSUER = env_url("XDS_OIDC_ISSUER", "", schemes=("https", "http")).rstrip("/")
XDS_OIDC_ENDPOINTS = {
    key: env_url(f"XDS_OIDC_{key.upper()}", "", schemes=("https", "http"))
    for key in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")
}
XDS_OIDC_SCOPES = (
    env_str(
        "XDS_OIDC_SCOPES",
        pattern=r"(\S+ +)*\S+",
        allowed="scopes separated by spaces, openid among them",
    )
    or "openid email profile"
)
if "openid" not in XDS_OIDC_SCOPES.split():
    refuse(f"XDS_OIDC_SCOPES must include openid, not {XDS_OIDC_SCOPES!r}")
XDS_OIDC_SIGN_ALGO = env_choice(
    "XDS_OIDC_SIGN_ALGO",
    "RS256",
    ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "HS256"),
    upper=True,
)
XDS_OIDC_USERNAME_CLAIM = (
    env_str("XDS_OIDC_USERNAME_CLAIM", pattern=_CLAIM, allowed=_CLAIM_ALLOWED)
    or "preferred_username"
)
XDS_OIDC_GROUPS_CLAIM = (
    env_str("XDS_OIDC_GROUPS_CLAIM", pattern=_CLAIM, allowed=_CLAIM_ALLOWED) or "groups"
)
XDS_OIDC_ROLE_MAP = env_mapping("XDS_OIDC_ROLE_MAP", values=_ROLE_NAMES)
# Signing out of the dashboard ends the provider's session too (RP-initiated logout, where the
# provider has an end_session_endpoint, by discovery unless named): on a shared computer the next
# person cannot sign in as the member through the provider's session left behind.
XDS_OIDC_SIGN_OUT_AT_PROVIDER = env_bool("XDS_OIDC_SIGN_OUT_AT_PROVIDER", True)
XDS_OIDC_END_SESSION_ENDPOINT = env_url(
    "XDS_OIDC_END_SESSION_ENDPOINT", "", schemes=("https", "http")
)
XDS_OIDC_ENABLED = bool(XDS_OIDC_CLIENT_ID)
if XDS_OIDC_ENABLED:
    if not XDS_OIDC_CLIENT_SECRET:
        refuse("XDS_OIDC_CLIENT_ID is set but XDS_OIDC_CLIENT_SECRET is not: set both")
    _missing = [key for key, url in XDS_OIDC_ENDPOINTS.items() if not url]
    if _missing and not XDS_OIDC_ISSUER:
        refuse(
            "XDS_OIDC_CLIENT_ID is set but neither XDS_OIDC_ISSUER (for discovery) nor "
            + ", ".join(f"XDS_OIDC_{key.upper()}" for key in _missing)
        )
# mozilla-django-oidc's own settings, from ours (the endpoints: dashboard.sso.oidc).
OIDC_RP_CLIENT_ID = XDS_OIDC_CLIENT_ID
OIDC_RP_CLIENT_SECRET = XDS_OIDC_CLIENT_SECRET
OIDC_RP_SIGN_ALGO = XDS_OIDC_SIGN_ALGO
OIDC_RP_SCOPES = XDS_OIDC_SCOPES
OIDC_USE_PKCE = True
OIDC_TIMEOUT = 10
OIDC_CREATE_USER = True
# The ID token, kept in the session, is the hint the provider's end_session_endpoint asks for.
OIDC_STORE_ID_TOKEN = True
# The sign-out form's answer sends the browser to the provider: the pages' form-action allows it.
XDS_OIDC_SIGN_OUT_ORIGINS = (
    url_origins(XDS_OIDC_ISSUER, XDS_OIDC_END_SESSION_ENDPOINT)
    if XDS_OIDC_ENABLED and XDS_OIDC_SIGN_OUT_AT_PROVIDER
    else []
)

# LDAP: on when a server is set. A member's password is checked by binding as them: at the DN
# the template makes of their name, or at the one a search finds (as the service account, or
# anonymously without one).
XDS_LDAP_SERVER_URI = env_url("XDS_LDAP_SERVER_URI", "", schemes=("ldap", "ldaps"))
XDS_LDAP_START_TLS = env_bool("XDS_LDAP_START_TLS", False)
# The CA that signed the directory's certificate, for ldaps:// and StartTLS: a team's own CA is
# rarely in the system's store. Unset: the system's store.
XDS_LDAP_CA_FILE = env_certificate_file("XDS_LDAP_CA_FILE")
XDS_LDAP_BIND_DN = env_str("XDS_LDAP_BIND_DN")
XDS_LDAP_BIND_PASSWORD = env_str("XDS_LDAP_BIND_PASSWORD", secret=True)
_HAS_USER = r".*%\(user\)s.*"
XDS_LDAP_USER_DN_TEMPLATE = env_str(
    "XDS_LDAP_USER_DN_TEMPLATE",
    pattern=_HAS_USER,
    allowed="a DN with %(user)s in it, such as uid=%(user)s,ou=people,dc=example,dc=org",
)
XDS_LDAP_USER_SEARCH_BASE = env_str("XDS_LDAP_USER_SEARCH_BASE")
XDS_LDAP_USER_FILTER = (
    env_str(
        "XDS_LDAP_USER_FILTER",
        pattern=r"\(" + _HAS_USER + r"\)",
        allowed="an LDAP filter with %(user)s in it, such as (uid=%(user)s)",
    )
    or "(uid=%(user)s)"
)
XDS_LDAP_GROUP_SEARCH_BASE = env_str("XDS_LDAP_GROUP_SEARCH_BASE")
XDS_LDAP_GROUP_TYPE = env_choice(
    "XDS_LDAP_GROUP_TYPE", "groupofnames", ("groupofnames", "groupofuniquenames", "posixgroup")
)
XDS_LDAP_ROLE_MAP = env_mapping("XDS_LDAP_ROLE_MAP", values=_ROLE_NAMES)
XDS_LDAP_ENABLED = bool(XDS_LDAP_SERVER_URI)
if XDS_LDAP_ENABLED:
    if bool(XDS_LDAP_USER_DN_TEMPLATE) == bool(XDS_LDAP_USER_SEARCH_BASE):
        refuse(
            "XDS_LDAP_SERVER_URI is set: set one of XDS_LDAP_USER_DN_TEMPLATE (bind at that DN) "
            "and XDS_LDAP_USER_SEARCH_BASE (search for the DN), not both or neither"
        )
    if XDS_LDAP_ROLE_MAP and not XDS_LDAP_GROUP_SEARCH_BASE:
        refuse("XDS_LDAP_ROLE_MAP is set but XDS_LDAP_GROUP_SEARCH_BASE, where groups are, is not")
    if XDS_LDAP_BIND_PASSWORD and not XDS_LDAP_BIND_DN:
        refuse("XDS_LDAP_BIND_PASSWORD is set but XDS_LDAP_BIND_DN, whose it is, is not")
    if XDS_LDAP_CA_FILE and not (
        XDS_LDAP_START_TLS or XDS_LDAP_SERVER_URI.lower().startswith("ldaps://")
    ):
        refuse(
            "XDS_LDAP_CA_FILE is set but the connection to XDS_LDAP_SERVER_URI is not encrypted: "
            "use an ldaps:// URI or XDS_LDAP_START_TLS=true"
        )
# django-auth-ldap's own settings, from ours.
AUTH_LDAP_SERVER_URI = XDS_LDAP_SERVER_URI
AUTH_LDAP_START_TLS = XDS_LDAP_START_TLS
AUTH_LDAP_BIND_DN = XDS_LDAP_BIND_DN
AUTH_LDAP_BIND_PASSWORD = XDS_LDAP_BIND_PASSWORD
AUTH_LDAP_USER_DN_TEMPLATE = XDS_LDAP_USER_DN_TEMPLATE or None
# Without a service account, the member's entry and groups are read as the member, once bound.
AUTH_LDAP_BIND_AS_AUTHENTICATING_USER = not XDS_LDAP_BIND_DN
AUTH_LDAP_USER_ATTR_MAP = {"first_name": "givenName", "last_name": "sn", "email": "mail"}
AUTH_LDAP_ALWAYS_UPDATE_USER = True
if XDS_LDAP_ENABLED:
    from dashboard.sso.ldap_settings import connection_options, group_settings, user_search

    # A directory that does not answer must fail a sign-in within seconds.
    AUTH_LDAP_CONNECTION_OPTIONS = connection_options(timeout_seconds=10, ca_file=XDS_LDAP_CA_FILE)
    if XDS_LDAP_USER_SEARCH_BASE:
        AUTH_LDAP_USER_SEARCH = user_search(XDS_LDAP_USER_SEARCH_BASE, XDS_LDAP_USER_FILTER)
    if XDS_LDAP_GROUP_SEARCH_BASE:
        AUTH_LDAP_GROUP_SEARCH, AUTH_LDAP_GROUP_TYPE = group_settings(
            XDS_LDAP_GROUP_SEARCH_BASE, XDS_LDAP_GROUP_TYPE
        )

# Roles are groups (migration 0005); dashboard.permissions turns them into yes or no. A member
# signing in with a password is tried locally first, then (if on) against the directory.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "dashboard.auth_backend.RolesBackend",  # Django's, with permissions in one query
    *(["dashboard.sso.ldap.DirectoryBackend"] if XDS_LDAP_ENABLED else []),
    *(["dashboard.sso.oidc.ProviderBackend"] if XDS_OIDC_ENABLED else []),
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "host-list"
LOGOUT_REDIRECT_URL = "login"
# A session ends after this many idle minutes: while it is used, dashboard.middleware moves its
# expiry forward (at most once a minute, not on every poll).
XDS_SESSION_IDLE_MINUTES = env_int("XDS_SESSION_IDLE_MINUTES", 8 * 60, minimum=1)
SESSION_COOKIE_AGE = XDS_SESSION_IDLE_MINUTES * 60

# The client's address: REMOTE_ADDR, or X-Forwarded-For only from these proxies (addresses or
# networks, comma-separated). Used by the audit trail and the lockout; see dashboard.client_ip.
XDS_TRUSTED_PROXIES = env_networks("XDS_TRUSTED_PROXIES")  # never 0.0.0.0/0: anyone could lie

# After XDS_LOGIN_FAILURE_LIMIT failed sign-ins for one name from one address, that pair is
# locked out for XDS_LOGIN_COOLOFF_MINUTES (an admin can unlock it earlier: Admin, Access
# attempts). A name and an address together, so a typo-prone colleague behind the office NAT does
# not lock everyone out, and a forged X-Forwarded-For cannot start a fresh count.
AXES_FAILURE_LIMIT = env_int("XDS_LOGIN_FAILURE_LIMIT", 5, minimum=1)
XDS_LOGIN_COOLOFF_MINUTES = env_int("XDS_LOGIN_COOLOFF_MINUTES", 15, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=XDS_LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "dashboard.client_ip.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# Sign-ins through the OpenID provider guess no password here (dashboard.sso.views).
AXES_WHITELIST_CALLABLE = "dashboard.sso.views.not_a_password_guess"

# A post without a valid CSRF token (HTMX sends it as a header, see base.html) gets our 403 page.
CSRF_FAILURE_VIEW = "dashboard.views.errors.csrf_failure"

# No inline script or style, no eval, no other origin: the templates keep to it (a test checks
# every page), and htmx is configured to match (see the htmx-config meta in base.html).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF, *XDS_OIDC_SIGN_OUT_ORIGINS],
        "frame-ancestors": [NONE],
    }
}

# Behind a reverse proxy that terminates TLS: trust its X-Forwarded-Proto, send cookies only over
# HTTPS, and accept form posts from the public origin(s) (https://dash.example.com).
# Browsers remember to use HTTPS only; set XDS_HSTS_SECONDS=0 while trying TLS out. (Read, and
# so checked, whether HTTPS is on or not.)
_HTTPS = env_bool("DJANGO_HTTPS", False)
_hsts = (
    env_int("XDS_HSTS_SECONDS", 365 * 24 * 3600, minimum=0),
    env_bool("XDS_HSTS_INCLUDE_SUBDOMAINS", True),
    env_bool("XDS_HSTS_PRELOAD", True),
)
if _HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    # Health probes come over plain HTTP from inside the container network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS, SECURE_HSTS_INCLUDE_SUBDOMAINS, SECURE_HSTS_PRELOAD = _hsts
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
for _origin in CSRF_TRUSTED_ORIGINS:
    if not _origin.startswith(("https://", "http://")) or _origin.count("/") != 2:
        refuse(
            "DJANGO_CSRF_TRUSTED_ORIGINS must be origins such as https://dashboard.example.com "
            f"(a scheme and a name, no path), not {_origin!r}"
        )

# --- Languages and time -------------------------------------------------------------------------
# The interface in English and Simplified Chinese (locale/README.md). The browser's
# Accept-Language decides until a member picks a language in the header; that choice is kept in
# the language cookie for a year. Members see their messages in their language too: English, or
# Chinese where the upstream's errors say so (every error has both).
LANGUAGE_CODE = "en"
# Each language shipped is a catalog in locale/, named in the switcher in its own words.
LANGUAGES = [(code, LANG_INFO[code]["name_local"]) for code in ("en", "zh-hans")]
USE_I18N = True
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = _HTTPS
# The team's time zone: pages, power schedules and beat's clock.
TIME_ZONE = env_time_zone("DJANGO_TIME_ZONE", "Asia/Shanghai")
USE_TZ = True
CELERY_TIMEZONE = TIME_ZONE

# --- Logging ------------------------------------------------------------------------------------
# Logs: JSON lines on stdout in production, one readable line each for the demo and development;
# every record carries its request id, and secrets are redacted (dashboard/logging.py).
XDS_LOG_FORMAT = env_choice("XDS_LOG_FORMAT", "plain" if DEBUG else "json", ("json", "plain"))
# Services (gunicorn, the Celery worker and beat) log to stdout; manage.py commands to stderr, so
# a command's own output stays clean (`manage.py dumpdata > backup.json`).
XDS_LOG_STREAM = env_choice(
    "XDS_LOG_STREAM",
    "stderr" if Path(sys.argv[0]).name == "manage.py" else "stdout",
    ("stdout", "stderr"),
)
LOG_LEVEL = env_choice("DJANGO_LOG_LEVEL", "INFO", LOG_LEVELS, upper=True)
LOGGING = logging_config(fmt=XDS_LOG_FORMAT, level=LOG_LEVEL, stream=XDS_LOG_STREAM)
# Sign-ins are in the audit trail; axes's own line per attempt would only repeat them.
LOGGING["loggers"]["axes"] = {"level": "WARNING"}
# Error reports (the DEBUG page, error mails) mask passwords in service URLs too.
DEFAULT_EXCEPTION_REPORTER_FILTER = "dashboard.views.errors.MaskedExceptionReporterFilter"

# --- E-mail -------------------------------------------------------------------------------------
# E-mail goes by SMTP once DJANGO_EMAIL_HOST names a server (or by DJANGO_EMAIL_BACKEND). Without
# one (the demo, a first install), each mail is a readable file under XDS_VAR_DIR/mail/ and the
# worker logs one line naming it (dashboard/mail.py), rather than MIME text in the worker's log.
EMAIL_HOST = env_str(
    "DJANGO_EMAIL_HOST",
    "",
    pattern=r"[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\]",
    allowed="a host name or address (the port goes in DJANGO_EMAIL_PORT)",
)
EMAIL_BACKEND = env_import_path(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "dashboard.mail.OutboxEmailBackend",
)
EMAIL_HOST = EMAIL_HOST or "localhost"
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("DJANGO_EMAIL_HOST_PASSWORD", "", secret=True)
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str(
    "DJANGO_DEFAULT_FROM_EMAIL",
    "xuandashi-dashboard@localhost",
    required=True,
    # name@domain, or Display Name <name@domain>
    pattern=r"[^\s<>@]+@[^\s<>@]+|[^<>]*<[^\s<>@]+@[^\s<>@]+>",
    allowed="an e-mail address (such as dashboard@example.com)",
)
# The languages of alert e-mails, in order: the subject in the first, the words in each (a team
# that reads Chinese: zh-hans; both: zh-hans,en). Chat channels have a language each.
XDS_EMAIL_LANGUAGES = [code.lower() for code in env_list("XDS_EMAIL_LANGUAGES", ["en"])]
if not XDS_EMAIL_LANGUAGES or set(XDS_EMAIL_LANGUAGES) - set(dict(LANGUAGES)):
    refuse(
        f"XDS_EMAIL_LANGUAGES must be one or more of {', '.join(dict(LANGUAGES))}, "
        f"comma-separated (such as zh-hans,en), not {','.join(XDS_EMAIL_LANGUAGES)!r}"
    )

# --- The dashboard's own: XDS_* -----------------------------------------------------------------
# The upstream (Xuandashi open API). The base URL is configuration: production, the provider's
# sandbox, or our simulator.
XDS_BASE_URL = env_url("XDS_BASE_URL", "http://127.0.0.1:8765", schemes=("http", "https"))
XDS_UUID = env_str("XDS_UUID", "SIMULATED", required=True)
XDS_SECRET = env_str("XDS_SECRET", "simulated-secret", required=True, secret=True)
XDS_TIMEOUT = env_float("XDS_TIMEOUT", 10.0, above=0)
XDS_CONNECT_TIMEOUT = env_float("XDS_CONNECT_TIMEOUT", 3.05, above=0)
# "Show password" waits this many seconds at most for the upstream (its sign-in and retries
# included): below gunicorn's request timeout (GUNICORN_TIMEOUT, 30 s), so the member gets a
# message instead of a killed request.
XDS_PASSWORD_TIMEOUT = env_float("XDS_PASSWORD_TIMEOUT", 20.0, above=0)
_GUNICORN_TIMEOUT = env_int("GUNICORN_TIMEOUT", 30, minimum=1)

# The fleet in the browser: the mirror, its sync, the pages.
# How many pages of hosts one sync fetches at the same time.
XDS_SYNC_CONCURRENCY = env_int("XDS_SYNC_CONCURRENCY", 8, minimum=1)
# How often an open page asks for its changing hosts, how often once nothing on it is changing
# (a change made elsewhere still shows within this), and how rarely when its tab is hidden.
XDS_POLL_SECONDS = env_int("XDS_POLL_SECONDS", 5, minimum=1)
XDS_POLL_SETTLED_SECONDS = env_int("XDS_POLL_SETTLED_SECONDS", 15, minimum=1)
XDS_POLL_HIDDEN_SECONDS = env_int("XDS_POLL_HIDDEN_SECONDS", 60, minimum=1)
# Rental hosts expiring within this many days are highlighted (0: none).
XDS_EXPIRY_WARNING_DAYS = env_int("XDS_EXPIRY_WARNING_DAYS", 3, minimum=0)
# The most hosts one bulk action may name (the rest of a larger selection is ignored).
XDS_BULK_MAX_HOSTS = env_int("XDS_BULK_MAX_HOSTS", 200, minimum=1)

# /healthz: the last host sync must be younger than this (seconds), and the upstream account is
# checked at most once per XDS_HEALTH_UPSTREAM_CACHE_SECONDS (the answer is cached and shared).
XDS_HEALTH_SYNC_MAX_AGE = env_int("XDS_HEALTH_SYNC_MAX_AGE", 3 * XDS_SYNC_INTERVAL, minimum=1)
XDS_HEALTH_UPSTREAM_CACHE_SECONDS = env_int("XDS_HEALTH_UPSTREAM_CACHE_SECONDS", 60, minimum=1)
XDS_HEALTH_BEAT_MAX_AGE = env_int(
    "XDS_HEALTH_BEAT_MAX_AGE", max(3 * XDS_SYNC_INTERVAL, 60), minimum=1
)

# Actions: the operations members ask for, run by the worker.
# Seconds between two polls of a host while an action runs on it (the provider suggests 15).
XDS_ACTION_POLL_SECONDS = env_float("XDS_ACTION_POLL_SECONDS", 5.0, above=0)
# An accepted action (or a new host, once found) that has not reached its target state after this
# many seconds fails.
XDS_ACTION_TIMEOUT = env_int("XDS_ACTION_TIMEOUT", 600, minimum=1)
# Hard time limit of one run of an operation (one upstream call, or one listing of every host).
XDS_ACTION_TASK_TIME_LIMIT = env_int("XDS_ACTION_TASK_TIME_LIMIT", 240, minimum=1)
# Operations in flight that no worker has touched for this many seconds past their next run, and
# whose host no run holds (its lock lapsed: their worker was killed, or their message lost), are
# resumed by the reconciler, which runs every XDS_ACTION_RECONCILE_INTERVAL seconds.
XDS_ACTION_STALE_SECONDS = env_int("XDS_ACTION_STALE_SECONDS", 30, minimum=1)
# A task message delivered this many times more than it was sent (a worker dying on it again and
# again) ends its operation instead of running for ever.
XDS_ACTION_MAX_REDELIVERIES = env_int("XDS_ACTION_MAX_REDELIVERIES", 10, minimum=1)
# Creates: "creation waiting" (6005), or no connection to the provider, is retried after
# XDS_CREATE_RETRY_SECONDS, doubling up to XDS_CREATE_RETRY_MAX_SECONDS, until XDS_CREATE_DEADLINE
# seconds after the member asked; then the create fails (nothing was bought).
XDS_CREATE_RETRY_SECONDS = env_float("XDS_CREATE_RETRY_SECONDS", 15.0, above=0)
XDS_CREATE_RETRY_MAX_SECONDS = env_float("XDS_CREATE_RETRY_MAX_SECONDS", 300.0, above=0)
XDS_CREATE_DEADLINE = env_int("XDS_CREATE_DEADLINE", 1800, minimum=1)
# A create whose answer was lost looks for its new host in the listing for this many seconds, then
# ends as "outcome unknown" for an administrator to check (it is never sent again).
XDS_CREATE_FIND_TIMEOUT = env_int("XDS_CREATE_FIND_TIMEOUT", 900, minimum=1)
# How far the provider's clock may be behind ours when a new host's createTime is compared with
# the moment the create was sent.
XDS_CREATE_CLOCK_SKEW_SECONDS = env_int("XDS_CREATE_CLOCK_SKEW_SECONDS", 300, minimum=0)
# Cloud disks: the GB of disks the account may hold per area (the provider refuses more with
# 220014; its docs say 1000 on one page and 20480 on another, so it is configuration).
XDS_DISK_AREA_QUOTA_GB = env_int("XDS_DISK_AREA_QUOTA_GB", 1000, minimum=20)

# Power schedules are written in the team's time zone (TIME_ZONE); a run more than
# XDS_SCHEDULE_GRACE_MINUTES late (the scheduler was down) is recorded as missed rather than
# fired late.
XDS_SCHEDULE_GRACE_MINUTES = env_int("XDS_SCHEDULE_GRACE_MINUTES", 30, minimum=1)

# Approvals and alerts. A create above the team's limit (set by admins in the admin, Team policy)
# waits this long for another admin's approval, then expires (nothing bought).
XDS_APPROVAL_EXPIRY_HOURS = env_int("XDS_APPROVAL_EXPIRY_HOURS", 24, minimum=1)
# Owners and admins are told when a rental is this many days from its end (once per threshold),
# when it has ended, and when a host stays booting or shutting down longer than
# XDS_STUCK_MINUTES (checked every XDS_ALERT_CHECK_SECONDS).
XDS_EXPIRY_ALERT_DAYS = env_int_list("XDS_EXPIRY_ALERT_DAYS", [1, 7], minimum=1)
XDS_STUCK_MINUTES = env_int("XDS_STUCK_MINUTES", 30, minimum=1)
# Notifications go by e-mail and, when set, as a JSON POST to this URL (a WeCom, DingTalk,
# Feishu or Slack bot, or anything else). Such a URL usually holds the bot's token: it is never
# shown in a message.
XDS_WEBHOOK_URL = env_url("XDS_WEBHOOK_URL", "", schemes=("https", "http"), secret=True)
# The dashboard's address as its members reach it (https://dash.example.com): chat alerts link
# to the page concerned with it. Empty: alerts carry no link.
XDS_PUBLIC_URL = env_url("XDS_PUBLIC_URL", "", schemes=("https", "http"))

# Metrics: /metrics in Prometheus's format (dashboard/metrics.py) answers a scraper that sends
# "Authorization: Bearer <XDS_METRICS_TOKEN>", or one whose address (REMOTE_ADDR, or the client's
# address through XDS_TRUSTED_PROXIES) is in XDS_METRICS_ALLOWED_NETWORKS. Neither set: 404.
XDS_METRICS_TOKEN = env_str(
    "XDS_METRICS_TOKEN",
    "",
    pattern=r"[A-Za-z0-9._~+/=-]{16,}",
    allowed="at least 16 letters, digits or ._~+/=- (such as the output of openssl rand -hex 32)",
    secret=True,
)
XDS_METRICS_ALLOWED_NETWORKS = env_networks("XDS_METRICS_ALLOWED_NETWORKS", refuse_everyone=False)
for _network in XDS_METRICS_ALLOWED_NETWORKS:
    if _network.prefixlen == 0:
        refuse(
            f"XDS_METRICS_ALLOWED_NETWORKS must not be {_network}: that opens /metrics to every "
            "address; name the scraper's address or network (or set XDS_METRICS_TOKEN)"
        )

# The API (dashboard/api/, /api/v1/): personal tokens last at most XDS_API_TOKEN_MAX_DAYS (30 by
# default when made), and each token may make XDS_API_RATE_PER_MINUTE requests a minute; more
# get 429 with Retry-After.
XDS_API_TOKEN_MAX_DAYS = env_int("XDS_API_TOKEN_MAX_DAYS", 365, minimum=1, maximum=3650)
XDS_API_RATE_PER_MINUTE = env_int("XDS_API_RATE_PER_MINUTE", 120, minimum=1)
REST_FRAMEWORK = {
    # Bearer tokens only: no session, so no CSRF to get wrong (the pages keep theirs).
    "DEFAULT_AUTHENTICATION_CLASSES": ["dashboard.api.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["dashboard.api.access.TokenScope"],
    "DEFAULT_THROTTLE_CLASSES": ["dashboard.api.access.PerTokenRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "dashboard.api.pagination.Pages",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "dashboard.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Xuandashi team dashboard API",
    "DESCRIPTION": (
        "What the pages do, for scripts: the same checks, services and operations. "
        "Authenticate with `Authorization: Bearer xds_...` (a personal token from "
        "/account/tokens/)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "OperationKindEnum": "dashboard.api.serializers.KIND_VALUES",
        "OperationStateEnum": "dashboard.api.serializers.STATE_VALUES",
    },
}
# Leases (dashboard.services.leases, checked every XDS_SCHEDULE_CHECK_SECONDS with the
# schedules): a member holds a host for at most XDS_LEASE_MAX_HOURS at a time, and is asked to
# extend XDS_LEASE_REMIND_MINUTES before the end.
XDS_LEASE_MAX_HOURS = env_int("XDS_LEASE_MAX_HOURS", 72, minimum=1)
XDS_LEASE_REMIND_MINUTES = env_int("XDS_LEASE_REMIND_MINUTES", 30, minimum=1)

# The admins are told when the wallet lasts fewer than this many hours at the current burn of the
# pay-as-you-go hosts on (dashboard.selectors.runway; checked with the alerts).
XDS_RUNWAY_ALERT_HOURS = env_int("XDS_RUNWAY_ALERT_HOURS", 48, minimum=1)

# --- Checks across sections ---------------------------------------------------------------------
if XDS_PASSWORD_TIMEOUT >= _GUNICORN_TIMEOUT:
    refuse(
        f"XDS_PASSWORD_TIMEOUT ({XDS_PASSWORD_TIMEOUT:g}) must be below GUNICORN_TIMEOUT "
        f"({_GUNICORN_TIMEOUT})"
    )
if XDS_CREATE_RETRY_MAX_SECONDS < XDS_CREATE_RETRY_SECONDS:
    refuse(
        f"XDS_CREATE_RETRY_MAX_SECONDS ({XDS_CREATE_RETRY_MAX_SECONDS:g}) must be at least "
        f"XDS_CREATE_RETRY_SECONDS ({XDS_CREATE_RETRY_SECONDS:g})"
    )
# An upstream answer may not take longer than the run of the task that waits for it.
if XDS_TIMEOUT + XDS_CONNECT_TIMEOUT >= XDS_ACTION_TASK_TIME_LIMIT:
    refuse(
        f"XDS_TIMEOUT + XDS_CONNECT_TIMEOUT ({XDS_TIMEOUT + XDS_CONNECT_TIMEOUT:g}) must be "
        f"below XDS_ACTION_TASK_TIME_LIMIT ({XDS_ACTION_TASK_TIME_LIMIT})"
    )
# Redis redelivers a task it has not seen acknowledged within the visibility timeout, whether it
# waits for its countdown or runs: every limit, countdown and backoff must be shorter.
for _name in (
    "CELERY_TASK_TIME_LIMIT",
    "XDS_ACTION_TASK_TIME_LIMIT",
    "XDS_ACTION_POLL_SECONDS",
    "XDS_CREATE_RETRY_MAX_SECONDS",
):
    if globals()[_name] >= CELERY_BROKER_VISIBILITY_TIMEOUT:
        refuse(
            f"{_name.replace('CELERY_TASK_', 'XDS_TASK_')} ({globals()[_name]:g}) must be below "
            f"XDS_BROKER_VISIBILITY_TIMEOUT ({CELERY_BROKER_VISIBILITY_TIMEOUT})"
        )
