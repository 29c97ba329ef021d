"""Writes: the jobs that keep the mirror in step with the upstream, and the operations members
ask for. One module per subject; the package exports what views, tasks and commands use."""

from dashboard.services.operation_run import operation_run
from dashboard.services.operations import (
    CreateQuote,
    OperationRefused,
    create_quote,
    host_action_refusal,
    in_flight_message,
    operation_cancel,
    operation_dispatch,
    operation_request,
    operations_reconcile,
    operations_requeue,
)
from dashboard.services.sync import (
    SYNC_LOCK_KEY,
    SyncResult,
    TaskQueueUnavailable,
    catalog_refresh,
    catalog_refresh_request,
    host_mark_gone,
    host_mirror_save,
    hosts_sync,
    hosts_sync_request,
)

__all__ = [
    "SYNC_LOCK_KEY",
    "CreateQuote",
    "OperationRefused",
    "SyncResult",
    "TaskQueueUnavailable",
    "catalog_refresh",
    "catalog_refresh_request",
    "create_quote",
    "host_action_refusal",
    "host_mark_gone",
    "host_mirror_save",
    "hosts_sync",
    "hosts_sync_request",
    "in_flight_message",
    "operation_cancel",
    "operation_dispatch",
    "operation_request",
    "operation_run",
    "operations_reconcile",
    "operations_requeue",
]
