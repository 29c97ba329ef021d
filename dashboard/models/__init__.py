"""The local mirror of the upstream fleet, the state of the jobs that keep it fresh, the
operations members ask for, and the audit trail. One module per subject; the package exports
them all."""

from dashboard.models.audit import AppendOnlyError, AuditEvent, AuditEventQuerySet
from dashboard.models.budgets import Budget
from dashboard.models.hosts import (
    AREA_LABELS,
    AREA_SLUGS,
    BILLING_LABELS,
    BILLING_SLUGS,
    CHANGING_STATUSES,
    HOST_ID_MAX_LENGTH,
    LABEL_MAX_LENGTH,
    MIRRORED_FIELDS,
    PURPOSE_LABELS,
    STATUS_LABELS,
    STATUS_SLUGS,
    Host,
    HostQuerySet,
    HostStatusChange,
    Label,
    SyncState,
    is_host_id,
)
from dashboard.models.leases import Lease, LeaseQuerySet
from dashboard.models.notifications import Notification
from dashboard.models.operations import (
    ACTION_SLUGS,
    PERIOD_LABELS,
    Operation,
    OperationEvent,
    OperationQuerySet,
    host_actions_allowed,
)
from dashboard.models.policy import TeamPolicy
from dashboard.models.schedules import (
    EVERY_DAY,
    WEEKDAY_LABELS,
    PowerSchedule,
    ScheduleRun,
    team_zone,
)
from dashboard.models.wallet import WalletBalance

__all__ = [
    "ACTION_SLUGS",
    "AREA_LABELS",
    "AREA_SLUGS",
    "BILLING_LABELS",
    "BILLING_SLUGS",
    "CHANGING_STATUSES",
    "EVERY_DAY",
    "HOST_ID_MAX_LENGTH",
    "LABEL_MAX_LENGTH",
    "MIRRORED_FIELDS",
    "PERIOD_LABELS",
    "PURPOSE_LABELS",
    "STATUS_LABELS",
    "STATUS_SLUGS",
    "WEEKDAY_LABELS",
    "AppendOnlyError",
    "AuditEvent",
    "AuditEventQuerySet",
    "Budget",
    "Host",
    "HostQuerySet",
    "HostStatusChange",
    "Label",
    "Lease",
    "LeaseQuerySet",
    "Notification",
    "Operation",
    "OperationEvent",
    "OperationQuerySet",
    "PowerSchedule",
    "ScheduleRun",
    "SyncState",
    "TeamPolicy",
    "WalletBalance",
    "host_actions_allowed",
    "is_host_id",
    "team_zone",
]
