"""Budgets: every budget's standing this month, and one budget with the hosts behind it. Set in
the admin (Budgets); everyone who sees the fleet sees them, as they see spend."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from dashboard import permissions
from dashboard.models import Budget
from dashboard.selectors.budgets import budget_status, budget_statuses


@require_GET
def budget_list(request: HttpRequest) -> HttpResponse:
    context = {
        "statuses": budget_statuses(),
        "may_manage": permissions.has(request.user, "dashboard.change_budget"),
    }
    return render(request, "budgets/list.html", context)


@require_GET
def budget_detail(request: HttpRequest, budget_id: int) -> HttpResponse:
    budget = Budget.objects.select_related("member", "label").filter(pk=budget_id).first()
    if budget is None:
        raise Http404(_("No budget with this number."))
    context = {
        "status": budget_status(budget),
        "may_manage": permissions.has(request.user, "dashboard.change_budget"),
    }
    return render(request, "budgets/detail.html", context)
