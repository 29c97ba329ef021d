"""Locks every process sharing the cache respects (the web server, every worker): a cache `add`
with a short expiry that its holder refreshes while it works, so a lock whose holder was killed
frees itself within XDS_LOCK_SECONDS, however long the work may take."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)


@contextmanager
def cache_lock(key: str, timeout: float | None = None) -> Iterator[bool]:
    """Yields whether the lock was taken. It expires `timeout` seconds (XDS_LOCK_SECONDS by
    default) after its holder last refreshed it: a thread refreshes it every third of that while
    the block runs. Only its holder refreshes or releases it (a holder that outlived the expiry
    leaves a newer holder's lock alone). The value says since when it is held, for pages that
    tell why something waits (`lock_holder`)."""
    timeout = timeout or settings.XDS_LOCK_SECONDS
    token = uuid.uuid4().hex
    acquired = cache.add(key, {"token": token, "since": time.time()}, timeout)
    stop = threading.Event()
    refresher = None
    if acquired:
        refresher = threading.Thread(
            target=_refresh, args=(key, token, timeout, stop), name=f"lock:{key}", daemon=True
        )
        refresher.start()
    try:
        yield acquired
    finally:
        if refresher is not None:
            stop.set()
            refresher.join()
        if acquired and _token(key) == token:
            cache.delete(key)


def _token(key: str) -> str | None:
    value = cache.get(key)
    return value.get("token") if isinstance(value, dict) else None


def _refresh(key: str, token: str, timeout: float, stop: threading.Event) -> None:
    while not stop.wait(timeout / 3):
        try:
            if _token(key) != token:
                logger.warning("lock %s was lost while held (it expired)", key)
                return
            cache.touch(key, timeout)
        except Exception as exc:  # a cache blip: the next round tries again
            logger.warning("cannot refresh lock %s: %s", key, exc)


def lock_holder(key: str) -> dict | None:
    """{"since": epoch seconds or None} while the lock is held, None when it is free."""
    value = cache.get(key)
    if value is None:
        return None
    return {"since": value.get("since") if isinstance(value, dict) else None}
