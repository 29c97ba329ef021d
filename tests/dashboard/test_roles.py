"""The groups the migrations leave are the roles `dashboard.permissions` describes."""

import pytest
from django.contrib.auth.models import Group

from dashboard.permissions import ROLE_PERMISSIONS, ROLES

pytestmark = pytest.mark.django_db


def test_the_migrated_groups_are_the_documented_roles():
    migrated = {
        group.name: {
            f"{p.content_type.app_label}.{p.codename}"
            for p in group.permissions.select_related("content_type")
        }
        for group in Group.objects.all()
    }
    assert migrated == ROLE_PERMISSIONS
    assert tuple(ROLE_PERMISSIONS) == ROLES
