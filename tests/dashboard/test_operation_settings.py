"""The settings that keep at-least-once delivery from running an operation twice at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from dashboard import tasks

ROOT = Path(__file__).resolve().parents[2]


def test_the_visibility_timeout_outlasts_every_limit_countdown_and_backoff():
    """Redis hands an unacknowledged message to another worker after the visibility timeout,
    whether the message waits for its countdown or its task runs: every one must be shorter."""
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert visibility == settings.CELERY_BROKER_VISIBILITY_TIMEOUT
    assert visibility > settings.CELERY_TASK_TIME_LIMIT
    assert tasks.run_operation.time_limit < visibility
    assert tasks.run_operation.soft_time_limit < tasks.run_operation.time_limit
    assert visibility > settings.XDS_ACTION_POLL_SECONDS
    assert visibility > settings.XDS_CREATE_RETRY_MAX_SECONDS
    assert visibility > settings.XDS_ACTION_REQUEUE_SECONDS


def test_a_run_is_acknowledged_when_done_and_requeued_if_its_worker_dies():
    assert tasks.run_operation.acks_late is True
    assert tasks.run_operation.reject_on_worker_lost is True
    assert tasks.run_operation.time_limit == settings.XDS_ACTION_TASK_TIME_LIMIT


def test_a_killed_run_blocks_its_host_for_seconds_not_minutes():
    # A run refreshes its host's lock while it works: a killed one's lapses this soon, and the
    # reconciler resumes the operation soon after, whatever the time limit.
    assert settings.XDS_LOCK_SECONDS <= 60
    assert settings.XDS_ACTION_STALE_SECONDS <= 60
    assert settings.XDS_ACTION_RECONCILE_INTERVAL <= 60


def test_beat_requeues_and_reconciles():
    schedule = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["dashboard.tasks.requeue_operations"]["schedule"] == float(
        settings.XDS_ACTION_REQUEUE_SECONDS
    )
    assert "dashboard.tasks.reconcile_operations" in schedule


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"XDS_ACTION_POLL_SECONDS": "0"}, "XDS_ACTION_POLL_SECONDS must be a number above 0"),
        (
            {"XDS_CREATE_RETRY_MAX_SECONDS": "9000"},
            "XDS_CREATE_RETRY_MAX_SECONDS (9000) must be below XDS_BROKER_VISIBILITY_TIMEOUT",
        ),
        ({"XDS_LOCK_SECONDS": "1"}, "XDS_LOCK_SECONDS must be a whole number of at least 3"),
        (
            {"XDS_WORKER_HEARTBEAT_SECONDS": "40"},
            "XDS_WORKER_HEARTBEAT_SECONDS must be above 0 and at most half",
        ),
    ],
)
def test_settings_that_would_break_the_guarantees_stop_the_start(tmp_path, env, message):
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "dashboard.settings",
            "XDS_VAR_DIR": str(tmp_path),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert message in result.stderr
