"""gunicorn's settings for the web container (`gunicorn -c deploy/gunicorn.conf.py ...`).

Its own log lines (start, worker restarts, timeouts) go out as the same JSON lines as Django's;
requests are logged by the dashboard itself (dashboard.access, with the request id), so gunicorn
writes no access log of its own.

The dashboard's settings are loaded here, in gunicorn's master process, before any worker starts:
a bad one stops gunicorn with one line (and exit code 2) instead of workers failing one after
the other with a traceback each.
"""

import os

from dashboard.env import (
    env_int,
    env_list,
    env_networks,
    env_str,
    load_settings_or_exit,
    refuse,
)
from dashboard.logging import logging_config

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
load_settings_or_exit()

from django.conf import settings  # noqa: E402 - once the settings are known to be good


def _bind(name: str, default: str) -> str:
    """HOST:PORT ([::]:8000 for IPv6) or unix:PATH."""
    value = env_str(name, default)
    host, colon, port = value.rpartition(":")
    if value.startswith("unix:") or (colon and host and port.isdigit() and 0 < int(port) < 65536):
        return value
    return refuse(
        f"{name} must be an address and port (such as 0.0.0.0:8000) or unix:PATH, not {value!r}"
    )


bind = _bind("GUNICORN_BIND", "0.0.0.0:8000")
# Sync workers: pages are short database reads; the upstream is only called by the Celery worker.
workers = env_int("WEB_CONCURRENCY", 3, minimum=1)
timeout = env_int("GUNICORN_TIMEOUT", 30, minimum=1)
graceful_timeout = 20
# The heartbeat files live in memory, not on the container's overlay file system (gunicorn
# creates them with mkstemp, so a shared directory is safe).
_SHM = "/dev/shm"  # noqa: S108
worker_tmp_dir = _SHM if os.path.isdir(_SHM) else None
# The process runs as an unprivileged user with no home directory to keep a control socket in.
control_socket_disable = True
# X-Forwarded-* from the reverse proxy in front (set to its address, or * inside a private network).
forwarded_allow_ips = ",".join(env_list("FORWARDED_ALLOW_IPS", ["127.0.0.1", "::1"]))
if forwarded_allow_ips != "*":
    env_networks("FORWARDED_ALLOW_IPS", refuse_everyone=False)

accesslog = None
logconfig_dict = logging_config(fmt=settings.XDS_LOG_FORMAT, level=settings.LOG_LEVEL)
# gunicorn gives its error log a handler of its own; naming it here replaces that handler.
logconfig_dict["loggers"]["gunicorn.error"] = {
    "handlers": ["console"],
    "level": settings.LOG_LEVEL,
    "propagate": False,
}
