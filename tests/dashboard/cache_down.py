"""The cache's Redis gone: the test's own redis-server (never the machine's), stopped."""

from __future__ import annotations

from contextlib import contextmanager

from django.test import override_settings


@contextmanager
def cache_unreachable(redis_server):
    """Inside, the cache is the stopped `redis_server`: every call to it fails to connect.

    `override_settings` rather than the `settings` fixture: the autouse `isolated_cache` fixture
    clears the cache when the test ends, and must find its own cache again by then."""
    redis_server.stop()
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_server.url,
        }
    }
    with override_settings(CACHES=caches):
        yield
