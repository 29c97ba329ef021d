"""Personal API tokens: made on the member's page (shown once) or from the shell, kept only as a
digest, refused once revoked or expired, their use recorded, audited; admins see and revoke
everyone's."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from dashboard.models import ApiToken, AuditEvent
from dashboard.services import tokens
from tests.dashboard.api.conftest import bearer

pytestmark = pytest.mark.django_db


def test_a_member_makes_a_token_on_their_page_and_sees_it_once(client, make_member):
    alice = make_member("alice", "Creator")
    client.force_login(alice)
    response = client.post(
        "/account/tokens/", {"name": "nightly", "scopes": ["read", "operate"], "days": "7"}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = re.search(r'id="token-secret"[^>]*>(xds_[^<]+)<', response.content.decode()).group(1)
    token = ApiToken.objects.get()
    assert (token.name, token.scopes, token.user) == ("nightly", ["read", "operate"], alice)
    assert abs(token.expires_at - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)
    # Kept as a digest only: the token itself is nowhere in the database row.
    assert secret not in str(ApiToken.objects.values().get())
    assert token.digest == tokens.digest_of(secret)
    # Shown once: the page afterwards lists it by its first characters only.
    page = client.get("/account/tokens/").content.decode()
    assert secret not in page and token.hint in page and "nightly" in page
    event = AuditEvent.objects.get(action=AuditEvent.Action.TOKEN_CREATED)
    assert event.actor == alice and event.details["token"] == "nightly"
    assert client.get("/api/v1/me/", **bearer(secret)).json()["username"] == "alice"


def test_the_expiry_is_30_days_by_default_and_at_most_the_admins_setting(
    client, make_member, settings
):
    settings.XDS_API_TOKEN_MAX_DAYS = 60
    alice = make_member("alice", "Viewer")
    new = tokens.token_create(user=alice, name="default", scopes=["read"])
    assert abs(new.token.expires_at - timezone.now() - timedelta(days=30)) < timedelta(minutes=1)
    client.force_login(alice)
    response = client.post("/account/tokens/", {"name": "long", "scopes": ["read"], "days": "61"})
    assert response.status_code == 400
    assert "60" in response.content.decode()
    assert ApiToken.objects.count() == 1
    with pytest.raises(tokens.TokenInvalid):
        tokens.token_create(user=alice, name="long", scopes=["read"], days=61)
    with pytest.raises(tokens.TokenInvalid):
        tokens.token_create(user=alice, name="nothing", scopes=[])
    with pytest.raises(tokens.TokenInvalid):
        tokens.token_create(user=alice, name="odd", scopes=["admin"])


def test_revoked_and_expired_tokens_are_refused(client, make_token):
    user, secret = make_token("Viewer")
    assert client.get("/api/v1/hosts/", **bearer(secret)).status_code == 200
    token = ApiToken.objects.get()
    tokens.token_revoke(user=user, token_id=token.pk)
    assert client.get("/api/v1/hosts/", **bearer(secret)).status_code == 401
    _user, other = make_token("Viewer")
    ApiToken.objects.filter(digest=tokens.digest_of(other)).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = client.get("/api/v1/hosts/", **bearer(other))
    assert response.status_code == 401
    assert "revoked or expired" in response.json()["detail"]


def test_a_deactivated_members_token_is_refused(client, make_token):
    user, secret = make_token("Admin", scopes=("read",))
    user.is_active = False
    user.save()
    assert client.get("/api/v1/hosts/", **bearer(secret)).status_code == 401


def test_last_use_is_recorded_when_and_from_where(client, make_token):
    _user, secret = make_token("Viewer")
    client.get("/api/v1/hosts/", REMOTE_ADDR="198.51.100.7", **bearer(secret))
    token = ApiToken.objects.get()
    assert token.last_used_ip == "198.51.100.7"
    assert timezone.now() - token.last_used_at < timedelta(seconds=10)
    # A forged X-Forwarded-For from a client that is no trusted proxy changes nothing.
    client.get(
        "/api/v1/hosts/",
        REMOTE_ADDR="198.51.100.8",
        HTTP_X_FORWARDED_FOR="10.9.9.9",
        **bearer(secret),
    )
    token.refresh_from_db()
    assert token.last_used_ip == "198.51.100.8"


def test_a_member_revokes_only_their_own_and_an_admin_anyones(client, make_member, make_token):
    alice, _secret = make_token("Creator", name="alices")
    bob = make_member("bob", "Operator")
    token = ApiToken.objects.get(user=alice)
    client.force_login(bob)
    assert "alices" not in client.get("/account/tokens/").content.decode()
    response = client.post(f"/account/tokens/{token.pk}/revoke/")
    assert response.status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None

    admin = make_member("root", "Admin")
    client.force_login(admin)
    page = client.get("/account/tokens/").content.decode()
    assert "alices" in page and alice.username in page
    response = client.post(f"/account/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by_name == "root"
    event = AuditEvent.objects.get(action=AuditEvent.Action.TOKEN_REVOKED)
    assert event.actor == admin and event.details["member"] == alice.username


def test_revoking_needs_the_pages_csrf_token(make_member, make_token):
    """Session-authenticated pages stay protected: a post without the security token is refused."""
    from django.test import Client

    user, _secret = make_token("Creator")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    token = ApiToken.objects.get()
    assert browser.post(f"/account/tokens/{token.pk}/revoke/").status_code == 403
    assert browser.post("/account/tokens/", {"name": "x", "scopes": ["read"]}).status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None and ApiToken.objects.count() == 1


def test_the_admin_lists_every_token_and_revokes_them(client, make_member, make_token):
    _alice, _secret = make_token("Creator", name="alices")
    admin = make_member("root", "Admin")
    client.force_login(admin)
    page = client.get("/admin/dashboard/apitoken/")
    assert page.status_code == 200 and "alices" in page.content.decode()
    token = ApiToken.objects.get()
    response = client.post(
        "/admin/dashboard/apitoken/",
        {"action": "revoke_tokens", "_selected_action": [token.pk]},
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_by_name == "root"


def test_the_command_prints_the_token_alone_on_the_last_line(make_member, client, capsys):
    make_member("ci", "Operator")
    call_command("create_api_token", "ci", "--scopes", "read,operate", "--days", "30")
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.fullmatch(r"xds_[A-Za-z0-9_-]{40}", last)
    token = ApiToken.objects.get()
    assert token.scopes == ["read", "operate"] and token.digest == tokens.digest_of(last)
    assert client.get("/api/v1/me/", **bearer(last)).json()["scopes"] == ["read", "operate"]


def test_the_command_refuses_an_unknown_member_or_scope(make_member):
    from django.core.management.base import CommandError

    make_member("ci", "Operator")
    with pytest.raises(CommandError, match="nobody"):
        call_command("create_api_token", "nobody")
    with pytest.raises(CommandError, match="scope"):
        call_command("create_api_token", "ci", "--scopes", "read,everything")
    assert not ApiToken.objects.exists()
