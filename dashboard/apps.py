from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Dashboard"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from dashboard.middleware import touch_on_login

        user_logged_in.connect(touch_on_login, dispatch_uid="xds-session-touch-on-login")
