"""Telling people: by e-mail (Django's backends; readable files by default) to the members who
chose that kind of alert (their Alerts page), by the generic webhook of XDS_WEBHOOK_URL, and to
the chat channels admins added that take its kind (dashboard.services.alert_delivery: one
delivery per channel, in the channel's language, retried until delivered).

A notification keeps its English words and its message key and values (wording.ALERTS), so each
channel words it again in its own language, and the path of the page it is about.

Each notification is a row with a key naming what it is about; a second notification with the
same key is not sent, which is what makes "once per threshold" hold whatever how often the
checks run. Rows are written in the caller's transaction; delivery is a Celery task once it
commits (a slow mail server or webhook never holds up a page), or done at once when the queue
cannot be reached.

What is worth telling: a purchase or a raise of the approval limit waiting for approval (the
other admins), a rental about to expire (at each of XDS_EXPIRY_ALERT_DAYS) or expired, a host
stuck booting or shutting down longer than XDS_STUCK_MINUTES, and an operation refused for money
(6003, 9000, 9001), a cloud disk stopped for arrears and a personal image that failed to be
made: the owner (or requester) and the admins.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from dashboard.models import (
    CHANGING_STATUSES,
    AlertPreference,
    Host,
    Notification,
    Operation,
)
from dashboard.services import alert_delivery
from dashboard.wording import NO_LIMIT, Said, alert_stored, said, team_time
from vmclient.types import HostStatus

logger = logging.getLogger(__name__)

Kind = Notification.Kind
# Refusals that mean the account needs money: balance too low, arrears, and the like.
MONEY_CODES = frozenset({"6003", "9000", "9001"})


def admins():
    """Who is told about the fleet as a whole: the Admin role and superusers."""
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name="Admin"))
        .distinct()
    )


def _people(*users) -> list:
    seen, people = set(), []
    for user in users:
        if user is not None and user.is_active and user.pk not in seen:
            seen.add(user.pk)
            people.append(user)
    return people


def notify(
    *,
    key: str,
    kind: str,
    message: dict,
    users,
    host_id: str = "",
    link: str = "",
) -> bool:
    """Record and send a notification, unless one with `key` was already sent. `message` is
    what `wording.alert_stored` keeps of its words; `link` the path of the page it is about."""
    people = _people(*users)
    # One line: the subject becomes a mail header, and host names come from the provider.
    subject = " ".join(message["subject"].split())
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                key=key[:200],
                kind=kind,
                subject=subject[:300],
                body=message["body"],
                message_key=message["message_key"],
                message_values=message["message_values"],
                recipients=[user.get_username() for user in people],
                host_id=host_id,
                link=link[:300],
            )
    except IntegrityError:
        return False
    transaction.on_commit(lambda: _deliver_later(notification.pk))
    return True


def _deliver_later(pk: int) -> None:
    from dashboard import tasks

    try:
        tasks.deliver_notification.delay(pk)
    except Exception as exc:  # the broker is down: tell people now rather than never
        logger.warning("notification %s: queue unreachable (%s); delivering now", pk, exc)
        deliver(pk)


def wants_email(user, kind: str) -> bool:
    """Whether `user` gets alerts of `kind` by e-mail too (their settings page; all by default)."""
    preference = AlertPreference.objects.filter(user=user).first()
    return preference is None or kind in preference.email_kinds


def deliver(pk: int) -> Notification | None:
    """Send notification `pk` by e-mail, to the XDS_WEBHOOK_URL webhook and to the chat channels
    that take its kind; record how each went. Safe to run twice: mail and the webhook go once
    (their result is recorded), and a channel gets one delivery per notification."""
    notification = Notification.objects.filter(pk=pk).first()
    if notification is None:
        return None
    email_result, webhook_result = notification.email_result, notification.webhook_result
    if email_result != "ok":
        email_result = _send_mail(notification)
    if settings.XDS_WEBHOOK_URL and webhook_result != "ok":
        webhook_result = alert_delivery.post_to_settings_webhook(notification)
    Notification.objects.filter(pk=pk).update(
        email_result=email_result, webhook_result=webhook_result
    )
    alert_delivery.deliveries_queue(notification)
    return notification


def _send_mail(notification: Notification) -> str:
    users = get_user_model().objects.filter(username__in=notification.recipients)
    addresses = sorted(
        {user.email for user in users if user.email and wants_email(user, notification.kind)}
    )
    if not addresses:
        return ""
    subject, body = email_words(notification)
    try:
        send_mail(f"[Xuandashi] {subject}", body, settings.DEFAULT_FROM_EMAIL, addresses)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:300]
    return "ok"


def email_words(notification: Notification) -> tuple[str, str]:
    """The alert's e-mail in XDS_EMAIL_LANGUAGES: the subject in the first language; the words
    in each, in order (headed by their subject when there are several). One e-mail for all, so
    that a delivery retried sends it once more at most, never once per language."""
    worded = [
        alert_delivery.notification_words(notification, language)
        for language in settings.XDS_EMAIL_LANGUAGES
    ]
    subject = " ".join(worded[0][0].split())  # one line: it becomes a mail header
    if len(worded) == 1:
        return subject, worded[0][1]
    return subject, "\n\n----\n\n".join(f"{words[0]}\n\n{words[1]}" for words in worded)


# --- What is worth telling --------------------------------------------------------------------


def approval_needed(operation: Operation) -> bool:
    from dashboard.services.approval_policy import create_price

    approvers = [user for user in admins() if user.pk != operation.requested_by_id]
    if operation.kind == Operation.Kind.DISK_CREATE:
        return notify(
            key=f"approval:{operation.pk}",
            kind=Kind.APPROVAL_NEEDED,
            message=alert_stored(
                "disk_approval_needed",
                name=operation.requested_by_name,
                size=operation.params.get("size_gb", "?"),
                price=str(create_price(operation) or "?"),
                operation=operation.pk,
                kind=Operation.Kind(operation.kind).label,
            ),
            users=approvers,
            link=reverse("operation-detail", args=[operation.pk]),
        )
    package = operation.params.get("package_name", "")
    return notify(
        key=f"approval:{operation.pk}",
        kind=Kind.APPROVAL_NEEDED,
        message=alert_stored(
            _approval_key(operation),
            name=operation.requested_by_name,
            package=package,
            price=str(create_price(operation)),
            operation=operation.pk,
            kind=Operation.Kind(operation.kind).label,
            image=operation.params.get("image_label", ""),
        ),
        users=approvers,
        link=reverse("operation-detail", args=[operation.pk]),
    )


def _approval_key(operation: Operation) -> str:
    """Why a create waits: above the team's limit, or its member is over their budget."""
    from dashboard.services.approval_policy import approval_limit_exceeded, create_price

    if approval_limit_exceeded(create_price(operation)) is not None:
        return "approval_needed"
    return "approval_needed_over_budget"


def policy_proposed(policy, in_force) -> bool:
    """A raise of the approval limit waits for another admin to confirm it (Team policy)."""
    proposed = NO_LIMIT if policy.proposed_threshold is None else f"¥{policy.proposed_threshold}"
    current = NO_LIMIT if in_force is None else f"¥{in_force}"
    return notify(
        key=f"policy:{policy.proposed_at.isoformat()}",
        kind=Kind.APPROVAL_NEEDED,
        message=alert_stored(
            "policy_proposed", name=policy.proposed_by_name, proposed=proposed, current=current
        ),
        users=[user for user in admins() if user.pk != policy.proposed_by_id],
        link=reverse("admin:dashboard_teampolicy_change", args=[policy.pk]),
    )


def operation_finished(operation: Operation) -> bool:
    """An operation refused for money tells its requester, the host's owner and the admins."""
    if operation.error_code not in MONEY_CODES:
        return False
    host = Host.objects.filter(pk=operation.host_id).select_related("owner").first()
    owner = host.owner if host is not None else None
    if operation.message_key:  # worded again in each channel's language
        said_message = Said(operation.message_key, operation.message_values or {})
    else:
        said_message = operation.message
    return notify(
        key=f"money:{operation.pk}",
        kind=Kind.MONEY,
        message=alert_stored(
            "money",
            kind=Operation.Kind(operation.kind).label,
            target=operation.host_name
            or operation.host_id
            or operation.params.get("package_name", ""),
            code=operation.error_code,
            message=said_message,
            trace=operation.trace_id or "-",
        ),
        users=[operation.requested_by, owner, *admins()],
        host_id=operation.host_id or "",
        link=reverse("operation-detail", args=[operation.pk]),
    )


def disk_arrears(disk) -> bool:
    """A disk the provider stopped for arrears (it unmounted it): its owner and the admins.
    Once per time it stops (the key holds when its status changed)."""
    since = disk.status_changed_at.isoformat() if disk.status_changed_at else ""
    owner = disk.owner if disk.owner_id else None
    return notify(
        key=f"disk-arrears:{disk.id}:{since}",
        kind=Kind.DISK_ARREARS,
        message=alert_stored("disk_arrears", disk=str(disk), id=disk.id, size=disk.size_gb or "?"),
        users=[owner, *admins()],
        link=reverse("disk-detail", args=[disk.id]),
    )


def image_failed(image) -> bool:
    """A personal image the provider failed to make: its owner and the admins. Once per image
    (an image does not fail twice)."""
    owner = image.owner if image.owner_id else None
    return notify(
        key=f"image-failed:{image.id}",
        kind=Kind.IMAGE_FAILED,
        message=alert_stored("image_failed", image=str(image), id=image.id),
        users=[owner, *admins()],
        link=reverse("image-detail", args=[image.id]),
    )


def alerts_check(*, now: datetime | None = None) -> int:
    """Rentals expiring or expired, and hosts stuck changing. Returns how many were sent.
    What was already sent is skipped with one query, not one failed insert per host per run."""
    now = now or timezone.now()
    team = list(admins())
    present = Host.objects.present().select_related("owner")
    due = []
    for days in sorted(settings.XDS_EXPIRY_ALERT_DAYS, reverse=True):
        soon = present.filter(expires_at__gt=now, expires_at__lte=now + timedelta(days=days))
        due += [
            _host_alert(
                host,
                Kind.EXPIRING,
                key=f"expiring:{host.id}:{host.expires_at.isoformat()}:{days}",
                days=days,
                time=team_time(host.expires_at),
            )
            for host in soon
        ]
    expired = present.filter(Q(status=HostStatus.EXPIRED) | Q(expires_at__lte=now))
    due += [
        _host_alert(
            host,
            Kind.EXPIRED,
            key=f"expired:{host.id}:{host.expires_at.isoformat() if host.expires_at else ''}",
        )
        for host in expired
    ]
    stuck_since = now - timedelta(minutes=settings.XDS_STUCK_MINUTES)
    stuck = present.filter(status__in=CHANGING_STATUSES, status_changed_at__lt=stuck_since)
    for host in stuck:
        minutes = int((now - host.status_changed_at).total_seconds() // 60)
        due.append(
            _host_alert(
                host,
                Kind.STUCK,
                key=f"stuck:{host.id}:{host.status}:{host.status_changed_at.isoformat()}",
                status=said(f"status.{HostStatus(host.status).name.lower()}"),
                minutes=minutes,
                time=team_time(host.status_changed_at),
            )
        )
    sent_before = set(
        Notification.objects.filter(key__in=[alert["key"] for alert in due]).values_list(
            "key", flat=True
        )
    )
    sent = 0
    for alert in due:
        if alert["key"] in sent_before:
            continue
        host = alert.pop("host")
        sent += notify(
            **alert,
            users=[host.owner, *team],
            host_id=host.id,
            link=reverse("host-detail", args=[host.id]),
        )
    return sent


def _host_alert(host: Host, kind: Notification.Kind, *, key: str, **values) -> dict:
    """An alert of `kind` about `host`, sent once per `key`: the words of that kind's alert, with
    the host, its id and `values`."""
    message = alert_stored(kind.value, host=str(host), id=host.id, **values)
    return dict(key=key, kind=kind, message=message, host=host)
