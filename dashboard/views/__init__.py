"""Pages over the local mirror. A view parses its input, calls selectors (or one service), and
renders the page or, for HTMX, just the fragment that changed. No view calls the upstream but
"Show password" (a password is never stored, so it is fetched when asked for). One module per
subject; the package exports the views the URLconf names."""

from dashboard.views.account import alert_settings
from dashboard.views.actions import host_action, host_delete
from dashboard.views.budgets import budget_detail, budget_list
from dashboard.views.bulk import host_bulk, host_bulk_live
from dashboard.views.catalog import image_list, package_list
from dashboard.views.create import host_create, host_create_price
from dashboard.views.disks import (
    disk_attach,
    disk_create,
    disk_destroy,
    disk_detach,
    disk_detail,
    disk_detail_live,
    disk_list,
    disk_list_live,
    host_disk_attach,
)
from dashboard.views.host_access import host_notes, host_owner, host_password
from dashboard.views.hosts import host_detail, host_detail_live, host_list, host_list_live, host_rdp
from dashboard.views.images import (
    host_image_save,
    image_delete,
    image_detail,
    image_detail_live,
    image_rename,
    personal_images_live,
)
from dashboard.views.leases import host_lease, lease_extend, lease_release
from dashboard.views.operations import (
    operation_approve,
    operation_cancel,
    operation_detail,
    operation_list,
    operation_live,
    operation_reject,
    operation_resolve,
)
from dashboard.views.schedules import (
    host_schedule_create,
    schedule_delete,
    schedule_detail,
    schedule_list,
    schedule_skip,
)
from dashboard.views.spend import spend, spend_csv
from dashboard.views.sync import sync_now, sync_wait
from dashboard.views.tokens import token_list, token_revoke

__all__ = [
    "alert_settings",
    "budget_detail",
    "budget_list",
    "disk_attach",
    "disk_create",
    "disk_destroy",
    "disk_detach",
    "disk_detail",
    "disk_detail_live",
    "disk_list",
    "disk_list_live",
    "host_action",
    "host_bulk",
    "host_bulk_live",
    "host_create",
    "host_create_price",
    "host_delete",
    "host_detail",
    "host_detail_live",
    "host_disk_attach",
    "host_image_save",
    "host_lease",
    "host_list",
    "host_list_live",
    "host_notes",
    "host_owner",
    "host_password",
    "host_rdp",
    "host_schedule_create",
    "image_delete",
    "image_detail",
    "image_detail_live",
    "image_list",
    "image_rename",
    "lease_extend",
    "lease_release",
    "operation_approve",
    "operation_cancel",
    "operation_detail",
    "operation_list",
    "operation_live",
    "operation_reject",
    "operation_resolve",
    "package_list",
    "personal_images_live",
    "schedule_delete",
    "schedule_detail",
    "schedule_list",
    "schedule_skip",
    "spend",
    "spend_csv",
    "sync_now",
    "sync_wait",
    "token_list",
    "token_revoke",
]
