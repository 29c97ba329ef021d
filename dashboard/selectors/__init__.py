"""Reads: everything a page shows, from the local mirror and the catalog cache only.

No function here calls the upstream; each costs a fixed number of queries whatever the size
of the fleet. One module per subject; the package exports what views and services use.
"""

from dashboard.selectors.catalog import (
    CATALOG_CACHE_KEY,
    Catalog,
    ImageGroup,
    ImageRow,
    TemplateRow,
    catalog_get,
)
from dashboard.selectors.hosts import (
    AREA_BY_SLUG,
    BILLING_BY_SLUG,
    HOST_DEFAULT_SORT,
    HOST_SORTS,
    STATUS_BY_SLUG,
    STATUS_CHANGING,
    STATUS_GONE,
    SyncStatus,
    host_get,
    host_list,
    host_operating_systems,
    host_status_counts,
    hosts_with_versions,
    sync_state_get,
)

__all__ = [
    "AREA_BY_SLUG",
    "BILLING_BY_SLUG",
    "CATALOG_CACHE_KEY",
    "HOST_DEFAULT_SORT",
    "HOST_SORTS",
    "STATUS_BY_SLUG",
    "STATUS_CHANGING",
    "STATUS_GONE",
    "Catalog",
    "ImageGroup",
    "ImageRow",
    "SyncStatus",
    "TemplateRow",
    "catalog_get",
    "host_get",
    "host_list",
    "host_operating_systems",
    "host_status_counts",
    "hosts_with_versions",
    "sync_state_get",
]
