"""Signing in with a directory password, checked by a real OpenLDAP server (slapd, started by
tests/sso/conftest.py with a seeded directory): the right and wrong passwords, the account made
from the directory's entry, groups mapped to roles, and the same rules as through the OpenID
provider."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from dashboard.models import AuditEvent, TeamPolicy
from tests.conftest import MEMBER_PASSWORD, free_port, roles_exist
from tests.sso import slapd as directory

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture(autouse=True)
def _roles(db):
    roles_exist()


def sign_in(client, uid: str, password: str | None = None):
    return client.post(
        "/accounts/login/",
        {
            "username": uid,
            "password": directory.directory_password(uid) if password is None else password,
        },
    )


def roles_of(username: str) -> set[str]:
    return set(User.objects.get(username=username).groups.values_list("name", flat=True))


def test_the_right_directory_password_signs_in_with_the_mapped_role(client, ldap_on, slapd):
    answer = sign_in(client, "ana")
    assert answer.status_code == 302 and answer["Location"] == "/hosts/"
    ana = User.objects.get(username="ana")
    assert (ana.email, ana.first_name, ana.last_name) == ("ana@corp.test", "Ana", "Lima")
    assert not ana.has_usable_password()
    assert roles_of("ana") == {"Operator"}
    assert client.get("/hosts/").status_code == 200
    signed_in = AuditEvent.objects.get(action=AuditEvent.Action.SIGNED_IN)
    assert signed_in.details == {"method": "ldap", "provider": slapd.uri}
    assert signed_in.summary == f"ana signed in through {slapd.uri}"


def test_a_wrong_directory_password_signs_nobody_in(client, ldap_on, slapd):
    answer = sign_in(client, "ana", "not-her-password")
    assert answer.status_code == 200
    assert "do not match" in answer.content.decode()
    assert "_auth_user_id" not in client.session
    assert not User.objects.filter(username="ana").exists()
    failed = AuditEvent.objects.get(action=AuditEvent.Action.SIGN_IN_FAILED)
    assert failed.details == {"method": "ldap", "provider": slapd.uri}
    assert failed.actor_name == "ana"


def test_a_name_the_directory_does_not_know_signs_nobody_in(client, ldap_on):
    assert sign_in(client, "zed", "anything-at-all").status_code == 200
    assert not User.objects.filter(username="zed").exists()


def test_groups_mapped_to_nothing_give_no_role(client, ldap_on):
    assert sign_in(client, "cleo")["Location"] == "/hosts/"
    assert roles_of("cleo") == set()
    page = client.get("/hosts/")
    assert page.status_code == 403 and "Your account has no role yet" in page.content.decode()


def test_several_groups_give_several_roles(client, ldap_on):
    sign_in(client, "ben")
    assert roles_of("ben") == {"Admin", "Viewer"}


def test_without_a_role_map_a_new_member_has_no_role(client, ldap_on):
    ldap_on.XDS_LDAP_ROLE_MAP = {}
    sign_in(client, "ben")
    assert roles_of("ben") == set()


def test_the_directory_decides_the_roles_at_every_sign_in(client, ldap_on, make_member):
    make_member("ana", "Admin")  # a local account of that name, given a role by hand
    assert sign_in(client, "ana")["Location"] == "/hosts/"
    assert roles_of("ana") == {"Operator"}
    assert User.objects.filter(username__iexact="ana").count() == 1
    # Her local password still works beside the directory's (single sign-on not required).
    client.logout()
    assert sign_in(client, "ana", MEMBER_PASSWORD)["Location"] == "/hosts/"


def test_a_superusers_account_is_never_signed_into_through_the_directory(
    client, ldap_on, django_user_model
):
    django_user_model.objects.create_superuser("root", "root@here.test", MEMBER_PASSWORD)
    assert sign_in(client, "root").status_code == 200  # the directory's password: refused
    assert "_auth_user_id" not in client.session
    failed = AuditEvent.objects.get(action=AuditEvent.Action.SIGN_IN_FAILED)
    assert failed.details["reason"] == "superuser"
    assert sign_in(client, "root", MEMBER_PASSWORD)["Location"] == "/hosts/"  # its own


def test_a_direct_bind_at_the_dn_template_signs_in_without_a_service_account(client, ldap_on):
    ldap_on.AUTH_LDAP_BIND_DN = ldap_on.AUTH_LDAP_BIND_PASSWORD = ""
    ldap_on.AUTH_LDAP_BIND_AS_AUTHENTICATING_USER = True  # as the settings make it without one
    ldap_on.AUTH_LDAP_USER_SEARCH = None
    ldap_on.AUTH_LDAP_USER_DN_TEMPLATE = f"uid=%(user)s,{directory.PEOPLE}"
    assert sign_in(client, "ben")["Location"] == "/hosts/"
    assert roles_of("ben") == {"Admin", "Viewer"}  # groups read as ben himself
    client.logout()
    assert sign_in(client, "ben", "wrong").status_code == 200


def test_a_search_needs_the_service_account(client, ldap_on):
    """The directory lets no anonymous client search it: without the service account's password
    nobody is found."""
    ldap_on.AUTH_LDAP_BIND_PASSWORD = "not-the-service-password"
    assert sign_in(client, "ana").status_code == 200
    assert not User.objects.filter(username="ana").exists()


def test_a_directory_that_does_not_answer_is_said_and_audited(client, ldap_on):
    ldap_on.AUTH_LDAP_SERVER_URI = f"ldap://127.0.0.1:{free_port()}"
    answer = sign_in(client, "ana")
    assert answer.status_code == 200
    assert "The directory could not be reached" in answer.content.decode()
    failed = AuditEvent.objects.get(action=AuditEvent.Action.SIGN_IN_FAILED)
    assert failed.details["reason"] == "unreachable"


def test_guessing_directory_passwords_is_locked_out(client, ldap_on, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "ana", "guess")
    answer = sign_in(client, "ana")  # the right password, too late
    assert answer.status_code == 429
    assert "_auth_user_id" not in client.session


def test_with_single_sign_on_required_the_directory_password_is_the_way_in(
    client, ldap_on, make_member
):
    make_member("bob", "Operator")  # a local account only
    policy = TeamPolicy.current()
    policy.sso_required = True
    policy.save()
    page = sign_in(client, "bob", MEMBER_PASSWORD).content.decode()
    assert "Your team signs in through single sign-on: use your directory password" in page
    assert sign_in(client, "ana")["Location"] == "/hosts/"


def test_an_account_made_inactive_ends_its_directory_session(client, ldap_on):
    assert sign_in(client, "ana")["Location"] == "/hosts/"
    User.objects.filter(username="ana").update(is_active=False)
    assert client.get("/hosts/")["Location"].startswith("/accounts/login/")
    answer = sign_in(client, "ana")
    assert answer.status_code == 200
    assert "Your account is not active." in answer.content.decode()


def test_pages_of_a_directory_session_ask_the_directory_nothing(client, ldap_on):
    assert sign_in(client, "ana")["Location"] == "/hosts/"
    ldap_on.AUTH_LDAP_SERVER_URI = "ldap://127.0.0.1:9"  # nothing listens there
    assert client.get("/hosts/").status_code == 200
