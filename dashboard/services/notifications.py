"""Telling people: by e-mail (Django's backends; the console by default) and by a generic
webhook (a JSON POST to XDS_WEBHOOK_URL, which WeCom, DingTalk, Feishu or Slack bots can take).

Each notification is a row with a key naming what it is about; a second notification with the
same key is not sent, which is what makes "once per threshold" hold whatever how often the
checks run. Rows are written in the caller's transaction; delivery is a Celery task once it
commits (a slow mail server or webhook never holds up a page), or done at once when the queue
cannot be reached.

What is worth telling: a purchase or a raise of the approval limit waiting for approval (the
other admins), a rental about to expire (at each of XDS_EXPIRY_ALERT_DAYS) or expired, a host
stuck booting or shutting down longer than XDS_STUCK_MINUTES, and an operation refused for money
(6003, 9000, 9001): the owner (or requester) and the admins.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from dashboard.models import CHANGING_STATUSES, Host, Notification, Operation
from vmclient.types import HostStatus

logger = logging.getLogger(__name__)

Kind = Notification.Kind
# Refusals that mean the account needs money: balance too low, arrears, and the like.
MONEY_CODES = frozenset({"6003", "9000", "9001"})
WEBHOOK_TIMEOUT_SECONDS = 5


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


def notify(*, key: str, kind: str, subject: str, body: str, users, host_id: str = "") -> bool:
    """Record and send a notification, unless one with `key` was already sent."""
    people = _people(*users)
    # One line: the subject becomes a mail header, and host names come from the provider.
    subject = " ".join(subject.split())
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                key=key[:200],
                kind=kind,
                subject=subject[:300],
                body=body,
                recipients=[user.get_username() for user in people],
                host_id=host_id,
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


def deliver(pk: int) -> Notification | None:
    """Send notification `pk` by e-mail and webhook; record how each went."""
    notification = Notification.objects.filter(pk=pk).first()
    if notification is None:
        return None
    users = get_user_model().objects.filter(username__in=notification.recipients)
    addresses = sorted({user.email for user in users if user.email})
    email_result = webhook_result = ""
    if addresses:
        try:
            send_mail(
                f"[Xuandashi] {notification.subject}",
                notification.body,
                settings.DEFAULT_FROM_EMAIL,
                addresses,
            )
            email_result = "ok"
        except Exception as exc:
            email_result = f"{type(exc).__name__}: {exc}"[:300]
    if settings.XDS_WEBHOOK_URL:
        webhook_result = _post_webhook(notification)
    Notification.objects.filter(pk=pk).update(
        email_result=email_result, webhook_result=webhook_result
    )
    return notification


def webhook_payload(notification: Notification) -> dict:
    """What the webhook receives: plain fields, and a "text" chat bots can post as it is."""
    return {
        "kind": notification.kind,
        "subject": notification.subject,
        "text": f"{notification.subject}\n{notification.body}",
        "host_id": notification.host_id or None,
        "recipients": notification.recipients,
        "at": notification.created_at.isoformat(),
    }


def _post_webhook(notification: Notification) -> str:
    try:
        response = requests.post(
            settings.XDS_WEBHOOK_URL,
            json=webhook_payload(notification),
            timeout=WEBHOOK_TIMEOUT_SECONDS,
        )
    except requests.RequestException as exc:
        logger.warning("webhook for notification %s failed: %s", notification.pk, exc)
        return f"{type(exc).__name__}"[:300]
    if response.status_code >= 300:
        return f"HTTP {response.status_code}"
    return "ok"


# --- What is worth telling --------------------------------------------------------------------


def approval_needed(operation: Operation) -> bool:
    from dashboard.services.approval_policy import create_price

    approvers = [user for user in admins() if user.pk != operation.requested_by_id]
    package = operation.params.get("package_name", "")
    price = create_price(operation)
    return notify(
        key=f"approval:{operation.pk}",
        kind=Kind.APPROVAL_NEEDED,
        subject=f"{operation.requested_by_name} asks to buy {package} for ¥{price}",
        body=(
            f"Operation #{operation.pk}: {operation.get_kind_display()} of {package} with "
            f"{operation.params.get('image_label', '')}. {_why_approval(operation)} It waits "
            "for another admin's approval on its operation page; nothing is bought until then."
        ),
        users=approvers,
    )


def _why_approval(operation: Operation) -> str:
    from dashboard.services.approval_policy import approval_limit_exceeded, create_price

    if approval_limit_exceeded(create_price(operation)) is not None:
        return "It is above the team's limit."
    return f"{operation.requested_by_name} is over their monthly budget."


def policy_proposed(policy, in_force) -> bool:
    """A raise of the approval limit waits for another admin to confirm it (Team policy)."""
    proposed = "none" if policy.proposed_threshold is None else f"¥{policy.proposed_threshold}"
    current = "none" if in_force is None else f"¥{in_force}"
    return notify(
        key=f"policy:{policy.proposed_at.isoformat()}",
        kind=Kind.APPROVAL_NEEDED,
        subject=f"{policy.proposed_by_name} proposes the approval limit {proposed}",
        body=(
            f"{policy.proposed_by_name} proposes to change the team's approval limit from "
            f"{current} to {proposed}. It takes effect only once another admin confirms it "
            "(Admin, Team policy); until then purchases above the limit in force wait for "
            "approval as before."
        ),
        users=[user for user in admins() if user.pk != policy.proposed_by_id],
    )


def operation_finished(operation: Operation) -> bool:
    """An operation refused for money tells its requester, the host's owner and the admins."""
    if operation.error_code not in MONEY_CODES:
        return False
    host = Host.objects.filter(pk=operation.host_id).select_related("owner").first()
    owner = host.owner if host is not None else None
    return notify(
        key=f"money:{operation.pk}",
        kind=Kind.MONEY,
        subject=f"{operation} refused by Xuandashi for money (code {operation.error_code})",
        body=f"{operation.message}\nTrace id: {operation.trace_id or '-'}",
        users=[operation.requested_by, owner, *admins()],
        host_id=operation.host_id or "",
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
            dict(
                key=f"expiring:{host.id}:{host.expires_at.isoformat()}:{days}",
                kind=Kind.EXPIRING,
                subject=f"{host} expires within {days} day(s), at {_local(host.expires_at)}",
                body=f"The rental of {host} ({host.id}) ends at {_local(host.expires_at)}. "
                "Renew it in the Xuandashi console, or save what is on it.",
                host=host,
            )
            for host in soon
        ]
    expired = present.filter(Q(status=HostStatus.EXPIRED) | Q(expires_at__lte=now))
    due += [
        dict(
            key=f"expired:{host.id}:{host.expires_at.isoformat() if host.expires_at else ''}",
            kind=Kind.EXPIRED,
            subject=f"{host} has expired",
            body=f"The rental of {host} ({host.id}) is over; the provider may reclaim it.",
            host=host,
        )
        for host in expired
    ]
    stuck_since = now - timedelta(minutes=settings.XDS_STUCK_MINUTES)
    stuck = present.filter(status__in=CHANGING_STATUSES, status_changed_at__lt=stuck_since)
    for host in stuck:
        minutes = int((now - host.status_changed_at).total_seconds() // 60)
        due.append(
            dict(
                key=f"stuck:{host.id}:{host.status}:{host.status_changed_at.isoformat()}",
                kind=Kind.STUCK,
                subject=f"{host} has been {host.status_label.lower()} for {minutes} min",
                body=f"{host} ({host.id}) has not left {host.status_label.lower()} since "
                f"{_local(host.status_changed_at)}. Check it in the Xuandashi console.",
                host=host,
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
        sent += notify(**alert, users=[host.owner, *team], host_id=host.id)
    return sent


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
