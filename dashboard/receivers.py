"""Audit rows written in answer to Django's signals: signing in and out, failed sign-ins and
lockouts (django-axes), and role changes (group membership, superuser and active flags), from
wherever they come: the admin, the shell, a migration. Connected in `DashboardConfig.ready`."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from dashboard.models import AuditEvent
from dashboard.services.audit import audit_record

Action = AuditEvent.Action
# The account flags that change what a member may do.
ROLE_FLAGS = ("is_superuser", "is_staff", "is_active")


def signed_in(sender, request, user, **kwargs) -> None:
    audit_record(Action.SIGNED_IN, f"{user.get_username()} signed in", actor=user, request=request)


def signed_out(sender, request, user, **kwargs) -> None:
    if user is None:  # the session had already ended
        return
    audit_record(
        Action.SIGNED_OUT, f"{user.get_username()} signed out", actor=user, request=request
    )


def sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    # `credentials` comes cleansed (the password masked); only the name tried is kept.
    tried = str(credentials.get(get_user_model().USERNAME_FIELD) or "")[:150]
    user = get_user_model()._default_manager.filter(**{get_user_model().USERNAME_FIELD: tried})
    audit_record(
        Action.SIGN_IN_FAILED,
        f"Sign-in failed for {tried or '(no name)'}",
        actor=user.first(),
        actor_name=tried,
        request=request,
    )


def locked_out(sender, request, username, ip_address, **kwargs) -> None:
    name = str(username or "")[:150]
    audit_record(
        Action.LOCKED_OUT,
        f"{name or '(no name)'} locked out after repeated failed sign-ins",
        actor_name=name,
        request=request,
        details={"ip_address": ip_address},
    )


def groups_changed(sender, instance, action, reverse, model, pk_set, **kwargs) -> None:
    """Roles given or taken, from either side: user.groups.add(...) or group.user_set.add(...)."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if action == "pre_clear":
        related = instance.user_set.all() if reverse else instance.groups.all()
        pk_set = set(related.values_list("pk", flat=True))
    if not pk_set:
        return
    verb = "given" if action == "post_add" else "taken from"
    if reverse:  # instance is a group, pk_set users
        users = get_user_model()._default_manager.filter(pk__in=pk_set)
        pairs = [(user.get_username(), instance.name) for user in users]
    else:
        groups = Group.objects.filter(pk__in=pk_set).values_list("name", flat=True)
        pairs = [(instance.get_username(), name) for name in groups]
    for member, role in pairs:
        audit_record(
            Action.ROLE_CHANGED,
            f"Role {role} {verb} {member}",
            details={
                "member": member,
                "role": role,
                "change": "added" if verb == "given" else "removed",
            },
        )


def flags_changed(sender, instance, raw=False, **kwargs) -> None:
    """Superuser, staff and active flags changed on an existing account."""
    if raw or instance.pk is None:
        return
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and not set(update_fields) & set(ROLE_FLAGS):
        return  # e.g. the last_login a sign-in saves: nothing to compare, no query
    before = sender._default_manager.filter(pk=instance.pk).values(*ROLE_FLAGS).first()
    if before is None:
        return
    for flag in ROLE_FLAGS:
        if before[flag] != getattr(instance, flag):
            audit_record(
                Action.ROLE_CHANGED,
                f"{flag} set to {getattr(instance, flag)} for {instance.get_username()}",
                details={"member": instance.get_username(), flag: getattr(instance, flag)},
            )


def connect() -> None:
    from axes.signals import user_locked_out
    from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
    from django.db.models.signals import m2m_changed, pre_save

    user_model = get_user_model()
    user_logged_in.connect(signed_in, dispatch_uid="xds-audit-signed-in")
    user_logged_out.connect(signed_out, dispatch_uid="xds-audit-signed-out")
    user_login_failed.connect(sign_in_failed, dispatch_uid="xds-audit-sign-in-failed")
    user_locked_out.connect(locked_out, dispatch_uid="xds-audit-locked-out")
    m2m_changed.connect(
        groups_changed, sender=user_model.groups.through, dispatch_uid="xds-audit-groups"
    )
    pre_save.connect(flags_changed, sender=user_model, dispatch_uid="xds-audit-flags")
