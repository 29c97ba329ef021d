"""A member's personal API tokens (/account/tokens/): make one (shown once), see when and from
where each was last used, revoke one. Admins see every member's tokens and may revoke any."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from dashboard import permissions
from dashboard.forms.tokens import TokenForm
from dashboard.models import ApiToken
from dashboard.services import tokens


def _tokens_shown(user):
    shown = ApiToken.objects.select_related("user")
    if not permissions.can_manage_tokens(user):
        shown = shown.filter(user=user)
    return shown.order_by("-created_at", "-id")[:500]


@never_cache  # the page that shows a new token must not be kept by any cache
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    new = None
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            new = tokens.token_create(
                user=request.user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                days=form.cleaned_data["days"],
            )
        except tokens.TokenInvalid as invalid:
            form.add_error(None, invalid.message)
        else:
            form = TokenForm()
    context = {
        "form": form,
        "new": new,
        "tokens": _tokens_shown(request.user),
        "sees_everyone": permissions.can_manage_tokens(request.user),
    }
    return render(request, "account/tokens.html", context, status=400 if form.errors else 200)


@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        token = tokens.token_revoke(user=request.user, token_id=token_id)
    except ApiToken.DoesNotExist:
        raise Http404(_("No such token.")) from None
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("token-list")
