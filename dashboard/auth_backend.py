"""Django's model backend, reading a member's permissions in one query instead of two, and
refusing a local password when the team requires single sign-on (dashboard.sso.policy).

Every request asks whether the member holds a role (dashboard.middleware), and pages ask once
per button; Django caches the answer per request but fetches the member's own permissions and
their groups' separately. On every poll of every open page that second round trip shows,
on PostgreSQL most of all (docs/benchmarks.md).
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q

from dashboard.sso.failures import Failure, note
from dashboard.sso.policy import local_password_allowed


class RolesBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username, password, **kwargs)
        if user is not None and not local_password_allowed(user):
            # The right password, but not the way in any more: the sign-in page says which is.
            note(request, Failure.LOCAL_PASSWORD_OFF, user.get_username())
            return None
        return user

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            rows = (
                Permission.objects.filter(Q(user=user_obj) | Q(group__user=user_obj))
                .values_list("content_type__app_label", "codename")
                .distinct()
            )
            user_obj._perm_cache = {f"{app}.{codename}" for app, codename in rows}
        return user_obj._perm_cache
