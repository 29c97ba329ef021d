"""Structured logs: one JSON object per line on stdout, a request id on every record, and no
secrets, ever.

- `RequestIdMiddleware` takes the caller's `X-Request-ID` when it is a sane token (a proxy or
  load balancer usually sets one), or makes one up; it echoes it in the response and keeps it in
  a context variable for the time of the request, then logs one line per request.
- `RequestIdFilter` copies that id (and, in a Celery task, the task's name and id) onto every
  log record; the Celery signals below carry the id from the request that enqueued a task to the
  task's own log lines.
- `RefusalFilter` makes a refused request (4xx) one WARNING line with its reason, where Django
  would log a traceback and then the access line would say it again.
- `RedactSecretsFilter` is the last line of defence: whatever a caller logs, the configured
  secrets (XDS_SECRET, the Django secret key, database and broker passwords), upstream tokens
  and URL passwords are replaced before any formatter sees the record.
- `JsonFormatter` writes the JSON lines (production), `PlainFormatter` one readable line per
  record (the demo and development). Both are ours, a few lines of the standard library, rather
  than a dependency: the fields and the redaction are exactly what we need and nothing else.

Nothing here reads Django settings at import time, so gunicorn can use the formatters for its
own logs before the Django application is loaded.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from dashboard.env import mask_url_password

REQUEST_ID_HEADER = "X-Request-ID"
# A header we did not set ourselves is accepted only when it looks like an id: a short run of
# URL-safe characters (a UUID, a hex digest, AWS's "Root=1-5e1b…"), nothing that could forge a
# log line or carry markup.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:=+/@-]{0,127}")

_request_id: ContextVar[str | None] = ContextVar("xds_request_id", default=None)
_task: ContextVar[tuple[str, str] | None] = ContextVar("xds_task", default=None)

# The message header that carries a request id from the publisher to the task.
CELERY_HEADER = "xds_request_id"

access_logger = logging.getLogger("dashboard.access")


# --- The request id ---------------------------------------------------------------------------


def get_request_id() -> str | None:
    """The id of the request (or of the request that enqueued the task) being handled."""
    return _request_id.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


def sane_request_id(value: str | None) -> str | None:
    """`value` when it is acceptable as a request id, else None."""
    if value and _SANE_REQUEST_ID.fullmatch(value):
        return value
    return None


@contextmanager
def request_id_context(value: str | None) -> Iterator[str | None]:
    """Log records made inside the block carry `value` as their request id."""
    token = _request_id.set(value)
    try:
        yield value
    finally:
        _request_id.reset(token)


class RequestIdMiddleware:
    """Gives each request an id, echoes it in `X-Request-ID`, and logs one line per request.

    It goes first in MIDDLEWARE, so every later middleware and the view log with the id.
    Health checks that pass are logged at DEBUG: a probe every few seconds would drown the log.
    """

    sync_capable = True
    async_capable = False

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        request_id = sane_request_id(request.headers.get(REQUEST_ID_HEADER)) or new_request_id()
        request.request_id = request_id
        started = time.monotonic()
        with request_id_context(request_id):
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            self._log(request, response, time.monotonic() - started)
        return response

    @staticmethod
    def _log(request, response, seconds: float) -> None:
        status = response.status_code
        # Django's own line about a refusal (RefusalFilter) was folded into this one.
        reason = getattr(request, REFUSAL_ATTRIBUTE, None)
        probe = request.path == "/healthz"
        if status >= 500 and not probe:
            level = logging.ERROR
        elif status >= 400:
            level = logging.WARNING
        else:
            level = logging.DEBUG if probe else logging.INFO
        if not access_logger.isEnabledFor(level):
            return
        user = getattr(request, "user", None)
        username = user.get_username() if user is not None and user.is_authenticated else None
        extra = {
            "http_method": request.method,
            "http_path": request.path,
            "http_status": status,
            "duration_ms": round(seconds * 1000, 1),
            "user": username,
        }
        if reason:
            extra["reason"] = reason
        access_logger.log(
            level,
            "%s %s %s %.0fms%s",
            request.method,
            request.path,
            status,
            seconds * 1000,
            f": {reason}" if reason else "",
            extra=extra,
        )


# --- Celery: the request id follows the task ----------------------------------------------------


def _before_task_publish(headers: dict | None = None, **kwargs: Any) -> None:
    request_id = get_request_id()
    if request_id and headers is not None:
        headers.setdefault(CELERY_HEADER, request_id)


def _task_prerun(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    request = getattr(task, "request", None)
    propagated = getattr(request, CELERY_HEADER, None) or (
        (getattr(request, "headers", None) or {}).get(CELERY_HEADER)
    )
    # A task nobody's request enqueued (the beat schedule) is known by its own id.
    _request_id.set(sane_request_id(propagated) or task_id)
    _task.set((getattr(task, "name", "?"), task_id or "?"))


def _task_postrun(**kwargs: Any) -> None:
    _request_id.set(None)
    _task.set(None)


def connect_celery_signals() -> None:
    """Carry request ids into tasks: called once by the Celery app module."""
    from celery import signals

    signals.before_task_publish.connect(_before_task_publish, weak=False, dispatch_uid="xds-rid")
    signals.task_prerun.connect(_task_prerun, weak=False, dispatch_uid="xds-rid")
    signals.task_postrun.connect(_task_postrun, weak=False, dispatch_uid="xds-rid")


# --- Filters ------------------------------------------------------------------------------------


class RequestIdFilter(logging.Filter):
    """Puts `request_id` (None outside a request or task) and `task` on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            # django.request logs a failed response after the middleware has returned, but
            # passes the request along.
            request = getattr(record, "request", None)
            record.request_id = _request_id.get() or getattr(request, "request_id", None)
        task = _task.get()
        if task is not None and not hasattr(record, "task_name"):
            record.task_name, record.task_id = task
        return True


# Where RefusalFilter leaves Django's reason for the access line.
REFUSAL_ATTRIBUTE = "xds_refusal"


class RefusalFilter(logging.Filter):
    """A refused request (4xx: a role that does not allow it, a missing CSRF token, a bad host
    name, a page that does not exist) is one WARNING line, the access line, not a traceback.

    Django logs each refusal itself, on `django.request` or `django.security.*`, with the
    exception's traceback (at ERROR for a SuspiciousOperation) and then the access line says it
    again. Those records are dropped here, their reason ("Forbidden (Permission denied)")
    handed to the access line through the request. 5xx records keep their traceback: that is a
    fault worth reading."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if not isinstance(status, int) or not 400 <= status < 500:
            return True
        if record.name != "django.request" and not record.name.startswith("django.security."):
            return True
        request = getattr(record, "request", None)
        if request is None:  # no access line will say it: keep Django's, without the traceback
            record.exc_info = record.exc_text = None
            return True
        try:
            reason = record.getMessage()
        except Exception:
            reason = str(record.msg)
        suffix = f": {request.path}"
        if reason.endswith(suffix):
            reason = reason[: -len(suffix)]
        setattr(request, REFUSAL_ATTRIBUTE, reason[:200])
        return False


REDACTED = "[REDACTED]"
_KEY = r"[\w-]*(?:token|secret|password|passwd|api[_-]?key)[\w-]*"
# `token: abc`, `"token": "abc"`, `'Finovy-Access-Token': 'abc'`, `secret=abc&…`
_KEY_VALUE = re.compile(
    rf"""(?i)(["']?\b{_KEY}["']?\s*[:=]\s*["']?)(?!\[REDACTED\])([^"'\s,;&)}}\]]+)"""
)
_AUTHORIZATION = re.compile(
    r"""(?i)(["']?\bauthorization["']?\s*[:=]\s*["']?(?:bearer\s+|basic\s+|token\s+)?)"""
    r"""(?!\[REDACTED\])([^"'\s,;&)}\]]+)"""
)
# Shorter "secrets" (an empty or test value) would blank out ordinary words.
_MIN_SECRET_LENGTH = 6


def _configured_secrets() -> tuple[str, ...]:
    values = [os.environ.get("XDS_SECRET", "")]
    from django.conf import settings

    if settings.configured:
        values.append(str(getattr(settings, "XDS_SECRET", "") or ""))
        values.append(str(getattr(settings, "SECRET_KEY", "") or ""))
        for database in getattr(settings, "DATABASES", {}).values():
            values.append(str(database.get("PASSWORD") or ""))
    return tuple(sorted({v for v in values if len(v) >= _MIN_SECRET_LENGTH}, key=len, reverse=True))


@lru_cache(maxsize=8)
def _literal_pattern(secrets: tuple[str, ...]) -> re.Pattern | None:
    if not secrets:
        return None
    return re.compile("|".join(re.escape(s) for s in secrets))


def redact(text: str) -> str:
    """`text` with the configured secrets, token values and URL passwords replaced."""
    if not text:
        return text
    literal = _literal_pattern(_configured_secrets())
    if literal is not None:
        text = literal.sub(REDACTED, text)
    text = mask_url_password(text, REDACTED)
    text = _AUTHORIZATION.sub(rf"\1{REDACTED}", text)
    return _KEY_VALUE.sub(rf"\1{REDACTED}", text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {
            k: REDACTED if re.fullmatch(_KEY, str(k), re.IGNORECASE) else _redact_value(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    # Anything else is written as its str() (django.request passes the request, whose repr
    # holds the query string): redact that text.
    return redact(str(value))


# The attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "request_id",
    "task_name",
    "task_id",
}


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD_ATTRS}


class RedactSecretsFilter(logging.Filter):
    """Renders the message and the traceback, and redacts them and every `extra` value."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: let the handler report it as usual
            return True
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for key, value in _extras(record).items():
            secret_key = re.fullmatch(_KEY, key, re.IGNORECASE)
            setattr(record, key, REDACTED if secret_key else _redact_value(value))
        return True


# --- Formatters -------------------------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, request_id, the task if
    any, every `extra=` field, and the exception as text."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if getattr(record, "task_name", None):
            entry["task"] = record.task_name
            entry["task_id"] = record.task_id
        for key, value in _extras(record).items():
            entry.setdefault(key, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


class PlainFormatter(logging.Formatter):
    """`time level logger [request id] message`, for people reading a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s [%(rid)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.rid = getattr(record, "request_id", None) or "-"
        return super().format(record)


def logging_config(*, fmt: str, level: str, stream: str = "stdout") -> dict:
    """The LOGGING dict: every record through the request id and redaction filters to one
    stream (stdout or stderr) in one format (json or plain)."""
    formatter = {"()": JsonFormatter} if fmt == "json" else {"()": PlainFormatter}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "refusals": {"()": RefusalFilter},
            "request_id": {"()": RequestIdFilter},
            "redact": {"()": RedactSecretsFilter},
        },
        "formatters": {"default": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "stream": f"ext://sys.{stream}",
                "formatter": "default",
                "filters": ["refusals", "request_id", "redact"],
            },
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Naming Django's loggers drops the handlers Django gives them by default (a console
            # handler in DEBUG, mail to ADMINS), which would print every line a second time,
            # unredacted: their records reach ours through the root logger.
            "django": {"handlers": [], "level": level, "propagate": True},
            "django.db.backends": {"level": "WARNING"},
            # runserver's own line per request; ours (dashboard.access) carries the request id.
            "django.server": {"handlers": [], "level": "WARNING", "propagate": True},
        },
    }
