"""gunicorn's settings for the web container (`gunicorn -c deploy/gunicorn.conf.py ...`).

Its own log lines (start, worker restarts, timeouts) go out as the same JSON lines as Django's;
requests are logged by the dashboard itself (dashboard.access, with the request id), so gunicorn
writes no access log of its own.
"""

import os

from dashboard.logging import logging_config

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Sync workers: pages are short database reads; the upstream is only called by the Celery worker.
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
# The heartbeat files live in memory, not on the container's overlay file system (gunicorn
# creates them with mkstemp, so a shared directory is safe).
_SHM = "/dev/shm"  # noqa: S108
worker_tmp_dir = _SHM if os.path.isdir(_SHM) else None
# The process runs as an unprivileged user with no home directory to keep a control socket in.
control_socket_disable = True
# X-Forwarded-* from the reverse proxy in front (set to its address, or * inside a private network).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

accesslog = None
logconfig_dict = logging_config(
    fmt=os.environ.get("XDS_LOG_FORMAT") or "json",
    level=os.environ.get("DJANGO_LOG_LEVEL", "INFO"),
)
# gunicorn gives its error log a handler of its own; naming it here replaces that handler.
logconfig_dict["loggers"]["gunicorn.error"] = {
    "handlers": ["console"],
    "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO"),
    "propagate": False,
}
