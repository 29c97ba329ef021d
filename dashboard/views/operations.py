"""Operations: everyone's, filtered; one with its timeline; its live card, which polls itself
until the operation is final (a final operation cannot change, so its poll then stops)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dashboard import selectors, services
from dashboard.forms import OperationFilterForm
from dashboard.htmx import render_page, wants_partial
from dashboard.models import Operation, TeamPolicy
from dashboard.polling import poll_answer, poll_context, poll_url
from dashboard.views.asking import refusal_as_message
from dashboard.views.common import found_or_404

OPERATIONS_PER_PAGE = 50


@require_GET
def operation_list(request: HttpRequest) -> HttpResponse:
    filters, page_number = OperationFilterForm(request.GET).filters()
    operations = selectors.operation_list(**filters)
    page = Paginator(operations, OPERATIONS_PER_PAGE).get_page(page_number)
    context = {"filters": filters, "page": page}
    if not wants_partial(request):
        context["form"] = OperationFilterForm.for_display(
            filters, people=selectors.operation_people()
        )
    return render_page(request, "operations/list.html", context, partial="operation-table")


def _operation_or_404(operation_id: int) -> Operation:
    operation = selectors.operation_get(operation_id=operation_id)
    return found_or_404(operation, _("No operation with this number."))


def operation_card_context(operation: Operation) -> dict:
    """The live card of an operation: its state, message, timeline, and its poller until it is
    final."""
    return {
        "operation": operation,
        "team_limit": (
            TeamPolicy.current().approval_threshold
            if operation.state == Operation.State.AWAITING
            else None
        ),
        # How soon an in-flight operation whose next step the queue refused goes on once the
        # queue is back: the reconciler's staleness and its interval.
        "stale_seconds": settings.XDS_ACTION_STALE_SECONDS + settings.XDS_ACTION_RECONCILE_INTERVAL,
        "poll_url": (
            ""
            if operation.is_final
            else poll_url("operation-live", args=[operation.pk], at=operation.version)
        ),
        **poll_context(),
    }


@require_GET
def operation_detail(request: HttpRequest, operation_id: int) -> HttpResponse:
    operation = _operation_or_404(operation_id)
    return render(request, "operations/detail.html", operation_card_context(operation))


@require_GET
def operation_live(request: HttpRequest, operation_id: int) -> HttpResponse:
    """The card's poll: 204 while nothing moved, the card when it did, 286 once final."""
    operation = _operation_or_404(operation_id)
    return poll_answer(
        request,
        version=str(operation.version),
        final=operation.is_final,
        render=lambda: render(
            request, "operations/detail.html#operation-card", operation_card_context(operation)
        ),
    )


@require_POST
def operation_cancel(request: HttpRequest, operation_id: int) -> HttpResponse:
    """Cancel an operation still queued (nothing was sent upstream yet)."""
    _operation_or_404(operation_id)
    with refusal_as_message(request):
        operation = services.operation_cancel(user=request.user, operation_id=operation_id)
        messages.success(request, _("%(operation)s cancelled.") % {"operation": operation})
    return redirect("operation-detail", operation_id)


@require_POST
def operation_approve(request: HttpRequest, operation_id: int) -> HttpResponse:
    """Another admin lets a purchase above the team's limit go ahead."""
    operation = _operation_or_404(operation_id)
    with refusal_as_message(request):
        services.operation_approve(user=request.user, operation=operation)
        messages.success(request, _("Approved: the purchase is on its way."))
    return redirect("operation-detail", operation_id)


@require_POST
def operation_reject(request: HttpRequest, operation_id: int) -> HttpResponse:
    operation = _operation_or_404(operation_id)
    with refusal_as_message(request):
        services.operation_reject(
            user=request.user, operation=operation, reason=request.POST.get("reason", "")
        )
        messages.success(request, _("Rejected: nothing was bought."))
    return redirect("operation-detail", operation_id)


@require_POST
def operation_resolve(request: HttpRequest, operation_id: int) -> HttpResponse:
    """An admin says what a create left "outcome unknown" did: it bought host X (made disk X,
    made image X), or nothing."""
    operation = _operation_or_404(operation_id)
    services.check_resolver(request.user)  # 403 for anyone else
    made = services.resolvable(operation)
    with refusal_as_message(request):
        services.operation_resolve(
            user=request.user,
            operation=operation,
            outcome=request.POST.get("outcome", ""),
            made_id=request.POST.get(made.field, "") if made is not None else "",
            reason=request.POST.get("reason", ""),
        )
        messages.success(request, _("Resolved: the operation now says what it did."))
    return redirect("operation-detail", operation_id)
