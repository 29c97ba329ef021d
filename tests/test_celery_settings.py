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


def test_the_embedded_broker_writes_each_message_whole_before_a_worker_can_see_it(tmp_path):
    """kombu's filesystem transport let a worker read a message file still being written, and
    stop on the broken JSON; ours writes under another name and renames it into place."""
    from kombu import Connection

    folder = tmp_path / "queue"
    folder.mkdir()
    options = {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        "control_folder": str(tmp_path / "control"),  # else kombu writes ./control
    }
    with Connection("filesystem://localhost//", transport="dashboard.broker:Transport",
                    transport_options=options) as connection:  # fmt: skip
        queue = connection.SimpleQueue("q")
        queue.put({"n": 1})
        assert [path.name.endswith(".q.msg") for path in folder.iterdir()] == [True]
        assert queue.get(timeout=1).payload == {"n": 1}
        queue.close()


def test_a_filesystem_broker_url_gets_the_atomic_transport_and_redis_its_own():
    from kombu import Connection

    from dashboard import broker
    from dashboard.celery import app

    assert Connection("filesystem://localhost//").transport_cls == "filesystem"
    assert Connection("filesystem://localhost//").get_transport_cls() is broker.Transport
    assert Connection("redis://127.0.0.1:6379/0").get_transport_cls().__module__ == (
        "kombu.transport.redis"
    )
    assert app.conf.broker_transport is None  # the URL decides
