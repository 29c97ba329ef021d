"""OpenLDAP's slapd (from Debian's `slapd` package) run by the tests: a directory of its own in a
temporary folder (slapd.conf, an MDB database seeded with slapadd), on a free port of 127.0.0.1,
in the foreground of a child process that the session ends."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import free_port
from tests.sso.certificates import ServerFiles

SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
SCHEMAS = Path("/etc/ldap/schema")
MODULES = Path("/usr/lib/ldap")

BASE = "dc=corp,dc=test"
PEOPLE = f"ou=people,{BASE}"
GROUPS = f"ou=groups,{BASE}"
SERVICE_DN = f"cn=dashboard,ou=services,{BASE}"
SERVICE_PASSWORD = "the-service-account-password"

# uid → (groups, given name, family name, e-mail).
DIRECTORY_USERS = {
    "ana": (["ops"], "Ana", "Lima", "ana@corp.test"),
    "ben": (["admins", "viewers"], "Ben", "Okafor", "ben@corp.test"),
    "cleo": (["marketing"], "Cleo", "Park", "cleo@corp.test"),
    "root": (["admins"], "Root", "Directory", "root@corp.test"),
}
GROUP_NAMES = ("ops", "admins", "viewers", "marketing")


def directory_password(uid: str) -> str:
    return f"directory-password-of-{uid}"


def available() -> bool:
    return all(Path(tool).is_file() for tool in (SLAPD, SLAPADD)) and SCHEMAS.is_dir()


def _config(home: Path, tls: ServerFiles | None) -> str:
    schemas = "\n".join(
        f"include {SCHEMAS / name}.schema" for name in ("core", "cosine", "inetorgperson", "nis")
    )
    tls_files = (
        f"TLSCertificateFile {tls.certificate_file}\nTLSCertificateKeyFile {tls.key_file}\n"
        if tls is not None
        else ""
    )
    return f"""{schemas}
pidfile {home}/slapd.pid
{tls_files}modulepath {MODULES}
moduleload back_mdb
database mdb
maxsize 10485760
suffix "{BASE}"
rootdn "cn=admin,{BASE}"
directory {home}/data
# Passwords are for binding only; the service account and signed-in users may read the rest,
# anonymous clients nothing (so a search bind needs the service account).
access to attrs=userPassword
    by anonymous auth
    by * none
access to *
    by dn.exact="{SERVICE_DN}" read
    by users read
    by * none
"""


def _seed() -> str:
    entries = [
        f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\no: Corp\ndc: corp\n",
        *(
            f"dn: ou={ou},{BASE}\nobjectClass: organizationalUnit\nou: {ou}\n"
            for ou in ("people", "groups", "services")
        ),
        f"dn: {SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
        f"cn: dashboard\nuserPassword: {SERVICE_PASSWORD}\n",
    ]
    for uid, (_groups, given, family, mail) in DIRECTORY_USERS.items():
        entries.append(
            f"dn: uid={uid},{PEOPLE}\nobjectClass: inetOrgPerson\nuid: {uid}\n"
            f"cn: {given} {family}\ngivenName: {given}\nsn: {family}\nmail: {mail}\n"
            f"userPassword: {directory_password(uid)}\n"
        )
    for group in GROUP_NAMES:
        members = [uid for uid, spec in DIRECTORY_USERS.items() if group in spec[0]]
        entries.append(
            f"dn: cn={group},{GROUPS}\nobjectClass: groupOfNames\ncn: {group}\n"
            + "".join(f"member: uid={uid},{PEOPLE}\n" for uid in members)
        )
    return "\n".join(entries)


@dataclass
class Slapd:
    home: Path
    # With a certificate, slapd also speaks TLS: StartTLS on `uri`, and ldaps:// on `tls_uri`.
    tls: ServerFiles | None = None
    port: int = 0
    tls_port: int = 0
    process: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def tls_uri(self) -> str:
        return f"ldaps://127.0.0.1:{self.tls_port}"

    def start(self, timeout: float = 20) -> Slapd:
        (self.home / "data").mkdir(parents=True)
        (self.home / "slapd.conf").write_text(_config(self.home, self.tls))
        (self.home / "seed.ldif").write_text(_seed())
        subprocess.run(  # noqa: S603 - Debian's slapadd, our own arguments
            [SLAPADD, "-f", str(self.home / "slapd.conf"), "-l", str(self.home / "seed.ldif")],
            check=True,
            capture_output=True,
            timeout=60,
        )
        self.port = free_port()
        listen = [f"{self.uri}/"]
        if self.tls is not None:
            self.tls_port = free_port()
            listen.append(f"{self.tls_uri}/")
        log = (self.home / "slapd.log").open("w")
        self.process = subprocess.Popen(  # noqa: S603 - Debian's slapd
            [SLAPD, "-f", str(self.home / "slapd.conf"), "-h", " ".join(listen), "-d", "0"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"slapd ended: {(self.home / 'slapd.log').read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"slapd did not listen on {self.uri} within {timeout:g} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.home / "data", ignore_errors=True)
