"""The suite runs against whatever DATABASE_URL and CELERY_BROKER_URL name; CI names the real
PostgreSQL and Redis and sets XDS_REQUIRE_SERVICES so that a missing service fails the run."""

import os

import pytest
from django.conf import settings
from django.db import connection

from dashboard.celery import app as celery_app


@pytest.mark.django_db
def test_database_is_the_configured_one():
    url = os.environ.get("DATABASE_URL", "")
    expected = "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
    assert connection.vendor == expected


def test_broker_accepts_connections():
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=5)
        assert conn.connected
    if os.environ.get("XDS_REQUIRE_SERVICES"):
        assert settings.CELERY_BROKER_URL.startswith("redis://")
