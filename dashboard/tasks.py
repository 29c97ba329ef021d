"""Celery is just another interface: each task calls one service and logs its outcome. No
retry policy: the beat schedule runs them again within one interval anyway, and an operation's
run dispatches its own next run.

Every task is safe to run twice, even at the same time (Redis delivers at least once). Tasks
take ids, never a token or a secret: the worker builds its own upstream client."""

import logging

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings

from dashboard import services

logger = logging.getLogger(__name__)


@shared_task(name="dashboard.tasks.sync_hosts", ignore_result=True)
def sync_hosts() -> None:
    result = services.hosts_sync()
    if result.ok:
        logger.info(
            "host sync: %d hosts (%d new, %d changed, %d gone) from %d pages",
            result.seen,
            result.created,
            result.changed,
            result.gone,
            result.pages,
        )


@shared_task(name="dashboard.tasks.refresh_catalog", ignore_result=True)
def refresh_catalog() -> None:
    services.catalog_refresh()


@shared_task(
    name="dashboard.tasks.run_operation",
    ignore_result=True,
    # Acknowledged when done, requeued if the worker dies: a run is safe to repeat (see
    # dashboard/services/operation_run.py), and a create is never sent twice.
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=settings.XDS_ACTION_TASK_TIME_LIMIT,
    soft_time_limit=max(1, settings.XDS_ACTION_TASK_TIME_LIMIT - 10),
)
def run_operation(operation_id: int, dispatch_id: str) -> None:
    outcome = services.operation_run(operation_id=operation_id, dispatch_id=dispatch_id)
    logger.info("operation %s: %s", operation_id, outcome)


@shared_task(name="dashboard.tasks.requeue_operations", ignore_result=True)
def requeue_operations() -> None:
    """Queued operations the broker never got (it was down when they were asked for)."""
    services.operations_requeue()


@shared_task(name="dashboard.tasks.reconcile_operations", ignore_result=True)
def reconcile_operations() -> None:
    """Operations in flight that a killed worker left behind."""
    services.operations_reconcile()


@worker_ready.connect
def sync_when_the_worker_starts(sender, **kwargs) -> None:
    """A fresh worker fills the mirror and the catalog at once, instead of after one interval
    (the catalog's is several minutes)."""
    sync_hosts.delay()
    refresh_catalog.delay()


@shared_task(name="dashboard.tasks.run_schedules", ignore_result=True)
def run_schedules() -> None:
    """Fire the power schedules that are due (beat, every XDS_SCHEDULE_CHECK_SECONDS)."""
    services.schedules_run_due()


@shared_task(name="dashboard.tasks.run_leases", ignore_result=True)
def run_leases() -> None:
    """Remind the holders of leases about to end, and power off the hosts of leases that ended
    (beat, every XDS_SCHEDULE_CHECK_SECONDS)."""
    services.leases_run_due()


@shared_task(name="dashboard.tasks.deliver_notification", ignore_result=True)
def deliver_notification(notification_id: int) -> None:
    services.notification_deliver(notification_id)


@shared_task(name="dashboard.tasks.check_alerts", ignore_result=True)
def check_alerts() -> None:
    """Rentals expiring or expired, hosts stuck changing, budgets at 80 % and 100 %, the wallet
    running low (beat, every XDS_ALERT_CHECK_SECONDS)."""
    services.alerts_check()
    services.budgets_check()
    services.runway_check()


@shared_task(name="dashboard.tasks.expire_approvals", ignore_result=True)
def expire_approvals() -> None:
    services.approvals_expire()


@shared_task(name="dashboard.tasks.send_alert", ignore_result=True)
def send_alert(delivery_id: int) -> None:
    """One attempt at one alert to one chat channel; it queues its own retry."""
    services.alert_send(delivery_id)


@shared_task(name="dashboard.tasks.sweep_alerts", ignore_result=True)
def sweep_alerts() -> None:
    """Alert deliveries due whose task was lost (beat, every minute)."""
    services.alerts_sweep()
