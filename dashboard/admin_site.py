"""The admin site: open to staff, as Django's is, and to members holding the Admin role (the
role's permissions then decide what each of them sees there), so that giving someone the role
is all it takes."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from dashboard.permissions import can_view_audit


class DashboardAdminSite(admin.AdminSite):
    site_header = _("Xuandashi dashboard administration")
    site_title = _("Xuandashi dashboard")
    index_title = _("Members, roles and the audit trail")

    def has_permission(self, request):
        user = request.user
        return user.is_active and (user.is_staff or can_view_audit(user))
