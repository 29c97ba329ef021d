"""The two ends of a sign-in through the OpenID provider: starting it (to the provider's
authorization page) and its callback (the provider sends the member back with a code). Each
failure is audited, with the provider's name and the reason, and told to the member on the
sign-in page. And the sign-out, which ends the provider's session too."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, resolve_url
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from mozilla_django_oidc import views as oidc_views

from dashboard.env import url_origins
from dashboard.models import AuditEvent
from dashboard.services.audit import audit_record
from dashboard.sso import failures, methods
from dashboard.sso.failures import Failure
from dashboard.sso.oidc import DiscoveryError, end_session_endpoint, oidc_setting

logger = logging.getLogger(__name__)

# The callback audits its own failures (with the reason); the receiver of Django's
# user_login_failed leaves them to it.
HANDLED_HERE = "xds_sso_failure_audited_by_view"


def not_a_password_guess(request, credentials=None) -> bool:
    """django-axes' whitelist (AXES_WHITELIST_CALLABLE): a sign-in through the provider guesses
    no password here (the provider has its own lockout), so it neither counts towards a lockout
    nor is refused by one; otherwise a few cancelled sign-ins behind the office's one address
    would shut the provider's door for everyone behind it."""
    return bool(getattr(request, HANDLED_HERE, False))


def sso_failure_record(request, failure: Failure, detail: str, *, method, tried: str = ""):
    """Audits a failed sign-in through `method` and tells the member why."""
    audit_record(
        AuditEvent.Action.SIGN_IN_FAILED,
        f"Sign-in through {method.provider} failed: {failure}",
        actor_name=tried,
        request=request,
        details={
            "method": method.key,
            "provider": method.provider,
            "reason": str(failure),
            "detail": detail,
        },
    )
    messages.error(request, failures.words(failure, provider=method.provider))


def _enabled() -> None:
    if not settings.XDS_OIDC_ENABLED:
        raise Http404


@method_decorator(login_not_required, name="dispatch")
class StartView(oidc_views.OIDCAuthenticationRequestView):
    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args, **kwargs):
        super(oidc_views.OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID

    def get(self, request):
        _enabled()
        try:
            self.OIDC_OP_AUTH_ENDPOINT = oidc_setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except DiscoveryError as exc:
            sso_failure_record(request, Failure.UNREACHABLE, str(exc), method=methods.oidc())
            return redirect(settings.LOGIN_URL)
        return super().get(request)


@method_decorator(login_not_required, name="dispatch")
class CallbackView(oidc_views.OIDCAuthenticationCallbackView):
    get_settings = staticmethod(oidc_setting)

    @property
    def failure_url(self):
        return settings.LOGIN_URL

    def get(self, request):
        _enabled()
        setattr(request, HANDLED_HERE, True)
        if error := request.GET.get("error"):
            failures.note(request, Failure.REFUSED_BY_PROVIDER, str(error)[:100])
        elif "code" not in request.GET or "state" not in request.GET:
            failures.note(request, Failure.STALE, "no code or state")
        elif request.GET["state"] not in request.session.get("oidc_states", {}):
            failures.note(request, Failure.STALE, "state not started from this browser")
            return self.login_failure()
        try:
            return super().get(request)
        except SuspiciousOperation as exc:
            failures.note(request, Failure.STALE, str(exc))
            return self.login_failure()

    def login_failure(self):
        request = self.request
        user = getattr(self, "user", None)
        if user is not None and not user.is_active:
            failures.note(request, Failure.INACTIVE, user.get_username())
        failure, detail = failures.noted(request) or (Failure.UNVERIFIED, "")
        sso_failure_record(
            request,
            failure,
            detail,
            method=methods.oidc(),
            tried=user.get_username() if user is not None else "",
        )
        return redirect(self.failure_url)


class SignOutView(auth_views.LogoutView):
    """Django's sign-out; a member who signed in through the OpenID provider is then sent to the
    provider's end_session_endpoint (with the ID token as the hint and the sign-in page to come
    back to), so that the provider's session in this browser ends too."""

    def post(self, request, *args, **kwargs):
        id_token = request.session.get("oidc_id_token")
        response = super().post(request, *args, **kwargs)
        if not (id_token and settings.XDS_OIDC_ENABLED and settings.XDS_OIDC_SIGN_OUT_AT_PROVIDER):
            return response
        provider = methods.oidc().provider
        try:
            end_session = end_session_endpoint()
        except DiscoveryError as exc:
            logger.warning("sign-out at the OpenID provider skipped: %s", exc)
            end_session = None
        if end_session and url_origins(end_session)[0] not in settings.XDS_OIDC_SIGN_OUT_ORIGINS:
            # The pages' form-action would stop the browser on its way there.
            logger.warning(
                "sign-out at the OpenID provider skipped: %s is on another origin than the "
                "issuer; name it in XDS_OIDC_END_SESSION_ENDPOINT",
                end_session,
            )
            end_session = None
        if end_session is None:
            messages.warning(
                request,
                _(
                    "You are signed out of the dashboard, but not of %(provider)s: on a shared "
                    "computer, sign out there too."
                )
                % {"provider": provider},
            )
            return response
        if not end_session:
            return response  # the provider offers no way to end its session
        query = urlencode(
            {
                "id_token_hint": id_token,
                "client_id": settings.OIDC_RP_CLIENT_ID,
                "post_logout_redirect_uri": request.build_absolute_uri(
                    resolve_url(settings.LOGOUT_REDIRECT_URL)
                ),
            }
        )
        separator = "&" if "?" in end_session else "?"
        return HttpResponseRedirect(f"{end_session}{separator}{query}")
