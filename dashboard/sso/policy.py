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


def local_password_sessions_end() -> int:
    """Ends the sessions signed in with a local password by anyone but a superuser (requiring
    single sign-on takes effect at once, not at each session's idle timeout). How many."""
    from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.models import Session

    superusers = {
        str(pk) for pk in get_user_model()._default_manager.filter(is_superuser=True)
        .values_list("pk", flat=True)
    }  # fmt: skip
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        data = session.get_decoded()
        if data.get(BACKEND_SESSION_KEY) != methods.LOCAL_BACKEND:
            continue
        if str(data.get(SESSION_KEY)) not in superusers:
            session.delete()
            ended += 1
    return ended


def sso_required_change(*, user, required: bool) -> bool:
    """Require single sign-on (or stop requiring it); audited. Requiring it ends the sessions
    signed in with a local password but superusers'. False when nothing changed."""
    with transaction.atomic():
        TeamPolicy.current()
        policy = TeamPolicy.objects.select_for_update().get(pk=1)
        if policy.sso_required == required:
            return False
        policy.sso_required = required
        policy.updated_at, policy.updated_by_name = timezone.now(), user.get_username()
        policy.save(update_fields=["sso_required", "updated_at", "updated_by_name"])
        details = {"sso_required": required}
        if required:
            details["sessions_ended"] = local_password_sessions_end()
        audit_record(
            AuditEvent.Action.POLICY_CHANGED,
            "Single sign-on required for everyone but superusers"
            if required
            else "Single sign-on no longer required: local passwords work again",
            actor=user,
            details=details,
        )
    return True
