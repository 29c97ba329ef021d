from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Dashboard"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from dashboard.middleware import touch_on_login

        user_logged_in.connect(touch_on_login, dispatch_uid="xds-session-touch-on-login")

        from dashboard import receivers

        receivers.connect()


class DashboardAdminConfig(admin_apps.AdminConfig):
    """Django's admin on our site class (see dashboard.admin_site)."""

    default = False
    default_site = "dashboard.admin_site.DashboardAdminSite"
