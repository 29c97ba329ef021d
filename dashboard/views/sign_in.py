"""The sign-in page: a local name and password (checked by the LDAP directory too, when it is
on), and "Sign in with <name>" when an OpenID provider is configured."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext as _

from dashboard.sso import failures, policy
from dashboard.sso.failures import Failure


class SignInForm(AuthenticationForm):
    """Django's, saying so when the password was right but local passwords are off (or the
    account must sign in otherwise) instead of "do not match"."""

    refusal = ""

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError as refused:
            noted = failures.noted(self.request)
            if refused.code == "inactive":  # the directory's password, an inactive account
                self.refusal = failures.words(Failure.INACTIVE, provider="")
            elif noted and noted[0] is Failure.LOCAL_PASSWORD_OFF:
                self.refusal = failures.words(noted[0], provider=_sso_names())
            elif noted and noted[0] is Failure.UNREACHABLE:
                self.refusal = failures.words(noted[0], provider=_("The directory"))
            raise


def _sso_names() -> str:
    """How the page names the ways of single sign-on, for "use …"."""
    names = []
    if settings.XDS_OIDC_ENABLED:
        names.append(_("“Sign in with %(name)s”") % {"name": settings.XDS_OIDC_NAME})
    if settings.XDS_LDAP_ENABLED:
        names.append(_("your directory password"))
    return _(" or ").join(names) or _("single sign-on")


class SignInView(auth_views.LoginView):
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["oidc_name"] = settings.XDS_OIDC_NAME if settings.XDS_OIDC_ENABLED else ""
        context["ldap_enabled"] = settings.XDS_LDAP_ENABLED
        context["sso_required"] = policy.sso_required()
        return context
