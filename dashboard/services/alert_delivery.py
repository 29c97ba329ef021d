"""Alerts to chat channels (and the XDS_WEBHOOK_URL webhook): one `AlertDelivery` per
notification and channel, sent by a Celery task, retried with backoff until the platform takes
it, and never dropped for a rate limit.

- `deliveries_queue(notification)` makes the deliveries of the channels that take its kind and
  queues them (once the transaction commits).
- `delivery_send(pk)` makes one attempt: it claims the row (a countdown task and the sweep may
  meet), keeps below the platform's rate (RATE_PER_MINUTE, counted in the shared cache: every
  worker process sees the same count) by postponing, posts, reads the answer (an error inside an
  HTTP 200 is a failure) and schedules the next attempt: after RETRY_SECONDS, doubling up to
  RETRY_MAX_SECONDS, MAX_ATTEMPTS in all; a rate-limit answer waits as long as the platform asks
  (or a minute) and does not count as an attempt.
- `deliveries_sweep()` (beat, every minute) sends what is due and whose task was lost (the
  broker was down when it was to be queued), and what waited while its channel was switched
  off, once it is switched on again.
- `delivery_test(channel, user)` sends a test message at once, then like any other delivery.

The URL holds the robot's token and the secret signs: neither is logged or recorded; a failed
request is recorded by its kind only (requests' messages repeat the URL).
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import requests
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.views.decorators.debug import sensitive_variables

from dashboard import chat_platforms
from dashboard.chat_platforms import Answer, ChatMessage
from dashboard.models import AlertChannel, AlertDelivery, Notification
from dashboard.wording import ALERTS, OPEN_PAGE, alert_words

logger = logging.getLogger(__name__)

State = AlertDelivery.State
TIMEOUT_SECONDS = 5
RETRY_SECONDS = 30
RETRY_MAX_SECONDS = 30 * 60
MAX_ATTEMPTS = 8
# A run holds a delivery this long at most (the POST's timeout, with room to spare).
CLAIM_SECONDS = 60
# The sweep leaves alone what its own countdown task should send within this.
SWEEP_GRACE_SECONDS = 30


def absolute_link(path: str) -> str:
    """The page's address for someone outside the dashboard: empty without XDS_PUBLIC_URL."""
    if not path or not settings.XDS_PUBLIC_URL:
        return ""
    return settings.XDS_PUBLIC_URL.rstrip("/") + path


def webhook_payload(notification: Notification, language: str = "en") -> dict:
    """What the generic webhook receives: plain fields, and a "text" chat bots can post as it is."""
    subject, body = notification_words(notification, language)
    return {
        "kind": notification.kind,
        "subject": subject,
        "text": f"{subject}\n{body}",
        "host_id": notification.host_id or None,
        "url": absolute_link(notification.link) or None,
        "language": language,
        "recipients": notification.recipients,
        "at": notification.created_at.isoformat(),
    }


def notification_words(notification: Notification, language: str) -> tuple[str, str]:
    if notification.message_key in ALERTS:
        try:
            return alert_words(notification.message_key, notification.message_values, language)
        except (KeyError, TypeError, ValueError):
            pass  # a value the sentence no longer names: the words as written
    return notification.subject, notification.body


def _message(delivery: AlertDelivery) -> ChatMessage:
    language = delivery.channel.language
    notification = delivery.notification
    if notification is None:
        subject, body = alert_words(
            "test", {"channel": delivery.channel.name, "name": delivery.test_by}, language
        )
        payload = {"kind": "test", "subject": subject, "text": f"{subject}\n{body}"}
        payload |= {"url": absolute_link("/") or None, "language": language}
        kind, link = "test", absolute_link("/")
    else:
        subject, body = notification_words(notification, language)
        payload = webhook_payload(notification, language)
        kind, link = notification.kind, absolute_link(notification.link)
    subject = " ".join(subject.split())
    label = alert_words_label(language)
    return ChatMessage(
        kind=kind, subject=subject, body=body, link=link, link_label=label, payload=payload
    )


def alert_words_label(language: str) -> str:
    with translation.override(language):
        return str(OPEN_PAGE)


# An error report (the DEBUG page, error mails) must not show them either.
@sensitive_variables("url", "secret", "request")
def post(kind: str, url: str, secret: str, message: ChatMessage) -> Answer:
    """One POST to a channel and what its answer means."""
    request = chat_platforms.build_request(kind, url, secret, message, time.time())
    try:
        response = requests.post(
            request.url, json=request.body, timeout=TIMEOUT_SECONDS, allow_redirects=False
        )
    except requests.RequestException as exc:
        return Answer(False, type(exc).__name__)
    return chat_platforms.read_answer(
        kind, response.status_code, response.headers, response.content[:10_000]
    )


def post_to_settings_webhook(notification: Notification) -> str:
    """The XDS_WEBHOOK_URL webhook (English, no history: its result is on the notification)."""
    message = ChatMessage(notification.kind, "", "", "", "", webhook_payload(notification))
    answer = post(AlertChannel.Kind.WEBHOOK, settings.XDS_WEBHOOK_URL, "", message)
    if not answer.ok:
        logger.warning("webhook for notification %s failed: %s", notification.pk, answer.result)
    return answer.result[:300]


# --- Deliveries ---------------------------------------------------------------------------------


def channels_for(kind: str) -> list[AlertChannel]:
    return [channel for channel in AlertChannel.objects.filter(enabled=True) if channel.takes(kind)]


def deliveries_queue(notification: Notification) -> int:
    """One delivery per channel that takes the notification's kind, queued; returns how many
    are new (a second run makes none)."""
    made = []
    for channel in channels_for(notification.kind):
        try:
            with transaction.atomic():
                made.append(
                    AlertDelivery.objects.create(channel=channel, notification=notification)
                )
        except IntegrityError:
            continue
    for delivery in made:
        transaction.on_commit(lambda pk=delivery.pk: _queue(pk, 0))
    return len(made)


def delivery_test(channel: AlertChannel, user) -> AlertDelivery:
    """A test message to `channel`, sent now; a failure is retried like any delivery."""
    delivery = AlertDelivery.objects.create(
        channel=channel, test_by=user.get_username() if user is not None else "manage.py"
    )
    delivery_send(delivery.pk)
    delivery.refresh_from_db()
    return delivery


def _queue(pk: int, countdown: float) -> None:
    from dashboard import tasks

    try:
        tasks.send_alert.apply_async((pk,), countdown=max(0.0, countdown))
    except Exception as exc:  # the broker is down: the sweep sends it once it is back
        logger.warning("alert delivery %s: queue unreachable (%s); the sweep will send it", pk, exc)


def _claim(pk: int) -> bool:
    now = timezone.now()
    return bool(
        AlertDelivery.objects.filter(pk=pk, state=State.PENDING, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
    )


def _now() -> float:
    """Epoch seconds: the minute a channel's rate is counted in."""
    return time.time()


def _over_rate(channel: AlertChannel, now: float) -> float:
    """0 when the channel may take one more message now, else seconds until it may."""
    limit = chat_platforms.RATE_PER_MINUTE.get(channel.kind)
    if limit is None:
        return 0.0
    minute = int(now // 60)
    key = f"xds:alerts:rate:{channel.pk}:{minute}"
    try:
        cache.add(key, 0, 120)
        count = cache.incr(key)
    except Exception as exc:  # no shared count: send, and let the platform's answer slow us
        logger.warning("alert rate count unavailable: %s", exc)
        return 0.0
    return 0.0 if count <= limit else (minute + 1) * 60 - now + 1


def delivery_send(pk: int) -> str | None:
    """One attempt at delivery `pk`; returns its state afterwards (None if it was not ours)."""
    if not _claim(pk):
        return None
    delivery = AlertDelivery.objects.select_related("channel", "notification").get(pk=pk)
    channel = delivery.channel
    if not channel.enabled and delivery.notification_id is not None:
        # Switched off by an admin: kept waiting, sent once it is switched on again (the sweep).
        AlertDelivery.objects.filter(pk=pk).update(claimed_until=None)
        return State.PENDING
    wait = _over_rate(channel, _now())
    if wait:
        logger.info(
            "alert delivery %s to %s: at the channel's rate, waiting %.0f s", pk, channel, wait
        )
        _postpone(delivery, wait, failed=False)
        return State.PENDING
    answer = post(channel.kind, channel.url, channel.secret, _message(delivery))
    if answer.ok:
        AlertDelivery.objects.filter(pk=pk).update(
            state=State.SENT,
            attempts=delivery.attempts + 1,
            last_result="ok",
            sent_at=timezone.now(),
            claimed_until=None,
        )
        return State.SENT
    logger.warning("alert delivery %s to %s failed: %s", pk, channel, answer.result)
    if answer.rate_limited:
        delivery.last_result = answer.result
        _postpone(delivery, answer.retry_after or chat_platforms.RATE_LIMIT_PAUSE, failed=True)
        return State.PENDING
    attempts = delivery.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        AlertDelivery.objects.filter(pk=pk).update(
            state=State.FAILED,
            attempts=attempts,
            failures=delivery.failures + 1,
            last_result=answer.result[:300],
            claimed_until=None,
        )
        return State.FAILED
    delay = min(RETRY_MAX_SECONDS, RETRY_SECONDS * 2 ** (attempts - 1))
    delivery.attempts, delivery.last_result = attempts, answer.result
    _postpone(delivery, delay, failed=True)
    return State.PENDING


def _postpone(delivery: AlertDelivery, seconds: float, *, failed: bool) -> None:
    AlertDelivery.objects.filter(pk=delivery.pk).update(
        attempts=delivery.attempts,
        failures=delivery.failures + (1 if failed else 0),
        last_result=delivery.last_result[:300],
        next_attempt_at=timezone.now() + timedelta(seconds=seconds),
        claimed_until=None,
    )
    transaction.on_commit(lambda: _queue(delivery.pk, seconds))


def deliveries_sweep() -> int:
    """Queue the deliveries that are due and that no task will send (theirs was lost)."""
    now = timezone.now()
    due = (
        AlertDelivery.objects.filter(
            state=State.PENDING,
            channel__enabled=True,
            next_attempt_at__lte=now - timedelta(seconds=SWEEP_GRACE_SECONDS),
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .values_list("pk", flat=True)
    )
    pks = list(due[:500])
    for pk in pks:
        _queue(pk, 0)
    return len(pks)
