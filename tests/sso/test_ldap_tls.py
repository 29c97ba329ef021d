"""Signing in through a directory behind TLS whose certificate a team's own CA signed (a real
slapd, tests/sso/servers.py): XDS_LDAP_CA_FILE names that CA, for ldaps:// and for StartTLS.
Without it, or with another CA, no password crosses an unverified connection: the sign-in fails,
and the audit trail says the certificate was the reason."""

from __future__ import annotations

import ldap
import pytest
from django.contrib.auth import get_user_model

from dashboard.models import AuditEvent
from tests.conftest import free_port, roles_exist
from tests.sso import slapd as directory
from tests.sso.test_sso_settings import read_settings

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture(autouse=True)
def _roles(db):
    roles_exist()


@pytest.fixture
def behind_tls(ldap_on, slapd_tls, monkeypatch, tmp_path):
    """The dashboard pointed at the TLS directory; `trust(ca_file)` sets XDS_LDAP_CA_FILE ("" for
    the system's store) and takes django-auth-ldap's connection settings from what the settings
    module makes of the environment."""

    def trust(ca_file, *, uri=slapd_tls.server.tls_uri, start_tls=False):
        read = read_settings(
            monkeypatch,
            tmp_path,
            XDS_LDAP_SERVER_URI=uri,
            XDS_LDAP_START_TLS=str(start_tls).lower(),
            XDS_LDAP_CA_FILE=str(ca_file or ""),
            XDS_LDAP_USER_SEARCH_BASE=directory.PEOPLE,
        )
        for name in ("AUTH_LDAP_SERVER_URI", "AUTH_LDAP_START_TLS"):
            setattr(ldap_on, name, read[name])
        # The same options, with the tests' shorter wait for a directory that does not answer.
        ldap_on.AUTH_LDAP_CONNECTION_OPTIONS = read["AUTH_LDAP_CONNECTION_OPTIONS"] | {
            ldap.OPT_NETWORK_TIMEOUT: 5,
            ldap.OPT_TIMEOUT: 5,
        }

    return trust


def sign_in(client, uid: str):
    return client.post(
        "/accounts/login/",
        {"username": uid, "password": directory.directory_password(uid)},
    )


def test_ldaps_with_the_teams_ca_signs_in(client, behind_tls, slapd_tls):
    behind_tls(slapd_tls.team_ca)
    answer = sign_in(client, "ana")
    assert answer.status_code == 302 and answer["Location"] == "/hosts/"
    assert set(User.objects.get(username="ana").groups.values_list("name", flat=True)) == {
        "Operator"
    }


def test_start_tls_with_the_teams_ca_signs_in(client, behind_tls, slapd_tls):
    behind_tls(slapd_tls.team_ca, uri=slapd_tls.server.uri, start_tls=True)
    assert sign_in(client, "ben")["Location"] == "/hosts/"


@pytest.mark.parametrize(
    ("connection", "trusted"),
    [("ldaps", "system store"), ("ldaps", "another CA"), ("StartTLS", "another CA")],
)
def test_a_certificate_nobody_trusts_signs_nobody_in(
    client, behind_tls, slapd_tls, connection, trusted
):
    server = slapd_tls.server
    behind_tls(
        "" if trusted == "system store" else slapd_tls.other_ca,
        uri=server.tls_uri if connection == "ldaps" else server.uri,
        start_tls=connection == "StartTLS",
    )
    answer = sign_in(client, "ana")
    assert answer.status_code == 200
    assert "The directory could not be reached" in answer.content.decode()
    assert "_auth_user_id" not in client.session
    assert not User.objects.filter(username="ana").exists()
    failed = AuditEvent.objects.get(action=AuditEvent.Action.SIGN_IN_FAILED)
    assert failed.details["reason"] == "unreachable"
    # The admin reading the trail learns it was the certificate, not a server that is down.
    assert "TLS certificate was refused" in failed.details["detail"], failed.details["detail"]


def test_a_tls_directory_that_is_down_is_not_blamed_on_its_certificate(client, behind_tls):
    behind_tls("", uri=f"ldaps://127.0.0.1:{free_port()}")
    assert sign_in(client, "ana").status_code == 200
    failed = AuditEvent.objects.get(action=AuditEvent.Action.SIGN_IN_FAILED)
    assert failed.details["detail"].startswith("search_for_user_dn: SERVER_DOWN")
    assert "certificate" not in failed.details["detail"]
