import time

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


# How often a session in use gets its expiry moved forward. Saving it on every request would add
# a database write to every poll of every open page.
SESSION_REFRESH_SECONDS = 60
_TOUCHED = "xds_touched"


def session_touch(session) -> None:
    """Marks the session used now: it is saved, and so its expiry set a full idle time ahead."""
    session[_TOUCHED] = int(time.time())


class IdleSessionMiddleware:
    """Ends a session after XDS_SESSION_IDLE_MINUTES without use (its cookie age), keeping it
    alive while it is used, at the cost of one session write a minute at most."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        due = session is not None and (
            int(time.time()) - session.get(_TOUCHED, 0) >= SESSION_REFRESH_SECONDS
        )
        if due and request.user.is_authenticated:
            session_touch(session)
        return self.get_response(request)


def touch_on_login(sender, request, user, **kwargs) -> None:
    """A fresh session counts as used: its first minute of pages needs no write."""
    if request is not None and hasattr(request, "session"):
        session_touch(request.session)


def role_not_required(view_func):
    """Marks a view any signed-in account may open, with a role or not (signing out, changing
    one's password)."""
    view_func.role_required = False
    return view_func


class RoleRequiredMiddleware:
    """A signed-in account that holds no role (no group, not a superuser) sees a page saying so
    instead of the fleet: creating an account does not by itself show anyone the hosts. The
    admin has its own permission checks, and public views need no login at all."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        from dashboard.permissions import Forbidden, can_view

        if not request.user.is_authenticated:
            return None
        if not getattr(view_func, "login_required", True):
            return None
        if not getattr(view_func, "role_required", True):
            return None
        match = request.resolver_match
        if match is not None and match.app_name == "admin":
            return None
        if can_view(request.user):
            return None
        from django.utils.translation import gettext as _

        raise Forbidden(_("Your account has no role yet: ask an admin to give you one."))
