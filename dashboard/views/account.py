"""A member's own settings: which of their alerts also come by e-mail."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from dashboard.forms.alerts import EmailAlertsForm
from dashboard.models import AlertPreference


@require_http_methods(["GET", "POST"])
def alert_settings(request):
    form = EmailAlertsForm.for_user(
        request.user, request.POST if request.method == "POST" else None
    )
    if request.method == "POST" and form.is_valid():
        AlertPreference.objects.update_or_create(
            user=request.user, defaults={"email_kinds": form.cleaned_data["email_kinds"]}
        )
        messages.success(request, _("Your alert settings are saved."))
        return redirect("alert-settings")
    return render(
        request,
        "account/alerts.html",
        {"form": form, "has_email": bool(request.user.email)},
    )
