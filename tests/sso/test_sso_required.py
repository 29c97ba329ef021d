"""An admin may require single sign-on: then members sign in only through the directory, and a
local password works for superusers alone (the break-glass accounts), audited as such."""

from __future__ import annotations

import pytest

from dashboard.models import AuditEvent, TeamPolicy
from tests.conftest import MEMBER_PASSWORD, roles_exist
from tests.sso.servers import ProviderSignIn

pytestmark = pytest.mark.django_db


def require_sso(required: bool = True) -> None:
    policy = TeamPolicy.current()
    policy.sso_required = required
    policy.save()


def sign_in_locally(client, username: str, password: str = MEMBER_PASSWORD):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_a_member_with_a_local_password_is_told_to_use_single_sign_on(client, oidc_on, make_member):
    make_member("bob", "Operator")
    require_sso()
    answer = sign_in_locally(client, "bob")
    assert answer.status_code == 200
    assert "_auth_user_id" not in client.session
    page = answer.content.decode()
    assert "Your team signs in through single sign-on: use “Sign in with Corp ID”" in page
    assert "do not match" not in page
    failed = AuditEvent.objects.get(action=AuditEvent.Action.SIGN_IN_FAILED)
    assert failed.details["reason"] == "local_password_off"
    assert failed.actor_name == "bob"


def test_a_wrong_password_still_reads_as_one_when_sso_is_required(client, oidc_on, make_member):
    make_member("bob", "Operator")
    require_sso()
    page = sign_in_locally(client, "bob", "not-his-password").content.decode()
    assert "do not match" in page


def test_a_superuser_signs_in_with_a_local_password_as_break_glass(
    client, oidc_on, django_user_model
):
    django_user_model.objects.create_superuser("root", "root@here.test", MEMBER_PASSWORD)
    require_sso()
    answer = sign_in_locally(client, "root")
    assert answer.status_code == 302 and answer["Location"] == "/hosts/"
    signed_in = AuditEvent.objects.get(action=AuditEvent.Action.SIGNED_IN)
    assert signed_in.details == {"method": "password", "break_glass": True}
    assert "break-glass" in signed_in.summary


def test_members_still_sign_in_through_the_provider(client, provider_sign_in, oidc_on):
    roles_exist()
    require_sso()
    assert provider_sign_in("alice")["Location"] == "/hosts/"
    assert client.get("/hosts/").status_code == 200


def test_the_sign_in_page_says_local_passwords_are_for_break_glass(client, oidc_on):
    require_sso()
    page = client.get("/accounts/login/").content.decode()
    assert "the password form below is for the superusers' break-glass accounts" in page


def test_without_the_requirement_local_passwords_work_beside_the_provider(
    client, oidc_on, make_member
):
    make_member("bob", "Operator")
    assert sign_in_locally(client, "bob")["Location"] == "/hosts/"
    signed_in = AuditEvent.objects.get(action=AuditEvent.Action.SIGNED_IN)
    assert signed_in.details == {"method": "password"} and signed_in.summary == "bob signed in"


def policy_form(client, **fields):
    policy = TeamPolicy.current()
    return client.post(
        f"/admin/dashboard/teampolicy/{policy.pk}/change/",
        {"approval_threshold": "", "_save": "Save", **fields},
        follow=True,
    )


def test_an_admin_requires_single_sign_on_in_the_team_policy(admin_client, oidc_on):
    answer = policy_form(admin_client, sso_required="on")
    assert answer.status_code == 200
    assert TeamPolicy.current().sso_required
    changed = AuditEvent.objects.get(action=AuditEvent.Action.POLICY_CHANGED)
    assert changed.details == {"sso_required": True, "sessions_ended": 0}
    assert changed.summary == "Single sign-on required for everyone but superusers"
    policy_form(admin_client)
    assert not TeamPolicy.current().sso_required
    assert AuditEvent.objects.filter(action=AuditEvent.Action.POLICY_CHANGED).count() == 2


def test_single_sign_on_cannot_be_required_when_none_is_configured(admin_client, settings):
    settings.XDS_OIDC_ENABLED = settings.XDS_LDAP_ENABLED = False
    page = policy_form(admin_client, sso_required="on").content.decode()
    assert "No single sign-on is configured" in page
    assert not TeamPolicy.current().sso_required
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.POLICY_CHANGED).exists()


def test_the_requirement_lapses_while_no_single_sign_on_is_configured(
    client, settings, make_member
):
    """Settings that lose the provider must not leave only the superusers able to sign in."""
    settings.XDS_OIDC_ENABLED = settings.XDS_LDAP_ENABLED = False
    make_member("bob", "Operator")
    require_sso()
    assert sign_in_locally(client, "bob")["Location"] == "/hosts/"


def test_requiring_it_ends_the_sessions_signed_in_with_local_passwords(
    client, admin_client, oidc_on, make_member, provider_sign_in
):
    from django.test import Client

    roles_exist()
    make_member("bob", "Operator")
    assert sign_in_locally(client, "bob")["Location"] == "/hosts/"
    alice = Client()
    provider_sign_in("alice", through=ProviderSignIn(alice))
    policy_form(admin_client, sso_required="on")
    assert client.get("/hosts/")["Location"].startswith("/accounts/login/")  # bob's ended
    assert alice.get("/hosts/").status_code == 200  # through the provider: kept
    assert admin_client.get("/admin/").status_code == 200  # a superuser's: kept
    changed = AuditEvent.objects.get(action=AuditEvent.Action.POLICY_CHANGED)
    assert changed.details["sessions_ended"] == 1
