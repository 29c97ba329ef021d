"""The local mirror of the upstream fleet, the state of the jobs that keep it fresh, and the
operations members ask for. One module per subject; the package exports them all."""

from dashboard.models.hosts import (
    AREA_LABELS,
    AREA_SLUGS,
    BILLING_LABELS,
    BILLING_SLUGS,
    CHANGING_STATUSES,
    HOST_ID_MAX_LENGTH,
    MIRRORED_FIELDS,
    PURPOSE_LABELS,
    STATUS_LABELS,
    STATUS_SLUGS,
    Host,
    HostQuerySet,
    SyncState,
    is_host_id,
)

__all__ = [
    "AREA_LABELS",
    "AREA_SLUGS",
    "BILLING_LABELS",
    "BILLING_SLUGS",
    "CHANGING_STATUSES",
    "HOST_ID_MAX_LENGTH",
    "MIRRORED_FIELDS",
    "PURPOSE_LABELS",
    "STATUS_LABELS",
    "STATUS_SLUGS",
    "Host",
    "HostQuerySet",
    "SyncState",
    "is_host_id",
]
