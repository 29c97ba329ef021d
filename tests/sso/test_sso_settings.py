"""The XDS_OIDC_* and XDS_LDAP_* settings as .env.example documents them, read by the settings
module into what mozilla-django-oidc and django-auth-ldap read (their bad values:
tests/deploy/test_bad_settings.py)."""

from __future__ import annotations

import runpy

from django_auth_ldap.config import GroupOfUniqueNamesType, LDAPSearch

from dashboard.permissions import ROLES
from tests.deploy.conftest import ROOT

SETTINGS = ROOT / "dashboard" / "settings.py"


def read_settings(monkeypatch, tmp_path, **env) -> dict:
    monkeypatch.setenv("XDS_VAR_DIR", str(tmp_path / "var"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


def test_without_settings_there_is_no_single_sign_on(monkeypatch, tmp_path):
    read = read_settings(monkeypatch, tmp_path)
    assert not read["XDS_OIDC_ENABLED"] and not read["XDS_LDAP_ENABLED"]
    assert read["AUTHENTICATION_BACKENDS"] == [
        "axes.backends.AxesStandaloneBackend",
        "dashboard.auth_backend.RolesBackend",
    ]


def test_the_openid_provider_and_its_role_map(monkeypatch, tmp_path):
    read = read_settings(
        monkeypatch,
        tmp_path,
        XDS_OIDC_CLIENT_ID="dash",
        XDS_OIDC_CLIENT_SECRET="s3cret",
        XDS_OIDC_ISSUER="https://id.example.com/realms/team/",
        XDS_OIDC_TOKEN_ENDPOINT="https://id.example.com/token",
        XDS_OIDC_ROLE_MAP="dash-admins=Admin, dash-ops=Operator,dash-ops=Creator",
        XDS_OIDC_NAME="Example ID",
    )
    assert read["AUTHENTICATION_BACKENDS"][-1] == "dashboard.sso.oidc.ProviderBackend"
    assert read["XDS_OIDC_ISSUER"] == "https://id.example.com/realms/team"
    assert read["XDS_OIDC_ENDPOINTS"]["token_endpoint"] == "https://id.example.com/token"
    assert read["XDS_OIDC_ENDPOINTS"]["jwks_uri"] == ""  # from discovery
    assert read["XDS_OIDC_ROLE_MAP"] == {
        "dash-admins": ("Admin",),
        "dash-ops": ("Operator", "Creator"),
    }
    assert (read["OIDC_RP_CLIENT_ID"], read["OIDC_RP_SIGN_ALGO"]) == ("dash", "RS256")
    assert read["OIDC_USE_PKCE"] is True
    # Log out sends the browser to the provider's end_session_endpoint, at the issuer's origin
    # unless named: the pages' form-action allows it, and nothing else.
    form_action = read["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["form-action"]
    assert form_action == ["'self'", "https://id.example.com"]
    assert read["OIDC_STORE_ID_TOKEN"] is True


def test_the_end_session_endpoint_named_and_sign_out_at_the_provider_off(monkeypatch, tmp_path):
    provider = {
        "XDS_OIDC_CLIENT_ID": "dash",
        "XDS_OIDC_CLIENT_SECRET": "s3cret",
        "XDS_OIDC_ISSUER": "https://id.example.com/realms/team",
    }
    named = read_settings(
        monkeypatch,
        tmp_path,
        **provider,
        XDS_OIDC_END_SESSION_ENDPOINT="https://logout.example.com:8443/end",
    )
    assert named["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["form-action"] == [
        "'self'",
        "https://id.example.com",
        "https://logout.example.com:8443",
    ]
    off = read_settings(monkeypatch, tmp_path, **provider, XDS_OIDC_SIGN_OUT_AT_PROVIDER="false")
    assert off["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["form-action"] == ["'self'"]


def test_the_directory_searched_as_the_service_account(monkeypatch, tmp_path):
    read = read_settings(
        monkeypatch,
        tmp_path,
        XDS_LDAP_SERVER_URI="ldaps://ldap.example.com",
        XDS_LDAP_BIND_DN="cn=dashboard,dc=example,dc=com",
        XDS_LDAP_BIND_PASSWORD="pw",
        XDS_LDAP_USER_SEARCH_BASE="ou=people,dc=example,dc=com",
        XDS_LDAP_USER_FILTER="(sAMAccountName=%(user)s)",
        XDS_LDAP_GROUP_SEARCH_BASE="ou=groups,dc=example,dc=com",
        XDS_LDAP_GROUP_TYPE="groupOfUniqueNames",
        XDS_LDAP_ROLE_MAP="admins=Admin",
    )
    assert read["AUTHENTICATION_BACKENDS"][-1] == "dashboard.sso.ldap.DirectoryBackend"
    search = read["AUTH_LDAP_USER_SEARCH"]
    assert isinstance(search, LDAPSearch)
    assert (search.base_dn, search.filterstr) == (
        "ou=people,dc=example,dc=com",
        "(sAMAccountName=%(user)s)",
    )
    assert isinstance(read["AUTH_LDAP_GROUP_TYPE"], GroupOfUniqueNamesType)
    assert read["AUTH_LDAP_USER_DN_TEMPLATE"] is None
    assert read["AUTH_LDAP_BIND_AS_AUTHENTICATING_USER"] is False


def test_the_directory_bound_at_a_template(monkeypatch, tmp_path):
    read = read_settings(
        monkeypatch,
        tmp_path,
        XDS_LDAP_SERVER_URI="ldap://ldap.example.com",
        XDS_LDAP_USER_DN_TEMPLATE="uid=%(user)s,ou=people,dc=example,dc=com",
    )
    assert read["AUTH_LDAP_USER_DN_TEMPLATE"] == "uid=%(user)s,ou=people,dc=example,dc=com"
    assert read["AUTH_LDAP_BIND_AS_AUTHENTICATING_USER"] is True  # no service account
    assert "AUTH_LDAP_USER_SEARCH" not in read


def test_the_role_names_the_settings_accept_are_the_roles():
    assert runpy.run_path(str(SETTINGS))["_ROLE_NAMES"] == ROLES
