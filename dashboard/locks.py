"""Locks every process sharing the cache respects (the web server, every worker): a cache `add`
with an expiry, so a lock whose holder was killed frees itself."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.cache import cache


@contextmanager
def cache_lock(key: str, timeout: float) -> Iterator[bool]:
    """Yields whether the lock was taken; it expires by itself after `timeout` seconds. Only its
    holder releases it (a holder that outlived the expiry leaves a newer holder's lock alone)."""
    token = uuid.uuid4().hex
    acquired = cache.add(key, token, timeout)
    try:
        yield acquired
    finally:
        if acquired and cache.get(key) == token:
            cache.delete(key)
