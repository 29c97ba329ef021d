"""Power schedules: making them, skipping a run, and firing the runs that are due.

`schedules_run_due`, run by beat every XDS_SCHEDULE_CHECK_SECONDS, fires each due schedule once:
it asks for an ordinary operation in the name of the schedule's creator (so their role decides,
now, not when the schedule was made, and the request or refusal is audited like any other),
records the run and why it did not happen when it did not, and moves the schedule to its next
time. A run due longer ago than XDS_SCHEDULE_GRACE_MINUTES (the scheduler was down) is recorded
as missed rather than fired late: switching a host off hours after the team expected is worse
than not at all. While a lease holds the host, its power-offs are recorded as held by the lease
and not fired (see dashboard.services.leases). The operation's key is derived from the schedule
and the due time, and a run row is unique per due time, so two beats, or a task delivered twice,
fire once.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dashboard import permissions
from dashboard.models import AuditEvent, Host, Lease, Operation, PowerSchedule, ScheduleRun
from dashboard.services.audit import audit_record
from dashboard.services.operations import OperationRefused, operation_request
from dashboard.wording import Said, said, stored, team_time
from vmclient.types import HostStatus

logger = logging.getLogger(__name__)

Outcome = ScheduleRun.Outcome
# Due schedules one pass fires at most; the next pass takes the rest.
RUN_BATCH = 200
# The status each scheduled action leaves a host in: already there means nothing to do.
TARGET_STATUS = {
    Operation.Kind.POWER_OFF: HostStatus.OFF,
    Operation.Kind.POWER_ON: HostStatus.RUNNING,
}


def _audit(user, schedule: PowerSchedule, what: str, **details) -> None:
    audit_record(
        AuditEvent.Action.SCHEDULE_CHANGED,
        f"Schedule {schedule.get_action_display()} at {schedule.at:%H:%M} "
        f"({schedule.weekdays}) on {schedule.host.name or schedule.host_id}: {what}",
        actor=user,
        host=schedule.host,
        details={"schedule": schedule.pk, "change": what, **details},
    )


def schedule_create(*, user, host: Host, action: str, at: time, weekdays: str) -> PowerSchedule:
    if not permissions.can_manage_schedules(user, host):
        raise permissions.Forbidden(
            _("Only admins, and creators on their own hosts, may schedule power.")
        )
    if action not in PowerSchedule.Action.values:
        raise ValueError(f"cannot schedule {action!r}")
    schedule = PowerSchedule(
        host=host,
        action=action,
        at=at.replace(second=0, microsecond=0),
        weekdays="".join(sorted(set(weekdays))),
        created_by=user,
        created_by_name=user.get_username(),
    )
    schedule.next_run_at = schedule.next_after(timezone.now())
    with transaction.atomic():
        schedule.save()
        _audit(user, schedule, "created")
    return schedule


def schedule_delete(*, user, schedule: PowerSchedule) -> None:
    if not permissions.can_manage_schedules(user, schedule.host):
        raise permissions.Forbidden(
            _("Only admins, and creators on their own hosts, may remove a schedule.")
        )
    with transaction.atomic():
        _audit(user, schedule, "deleted")
        schedule.delete()


def schedule_skip_next(*, user, schedule: PowerSchedule, reason: str) -> PowerSchedule:
    """Skip the next run (an empty reason cancels the skip)."""
    if not permissions.can_skip_schedule(user, schedule.host):
        raise permissions.Forbidden(_("Your role does not allow you to skip this schedule."))
    reason = reason.strip()[:300]
    schedule.skip_reason = reason
    schedule.skip_by_name = user.get_username() if reason else ""
    with transaction.atomic():
        schedule.save(update_fields=["skip_reason", "skip_by_name"])
        _audit(user, schedule, "next run skipped" if reason else "skip cancelled", reason=reason)
    return schedule


def schedules_run_due(*, now: datetime | None = None) -> list[ScheduleRun]:
    """Fire every enabled schedule whose next run is due; returns the runs recorded."""
    now = now or timezone.now()
    due = PowerSchedule.objects.filter(enabled=True, next_run_at__lte=now)
    runs = []
    for pk in list(due.order_by("next_run_at").values_list("pk", flat=True)[:RUN_BATCH]):
        run = _fire_once(pk, now)
        if run is not None:
            runs.append(run)
    return runs


def _fire_once(pk: int, now: datetime) -> ScheduleRun | None:
    try:
        with transaction.atomic():
            schedule = (
                PowerSchedule.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("host", "created_by")
                .filter(pk=pk, enabled=True, next_run_at__lte=now)
                .first()
            )
            if schedule is None:
                return None  # another pass took it
            due = schedule.next_run_at
            run = ScheduleRun.objects.create(schedule=schedule, due_at=due, ran_at=now, outcome="")
            run.outcome, why, run.operation = _fire(schedule, due, now)
            _keep_why(run, why)
            run.save(update_fields=["outcome", *WHY_FIELDS, "operation"])
            if run.outcome == Outcome.SKIPPED:
                schedule.skip_reason = schedule.skip_by_name = ""
            schedule.next_run_at = schedule.next_after(max(now, due))
            schedule.save(update_fields=["next_run_at", "skip_reason", "skip_by_name"])
    except IntegrityError:
        return None  # this due time already has its run
    logger.info("schedule %s due %s: %s %s", pk, due.isoformat(), run.outcome, run.detail)
    return run


WHY_FIELDS = ("detail", "detail_key", "detail_values")


def _keep_why(run: ScheduleRun, why: Said | str) -> None:
    """Why a run did what it did: an outcome the reader's language words (a `Said`), or words
    kept as they are (a refusal's own, already worded)."""
    if isinstance(why, Said):
        kept = stored(why, "detail")
    else:
        kept = {"detail": why, "detail_key": "", "detail_values": {}}
    for field in WHY_FIELDS:
        setattr(run, field, kept[field])


def _fire(schedule: PowerSchedule, due: datetime, now: datetime):
    late = now - due
    if late > timedelta(minutes=settings.XDS_SCHEDULE_GRACE_MINUTES):
        minutes = int(late.total_seconds() // 60)
        return Outcome.MISSED, said("schedule_missed", minutes=minutes), None
    if schedule.skip_reason:
        why = said("schedule_skipped", reason=schedule.skip_reason, by=schedule.skip_by_name)
        return Outcome.SKIPPED, why, None
    host = Host.objects.get(pk=schedule.host_id)
    if schedule.action == Operation.Kind.POWER_OFF:
        # A lease wins over a scheduled power-off (dashboard.services.leases says why).
        lease = Lease.objects.active().filter(host=host, ends_at__gt=due).first()
        if lease is not None:
            why = said(
                "schedule_leased",
                holder=lease.holder_name,
                until=team_time(lease.ends_at),
                purpose=lease.purpose,
            )
            return Outcome.LEASED, why, None
    if host.status == TARGET_STATUS[schedule.action] and not host.is_gone:
        status = said(f"status.{HostStatus(host.status).name.lower()}")
        return Outcome.NOTHING_TO_DO, said("schedule_already", status=status), None
    try:
        operation = operation_request(
            user=schedule.created_by,
            kind=schedule.action,
            host=host,
            idempotency_key=uuid.uuid5(schedule.key, due.isoformat()),
        )
    except permissions.Forbidden as forbidden:
        why = said(
            "schedule_not_allowed", member=schedule.created_by_name, reason=forbidden.message
        )
        return Outcome.NOT_ALLOWED, why, None
    except OperationRefused as refused:
        if refused.in_flight is not None:
            return Outcome.HOST_BUSY, refused.message, None
        return Outcome.REFUSED, refused.message, None
    return Outcome.STARTED, "", operation
