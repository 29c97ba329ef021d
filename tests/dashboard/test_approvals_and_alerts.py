"""A second pair of eyes on big purchases, and the warnings before money or time runs out:
approval end to end; notifications once per threshold, by e-mail and to a webhook (a local
receiver checks what it gets)."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail
from django.utils import timezone

from dashboard import services
from dashboard.models import AuditEvent, Notification, Operation, TeamPolicy
from tests.dashboard.conftest import CREATE_KEY, payg_confirmed
from vmclient.simulator import Fault
from vmclient.types import HostStatus

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("deliver_notifications_at_once")]

HTMX = {"HX-Request": "true"}


@pytest.fixture
def check(django_capture_on_commit_callbacks):
    """The periodic alert check at `now`, its deliveries run as its transaction commits."""

    def check_at(now=None):
        with django_capture_on_commit_callbacks(execute=True):
            return services.alerts_check(now=now)

    return check_at


@pytest.fixture
def limit():
    def set_limit(amount):
        policy = TeamPolicy.current()
        policy.approval_threshold = None if amount is None else Decimal(amount)
        policy.save()

    return set_limit


def buy(client, django_capture_on_commit_callbacks, key=CREATE_KEY):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/hosts/new/", payg_confirmed(key), follow=True)


@pytest.fixture
def awaiting(client, cleo, catalog_cached, limit, django_capture_on_commit_callbacks):
    """awaiting(limit): with the approval limit there, below ¥4.50, cleo (who stays signed in)
    buys the PAYG box; her operation, awaiting approval."""

    def awaiting(amount) -> Operation:
        limit(amount)
        client.force_login(cleo)
        buy(client, django_capture_on_commit_callbacks)
        return Operation.objects.get()

    return awaiting


def test_a_purchase_above_the_limit_waits_and_the_other_admins_are_told(
    client, cleo, ada, make_member, catalog_cached, limit, dispatched,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    make_member("abe", "Admin")
    limit("4.00")
    client.force_login(cleo)

    page = buy(client, django_capture_on_commit_callbacks).content.decode()

    operation = Operation.objects.get()
    assert operation.state == "awaiting" and dispatched == []  # nothing on its way to buy
    assert "waits for another admin&#x27;s approval" in page
    assert "¥4.50 is above the team's limit of ¥4.00" in page
    notification = Notification.objects.get(kind="approval_needed")
    assert sorted(notification.recipients) == ["abe", "ada"]  # not cleo
    assert sorted(mail.outbox[0].to) == ["abe@example.test", "ada@example.test"]
    assert "cleo asks to buy" in mail.outbox[0].subject


def test_approving_queues_it_and_is_audited(
    client, awaiting, ada, dispatched, django_capture_on_commit_callbacks
):
    operation = awaiting("4.00")
    # The member who asked cannot approve it; an admin sees the count in the header.
    assert client.post(f"/operations/{operation.pk}/approve/").status_code == 403

    client.force_login(ada)
    assert "1 to approve" in client.get("/hosts/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/operations/{operation.pk}/approve/")

    operation.refresh_from_db()
    assert operation.state == "queued"
    assert [call[0] for call in dispatched] == [operation.pk]
    assert AuditEvent.objects.filter(action="approval_granted", actor=ada).exists()


def test_a_price_that_moved_is_not_approved(client, awaiting, ada, dispatched):
    operation = awaiting("4.00")
    operation.params = {**operation.params, "hourly_price": "3.99"}  # what cleo confirmed
    operation.save(update_fields=["params"])

    client.force_login(ada)
    page = client.post(f"/operations/{operation.pk}/approve/", follow=True).content.decode()

    assert "The price changed since you saw it" in page
    operation.refresh_from_db()
    assert operation.state == "awaiting" and dispatched == []


def test_rejecting_and_expiring_buy_nothing_and_are_audited(
    client, cleo, ada, catalog_cached, limit, dispatched, django_capture_on_commit_callbacks
):
    limit("1")
    client.force_login(cleo)
    buy(client, django_capture_on_commit_callbacks)
    buy(client, django_capture_on_commit_callbacks, key="0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d")
    first, second = Operation.objects.order_by("id")

    client.force_login(ada)
    client.post(f"/operations/{first.pk}/reject/", {"reason": "too pricey this month"})
    expired = services.approvals_expire(now=timezone.now() + timedelta(hours=25))

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == "cancelled" and "Rejected by ada: too pricey this month" in first.message
    assert expired == 1 and second.state == "cancelled" and "within 24 h" in second.message
    assert dispatched == []
    assert AuditEvent.objects.filter(action="approval_rejected", actor=ada).exists()
    assert AuditEvent.objects.filter(action="approval_expired", operation=second).exists()


def test_the_member_who_asked_may_withdraw_a_purchase_waiting_for_approval(client, awaiting):
    operation = awaiting("1")
    client.post(f"/operations/{operation.pk}/cancel/")
    operation.refresh_from_db()
    assert operation.state == "cancelled" and "Cancelled by cleo" in operation.message


def test_a_viewer_cannot_approve(client, make_member, awaiting):
    operation = awaiting("1")
    client.force_login(make_member("vic", "Viewer"))
    assert client.post(f"/operations/{operation.pk}/approve/").status_code == 403
    assert "Approve" not in client.get(f"/operations/{operation.pk}/").content.decode()


# --- Alerts --------------------------------------------------------------------------------------


class Receiver(BaseHTTPRequestHandler):
    """A webhook endpoint: keeps what it is sent, answers with the server's status."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append(json.loads(body))
        self.send_response(self.server.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook(settings):
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    server.received, server.status = [], 200
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.XDS_WEBHOOK_URL = f"http://127.0.0.1:{server.server_port}/hook"
    yield server
    server.shutdown()


def test_a_rental_is_announced_once_per_threshold_by_mail_and_webhook(
    make_host, cleo, ada, webhook, settings, check
):
    settings.XDS_EXPIRY_ALERT_DAYS = [1, 7]
    now = timezone.now()
    host = make_host(name="rent-01", owner=cleo, expires_at=now + timedelta(days=5))

    assert check(now) == 1
    assert check(now + timedelta(hours=1)) == 0  # once per threshold
    assert check(now + timedelta(days=4, hours=12)) == 1  # the 1-day one

    subjects = [message.subject for message in mail.outbox]
    assert len(subjects) == 2 and "within 7 day(s)" in subjects[0] and "1 day" in subjects[1]
    assert sorted(mail.outbox[0].to) == ["ada@example.test", "cleo@example.test"]
    first = webhook.received[0]
    assert first["kind"] == "expiring" and first["host_id"] == host.id
    assert first["text"].startswith("rent-01 expires within 7 day(s)")
    assert sorted(first["recipients"]) == ["ada", "cleo"]


def test_expired_and_stuck_hosts_are_announced_once(make_host, cleo, ada, check):
    now = timezone.now()
    make_host(name="gone-rental", status=HostStatus.EXPIRED, owner=cleo)
    make_host(
        name="slow-boot", status=HostStatus.BOOTING, status_changed_at=now - timedelta(minutes=45)
    )
    make_host(name="fresh-boot", status=HostStatus.BOOTING, status_changed_at=now)

    assert check(now) == 2
    assert check(now + timedelta(minutes=5)) == 0
    kinds = dict(Notification.objects.values_list("kind", "subject"))
    assert "gone-rental has expired" in kinds["expired"]
    assert "slow-boot has been booting for 45 min" in kinds["stuck"]


def test_a_refusal_for_money_tells_the_requester_and_the_admins(
    sim, mirrored, cleo, ada, ask, run, webhook, django_capture_on_commit_callbacks
):
    host = mirrored(status=HostStatus.OFF, owner=cleo)
    body = '{"code": 6003, "msg": "余额不足", "data": null}'
    sim.add_fault(Fault(kind="raw", path="/v1/pve/open/operate", body=body, times=None))

    with django_capture_on_commit_callbacks(execute=True):
        operation = run(ask("power_on", host, user=cleo))

    assert operation.state == "failed" and operation.error_code == "6003"
    notification = Notification.objects.get(kind="money")
    assert sorted(notification.recipients) == ["ada", "cleo"]
    assert "code 6003" in mail.outbox[0].subject
    assert webhook.received[0]["kind"] == "money"


def test_a_failing_webhook_is_recorded_and_mail_still_goes(make_host, cleo, webhook, check):
    webhook.status = 500
    make_host(name="gone-rental", status=HostStatus.EXPIRED, owner=cleo)
    check()
    notification = Notification.objects.get()
    assert notification.webhook_result == "HTTP 500" and notification.email_result == "ok"
    assert len(mail.outbox) == 1


def alert_in(language: str) -> tuple[str, str]:
    """The subject and body of the one notification there is, worded in `language`."""
    from dashboard.wording import alert_words

    notification = Notification.objects.get()
    return alert_words(notification.message_key, notification.message_values, language)


def test_alert_mails_are_in_english_unless_the_team_says_otherwise(make_host, cleo, check):
    make_host(name="gone-rental", status=HostStatus.EXPIRED, owner=cleo)
    check()
    (message,) = mail.outbox
    subject, body = alert_in("en")
    assert (message.subject, message.body) == (f"[Xuandashi] {subject}", body)


def test_alert_mails_in_chinese_for_a_team_that_reads_it(make_host, cleo, check, settings):
    settings.XDS_EMAIL_LANGUAGES = ["zh-hans"]
    make_host(name="gone-rental", status=HostStatus.EXPIRED, owner=cleo)
    check()
    (message,) = mail.outbox
    subject, body = alert_in("zh-hans")
    assert subject != alert_in("en")[0]  # the catalog has it
    assert (message.subject, message.body) == (f"[Xuandashi] {subject}", body)
    # What the notification keeps stays English (the admin's list, the webhook's text).
    assert Notification.objects.get().subject == alert_in("en")[0]


def test_alert_mails_in_two_languages_are_one_mail(make_host, cleo, ada, check, settings):
    settings.XDS_EMAIL_LANGUAGES = ["zh-hans", "en"]
    make_host(name="gone-rental", status=HostStatus.EXPIRED, owner=cleo)
    check()
    (message,) = mail.outbox  # one mail, to everyone, in both
    chinese, english = (alert_in(code) for code in settings.XDS_EMAIL_LANGUAGES)
    assert message.subject == f"[Xuandashi] {chinese[0]}"
    assert (
        message.body.index(chinese[1])
        < message.body.index(english[0])
        < message.body.index(english[1])
    )


def test_the_host_list_makes_expiring_rentals_stand_out(client, cleo, make_host, settings):
    settings.XDS_EXPIRY_WARNING_DAYS = 7
    make_host(name="rent-01", expires_at=timezone.now() + timedelta(days=2))
    make_host(name="rent-02", status=HostStatus.EXPIRED)
    client.force_login(cleo)
    html = client.get("/hosts/").content.decode()
    assert "1 rental expires within 7 days" in html and "1 host has expired" in html
