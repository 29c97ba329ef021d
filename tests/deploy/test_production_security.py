"""With production settings, Django's deployment checklist finds nothing to report, and plain
HTTP is redirected to HTTPS except for the health probe."""

from __future__ import annotations

import secrets
import subprocess

from tests.deploy.conftest import PYTHON, child_env, run_in_project

PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_HTTPS": "true",
    "DJANGO_ALLOWED_HOSTS": "dash.example.com",
}


def _run(code_or_args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return run_in_project([PYTHON, *code_or_args], env)


def test_check_deploy_reports_nothing_with_production_settings(tmp_path):
    env = child_env(tmp_path, **PRODUCTION)
    done = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_without_https_settings_the_checklist_complains(tmp_path):
    env = child_env(tmp_path, **{**PRODUCTION, "DJANGO_HTTPS": "false"})
    done = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert done.returncode != 0
    assert "SECURE_SSL_REDIRECT" in done.stdout + done.stderr


def test_plain_http_is_redirected_but_the_health_probe_is_not(tmp_path):
    script = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "c = Client(HTTP_HOST='dash.example.com')\n"
        "login = c.get('/accounts/login/')\n"
        "health = c.get('/healthz')\n"
        "print(login.status_code, login.headers.get('Location'), health.status_code)\n"
    )
    env = child_env(tmp_path, **PRODUCTION, DJANGO_SETTINGS_MODULE="dashboard.settings")
    done = _run(["-c", script], env)
    assert done.returncode == 0, done.stderr
    login_status, location, health_status = done.stdout.strip().splitlines()[-1].split()
    assert login_status == "301" and location == "https://dash.example.com/accounts/login/"
    assert health_status in ("200", "503")  # answered over HTTP, healthy or not
