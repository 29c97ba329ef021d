"""Buying a host: choose (template, image, billing, period), review the price, confirm.

The price is computed on the server at every step: live while choosing (an HTMX partial),
again on the review page, and once more when the member confirms, where a price that moved
since the review is refused rather than bought.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRefresh

from dashboard import permissions, selectors, services
from dashboard.forms import CreateHostForm
from dashboard.forms.operations import BILLING_BY_SLUG
from dashboard.models import Operation
from dashboard.polling import poll_context
from dashboard.services import approval_policy
from dashboard.views.catalog import catalog_context
from dashboard.views.operations import operation_card_context
from vmclient.types import BillingType

TEMPLATE = "hosts/create.html"


@require_http_methods(["GET", "POST"])
def host_create(request: HttpRequest) -> HttpResponse:
    if "confirm" not in request.POST:
        # Choosing and reviewing are for members who may buy; a confirmed order from anyone
        # else goes on to `operation_request`, which refuses it and audits the refusal.
        _creators_only(request)
    if request.method == "POST" and not request.htmx:
        made = selectors.operation_by_key(
            key=request.POST.get("idempotency_key", ""), user=request.user
        )
        if made is not None:
            # The review step sent again (the browser's reload) after "Confirm and buy": the
            # order exists; show it instead of offering to buy again.
            messages.info(request, _("This order was already placed: here is how it stands."))
            return redirect("operation-detail", made.pk)
    package_id = request.POST.get("package") or request.GET.get("package", "")
    try:
        choice = selectors.package_choice(package_id=package_id)
    except selectors.CatalogUnreadable:
        choice = None  # nothing can be chosen or bought: the page says why
    if choice is None or (request.htmx and request.htmx.target == "catalog"):
        return _no_template(request, package_id)
    if request.method == "GET" or "edit" in request.POST:
        data = request.POST if "edit" in request.POST else None
        form = CreateHostForm(data, choice=choice)
        return _choose(request, form)

    form = CreateHostForm(request.POST, choice=choice)
    if not form.is_valid():
        return _choose(request, form)
    quote = form.cleaned_data["quote"]
    if "confirm" not in request.POST:
        return _review(request, form, quote)
    if form.cleaned_data["confirmed_price"] != quote.price:
        # Nothing is bought at a price the member has not seen and confirmed.
        error = _("The price changed since you saw it; check the new price and confirm again.")
        return _review(request, form, quote, error=error)
    try:
        operation = services.operation_request(
            user=request.user,
            kind=form.kind,
            params=form.operation_params(),
            idempotency_key=form.cleaned_data["idempotency_key"],
        )
    except services.OperationRefused as refused:
        return _review(request, form, quote, error=refused.message)
    if operation.state == Operation.State.AWAITING:
        if approval_policy.approval_limit_exceeded(quote.price) is not None:
            text = _(
                "The price is above the team's limit: the order waits for another admin's "
                "approval. Nothing is bought until then; this page shows when it is decided."
            )
        else:
            text = _(
                "You are over your monthly budget: the order waits for another admin's "
                "approval. Nothing is bought until then; this page shows when it is decided."
            )
        level = messages.WARNING
    elif operation.queue_error:
        text = _(
            "The order is saved, but the task queue cannot be reached: it is sent to Xuandashi "
            "by itself as soon as the queue is back."
        )
        level = messages.WARNING
    else:
        text = _("Order sent to the worker: this page follows it until the host runs.")
        level = messages.SUCCESS
    if request.htmx:
        context = {**operation_card_context(operation), "notice": text}
        return render(request, "operations/detail.html#operation-card", context)
    messages.add_message(request, level, text)
    return redirect("operation-detail", operation.pk)


@require_GET
def host_create_price(request: HttpRequest) -> HttpResponse:
    """The price box, again for the choices in the form (HTMX, on every change)."""
    _creators_only(request)
    try:
        choice = selectors.package_choice(package_id=request.GET.get("package", ""))
    except selectors.CatalogUnreadable:
        error = _(
            "The catalog cannot be read right now (the dashboard's cache does not answer), so "
            "no price can be shown. Try again in a few minutes."
        )
        return render(request, f"{TEMPLATE}#create-price", {"quote": None, "price_error": error})
    quote, error = None, ""
    if choice is not None:
        form = CreateHostForm(request.GET, choice=choice)
        if form.is_valid():
            quote = form.cleaned_data["quote"]
        else:
            error = " ".join(str(e) for errors in form.errors.values() for e in errors)
    return render(request, f"{TEMPLATE}#create-price", {"quote": quote, "price_error": error})


def _creators_only(request: HttpRequest) -> None:
    if not permissions.can_create(request.user):
        raise permissions.Forbidden(_("Your role does not allow you to create hosts."))


def _choose(request: HttpRequest, form: CreateHostForm) -> HttpResponse:
    quote = form.cleaned_data.get("quote") if form.is_bound and form.is_valid() else None
    if not form.is_bound:
        quote = _initial_quote(form)
    context = {
        "form": form,
        "choice": form.choice,
        "quote": quote,
        "step": "choose",
        # The period fields only for a template that can be rented (the page hides them while
        # pay-as-you-go is chosen).
        "offers_rental": BillingType.RENTAL in form.choice.billing_types,
    }
    return render(request, TEMPLATE, context)


def _initial_quote(form: CreateHostForm):
    initial = form.initial
    try:
        return services.create_quote(
            package_id=form.choice.package.package_id,
            billing=BILLING_BY_SLUG[initial["billing"]],
            image_id=initial.get("image", ""),
            period_type=initial.get("period_type", form.fields["period_type"].initial),
            period_number=form.fields["period_number"].initial,
        )
    except (services.OperationRefused, KeyError):
        return None


def _review(request, form: CreateHostForm, quote, *, error: str = "") -> HttpResponse:
    price = quote.price
    context = {
        "form": form,
        "choice": form.choice,
        "quote": quote,
        "step": "review",
        "image": form.choice.image(quote.image_id),
        "confirmed_price": "" if price is None else f"{price:.2f}",
        # Said before the member confirms: above the team's limit the order waits for approval.
        "approval_limit": approval_policy.approval_limit_exceeded(price),
        "over_budget": approval_policy.over_budget(
            request.user, {"total_price": quote.total_price}
        ),
        "error": error,
    }
    return render(request, TEMPLATE, context)


def _no_template(request: HttpRequest, package_id: str) -> HttpResponse:
    """No template to show: the catalog is loading or unreadable (the page asks again), or it
    has no such template (404)."""
    context = {**catalog_context(), "package_id": package_id, "step": "missing", **poll_context()}
    catalog = context["catalog"]
    if request.htmx:
        if request.htmx.target == "catalog" and catalog is not None:
            # The "catalog loading" box asking again: reload the page now the catalog is there.
            return HttpResponseClientRefresh()
        return render(request, f"{TEMPLATE}#create-loading", context)
    return render(request, TEMPLATE, context, status=200 if catalog is None else 404)
