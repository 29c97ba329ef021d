"""Shared fixtures. The simulator fixtures live in tests/simulator_fixtures.py."""

import os
import socket
import uuid
from urllib.parse import urlparse

import pytest
from django.core.cache import cache
from hypothesis import settings as hypothesis_settings

pytest_plugins = ["tests.simulator_fixtures"]


# In CI property tests draw the same examples every run, so a red run can be reproduced and a
# green one cannot hide a lucky draw that a later run would not repeat.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


@pytest.fixture(autouse=True)
def isolated_cache(settings):
    """Each test gets its own empty in-memory cache: nothing leaks between tests, and CI's Redis
    (CACHE_URL) holds nothing of a test's afterwards."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"xds-test-{uuid.uuid4().hex}",
        }
    }
    yield
    cache.clear()


def reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or default_port), timeout=3):
            return True
    except OSError:
        return False


def pytest_sessionstart(session):
    """In CI a missing PostgreSQL or Redis stops the run with an error instead of skipping."""
    if not os.environ.get("XDS_REQUIRE_SERVICES"):
        return
    required = {
        "DATABASE_URL": (os.environ.get("DATABASE_URL", ""), 5432),
        "CELERY_BROKER_URL": (os.environ.get("CELERY_BROKER_URL", ""), 6379),
    }
    for name, (url, port) in required.items():
        if not url or url.startswith(("sqlite", "filesystem")):
            pytest.exit(f"XDS_REQUIRE_SERVICES is set but {name} names no server", returncode=3)
        if not reachable(url, port):
            pytest.exit(f"{name} is unreachable: {urlparse(url).netloc}", returncode=3)
