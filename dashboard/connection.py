"""How to connect to a host: an ssh command for Linux, an .rdp file for Windows.

Every value comes from the upstream, so nothing is trusted: the ssh command is shell-quoted and
the .rdp file drops control characters (a newline would add a setting of its own).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from dashboard.models import Host

SSH_DEFAULT_PORT = 22
RDP_DEFAULT_PORT = 3389
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Connection:
    protocol: str  # "ssh" or "rdp"
    address: str
    port: int | None
    user: str

    @property
    def ssh_command(self) -> str:
        target = f"{self.user}@{self.address}" if self.user else self.address
        parts = ["ssh"]
        if self.port and self.port != SSH_DEFAULT_PORT:
            parts += ["-p", str(self.port)]
        parts.append(shlex.quote(target))
        return " ".join(parts)

    @property
    def endpoint(self) -> str:
        return f"{self.address}:{self.port}" if self.port else self.address

    def rdp_file(self) -> str:
        lines = [
            f"full address:s:{_clean(self.address)}:{self.port or RDP_DEFAULT_PORT}",
            "prompt for credentials:i:1",
            "administrative session:i:0",
            "screen mode id:i:2",
            "authentication level:i:2",
        ]
        if self.user:
            lines.insert(1, f"username:s:{_clean(self.user)}")
        return "\r\n".join(lines) + "\r\n"


def connection_for(host: Host) -> Connection | None:
    """None when the upstream gave no address to connect to."""
    address, port = host.address, host.port
    if not address and host.ipv4:
        address, port = _split_endpoint(host.ipv4, port)
    if not address:
        return None
    return Connection(
        protocol="rdp" if host.is_windows else "ssh",
        address=address,
        port=port,
        user=host.login_user,
    )


def _split_endpoint(value: str, port: int | None) -> tuple[str, int | None]:
    """`ipv4` is sometimes `host:port`."""
    address, sep, maybe_port = value.rpartition(":")
    if sep and maybe_port.isdigit() and ":" not in address:
        return address, port or int(maybe_port)
    return value, port


def _clean(value: str) -> str:
    return _CONTROL.sub("", value)


def rdp_filename(host: Host) -> str:
    """The host's name as a file name: letters of any script, digits and . _ - (the view sends
    it as RFC 6266 `filename*`, so a Chinese name stays as it is); else the id made plain
    the same way (either may hold `/`, quotes or nothing printable), else "host"."""
    stems = (re.sub(r"[^\w.-]+", "-", value or "").strip("-._") for value in (host.name, host.id))
    stem = next((stem for stem in stems if stem), "host")
    return f"{stem[:60]}.rdp"
