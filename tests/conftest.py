"""Shared fixtures. The simulator fixtures live in tests/simulator_fixtures.py."""

import os
import socket
import uuid
from urllib.parse import urlparse

import pytest
from django.core.cache import cache
from hypothesis import settings as hypothesis_settings

pytest_plugins = ["tests.simulator_fixtures", "tests.sso.servers"]


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


@pytest.fixture
def make_member(django_user_model, settings):
    """make_member("alice", "Creator", "Operator"): an account holding those roles (the groups
    of migration 0005), with the password "a-long-test-password"."""
    from django.contrib.auth.models import Group

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast

    def make(username: str, *roles: str, **fields):
        roles_exist()
        user = django_user_model.objects.create_user(
            username, password=MEMBER_PASSWORD, email=f"{username}@example.test", **fields
        )
        groups = Group.objects.filter(name__in=roles)
        assert groups.count() == len(set(roles)), f"unknown role among {roles}"
        user.groups.set(groups)
        return user

    return make


MEMBER_PASSWORD = "a-long-test-password"


def roles_exist() -> None:
    """The groups the migrations make, made again if a transactional test's flush removed them
    (a flush recreates permissions, not the rows data migrations wrote)."""
    from django.contrib.auth.models import Group, Permission

    from dashboard.permissions import ROLE_PERMISSIONS

    for name, names in ROLE_PERMISSIONS.items():
        group, created = Group.objects.get_or_create(name=name)
        if created:
            for app_label, codename in (name.split(".") for name in names):
                group.permissions.add(
                    Permission.objects.get(content_type__app_label=app_label, codename=codename)
                )


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listened on a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
