"""Reads: everything a page shows, from the local mirror and the catalog cache only.

No function here calls the upstream; each costs a fixed number of queries whatever the size
of the fleet. One module per subject; the package exports what views and services use.
"""

from dashboard.selectors.catalog import (
    CATALOG_CACHE_KEY,
    Catalog,
    ImageGroup,
    ImageRow,
    PackageChoice,
    TemplateRow,
    catalog_get,
    package_choice,
)
from dashboard.selectors.hosts import (
    AREA_BY_SLUG,
    BILLING_BY_SLUG,
    HOST_DEFAULT_SORT,
    HOST_SORTS,
    OWNER_MINE,
    OWNER_NONE,
    OWNER_SPECIAL,
    STATUS_BY_SLUG,
    STATUS_CHANGING,
    STATUS_GONE,
    SyncStatus,
    host_get,
    host_list,
    host_operating_systems,
    host_owner_names,
    host_status_counts,
    hosts_with_versions,
    sync_state_get,
)
from dashboard.selectors.operations import (
    STATE_ACTIVE,
    operation_get,
    operation_list,
    operation_people,
    operations_for_host,
    operations_in_flight_attach,
)

__all__ = [
    "AREA_BY_SLUG",
    "BILLING_BY_SLUG",
    "CATALOG_CACHE_KEY",
    "HOST_DEFAULT_SORT",
    "HOST_SORTS",
    "OWNER_MINE",
    "OWNER_NONE",
    "OWNER_SPECIAL",
    "STATE_ACTIVE",
    "STATUS_BY_SLUG",
    "STATUS_CHANGING",
    "STATUS_GONE",
    "Catalog",
    "ImageGroup",
    "ImageRow",
    "PackageChoice",
    "SyncStatus",
    "TemplateRow",
    "catalog_get",
    "host_get",
    "host_list",
    "host_operating_systems",
    "host_owner_names",
    "host_status_counts",
    "hosts_with_versions",
    "operation_get",
    "operation_list",
    "operation_people",
    "operations_for_host",
    "operations_in_flight_attach",
    "package_choice",
    "sync_state_get",
]
