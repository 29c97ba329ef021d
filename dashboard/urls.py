from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.templatetags.static import static
from django.urls import include, path, register_converter
from django.views.generic import RedirectView
from django.views.i18n import set_language

from dashboard import health, metrics, views
from dashboard.converters import HostIdConverter
from dashboard.middleware import role_not_required
from dashboard.sso import views as sso_views
from dashboard.views.errors import forbidden, not_found
from dashboard.views.sign_in import SignInView

handler403 = forbidden
handler404 = not_found

register_converter(HostIdConverter, "host_id")


class FaviconRedirect(RedirectView):
    """To the icon the pages name, resolved per request (the hashed name exists only once
    collectstatic ran)."""

    permanent = True

    def get_redirect_url(self, *args, **kwargs):
        return static("favicon.svg")


# The pages of one host, one disk, one personal image and one operation, each under its own
# prefix.
host_patterns = [
    path("", views.host_detail, name="host-detail"),
    path("live/", views.host_detail_live, name="host-detail-live"),
    path("connect.rdp", views.host_rdp, name="host-rdp"),
    path("actions/<slug:action>/", views.host_action, name="host-action"),
    path("delete/", views.host_delete, name="host-delete"),
    path("password/", views.host_password, name="host-password"),
    path("owner/", views.host_owner, name="host-owner"),
    path("notes/", views.host_notes, name="host-notes"),
    path("disks/attach/", views.host_disk_attach, name="host-disk-attach"),
    path("image/", views.host_image_save, name="host-image-save"),
    path("schedules/", views.host_schedule_create, name="host-schedule-create"),
    path("lease/", views.host_lease, name="host-lease"),
]
disk_patterns = [
    path("", views.disk_detail, name="disk-detail"),
    path("live/", views.disk_detail_live, name="disk-detail-live"),
    path("attach/", views.disk_attach, name="disk-attach"),
    path("detach/", views.disk_detach, name="disk-detach"),
    path("destroy/", views.disk_destroy, name="disk-destroy"),
]
personal_image_patterns = [
    path("", views.image_detail, name="image-detail"),
    path("live/", views.image_detail_live, name="image-detail-live"),
    path("rename/", views.image_rename, name="image-rename"),
    path("delete/", views.image_delete, name="image-delete"),
]
operation_patterns = [
    path("", views.operation_detail, name="operation-detail"),
    path("live/", views.operation_live, name="operation-live"),
    path("cancel/", views.operation_cancel, name="operation-cancel"),
    path("approve/", views.operation_approve, name="operation-approve"),
    path("reject/", views.operation_reject, name="operation-reject"),
    path("resolve/", views.operation_resolve, name="operation-resolve"),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="host-list"), name="home"),
    path("hosts/", views.host_list, name="host-list"),
    path("hosts/live/", views.host_list_live, name="host-live"),
    path("hosts/new/", views.host_create, name="host-create"),
    path("hosts/new/price/", views.host_create_price, name="host-create-price"),
    path("hosts/bulk/", views.host_bulk, name="host-bulk"),
    path("hosts/bulk/<uuid:batch>/", views.host_bulk_live, name="host-bulk-live"),
    path("hosts/<host_id:host_id>/", include(host_patterns)),
    path("disks/", views.disk_list, name="disk-list"),
    path("disks/live/", views.disk_list_live, name="disk-live"),
    path("disks/new/", views.disk_create, name="disk-create"),
    path("disks/<host_id:disk_id>/", include(disk_patterns)),
    path("leases/<int:lease_id>/extend/", views.lease_extend, name="lease-extend"),
    path("leases/<int:lease_id>/release/", views.lease_release, name="lease-release"),
    path("spend/", views.spend, name="spend"),
    path("spend.csv", views.spend_csv, name="spend-csv"),
    path("budgets/", views.budget_list, name="budget-list"),
    path("budgets/<int:budget_id>/", views.budget_detail, name="budget-detail"),
    path("schedules/", views.schedule_list, name="schedule-list"),
    path("schedules/<int:schedule_id>/", views.schedule_detail, name="schedule-detail"),
    path("schedules/<int:schedule_id>/skip/", views.schedule_skip, name="schedule-skip"),
    path("schedules/<int:schedule_id>/delete/", views.schedule_delete, name="schedule-delete"),
    path("operations/", views.operation_list, name="operation-list"),
    path("operations/<int:operation_id>/", include(operation_patterns)),
    path("packages/", views.package_list, name="package-list"),
    path("images/", views.image_list, name="image-list"),
    path("images/personal/live/", views.personal_images_live, name="image-personal-live"),
    path("images/personal/<host_id:image_id>/", include(personal_image_patterns)),
    path("sync/", views.sync_now, name="sync-now"),
    path("sync/wait/", views.sync_wait, name="sync-wait"),
    path("accounts/login/", SignInView.as_view(), name="login"),
    # Single sign-on through the OpenID provider (dashboard.sso.views): 404 unless configured.
    path("oidc/authenticate/", sso_views.StartView.as_view(), name="oidc_authentication_init"),
    path("oidc/callback/", sso_views.CallbackView.as_view(), name="oidc_authentication_callback"),
    # Open to every signed-in account, with a role or not.
    path("accounts/logout/", role_not_required(sso_views.SignOutView.as_view()), name="logout"),
    path(
        "accounts/password/",
        role_not_required(auth_views.PasswordChangeView.as_view()),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        role_not_required(auth_views.PasswordChangeDoneView.as_view()),
        name="password_change_done",
    ),
    path("accounts/alerts/", views.alert_settings, name="alert-settings"),
    path("account/tokens/", views.token_list, name="token-list"),
    path("account/tokens/<int:token_id>/revoke/", views.token_revoke, name="token-revoke"),
    # The API for scripts and the xds command (dashboard/api/).
    path("api/v1/", include("dashboard.api.urls")),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    # Prometheus's scrape: a bearer token or an allowed network (dashboard/metrics.py).
    path("metrics", metrics.metrics, name="metrics"),
    # Pages that name no icon (the admin's) make browsers ask for this one.
    path("favicon.ico", login_not_required(FaviconRedirect.as_view())),
    # The language switcher, on the login page too: no login needed.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
]
