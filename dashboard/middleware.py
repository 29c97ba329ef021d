from django.contrib.auth import middleware as auth_middleware
from django.contrib.auth.views import redirect_to_login
from django_htmx.http import HttpResponseClientRedirect


class LoginRequiredMiddleware(auth_middleware.LoginRequiredMiddleware):
    """Django's login-required middleware, made HTMX-aware.

    A fragment request from a page whose session expired would otherwise follow the redirect and
    swap the login page into a table cell. It gets a client redirect instead, back to the page
    the user was on once logged in.
    """

    def handle_no_permission(self, request, view_func):
        htmx = getattr(request, "htmx", None)
        if not htmx:
            return super().handle_no_permission(request, view_func)
        response = redirect_to_login(
            htmx.current_url_abs_path or request.get_full_path(),
            self.get_login_url(view_func),
            self.get_redirect_field_name(view_func),
        )
        return HttpResponseClientRedirect(response["Location"])
