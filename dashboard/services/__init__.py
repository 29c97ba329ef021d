"""Writes: the jobs that keep the mirror in step with the upstream, the operations members
ask for, ownership and the audit trail. One module per subject; the package exports what views,
tasks and commands use."""

from dashboard.refusals import OperationRefused
from dashboard.services.alert_delivery import deliveries_sweep as alerts_sweep
from dashboard.services.alert_delivery import delivery_send as alert_send
from dashboard.services.alert_delivery import delivery_test as alert_test
from dashboard.services.annotations import AnnotationInvalid, host_annotate, parse_labels
from dashboard.services.approvals import (
    approvals_expire,
    awaiting_count,
    operation_approve,
    operation_reject,
)
from dashboard.services.audit import audit_record
from dashboard.services.budgets import budget_changed, budgets_check
from dashboard.services.bulk import BULK_KINDS, BulkOutcome, bulk_request
from dashboard.services.leases import (
    LeaseRefused,
    lease_extend,
    lease_release,
    lease_take,
    leases_run_due,
)
from dashboard.services.notifications import alerts_check
from dashboard.services.notifications import deliver as notification_deliver
from dashboard.services.operation_run import operation_run
from dashboard.services.operations import (
    host_action_refusal,
    in_flight_message,
    operation_cancel,
    operation_dispatch,
    operation_request,
    operations_reconcile,
    operations_requeue,
)
from dashboard.services.ownership import host_assign_owner
from dashboard.services.pricing import CreateQuote, create_quote
from dashboard.services.resolutions import check_resolver, operation_resolve, resolvable
from dashboard.services.schedules import (
    schedule_create,
    schedule_delete,
    schedule_skip_next,
    schedules_run_due,
)
from dashboard.services.sync import (
    SYNC_LOCK_KEY,
    CacheUnavailable,
    SyncResult,
    TaskQueueUnavailable,
    catalog_refresh,
    catalog_refresh_request,
    host_mark_gone,
    host_mirror_save,
    hosts_sync,
    hosts_sync_request,
)
from dashboard.services.wallet import runway_check, wallet_record

__all__ = [
    "BULK_KINDS",
    "SYNC_LOCK_KEY",
    "AnnotationInvalid",
    "BulkOutcome",
    "CacheUnavailable",
    "CreateQuote",
    "LeaseRefused",
    "OperationRefused",
    "SyncResult",
    "TaskQueueUnavailable",
    "alert_send",
    "alert_test",
    "alerts_check",
    "alerts_sweep",
    "approvals_expire",
    "audit_record",
    "awaiting_count",
    "budget_changed",
    "budgets_check",
    "bulk_request",
    "catalog_refresh",
    "catalog_refresh_request",
    "check_resolver",
    "create_quote",
    "host_action_refusal",
    "host_annotate",
    "host_assign_owner",
    "host_mark_gone",
    "host_mirror_save",
    "hosts_sync",
    "hosts_sync_request",
    "in_flight_message",
    "lease_extend",
    "lease_release",
    "lease_take",
    "leases_run_due",
    "notification_deliver",
    "operation_approve",
    "operation_cancel",
    "operation_dispatch",
    "operation_reject",
    "operation_request",
    "operation_resolve",
    "operation_run",
    "operations_reconcile",
    "operations_requeue",
    "parse_labels",
    "resolvable",
    "runway_check",
    "schedule_create",
    "schedule_delete",
    "schedule_skip_next",
    "schedules_run_due",
    "wallet_record",
]
