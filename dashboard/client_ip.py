"""The address a request came from, as far as we can trust it.

Behind a reverse proxy every request comes from the proxy, and the client's address is in
X-Forwarded-For, a header anyone can send. It is believed only when the request comes from an
address in XDS_TRUSTED_PROXIES, and only as far back as the chain stays within them: a client
cannot pick its own address (and so cannot reset its failed sign-ins, or blame someone else in
the audit trail) by sending the header itself. The sign-in lockout (django-axes) and the audit
trail both use this function.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings

from dashboard.env import parse_networks


def _address(value: str):
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _trusted(address) -> bool:
    return any(address in network for network in settings.XDS_TRUSTED_PROXIES)


def client_ip(request) -> str | None:
    """The client's IP address: REMOTE_ADDR, or, from a trusted proxy, the last address in
    X-Forwarded-For that is not itself a trusted proxy."""
    remote = _address(request.META.get("REMOTE_ADDR", "") or "")
    if remote is None:
        return None
    if not _trusted(remote):
        return str(remote)
    client = remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed([part for part in forwarded.split(",") if part.strip()]):
        address = _address(hop)
        if address is None:
            break  # garbage in the chain: trust nothing before it
        client = address
        if not _trusted(address):
            break
    return str(client)


def trusted_proxies(values: list[str]) -> list:
    """XDS_TRUSTED_PROXIES parsed: addresses or networks ("10.0.0.0/8"), never all of them."""
    return parse_networks("XDS_TRUSTED_PROXIES", values)
