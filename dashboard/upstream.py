"""Builds the process-wide `XuandashiClient` from Django settings.

One client per process, so every thread shares its token cache (one `getToken` per token
lifetime, not one per request). Changing the XDS_* settings (as tests do) builds a new one.
"""

from __future__ import annotations

import hashlib
import threading

from django.conf import settings

from dashboard.upstream_calls import record_exchange
from vmclient.client import XuandashiClient

__all__ = ["build_client", "get_client", "reset_client"]

_lock = threading.Lock()
_client: XuandashiClient | None = None
_client_key: tuple | None = None


def _settings_key(base_url: str) -> tuple:
    # The secret only as a digest, so the key is safe to show in a debugger or a traceback.
    secret_digest = hashlib.sha256(str(settings.XDS_SECRET).encode()).hexdigest()
    return (
        base_url,
        settings.XDS_UUID,
        secret_digest,
        float(settings.XDS_TIMEOUT),
        float(settings.XDS_CONNECT_TIMEOUT),
    )


def build_client(*, base_url: str | None = None, **overrides) -> XuandashiClient:
    """A new client from the XDS_* settings (not cached); `base_url` and keywords override."""
    options = {
        "timeout": settings.XDS_TIMEOUT,
        "connect_timeout": settings.XDS_CONNECT_TIMEOUT,
        # Every exchange is counted for /metrics (vmclient knows nothing of it).
        "on_exchange": record_exchange,
        **overrides,
    }
    return XuandashiClient(
        base_url or settings.XDS_BASE_URL, settings.XDS_UUID, settings.XDS_SECRET, **options
    )


def get_client() -> XuandashiClient:
    """The process-wide client for the configured account."""
    global _client, _client_key
    key = _settings_key(settings.XDS_BASE_URL)
    with _lock:
        if _client is None or _client_key != key:
            previous = _client
            _client = build_client()
            _client_key = key
            if previous is not None:
                previous.close()
        return _client


def reset_client() -> None:
    """Forget the process-wide client (after a fork, or between tests)."""
    global _client, _client_key
    with _lock:
        previous, _client, _client_key = _client, None, None
    if previous is not None:
        previous.close()
