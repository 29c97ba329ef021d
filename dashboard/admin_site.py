"""The admin site: open to staff, as Django's is, and to members holding the Admin role (the
role's permissions then decide what each of them sees there), so that giving someone the role
is all it takes. Signing in happens on the dashboard's own page, whose lockout and audit apply,
rather than on the admin's (which would also turn away an Admin who is not staff)."""

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _

from dashboard.permissions import can_view_audit


class DashboardAdminSite(admin.AdminSite):
    site_header = _("Xuandashi dashboard administration")
    site_title = _("Xuandashi dashboard")
    index_title = _("Members, roles and the audit trail")

    def has_permission(self, request):
        user = request.user
        return user.is_active and (user.is_staff or can_view_audit(user))

    @method_decorator(login_not_required)
    def login(self, request, extra_context=None):
        return redirect_to_login(request.GET.get("next") or reverse("admin:index"))
