"""The admin site: open to staff, as Django's is, and to members holding the Admin role (the
role's permissions then decide what each of them sees there), so that giving someone the role
is all it takes. Signing in happens on the dashboard's own page, whose lockout and audit apply,
rather than on the admin's (which would also turn away an Admin who is not staff). A signed-in
member who may not use the admin gets the 403 page saying what it is for and who may, rather
than the sign-in page (which, as they are signed in, would send them back: a loop)."""

from functools import wraps

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from dashboard.permissions import Forbidden, can_view_audit


class DashboardAdminSite(admin.AdminSite):
    site_header = _("Xuandashi dashboard administration")
    site_title = _("Xuandashi dashboard")
    index_title = _("Members, roles and the audit trail")

    def has_permission(self, request):
        user = request.user
        return user.is_active and (user.is_staff or can_view_audit(user))

    def admin_view(self, view, cacheable=False):
        checked = super().admin_view(view, cacheable)

        @wraps(checked)
        def refuse_members_without_access(request, *args, **kwargs):
            if request.user.is_authenticated and not self.has_permission(request):
                raise Forbidden(no_access_message())
            return checked(request, *args, **kwargs)

        return refuse_members_without_access

    @method_decorator(login_not_required)
    def login(self, request, extra_context=None):
        if request.user.is_authenticated and not self.has_permission(request):
            raise Forbidden(no_access_message())
        return redirect_to_login(request.GET.get("next") or reverse("admin:index"))


def no_access_message() -> str:
    return gettext(
        "The admin pages are where the team's admins manage members and their roles, set the "
        "team policy and read the audit trail. Only members with the Admin role, and "
        "superusers, may open them."
    )
