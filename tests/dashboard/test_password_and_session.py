"""A member changes their own password, and an idle session ends by itself."""

from __future__ import annotations

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


def test_a_member_changes_their_password_and_signs_in_with_the_new_one(member_client, client):
    page = member_client.get("/accounts/password/")
    assert page.status_code == 200
    assert 'href="/accounts/password/"' in member_client.get("/hosts/").content.decode()

    done = member_client.post(
        "/accounts/password/",
        {
            "old_password": "a-long-test-password",
            "new_password1": "another-long-passphrase-42",
            "new_password2": "another-long-passphrase-42",
        },
    )
    assert done.status_code == 302 and done["Location"] == "/accounts/password/done/"
    assert member_client.get("/hosts/").status_code == 200  # this session stays signed in

    member_client.logout()
    signed_in = client.post(
        "/accounts/login/", {"username": "member", "password": "another-long-passphrase-42"}
    )
    assert signed_in.status_code == 302 and signed_in["Location"] == "/hosts/"


def test_a_wrong_old_password_changes_nothing(member_client):
    answer = member_client.post(
        "/accounts/password/",
        {
            "old_password": "not-it",
            "new_password1": "another-long-passphrase-42",
            "new_password2": "another-long-passphrase-42",
        },
    )
    assert answer.status_code == 200
    assert "form-error" in answer.content.decode()


def test_a_session_in_use_has_its_expiry_moved_forward_at_most_once_a_minute(
    member_client, monkeypatch
):
    from dashboard import middleware

    first = member_client.get("/hosts/")
    assert settings.SESSION_COOKIE_NAME not in first.cookies  # just signed in: nothing to save

    later = middleware.time.time() + middleware.SESSION_REFRESH_SECONDS + 1
    monkeypatch.setattr(middleware.time, "time", lambda: later)
    moved = member_client.get("/hosts/")
    cookie = moved.cookies[settings.SESSION_COOKIE_NAME]
    assert int(cookie["max-age"]) == settings.XDS_SESSION_IDLE_MINUTES * 60
    again = member_client.get("/hosts/")
    assert settings.SESSION_COOKIE_NAME not in again.cookies  # within the minute: no write
