"""Logs are JSON lines (plain lines for the demo), carry the request id, and never a secret."""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import textwrap

import pytest
from django.test import Client

from dashboard.logging import (
    CELERY_HEADER,
    REDACTED,
    JsonFormatter,
    PlainFormatter,
    RedactSecretsFilter,
    RequestIdFilter,
    _before_task_publish,
    _task_postrun,
    _task_prerun,
    get_request_id,
    redact,
    request_id_context,
)
from tests.deploy.conftest import PYTHON, child_env, run_in_project

SENTINEL = "sentinel-secret-9d2e7b"


@pytest.fixture
def log_lines(settings):
    """Records of every logger, formatted as in production; `read()` gives the JSON objects."""
    settings.XDS_SECRET = SENTINEL
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactSecretsFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)

    class Lines:
        @staticmethod
        def text() -> str:
            return stream.getvalue()

        @staticmethod
        def read() -> list[dict]:
            return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield Lines
    root.removeHandler(handler)
    root.setLevel(level)


# --- The request id ----------------------------------------------------------------------------


def test_every_response_carries_a_new_request_id(client):
    first = client.get("/accounts/login/")["X-Request-ID"]
    second = client.get("/accounts/login/")["X-Request-ID"]

    assert re.fullmatch(r"[0-9a-f]{32}", first) and first != second


def test_a_sane_incoming_request_id_is_kept(client):
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID="lb-7f3a.1:2")

    assert response["X-Request-ID"] == "lb-7f3a.1:2"


@pytest.mark.parametrize(
    "incoming",
    ["", "two words", "<script>", "x" * 129, "-leading-dash", 'quote"d', "ümlaut"],
)
def test_an_odd_incoming_request_id_is_replaced(client, incoming):
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID=incoming)

    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_the_request_id_is_in_the_json_log_line_and_the_response(client, log_lines):
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID="req-abc-123")

    access = [e for e in log_lines.read() if e["logger"] == "dashboard.access"]
    assert response["X-Request-ID"] == "req-abc-123"
    assert access == [
        {
            "time": access[0]["time"],
            "level": "INFO",
            "logger": "dashboard.access",
            "message": access[0]["message"],
            "request_id": "req-abc-123",
            "http_method": "GET",
            "http_path": "/accounts/login/",
            "http_status": 200,
            "duration_ms": access[0]["duration_ms"],
            "user": None,
        }
    ]
    assert get_request_id() is None  # and it does not leak into the next request


def test_a_failed_request_is_logged_with_its_id(client, log_lines):
    client.get("/no-such-page/", HTTP_X_REQUEST_ID="req-404")

    warnings = [e for e in log_lines.read() if e["level"] == "WARNING"]
    assert warnings and {e["request_id"] for e in warnings} == {"req-404"}


# --- Celery: the id follows the task -----------------------------------------------------------


def test_a_task_enqueued_during_a_request_carries_its_id():
    headers: dict = {}
    with request_id_context("req-to-task"):
        _before_task_publish(headers=headers)

    assert headers == {CELERY_HEADER: "req-to-task"}


def test_a_task_logs_with_the_id_of_the_request_that_enqueued_it(log_lines):
    class Request:
        xds_request_id = "req-to-task"

    class Task:
        name = "dashboard.tasks.sync_hosts"
        request = Request()

    _task_prerun(task_id="task-1", task=Task())
    logging.getLogger("dashboard.tasks").info("inside the task")
    _task_postrun()
    logging.getLogger("dashboard.tasks").info("after the task")

    inside, after = log_lines.read()
    assert inside["request_id"] == "req-to-task"
    assert inside["task"] == "dashboard.tasks.sync_hosts" and inside["task_id"] == "task-1"
    assert after["request_id"] is None and "task" not in after


def test_a_scheduled_task_logs_with_its_own_id(log_lines):
    class Task:
        name = "dashboard.tasks.sync_hosts"
        request = None

    _task_prerun(task_id="task-2", task=Task())
    logging.getLogger("dashboard.tasks").info("beat's task")
    _task_postrun()

    assert log_lines.read()[0]["request_id"] == "task-2"


def test_celery_logs_through_djangos_logging():
    from celery.signals import setup_logging

    assert setup_logging.receivers, "without a receiver, Celery installs handlers of its own"


# --- Secrets -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("headers {'Finovy-Access-Token': 'tok-abc123'}", "tok-abc123"),
        ('answer {"code": 0, "data": {"token": "tok-def456", "x": 1}}', "tok-def456"),
        ("GET /v1/x?token=tok-ghi789&page=2", "tok-ghi789"),
        ("Finovy-Access-Token: tok-jkl012", "tok-jkl012"),
        ("body {'uuid': 'U1', 'secret': 'plain-s3cret'}", "plain-s3cret"),
        ("DATABASE_URL=postgres://xds:db-pa55word@postgres:5432/xds", "db-pa55word"),
        ("Authorization: Bearer abc.def.ghi", "abc.def.ghi"),
        ("DJANGO_SECRET_KEY=k3y-value", "k3y-value"),
        (f"the configured one anywhere: x{SENTINEL}y", SENTINEL),
    ],
)
def test_secrets_are_redacted(settings, text, secret):
    settings.XDS_SECRET = SENTINEL

    redacted = redact(text)

    assert secret not in redacted and REDACTED in redacted


def test_ordinary_text_is_left_alone():
    text = "host sync: 60 hosts (0 new, 3 changed, 0 gone) from 3 pages; token renewed"

    assert redact(text) == text


def test_a_secret_never_reaches_the_log_however_it_is_logged(log_lines):
    logger = logging.getLogger("dashboard.anything")
    logger.info("secret is %s", SENTINEL)
    logger.info("headers: %r", {"Finovy-Access-Token": "tok-123456"})
    logger.warning("answer", extra={"token": "tok-654321", "body": {"secret": SENTINEL}})
    logger.info("url %s", f"redis://:{SENTINEL}@broker:6379/0")
    try:
        raise ValueError(f"could not use {SENTINEL}")
    except ValueError:
        logger.exception("failed")
    logger.info("stack", stack_info=True, extra={"note": SENTINEL})

    class Request:
        def __str__(self) -> str:
            return "<WSGIRequest: GET '/hosts/?token=tok-777777'>"

    logger.warning("Not Found", extra={"request": Request()})

    text = log_lines.text()
    assert len(log_lines.read()) == 7
    assert SENTINEL not in text
    assert "tok-123456" not in text and "tok-654321" not in text and "tok-777777" not in text


def test_the_configured_handler_redacts_and_adds_request_ids(settings):
    handler = settings.LOGGING["handlers"]["console"]

    assert handler["filters"] == ["refusals", "request_id", "redact"]
    assert settings.LOGGING["root"]["handlers"] == ["console"]


# --- Refused requests: one line, no traceback ------------------------------------------------


@pytest.fixture
def configured_log():
    """What the configured console handler (settings.LOGGING) writes, as JSON objects."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    handler.setStream(previous)


def _viewer_asks_to_buy(client, make_member):
    client.force_login(make_member("carol", "Viewer"))
    return client.get("/hosts/new/")  # raises PermissionDenied: Viewers do not buy


def _post_without_csrf_token(client, make_member):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_member("carol", "Viewer"))
    return strict.post("/sync/")


def _unknown_host_name(client, make_member):
    return client.get("/accounts/login/", HTTP_HOST="evil.example")  # DisallowedHost, at ERROR


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("refusal", "status", "reason"),
    [
        (_viewer_asks_to_buy, 403, "Forbidden (Permission denied)"),
        (_post_without_csrf_token, 403, "Forbidden (CSRF cookie not set.)"),
        (_unknown_host_name, 400, "Invalid HTTP_HOST header"),
    ],
    ids=["permission-denied", "csrf", "disallowed-host"],
)
def test_a_refused_request_is_one_warning_line_without_a_traceback(
    client, make_member, configured_log, refusal, status, reason
):
    response = refusal(client, make_member)

    assert response.status_code == status
    worth_reading = [e for e in configured_log() if e["level"] in ("WARNING", "ERROR")]
    assert len(worth_reading) == 1, worth_reading
    (line,) = worth_reading
    assert line["level"] == "WARNING" and line["logger"] == "dashboard.access"
    assert line["http_status"] == status and line["reason"].startswith(reason)
    assert reason in line["message"]
    assert "exception" not in line and "Traceback" not in json.dumps(configured_log())


# --- In a real process, as configured ------------------------------------------------------------

_SCRIPT = textwrap.dedent(
    """
    import logging, django
    django.setup()
    from django.test import Client
    from dashboard.upstream import build_client
    from vmclient.simulator import Simulator, SimulatorConfig

    response = Client(HTTP_HOST="localhost").get(
        "/accounts/login/", HTTP_X_REQUEST_ID="proc-req-1"
    )
    print("HEADER", response["X-Request-ID"], flush=True)
    logging.getLogger("dashboard").warning("the secret is %s", "{secret}")
    logging.getLogger("django.request").warning("django's own: %s", "{secret}")
    Client(HTTP_HOST="localhost").get("/no-such-page/")
    with Simulator(config=SimulatorConfig(secret="{secret}")) as sim:
        client = build_client(base_url=sim.url)
        client.authenticate()  # logs the getToken call
        client.list_images()  # sends the token
    """
)


def run_logging_process(tmp_path, **env) -> subprocess.CompletedProcess:
    return run_in_project(
        [PYTHON, "-c", _SCRIPT.format(secret=SENTINEL)],
        child_env(
            tmp_path, DJANGO_SETTINGS_MODULE="dashboard.settings", XDS_SECRET=SENTINEL, **env
        ),
    )


def test_a_production_process_logs_json_lines_on_stdout_without_secrets(tmp_path):
    result = run_logging_process(tmp_path, DJANGO_DEBUG="false")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "HEADER proc-req-1" in lines
    entries = [json.loads(line) for line in lines if not line.startswith("HEADER")]
    assert any(
        e["logger"] == "dashboard.access" and e["request_id"] == "proc-req-1" for e in entries
    )
    assert any(e["logger"] == "vmclient" for e in entries)  # the upstream calls were logged
    assert SENTINEL not in result.stdout + result.stderr


def test_the_demo_and_development_log_plain_lines(tmp_path):
    result = run_logging_process(tmp_path, DJANGO_DEBUG="true")

    assert result.returncode == 0, result.stderr
    line = r" INFO +dashboard\.access \[proc-req-1\] GET /accounts/login/ 200"
    assert re.search(line, result.stdout)
    assert SENTINEL not in result.stdout + result.stderr
    # Django's default DEBUG console handler is gone: its lines are written once, by ours.
    output = result.stdout + result.stderr
    # A refusal is the access line alone (RefusalFilter), not Django's line besides.
    assert output.count("/no-such-page/") == 1
    assert re.search(r" WARNING +dashboard\.access \[\w+\] GET /no-such-page/ 404 ", output)
    assert output.count("django's own: ") == 1


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DJANGO_DEBUG": "false"}, "json stdout"),
        ({"DJANGO_DEBUG": "true"}, "plain stdout"),
        ({"DJANGO_DEBUG": "true", "XDS_LOG_FORMAT": "json"}, "json stdout"),
        ({"XDS_LOG_STREAM": "stderr"}, "json stderr"),
    ],
)
def test_the_format_follows_debug_unless_told(tmp_path, env, expected):
    result = run_in_project(
        [
            PYTHON,
            "-c",
            "from django.conf import settings as s; print(s.XDS_LOG_FORMAT, s.XDS_LOG_STREAM)",
        ],
        child_env(tmp_path, DJANGO_SETTINGS_MODULE="dashboard.settings", **env),
        check=True,
    )
    assert result.stdout.strip() == expected


def test_plain_lines_show_the_request_id():
    record = logging.makeLogRecord({"msg": "hello", "name": "x", "levelname": "INFO"})
    record.request_id = "rid-1"

    assert PlainFormatter().format(record).endswith(" x [rid-1] hello")
