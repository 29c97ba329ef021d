"""Writes: the jobs that keep the mirror in step with the upstream, and the operations members
ask for. One module per subject; the package exports what views, tasks and commands use."""

from dashboard.services.sync import (
    SYNC_LOCK_KEY,
    SyncResult,
    TaskQueueUnavailable,
    catalog_refresh,
    catalog_refresh_request,
    hosts_sync,
    hosts_sync_request,
)

__all__ = [
    "SYNC_LOCK_KEY",
    "SyncResult",
    "TaskQueueUnavailable",
    "catalog_refresh",
    "catalog_refresh_request",
    "hosts_sync",
    "hosts_sync_request",
]
