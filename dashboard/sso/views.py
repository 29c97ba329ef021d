"""The two ends of a sign-in through the OpenID provider: starting it (to the provider's
authorization page) and its callback (the provider sends the member back with a code). Each
failure is audited, with the provider's name and the reason, and told to the member on the
sign-in page."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import SuspiciousOperation
from django.http import Http404
from django.shortcuts import redirect
from django.utils.decorators import method_decorator
from mozilla_django_oidc import views as oidc_views

from dashboard.models import AuditEvent
from dashboard.services.audit import audit_record
from dashboard.sso import failures, methods
from dashboard.sso.failures import Failure
from dashboard.sso.oidc import DiscoveryError, oidc_setting

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
