"""Leases: taking a shared host for some hours, extending, giving back, and ending them.

`leases_run_due`, run by beat every XDS_SCHEDULE_CHECK_SECONDS, reminds each holder
XDS_LEASE_REMIND_MINUTES before the end (once per end time, with a signed link to extend that
works from e-mail or chat once signed in), and ends each lease that is over: the host is powered
off by an ordinary operation asked for in the holder's name (their role decides, now; the request
or refusal is audited like any other), unless it is already off.

Leases and power schedules never fight; the rule is:
- while a lease holds a host, the host's scheduled power-offs do not fire: each such run is
  recorded as "held by a lease" (the holder is using it, and said until when). Scheduled
  power-ons fire as usual (they do not take the host from the holder);
- at the lease's end its power-off is asked for whatever the schedules say. If an operation is
  already running on the host then (a scheduled power-on, say), or the host is booting, the
  lease stays open and the next passes try again for XDS_SCHEDULE_GRACE_MINUTES: the host is
  not left on because two runs met. If it still cannot be powered off (or the holder may no
  longer do it), the lease ends saying why and the holder and the admins are told it is on.
Every step is audited.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from dashboard import permissions
from dashboard.models import (
    CHANGING_STATUSES,
    AuditEvent,
    Host,
    Lease,
    Notification,
    Operation,
)
from dashboard.services import notifications
from dashboard.services.alert_delivery import absolute_link
from dashboard.services.audit import audit_record
from dashboard.services.operations import OperationRefused, operation_request
from dashboard.wording import alert_stored, team_time
from vmclient.types import HostStatus

logger = logging.getLogger(__name__)

Outcome = Lease.Outcome
PURPOSE_MAX_LENGTH = 200
# The extend link in a reminder works this long (it names the lease and its holder, and still
# needs the holder signed in); a newer reminder carries a newer link.
LINK_MAX_AGE = timedelta(days=3)
_SALT = "dashboard.lease.extend"


class LeaseRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _audit(action, lease: Lease, summary: str, *, actor=None, **details) -> None:
    """Audit a change of the lease, and bump its host's version: the pages polling the host
    show the holder (or its absence) at once."""
    Host.objects.filter(pk=lease.host_id).update(version=F("version") + 1)
    audit_record(
        action,
        summary,
        actor=actor,
        actor_name=None if actor is not None else lease.holder_name,
        host=lease.host,
        details={"lease": lease.pk, "ends_at": lease.ends_at.isoformat(), **details},
    )


def _hours(hours) -> int:
    try:
        hours = int(hours)
    except (TypeError, ValueError):
        hours = 0
    if not 1 <= hours <= settings.XDS_LEASE_MAX_HOURS:
        raise LeaseRefused(
            _("A lease lasts from 1 to %(max)d hours.") % {"max": settings.XDS_LEASE_MAX_HOURS}
        )
    return hours


def lease_active(host: Host) -> Lease | None:
    return Lease.objects.active().filter(host=host).select_related("holder").first()


def held_message(lease: Lease) -> str:
    return _("%(person)s holds this host until %(when)s (%(purpose)s).") % {
        "person": lease.holder_name,
        "when": team_time(lease.ends_at),
        "purpose": lease.purpose,
    }


def lease_take(*, user, host: Host, hours, purpose: str, now: datetime | None = None) -> Lease:
    if not permissions.can_lease(user, host):
        raise permissions.Forbidden(
            _("Only who may power this host off may lease it: its end powers it off.")
        )
    hours = _hours(hours)
    purpose = " ".join((purpose or "").split())[:PURPOSE_MAX_LENGTH]
    if not purpose:
        raise LeaseRefused(_("Say what the host is for while you hold it."))
    if host.is_gone:
        raise LeaseRefused(_("The host is gone; there is nothing to lease."))
    now = now or timezone.now()
    lease = Lease(
        host=host,
        holder=user,
        holder_name=user.get_username(),
        purpose=purpose,
        started_at=now,
        ends_at=now + timedelta(hours=hours),
    )
    try:
        with transaction.atomic():
            lease.save()
            _audit(
                AuditEvent.Action.LEASE_TAKEN,
                lease,
                f"{lease.holder_name} leased {host} for {hours} h until "
                f"{team_time(lease.ends_at)}: {purpose}",
                actor=user,
                hours=hours,
                purpose=purpose,
            )
    except IntegrityError:
        held = lease_active(host)
        if held is None:
            raise
        raise LeaseRefused(held_message(held)) from None
    return lease


def lease_extend(*, user, lease: Lease, hours, now: datetime | None = None) -> Lease:
    """Move the end `hours` on from the later of now and the current end, within
    XDS_LEASE_MAX_HOURS from now."""
    if not permissions.can_change_lease(user, lease):
        raise permissions.Forbidden(_("Only its holder or an admin may extend this lease."))
    hours = _hours(hours)
    now = now or timezone.now()
    with transaction.atomic():
        lease = Lease.objects.select_for_update().select_related("host").get(pk=lease.pk)
        if not lease.is_active:
            raise LeaseRefused(_("This lease has ended; take the host again if it is free."))
        ends_at = max(lease.ends_at, now) + timedelta(hours=hours)
        if ends_at > now + timedelta(hours=settings.XDS_LEASE_MAX_HOURS):
            raise LeaseRefused(
                _("A lease may run at most %(max)d hours from now.")
                % {"max": settings.XDS_LEASE_MAX_HOURS}
            )
        lease.ends_at = ends_at
        lease.extended_count += 1
        lease.save(update_fields=["ends_at", "extended_count"])
        _audit(
            AuditEvent.Action.LEASE_EXTENDED,
            lease,
            f"Lease of {lease.host} by {lease.holder_name} extended by {hours} h, until "
            f"{team_time(ends_at)}",
            actor=user,
            hours=hours,
        )
    return lease


def lease_release(*, user, lease: Lease, now: datetime | None = None) -> Lease:
    """Give the host back before the end: nothing is powered off."""
    if not permissions.can_change_lease(user, lease):
        raise permissions.Forbidden(_("Only its holder or an admin may give this lease back."))
    now = now or timezone.now()
    with transaction.atomic():
        lease = Lease.objects.select_for_update().select_related("host").get(pk=lease.pk)
        if not lease.is_active:
            return lease
        _end(lease, now, Outcome.RELEASED, f"Given back by {user.get_username()}.")
        _audit(
            AuditEvent.Action.LEASE_ENDED,
            lease,
            f"Lease of {lease.host} by {lease.holder_name} given back by {user.get_username()}",
            actor=user,
            outcome=lease.outcome,
        )
    return lease


def _end(lease: Lease, now: datetime, outcome: str, detail: str, operation=None) -> None:
    lease.ended_at, lease.outcome, lease.detail, lease.operation = now, outcome, detail, operation
    lease.save(update_fields=["ended_at", "outcome", "detail", "operation"])


# --- The extend link ----------------------------------------------------------------------------


def extend_token(lease: Lease) -> str:
    return signing.dumps({"lease": lease.pk, "holder": lease.holder_id}, salt=_SALT)


def extend_path(lease: Lease) -> str:
    return f"{reverse('lease-extend', args=[lease.pk])}?token={extend_token(lease)}"


def extend_url(lease: Lease) -> str:
    """The extend link for someone outside the dashboard (XDS_PUBLIC_URL); the path without it."""
    return absolute_link(extend_path(lease)) or extend_path(lease)


def token_lease(token: str, lease_id: int) -> Lease | None:
    """The lease `token` was made for, if it is that of `lease_id`, unaltered and recent."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=LINK_MAX_AGE)
    except signing.BadSignature:  # altered, or too old (SignatureExpired is one)
        return None
    if not isinstance(data, dict) or data.get("lease") != lease_id:
        return None
    lease = Lease.objects.select_related("host").filter(pk=lease_id).first()
    if lease is None or lease.holder_id != data.get("holder"):
        return None
    return lease


# --- The periodic pass --------------------------------------------------------------------------


def leases_run_due(*, now: datetime | None = None) -> dict[str, int]:
    """Remind the holders of leases about to end, end the leases that are over. Returns how
    many of each."""
    now = now or timezone.now()
    reminded = _remind(now)
    ended = 0
    due = Lease.objects.active().filter(ends_at__lte=now).order_by("ends_at")
    for pk in list(due.values_list("pk", flat=True)[:200]):
        ended += _end_once(pk, now)
    return {"reminded": reminded, "ended": ended}


def _remind(now: datetime) -> int:
    soon = now + timedelta(minutes=settings.XDS_LEASE_REMIND_MINUTES)
    sent = 0
    for lease in (
        Lease.objects.active()
        .filter(ends_at__gt=now, ends_at__lte=soon)
        .select_related("host", "holder")
    ):
        if lease.reminded_for == lease.ends_at:
            continue
        minutes = max(1, int((lease.ends_at - now).total_seconds() // 60))
        sent += notifications.notify(
            key=f"lease:{lease.pk}:{lease.ends_at.isoformat()}",
            kind=Notification.Kind.LEASE,
            message=alert_stored(
                "lease_ending",
                host=str(lease.host),
                id=lease.host_id,
                minutes=minutes,
                time=team_time(lease.ends_at),
                purpose=lease.purpose,
                url=extend_url(lease),
            ),
            users=[lease.holder],
            host_id=lease.host_id,
            link=extend_path(lease),
        )
        Lease.objects.filter(pk=lease.pk).update(reminded_for=lease.ends_at)
    return sent


def _tell_left_on(lease: Lease) -> None:
    """The end could not power the host off: its holder and the admins are told it is still on."""
    notifications.notify(
        key=f"lease-left-on:{lease.pk}",
        kind=Notification.Kind.LEASE,
        message=alert_stored(
            "lease_left_on", host=str(lease.host), holder=lease.holder_name, detail=lease.detail
        ),
        users=[lease.holder, *notifications.admins()],
        host_id=lease.host_id,
        link=reverse("host-detail", args=[lease.host_id]),
    )


def _end_once(pk: int, now: datetime) -> int:
    with transaction.atomic():
        lease = (
            Lease.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("host", "holder")
            .filter(pk=pk, ended_at__isnull=True, ends_at__lte=now)
            .first()
        )
        if lease is None:
            return 0  # another pass took it, or it was extended meanwhile
        host = Host.objects.get(pk=lease.host_id)
        if host.is_gone or host.status == HostStatus.OFF:
            outcome, detail, operation = Outcome.ALREADY_OFF, "The host was already off.", None
        else:
            try:
                operation = operation_request(
                    user=lease.holder,
                    kind=Operation.Kind.POWER_OFF,
                    host=host,
                    idempotency_key=uuid.uuid5(lease.key, lease.ends_at.isoformat()),
                )
                outcome, detail = Outcome.POWERED_OFF, ""
            except permissions.Forbidden as forbidden:
                outcome = Outcome.NOT_ALLOWED
                detail, operation = f"{lease.holder_name}: {forbidden.message}", None
            except OperationRefused as refused:
                # Another operation running on the host, or a host booting: try again on the
                # next passes, for as long as a schedule's run may still fire late.
                passing = refused.in_flight is not None or host.status in CHANGING_STATUSES
                grace = timedelta(minutes=settings.XDS_SCHEDULE_GRACE_MINUTES)
                if passing and now - lease.ends_at < grace:
                    logger.info("lease %s: host busy, ending it on a next pass", pk)
                    return 0
                outcome, detail, operation = Outcome.REFUSED, refused.message, None
        _end(lease, now, outcome, detail, operation)
        _audit(
            AuditEvent.Action.LEASE_ENDED,
            lease,
            f"Lease of {lease.host} by {lease.holder_name} ended ({outcome})",
            outcome=outcome,
            detail=detail,
        )
        if outcome in (Outcome.NOT_ALLOWED, Outcome.REFUSED):
            _tell_left_on(lease)
    logger.info("lease %s ended: %s %s", pk, outcome, detail)
    return 1
