import os

from celery import Celery
from celery.signals import beat_init, celeryd_after_setup, setup_logging

from dashboard.broker import use_atomic_filesystem_transport
from dashboard.env import load_settings_or_exit
from dashboard.logging import connect_celery_signals

use_atomic_filesystem_transport()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

app = Celery("dashboard")
# The worker and beat read Django's settings when the app is first configured: a bad setting
# stops them there with one line, not a traceback. (In the web process the settings are loaded
# already, and this does nothing.)
app.on_configure.connect(lambda **kwargs: load_settings_or_exit(), weak=False)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
connect_celery_signals()


def _add_heartbeat() -> None:
    from dashboard.liveness import Heartbeat

    app.steps["consumer"].add(Heartbeat)


_add_heartbeat()


@celeryd_after_setup.connect(weak=False)
def watch_the_worker(**kwargs) -> None:
    """`celery worker` (not a worker embedded in a test) exits once its consumer stops beating,
    so that its supervisor restarts it (dashboard/liveness.py)."""
    from dashboard.liveness import start_worker_watchdog

    start_worker_watchdog()


@beat_init.connect(weak=False)
def watch_beat(**kwargs) -> None:
    """Beat exits once it stops writing its schedule file, so that it is restarted."""
    from dashboard.liveness import start_beat_watchdog

    start_beat_watchdog()


@setup_logging.connect(weak=False)
def use_djangos_logging(**kwargs) -> None:
    """The worker and beat log through Django's LOGGING (JSON lines, request ids, redaction)
    instead of Celery's own handlers; a receiver of this signal is how Celery is told so."""
    from django.conf import settings
    from django.utils.log import configure_logging

    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
