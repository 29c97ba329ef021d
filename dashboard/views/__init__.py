"""Pages over the local mirror. A view parses its input, calls selectors (or one service), and
renders the page or, for HTMX, just the fragment that changed. No view calls the upstream.
One module per subject; the package exports the views the URLconf names."""

from dashboard.views.catalog import image_list, package_list
from dashboard.views.hosts import host_detail, host_detail_live, host_list, host_list_live, host_rdp
from dashboard.views.sync import sync_now, sync_wait

__all__ = [
    "host_detail",
    "host_detail_live",
    "host_list",
    "host_list_live",
    "host_rdp",
    "image_list",
    "package_list",
    "sync_now",
    "sync_wait",
]
