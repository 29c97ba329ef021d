"""Alerts to chat channels, against local platforms that check signatures as documented and
answer as the platforms do (tests/dashboard/chat_receivers.py)."""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from dashboard import services, tasks
from dashboard.models import AlertChannel, AlertDelivery, AlertPreference, Notification
from dashboard.services import alert_delivery
from tests.dashboard.chat_receivers import TOKEN, Platform
from tests.dashboard.test_approvals_and_alerts import buy
from vmclient.types import HostStatus

pytestmark = pytest.mark.django_db

ALL_KINDS = list(Notification.Kind.values)
PUBLIC = "https://dash.example.test"


@pytest.fixture(autouse=True)
def queue(monkeypatch, settings):
    """Notifications are delivered in the test; the deliveries' Celery tasks are recorded (the
    test runs them), with their countdown."""
    settings.XDS_PUBLIC_URL = PUBLIC
    monkeypatch.setattr(tasks.deliver_notification, "delay", services.notification_deliver)
    queued: list[tuple[int, float]] = []

    def apply_async(args, countdown=0, **options):
        queued.append((args[0], countdown))

    monkeypatch.setattr(tasks.send_alert, "apply_async", apply_async)
    return queued


@pytest.fixture
def platform():
    servers = []

    def start(kind, secret="", per_minute=None):
        server = Platform(kind, secret, per_minute)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def channel_for(server, name="team", kinds=ALL_KINDS, language="en", secret=None):
    return AlertChannel.objects.create(
        name=name,
        kind=server.kind,
        url=server.url,
        secret=server.secret if secret is None else secret,
        alert_kinds=kinds,
        language=language,
    )


@pytest.fixture
def expire(make_host, cleo, django_capture_on_commit_callbacks):
    """A host whose rental is over, and the alert check that tells of it."""

    def go(name="gone-rental"):
        host = make_host(name=name, status=HostStatus.EXPIRED, owner=cleo)
        with django_capture_on_commit_callbacks(execute=True):
            services.alerts_check()
        return host

    return go


def run_queued(queue, django_capture_on_commit_callbacks):
    """Run what is queued now, as the worker would (ignoring countdowns); what they queue in
    turn stays queued."""
    due = list(queue)
    queue.clear()
    for pk, _countdown in due:
        with django_capture_on_commit_callbacks(execute=True):
            services.alert_send(pk)


def time_passes(delivery):
    AlertDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


@pytest.mark.parametrize(
    "kind,secret",
    [
        ("dingtalk", "SECd3f1a0c2b6e94+/=a7"),
        ("dingtalk", ""),
        ("feishu", "fs-Kq2/9z+Lw=="),
        ("wecom", ""),
        ("slack", ""),
        ("webhook", ""),
    ],
)
def test_each_platform_gets_its_own_format_signed_as_documented(
    platform, kind, secret, expire, queue, django_capture_on_commit_callbacks
):
    server = platform(kind, secret)
    channel = channel_for(server)
    host = expire()
    run_queued(queue, django_capture_on_commit_callbacks)

    delivery = AlertDelivery.objects.get(channel=channel)
    assert delivery.state == "sent" and delivery.last_result == "ok", server.answers
    assert len(server.received) == 1
    body = server.received[0]
    link = f"{PUBLIC}/hosts/{host.id}/"
    if kind == "dingtalk":
        card = body["actionCard"]
        assert body["msgtype"] == "actionCard" and card["singleURL"] == link
        assert "gone-rental has expired" in card["title"] and card["singleTitle"]
    elif kind == "feishu":
        card = body["card"]
        assert card["header"]["title"]["content"] == "gone-rental has expired"
        button = card["elements"][-1]["actions"][0]
        assert button["tag"] == "button" and button["url"] == link
    elif kind == "wecom":
        content = body["markdown"]["content"]
        assert content.startswith("**gone-rental has expired**") and f"]({link})" in content
    elif kind == "slack":
        assert body["blocks"][0]["text"]["text"] == "gone-rental has expired"
        assert body["blocks"][-1]["elements"][0]["url"] == link
    else:
        assert body["kind"] == "expired" and body["url"] == link and body["host_id"] == host.id


@pytest.mark.parametrize(
    "kind,answer",
    [("dingtalk", "errcode 310000: sign not match"), ("feishu", "code 19021: sign match fail")],
)
def test_a_wrong_secret_is_an_error_inside_http_200_retried_with_backoff(
    platform, kind, answer, expire, queue, django_capture_on_commit_callbacks, admin_client
):
    server = platform(kind, "the-right-secret")
    channel = channel_for(server, secret="a-wrong-secret")
    expire()
    run_queued(queue, django_capture_on_commit_callbacks)

    delivery = AlertDelivery.objects.get(channel=channel)
    assert server.answers[0][0] == 200 and server.received == []
    assert delivery.state == "pending" and delivery.last_result.startswith(answer)
    assert delivery.attempts == 1 and delivery.failures == 1
    # Its retry is queued with Celery after the backoff, and recorded on the row.
    assert queue == [(delivery.pk, alert_delivery.RETRY_SECONDS)]
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=20)

    # The channel's page shows it.
    page = admin_client.get(f"/admin/dashboard/alertchannel/{channel.pk}/change/")
    assert answer in page.content.decode()

    # Retried too early, it is left alone; once due, a second failure doubles the wait.
    run_queued(queue, django_capture_on_commit_callbacks)
    assert AlertDelivery.objects.get(pk=delivery.pk).attempts == 1 and queue == []
    time_passes(delivery)
    with django_capture_on_commit_callbacks(execute=True):
        services.alert_send(delivery.pk)
    assert queue[-1] == (delivery.pk, 2 * alert_delivery.RETRY_SECONDS)
    queue.clear()

    # The admin fixes the secret: the next attempt is delivered.
    channel.secret = "the-right-secret"
    channel.save()
    time_passes(delivery)
    services.alert_send(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state == "sent" and delivery.attempts == 3 and len(server.received) == 1


def test_a_delivery_that_keeps_failing_gives_up_after_the_last_attempt(
    platform, expire, queue, django_capture_on_commit_callbacks
):
    server = platform("slack")
    server.down_with = (500, b"internal_error")
    channel = channel_for(server)
    expire()
    run_queued(queue, django_capture_on_commit_callbacks)
    delivery = AlertDelivery.objects.get(channel=channel)
    for _ in range(alert_delivery.MAX_ATTEMPTS - 1):
        time_passes(delivery)
        with django_capture_on_commit_callbacks(execute=True):
            services.alert_send(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state == "failed" and delivery.attempts == alert_delivery.MAX_ATTEMPTS
    assert delivery.last_result == "HTTP 500"
    delays = [countdown for _pk, countdown in queue]
    assert delays == sorted(delays) and max(delays) <= alert_delivery.RETRY_MAX_SECONDS


def test_dingtalk_s_rate_is_kept_by_queueing_not_dropping(
    platform, make_host, cleo, queue, django_capture_on_commit_callbacks, monkeypatch
):
    # The 25 sends happen within one minute of the dashboard's count (10 s into it).
    minute_start = (timezone.now().timestamp() // 60) * 60
    monkeypatch.setattr(alert_delivery, "_now", lambda: minute_start + 10)
    server = platform("dingtalk", "SECabc", per_minute=20)
    channel = channel_for(server)
    for number in range(25):
        make_host(name=f"gone-{number:02}", status=HostStatus.EXPIRED, owner=cleo)
    with django_capture_on_commit_callbacks(execute=True):
        services.alerts_check()
    run_queued(queue, django_capture_on_commit_callbacks)

    deliveries = AlertDelivery.objects.filter(channel=channel)
    assert deliveries.filter(state="sent").count() == 20 == len(server.received)
    waiting = deliveries.filter(state="pending")
    assert waiting.count() == 5
    # The robot never had to refuse one: the dashboard held them back, to the next minute.
    assert all('"errcode": 0' in answer for _status, answer in server.answers)
    assert [countdown for _pk, countdown in queue] == [51] * 5
    assert all(delivery.failures == 0 for delivery in waiting)


@pytest.mark.parametrize("kind", ["feishu", "slack", "wecom"])
def test_a_platform_s_rate_limit_answer_waits_and_does_not_count_as_an_attempt(
    platform, kind, expire, queue, django_capture_on_commit_callbacks, monkeypatch
):
    server = platform(kind, per_minute=0)  # the platform refuses everything as too many
    channel = channel_for(server)
    expire()
    run_queued(queue, django_capture_on_commit_callbacks)
    delivery = AlertDelivery.objects.get(channel=channel)
    assert delivery.state == "pending" and delivery.attempts == 0 and delivery.failures == 1
    expected_wait = 7 if kind == "slack" else 60  # Slack's Retry-After, or a minute
    assert queue == [(delivery.pk, expected_wait)]


def test_a_channel_gets_only_the_kinds_it_takes_in_its_language(
    platform, expire, make_host, cleo, queue, django_capture_on_commit_callbacks
):
    server = platform("wecom")
    channel_for(server, kinds=["expiring"], language="zh-hans")
    expire()  # an "expired" alert: not for this channel
    assert AlertDelivery.objects.count() == 0
    make_host(name="rent-01", owner=cleo, expires_at=timezone.now() + timedelta(hours=5))
    with django_capture_on_commit_callbacks(execute=True):
        services.alerts_check()
    run_queued(queue, django_capture_on_commit_callbacks)
    content = server.received[0]["markdown"]["content"]
    assert "rent-01" in content and "到期" in content  # in Chinese
    assert "expires" not in content


def test_a_notification_goes_once_per_channel_even_when_delivered_twice(
    platform, expire, queue, django_capture_on_commit_callbacks
):
    server = platform("webhook")
    channel_for(server)
    expire()
    notification = Notification.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        services.notification_deliver(notification.pk)  # Redis delivered the task twice
    run_queued(queue, django_capture_on_commit_callbacks)
    assert len(server.received) == 1 and AlertDelivery.objects.count() == 1


def test_the_sweep_sends_what_the_broker_lost(
    platform, expire, queue, django_capture_on_commit_callbacks
):
    server = platform("webhook")
    channel_for(server)
    expire()
    queue.clear()  # the task never reached the broker
    delivery = AlertDelivery.objects.get()
    AlertDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=5)
    )
    assert services.alerts_sweep() == 1
    run_queued(queue, django_capture_on_commit_callbacks)
    assert len(server.received) == 1


def test_a_channel_switched_off_keeps_its_alerts_until_it_is_switched_on(
    platform, expire, queue, django_capture_on_commit_callbacks
):
    server = platform("wecom")
    channel = channel_for(server)
    expire()
    AlertChannel.objects.filter(pk=channel.pk).update(enabled=False)
    run_queued(queue, django_capture_on_commit_callbacks)
    delivery = AlertDelivery.objects.get()
    assert server.received == [] and delivery.state == "pending" and delivery.attempts == 0
    AlertDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=5)
    )
    assert services.alerts_sweep() == 0  # not while it is off
    AlertChannel.objects.filter(pk=channel.pk).update(enabled=True)
    assert services.alerts_sweep() == 1
    run_queued(queue, django_capture_on_commit_callbacks)
    assert len(server.received) == 1


def test_the_secret_is_write_only_and_never_logged(platform, admin_client, caplog):
    server = platform("dingtalk", "SECtop-secret-value")
    channel = channel_for(server, secret="SECwrong-secret-value")
    page = admin_client.get(f"/admin/dashboard/alertchannel/{channel.pk}/change/").content.decode()
    assert "SECwrong-secret-value" not in page
    # Saved again without typing the secret: it is kept.
    form = {
        "name": "team",
        "kind": "dingtalk",
        "url": server.url,
        "secret": "",
        "alert_kinds": ["expired"],
        "language": "en",
        "enabled": "on",
    }
    response = admin_client.post(f"/admin/dashboard/alertchannel/{channel.pk}/change/", form)
    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.secret == "SECwrong-secret-value" and channel.alert_kinds == ["expired"]

    with caplog.at_level(logging.DEBUG):
        response = admin_client.post(
            f"/admin/dashboard/alertchannel/{channel.pk}/test/", follow=True
        )
    text = response.content.decode()
    assert "The test message was not delivered" in text and "310000" in text
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "310000" in logged
    assert "SECwrong-secret-value" not in logged and TOKEN not in logged
    assert "SECwrong-secret-value" not in text

    # A new secret typed replaces it; "remove" clears it.
    admin_client.post(
        f"/admin/dashboard/alertchannel/{channel.pk}/change/",
        {**form, "secret": "SECtop-secret-value"},
    )
    response = admin_client.post(f"/admin/dashboard/alertchannel/{channel.pk}/test/", follow=True)
    assert "The test message was delivered" in response.content.decode()
    assert len(server.received) == 1
    admin_client.post(
        f"/admin/dashboard/alertchannel/{channel.pk}/change/", {**form, "clear_secret": "on"}
    )
    channel.refresh_from_db()
    assert channel.secret == ""


def test_a_secret_where_the_platform_has_none_is_refused(admin_client):
    response = admin_client.post(
        "/admin/dashboard/alertchannel/add/",
        {
            "name": "wecom-room",
            "kind": "wecom",
            "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x",
            "secret": "abc",
            "alert_kinds": ["expired"],
            "language": "en",
        },
    )
    assert response.status_code == 200
    assert "does not sign its messages" in response.content.decode()
    assert not AlertChannel.objects.exists()


def test_an_admin_role_member_manages_channels_and_a_creator_may_not(client, make_member, platform):
    client.force_login(make_member("ada", "Admin"))
    assert client.get("/admin/dashboard/alertchannel/add/").status_code == 200
    client.force_login(make_member("cleo", "Creator"))
    assert client.get("/admin/dashboard/alertchannel/add/").status_code in (302, 403)


def test_scripted_setup_and_test_message_from_the_command_line(platform, tmp_path):
    server = platform("feishu", "fs-secret")
    secret_file = tmp_path / "secret"
    secret_file.write_text("fs-secret\n")
    out = StringIO()
    call_command(
        "add_alert_channel",
        "ops-room",
        "--kind=feishu",
        f"--url={server.url}",
        f"--secret-file={secret_file}",
        "--kinds=expired,stuck",
        "--language=zh-hans",
        stdout=out,
    )
    channel = AlertChannel.objects.get(name="ops-room")
    assert channel.secret == "fs-secret" and channel.alert_kinds == ["expired", "stuck"]
    assert "fs-secret" not in out.getvalue()

    call_command("send_test_alert", "ops-room", stdout=out)
    assert "delivered a test message to ops-room" in out.getvalue()
    assert server.received[0]["card"]["header"]["title"]["content"] != ""

    with pytest.raises(CommandError, match="exists already"):
        call_command("add_alert_channel", "ops-room", "--kind=slack", f"--url={server.url}")
    with pytest.raises(CommandError, match="does not sign"):
        call_command(
            "add_alert_channel",
            "slack-room",
            "--kind=slack",
            f"--url={server.url}",
            f"--secret-file={secret_file}",
        )
    with pytest.raises(CommandError, match="No channel is named 'nope'"):
        call_command("send_test_alert", "nope")
    server.secret = "rotated"
    with pytest.raises(CommandError, match="code 19021"):
        call_command("send_test_alert", "ops-room")


def test_members_choose_which_alerts_come_by_mail(
    client, cleo, make_host, django_capture_on_commit_callbacks, settings
):
    settings.XDS_EXPIRY_ALERT_DAYS = [1]
    client.force_login(cleo)
    page = client.get("/accounts/alerts/").content.decode()
    assert 'value="expired"' in page and "checked" in page
    response = client.post("/accounts/alerts/", {"email_kinds": ["expiring"]}, follow=True)
    assert "Your alert settings are saved." in response.content.decode()
    assert AlertPreference.objects.get(user=cleo).email_kinds == ["expiring"]

    make_host(name="gone-rental", status=HostStatus.EXPIRED, owner=cleo)
    make_host(name="rent-01", owner=cleo, expires_at=timezone.now() + timedelta(hours=5))
    with django_capture_on_commit_callbacks(execute=True):
        services.alerts_check()
    assert [message.subject for message in mail.outbox] == [
        "[Xuandashi] rent-01 expires within 1 day(s), at "
        + timezone.localtime(timezone.now() + timedelta(hours=5)).strftime("%Y-%m-%d %H:%M")
    ]
    # The expired alert was still made (and goes to the channels); only its e-mail is off.
    assert Notification.objects.get(kind="expired").recipients == ["cleo"]


def test_an_error_report_from_a_delivery_shows_neither_the_secret_nor_the_url(
    platform, monkeypatch, rf
):
    import sys

    from django.views.debug import ExceptionReporter

    from dashboard import chat_platforms

    # Made here, so that no line of this test's source (which the report quotes) holds it.
    channel = channel_for(platform("dingtalk", f"SEC{uuid.uuid4().hex}"))

    def broken(*args, **kwargs):
        raise RuntimeError("a bug reading the answer")

    monkeypatch.setattr(chat_platforms, "read_answer", broken)
    message = chat_platforms.ChatMessage("test", "subject", "body", "", "", {})
    try:
        alert_delivery.post(channel.kind, channel.url, channel.secret, message)
    except RuntimeError:
        report = ExceptionReporter(rf.get("/admin/"), *sys.exc_info()).get_traceback_html()
    assert "a bug reading the answer" in report and "post" in report
    assert channel.secret not in report and TOKEN not in report


def test_an_approval_waiting_links_to_its_operation_in_the_channel_s_language(
    platform, client, make_member, catalog_cached, queue, django_capture_on_commit_callbacks
):
    from decimal import Decimal

    from dashboard.models import Operation, TeamPolicy

    server = platform("slack")
    channel_for(server, kinds=["approval_needed"], language="zh-hans")
    make_member("ada", "Admin")
    policy = TeamPolicy.current()
    policy.approval_threshold = Decimal("4.00")
    policy.save()
    client.force_login(make_member("cleo", "Creator"))
    buy(client, django_capture_on_commit_callbacks)  # ¥4.50, above the limit
    operation = Operation.objects.get()
    run_queued(queue, django_capture_on_commit_callbacks)
    (body,) = server.received
    assert body["blocks"][-1]["elements"][0]["url"] == f"{PUBLIC}/operations/{operation.pk}/"
    assert body["text"].startswith("cleo 申请以 ¥4.50 购买 ")
    assert "等待另一位管理员审批" in body["blocks"][1]["text"]["text"]


def test_a_refusal_for_money_is_worded_in_the_channel_s_language(
    platform, sim, mirrored, ask, run, queue, django_capture_on_commit_callbacks
):
    from vmclient.simulator import Fault

    server = platform("feishu", "fs-secret")
    channel_for(server, kinds=["money"], language="zh-hans")
    host = mirrored(status=HostStatus.OFF)
    body = '{"code": 6003, "msg": "balance too low", "data": null}'
    sim.add_fault(Fault(kind="raw", path="/v1/pve/open/operate", body=body, times=None))
    with django_capture_on_commit_callbacks(execute=True):
        operation = run(ask("power_on", host))
    assert operation.state == "failed"
    run_queued(queue, django_capture_on_commit_callbacks)
    (card,) = [message["card"] for message in server.received]
    assert "因费用问题被渲大师拒绝（代码 6003）" in card["header"]["title"]["content"]
    text = card["elements"][0]["text"]["content"]
    assert text.startswith("账户钱包余额不足") and "追踪 ID：" in text  # the operation's words too
    assert card["elements"][-1]["actions"][0]["url"] == f"{PUBLIC}/operations/{operation.pk}/"
