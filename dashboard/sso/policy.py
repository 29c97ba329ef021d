"""When a local password may still be used to sign in.

An admin may require single sign-on (Admin → Team policy, once a way of it is configured): then
only superusers may sign in with a local password, the break-glass accounts for the day the
directory is down; everyone else signs in through the directory. A superuser's account is never
signed into through the directory either (dashboard.sso.accounts): a directory admin who
names a directory user like a superuser does not become one.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from dashboard.models import AuditEvent, TeamPolicy
from dashboard.services.audit import audit_record
from dashboard.sso import methods


def sso_required() -> bool:
    """Whether the team requires single sign-on now: as its policy says, while some way of it
    is configured (settings that lose it later must not leave only the superusers)."""
    return methods.configured() and TeamPolicy.current().sso_required


def local_password_allowed(user) -> bool:
    return user.is_superuser or not sso_required()


def sso_required_change(*, user, required: bool) -> bool:
    """Require single sign-on (or stop requiring it); audited. False when nothing changed."""
    with transaction.atomic():
        TeamPolicy.current()
        policy = TeamPolicy.objects.select_for_update().get(pk=1)
        if policy.sso_required == required:
            return False
        policy.sso_required = required
        policy.updated_at, policy.updated_by_name = timezone.now(), user.get_username()
        policy.save(update_fields=["sso_required", "updated_at", "updated_by_name"])
        audit_record(
            AuditEvent.Action.POLICY_CHANGED,
            "Single sign-on required for everyone but superusers"
            if required
            else "Single sign-on no longer required: local passwords work again",
            actor=user,
            details={"sso_required": required},
        )
    return True
