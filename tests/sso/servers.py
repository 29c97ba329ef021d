"""The servers the single sign-on tests sign in through, each started once per test session
(fixtures for every test package: tests/conftest.py names this module as a plugin):
an OpenID provider (tests/sso/provider, django-oauth-toolkit) and OpenLDAP's slapd
(tests/sso/slapd.py), both on free ports of 127.0.0.1, with users and groups of their own.
The dashboard talks to them over real HTTP and LDAP, as it would in production."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60  # seconds for the provider to migrate, seed and listen, on a busy machine

CLIENT_ID = "xds-dashboard"
CLIENT_SECRET = "the-dashboard-client-secret-for-tests"
CALLBACK = "http://testserver/oidc/callback/"  # the test client's
# A live server's, on any port: the provider ignores a loopback redirect's port (RFC 8252 §7.3).
LIVE_CALLBACK = "http://127.0.0.1/oidc/callback/"
# Where the provider sends the browser back after signing out there: the sign-in page.
SIGNED_OUT = "http://testserver/accounts/login/"
LIVE_SIGNED_OUT = "http://127.0.0.1/accounts/login/"

# Who the provider knows: name → (groups, e-mail, given name, family name).
PROVIDER_USERS = {
    "alice": (["ops"], "alice@corp.test", "Alice", "Liddell"),
    "carol": (["marketing"], "carol@corp.test", "Carol", "Danvers"),
    "dave": (["admins", "ops"], "dave@corp.test", "Dave", "Bowman"),
    "erin": (["viewers"], "erin@corp.test", "Erin", "Brockovich"),
    "root": (["admins"], "root@corp.test", "Root", "Account"),
}


def provider_password(username: str) -> str:
    return f"provider-password-of-{username}"


def rsa_private_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@dataclass
class Provider:
    process: subprocess.Popen
    base_url: str
    output: list[str] = field(default_factory=list)

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/o"


def _read_port(process: subprocess.Popen, output: list[str]) -> int | None:
    """The port the provider prints once it listens (None if it ended or took too long)."""
    found: list[int] = []

    def read():
        for line in process.stdout:
            output.append(line)
            if match := re.match(r"listening (\d+)", line):
                found.append(int(match[1]))
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(START_TIMEOUT)
    # The rest of its output (errors) keeps being collected, for a failure's message.
    threading.Thread(target=lambda: output.extend(process.stdout), daemon=True).start()
    return found[0] if found else None


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    home = tmp_path_factory.mktemp("oidc-provider")
    (home / "key.pem").write_text(rsa_private_pem())
    seed = {
        "users": [
            {
                "username": name,
                "password": provider_password(name),
                "email": email,
                "first_name": first,
                "last_name": last,
                "groups": groups,
            }
            for name, (groups, email, first, last) in PROVIDER_USERS.items()
        ],
        "client": {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uri": f"{CALLBACK} {LIVE_CALLBACK}",
            "post_logout_redirect_uri": f"{SIGNED_OUT} {LIVE_SIGNED_OUT}",
        },
    }
    (home / "seed.json").write_text(json.dumps(seed))
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONUNBUFFERED": "1",
        "PROVIDER_DB": str(home / "db.sqlite3"),
        "PROVIDER_KEY": str(home / "key.pem"),
        "PROVIDER_SEED": str(home / "seed.json"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.sso.provider.serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        port = _read_port(process, output)
        if port is None:
            pytest.fail("the test OpenID provider did not start:\n" + "".join(output)[-3000:])
        yield Provider(process=process, base_url=f"http://127.0.0.1:{port}", output=output)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def oidc_on(settings, oidc_provider):
    """The dashboard configured for the test provider, by discovery, as .env.example says
    (XDS_OIDC_NAME "Corp ID"; groups ops → Operator, admins → Admin, viewers → Viewer)."""
    from dashboard.env import url_origins

    settings.XDS_OIDC_ENABLED = True
    settings.XDS_OIDC_NAME = "Corp ID"
    settings.XDS_OIDC_ISSUER = oidc_provider.issuer
    settings.XDS_OIDC_ENDPOINTS = dict.fromkeys(
        ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"), ""
    )
    settings.XDS_OIDC_ROLE_MAP = {
        "ops": ("Operator",),
        "admins": ("Admin",),
        "viewers": ("Viewer",),
    }
    settings.XDS_OIDC_CLIENT_ID = settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.XDS_OIDC_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_RP_SIGN_ALGO = "RS256"
    # As the settings make them of the issuer (dashboard/settings.py).
    settings.XDS_OIDC_SIGN_OUT_ORIGINS = url_origins(oidc_provider.issuer)
    csp = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    settings.CONTENT_SECURITY_POLICY = {
        **settings.CONTENT_SECURITY_POLICY,
        "DIRECTIVES": {**csp, "form-action": ["'self'", *settings.XDS_OIDC_SIGN_OUT_ORIGINS]},
    }
    settings.AUTHENTICATION_BACKENDS = [
        *settings.AUTHENTICATION_BACKENDS,
        "dashboard.sso.oidc.ProviderBackend",
    ]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return settings


class ProviderSignIn:
    """A member's browser going through the authorization code flow: the dashboard (Django's
    test client) sends it to the provider (real HTTP), where it signs in, and the provider sends
    it back to the dashboard's callback with a code, which the dashboard exchanges for tokens
    with the provider itself."""

    def __init__(self, client):
        self.client = client
        self.browser = requests.Session()  # the provider's cookies
        self.callback_url = ""

    def to_provider(self, next_url: str = "") -> str:
        start = self.client.get("/oidc/authenticate/" + (f"?next={next_url}" if next_url else ""))
        assert start.status_code == 302, start
        return start["Location"]

    def at_provider(self, authorize_url: str, username: str, password: str | None = None) -> str:
        """Signs in at the provider; the dashboard's callback URL it sends the browser to."""
        answer = self.browser.get(authorize_url, allow_redirects=False, timeout=10)
        if answer.status_code == 302 and "/accounts/login/" in answer.headers["Location"]:
            login_url = urljoin(authorize_url, answer.headers["Location"])
            page = self.browser.get(login_url, timeout=10)
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
            next_url = re.search(r'name="next" value="([^"]+)"', page.text)[1].replace("&amp;", "&")
            answer = self.browser.post(
                login_url,
                data={
                    "csrfmiddlewaretoken": token,
                    "username": username,
                    "password": password or provider_password(username),
                    "next": next_url,
                },
                headers={"Referer": login_url},
                allow_redirects=False,
                timeout=10,
            )
            assert answer.status_code == 302, "the provider refused the sign-in"
            answer = self.browser.get(
                urljoin(login_url, answer.headers["Location"]), allow_redirects=False, timeout=10
            )
        assert answer.status_code == 302, answer.text[:500]
        self.callback_url = answer.headers["Location"]
        assert self.callback_url.startswith(CALLBACK), self.callback_url
        return self.callback_url

    def back_to_dashboard(self, callback_url: str | None = None):
        parts = urlsplit(callback_url or self.callback_url)
        return self.client.get(f"{parts.path}?{parts.query}")

    def sign_in(self, username: str, next_url: str = ""):
        return self.back_to_dashboard(self.at_provider(self.to_provider(next_url), username))


@pytest.fixture
def provider_sign_in(client, oidc_on):
    def sign_in(username: str, next_url: str = "", *, through=None):
        return (through or ProviderSignIn(client)).sign_in(username, next_url)

    return sign_in


# --- LDAP -----------------------------------------------------------------------------------------


def _need_slapd() -> None:
    """Missing slapd fails the run where services are required (CI: .ci/run installs it), and
    skips on a laptop without it."""
    from tests.sso import slapd as directory

    if not directory.available():
        message = f"{directory.SLAPD} is missing (Debian package slapd): this test cannot run"
        if os.environ.get("XDS_REQUIRE_SERVICES"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def slapd(tmp_path_factory):
    """OpenLDAP's server with the directory of tests/sso/slapd.py."""
    from tests.sso import slapd as directory

    _need_slapd()
    server = directory.Slapd(tmp_path_factory.mktemp("slapd")).start()
    try:
        yield server
    finally:
        server.stop()


@dataclass(frozen=True)
class DirectoryBehindTls:
    server: object  # tests.sso.slapd.Slapd
    team_ca: Path  # the CA that signed the server's certificate
    other_ca: Path  # a CA that signed nothing of it


@pytest.fixture(scope="session")
def slapd_tls(tmp_path_factory):
    """A second slapd, with a certificate for 127.0.0.1 from a CA of the team's own (in no
    system store): StartTLS on its ldap:// port, and an ldaps:// port."""
    from tests.sso import certificates
    from tests.sso import slapd as directory

    _need_slapd()
    folder = tmp_path_factory.mktemp("slapd-tls")
    team_ca = certificates.authority(folder, "team-ca")
    other_ca = certificates.authority(folder, "other-ca")
    tls = certificates.server_certificate(folder, team_ca, ip="127.0.0.1")
    server = directory.Slapd(folder / "home", tls=tls).start()
    try:
        yield DirectoryBehindTls(server, team_ca.pem_file, other_ca.pem_file)
    finally:
        server.stop()


@pytest.fixture
def ldap_on(settings, slapd):
    """The dashboard configured for the test directory as .env.example describes: a search as
    the service account, groupOfNames groups, ops → Operator, admins → Admin, viewers → Viewer."""
    from dashboard.sso.ldap_settings import connection_options, group_settings, user_search
    from tests.sso import slapd as directory

    settings.XDS_LDAP_ENABLED = True
    settings.XDS_LDAP_SERVER_URI = settings.AUTH_LDAP_SERVER_URI = slapd.uri
    settings.AUTH_LDAP_BIND_DN = directory.SERVICE_DN
    settings.AUTH_LDAP_BIND_PASSWORD = directory.SERVICE_PASSWORD
    settings.AUTH_LDAP_USER_DN_TEMPLATE = None
    settings.AUTH_LDAP_BIND_AS_AUTHENTICATING_USER = False
    settings.AUTH_LDAP_USER_SEARCH = user_search(directory.PEOPLE, "(uid=%(user)s)")
    settings.AUTH_LDAP_GROUP_SEARCH, settings.AUTH_LDAP_GROUP_TYPE = group_settings(
        directory.GROUPS, "groupofnames"
    )
    settings.AUTH_LDAP_CONNECTION_OPTIONS = connection_options(timeout_seconds=5)
    settings.XDS_LDAP_ROLE_MAP = {
        "ops": ("Operator",),
        "admins": ("Admin",),
        "viewers": ("Viewer",),
    }
    settings.AUTHENTICATION_BACKENDS = [
        *settings.AUTHENTICATION_BACKENDS,
        "dashboard.sso.ldap.DirectoryBackend",
    ]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return settings
