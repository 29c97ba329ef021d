"""Celery delivers at least once; these settings keep a slow task from being delivered twice."""

from django.conf import settings


def test_tasks_are_acknowledged_only_when_done_and_requeued_if_the_worker_dies():
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1


def test_visibility_timeout_outlasts_every_task_time_limit():
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT < visibility


def test_publishing_to_a_dead_broker_gives_up_within_seconds():
    policy = settings.CELERY_TASK_PUBLISH_RETRY_POLICY
    worst_case = settings.CELERY_BROKER_CONNECTION_TIMEOUT * (policy["max_retries"] + 1) + sum(
        min(policy["interval_start"] + i * policy["interval_step"], policy["interval_max"])
        for i in range(policy["max_retries"])
    )
    assert worst_case < 10
