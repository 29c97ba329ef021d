"""Celery is just another interface: each task calls one service and logs its outcome. No
retry policy: the beat schedule runs them again within one interval anyway."""

import logging

from celery import shared_task
from celery.signals import worker_ready

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


@worker_ready.connect
def sync_when_the_worker_starts(sender, **kwargs) -> None:
    """A fresh worker fills the mirror and the catalog at once, instead of after one interval
    (the catalog's is several minutes)."""
    sync_hosts.delay()
    refresh_catalog.delay()
