"""Alert e-mails without a mail server: a readable file each under the var folder, and one log
line naming it; with DJANGO_EMAIL_HOST set they go by SMTP."""

from __future__ import annotations

import logging

import pytest

from dashboard import services, tasks
from dashboard.models import Notification
from dashboard.services.notifications import notify
from tests.deploy.conftest import PYTHON, child_env, run_in_project

SUBJECT = "rendu-été-01 expires within 1 day(s), at 2026-12-02 09:00 (¥3.20 / h)"


@pytest.mark.django_db
def test_an_alert_email_is_a_readable_file_named_in_one_log_line(
    settings, tmp_path, make_member, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    settings.EMAIL_BACKEND = "dashboard.mail.OutboxEmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    monkeypatch.setattr(tasks.deliver_notification, "delay", services.notification_deliver)
    ada = make_member("ada", "Admin")
    caplog.set_level(logging.INFO, logger="dashboard.mail")

    with django_capture_on_commit_callbacks(execute=True):
        notify(
            key="expiring:h1",
            kind=Notification.Kind.EXPIRING,
            message={
                "subject": SUBJECT,
                "body": "The rental of rendu-été-01 ends soon.\nRenew it in the Xuandashi console.",
                "message_key": "",  # words of their own, not one of wording.ALERTS
                "message_values": {},
            },
            users=[ada],
        )

    (written,) = (tmp_path / "mail").iterdir()
    text = written.read_text(encoding="utf-8")
    assert f"Subject: [Xuandashi] {SUBJECT}\n" in text  # decoded, not =?utf-8?b?...?=
    assert "To: ada@example.test\n" in text
    assert text.endswith(
        "\n\nThe rental of rendu-été-01 ends soon.\nRenew it in the Xuandashi console.\n"
    )
    assert "=?utf-8?" not in text
    lines = [r.getMessage() for r in caplog.records if r.name == "dashboard.mail"]
    assert lines == [f"e-mail to ada@example.test written to {written}: [Xuandashi] {SUBJECT}"]
    assert Notification.objects.get().email_result == "ok"


def test_two_mails_in_the_same_second_are_two_files(settings, tmp_path):
    from django.core.mail import EmailMessage, get_connection

    connection = get_connection("dashboard.mail.OutboxEmailBackend", file_path=tmp_path)
    messages = [EmailMessage(f"n{i}", "body", "a@x.test", ["b@x.test"]) for i in range(2)]

    assert connection.send_messages(messages) == 2
    assert len(list(tmp_path.iterdir())) == 2


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "dashboard.mail.OutboxEmailBackend {var}/mail"),
        ({"DJANGO_EMAIL_HOST": "smtp.team.example"}, "django.core.mail.backends.smtp.EmailBackend"),
        (
            {"DJANGO_EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"},
            "django.core.mail.backends.console.EmailBackend",
        ),
    ],
    ids=["embedded", "smtp-server", "named-backend"],
)
def test_mail_goes_to_files_unless_a_server_is_configured(tmp_path, env, expected):
    result = run_in_project(
        [
            PYTHON,
            "-c",
            "from django.conf import settings as s; print(s.EMAIL_BACKEND, s.EMAIL_FILE_PATH)",
        ],
        child_env(tmp_path / "var", DJANGO_SETTINGS_MODULE="dashboard.settings", **env),
        check=True,
    )
    assert result.stdout.startswith(expected.format(var=tmp_path / "var"))
