"""Power schedules: everyone's with their next run, one with its record of runs, and the forms
that make one, skip its next run and remove it."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dashboard import permissions, services
from dashboard.forms import ScheduleForm, SkipForm
from dashboard.models import PowerSchedule, ScheduleRun
from dashboard.views.common import found_or_404
from dashboard.views.hosts import host_or_404

RUNS_SHOWN = 100


def _schedule_or_404(schedule_id: int) -> PowerSchedule:
    schedule = PowerSchedule.objects.select_related("host").filter(pk=schedule_id).first()
    return found_or_404(schedule, _("No such schedule."))


@require_GET
def schedule_list(request: HttpRequest) -> HttpResponse:
    last = ScheduleRun.objects.filter(schedule=OuterRef("pk")).order_by("-due_at")
    schedules = PowerSchedule.objects.select_related("host").annotate(
        last_outcome=Subquery(last.values("outcome")[:1]),
        last_due_at=Subquery(last.values("due_at")[:1]),
    )
    outcomes = dict(ScheduleRun.Outcome.choices)
    rows = list(schedules.order_by("next_run_at", "id"))
    for schedule in rows:
        schedule.last_outcome_label = outcomes.get(schedule.last_outcome, "")
    return render(
        request, "schedules/list.html", {"schedules": rows, "team_zone": settings.TIME_ZONE}
    )


@require_GET
def schedule_detail(request: HttpRequest, schedule_id: int) -> HttpResponse:
    schedule = _schedule_or_404(schedule_id)
    context = {
        "schedule": schedule,
        "runs": schedule.runs.select_related("operation")[:RUNS_SHOWN],
        "skip_form": SkipForm(initial={"reason": schedule.skip_reason}),
        "may_skip": permissions.can_skip_schedule(request.user, schedule.host),
        "may_manage": permissions.can_manage_schedules(request.user, schedule.host),
    }
    return render(request, "schedules/detail.html", context)


@require_POST
def host_schedule_create(request: HttpRequest, host_id: str) -> HttpResponse:
    host = host_or_404(host_id)
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(str(error) for errors in form.errors.values() for error in errors)
        messages.error(request, _("The schedule was not saved: %(why)s") % {"why": errors})
        return redirect("host-detail", host.id)
    schedule = services.schedule_create(
        user=request.user,
        host=host,
        action=form.cleaned_data["action"],
        at=form.cleaned_data["at"],
        weekdays=form.weekday_digits(),
    )
    messages.success(request, _("Schedule saved: %(schedule)s.") % {"schedule": schedule})
    return redirect("host-detail", host.id)


@require_POST
def schedule_skip(request: HttpRequest, schedule_id: int) -> HttpResponse:
    schedule = _schedule_or_404(schedule_id)
    form = SkipForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    if not form.is_valid():
        messages.error(request, _("The reason is too long (300 characters at most)."))
        return redirect("schedule-detail", schedule.pk)
    services.schedule_skip_next(user=request.user, schedule=schedule, reason=reason)
    if reason:
        messages.success(request, _("The next run will be skipped."))
    else:
        messages.success(request, _("The next run will happen."))
    return redirect("schedule-detail", schedule.pk)


@require_POST
def schedule_delete(request: HttpRequest, schedule_id: int) -> HttpResponse:
    schedule = _schedule_or_404(schedule_id)
    host_id = schedule.host_id
    services.schedule_delete(user=request.user, schedule=schedule)
    messages.success(request, _("Schedule removed."))
    return redirect("host-detail", host_id)
