"""Audit rows written in answer to Django's signals: signing in and out, failed sign-ins and
lockouts (django-axes), and every change of who someone is or what they may do: role changes
(group membership, superuser, staff and active flags), passwords set, permissions given to a
member directly or to a role, accounts created and deleted (the name kept); and every alert
channel added, changed or removed, since whoever points the alerts elsewhere decides who hears
of the team's hosts. From wherever they come: the admin, the shell, a script. Connected in
`DashboardConfig.ready`."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from dashboard.models import AlertChannel, AuditEvent
from dashboard.services.audit import audit_record, current_origin
from dashboard.sso import failures, methods, policy
from dashboard.sso.ldap import DIRECTORY_ASKED
from dashboard.sso.views import HANDLED_HERE

Action = AuditEvent.Action
# The account flags that change what a member may do.
ROLE_FLAGS = ("is_superuser", "is_staff", "is_active")
# What of an alert channel its audit rows show. The webhook URL holds the robot's token and the
# secret signs its messages: of those, only that they changed.
CHANNEL_SHOWN = ("name", "kind", "alert_kinds", "language", "enabled")
CHANNEL_HIDDEN = ("url", "secret")


def signed_in(sender, request, user, **kwargs) -> None:
    """Which way too: a local password (a superuser's break-glass sign-in when single sign-on is
    required), the OpenID provider or the LDAP directory, and which one."""
    method = methods.method_of(getattr(user, "backend", None))
    name = user.get_username()
    details = {"method": method.key}
    if method.single_sign_on:
        summary = f"{name} signed in through {method.provider}"
        details["provider"] = method.provider
    elif policy.sso_required():
        summary = f"{name} signed in with a local password (break-glass: single sign-on required)"
        details["break_glass"] = True
    else:
        summary = f"{name} signed in"
    audit_record(Action.SIGNED_IN, summary, actor=user, request=request, details=details)


def signed_out(sender, request, user, **kwargs) -> None:
    if user is None:  # the session had already ended
        return
    audit_record(
        Action.SIGNED_OUT, f"{user.get_username()} signed out", actor=user, request=request
    )


def sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    """A name and password refused (locally and, when it is on, by the LDAP directory), with why
    when a backend noted it. A failed sign-in through the OpenID provider is audited by its
    callback view, which knows more."""
    if getattr(request, HANDLED_HERE, False):
        return
    # `credentials` comes cleansed (the password masked); only the name tried is kept.
    tried = str(credentials.get(get_user_model().USERNAME_FIELD) or "")[:150]
    user = get_user_model()._default_manager.filter(**{get_user_model().USERNAME_FIELD: tried})
    summary = f"Sign-in failed for {tried or '(no name)'}"
    details = {}
    if getattr(request, DIRECTORY_ASKED, False):
        details = {"method": "ldap", "provider": methods.ldap().provider}
    if noted := failures.noted(request):
        details["reason"], details["detail"] = str(noted[0]), noted[1]
        summary = f"{summary}: {noted[0]}"
    audit_record(
        Action.SIGN_IN_FAILED,
        summary,
        actor=user.first(),
        actor_name=tried,
        request=request,
        details=details,
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


def _account(user) -> dict:
    return {"member": user.get_username(), "member_id": user.pk}


def password_set(sender, instance, raw=False, **kwargs) -> None:
    """A password given to an existing account (`set_password` then save; not the rehash a
    sign-in may save, which keeps the same password). Who set it is the request's member: the
    member themselves, an admin, or nobody known (the shell). Never the password itself."""
    if raw or instance.pk is None or getattr(instance, "_password", None) is None:
        return
    origin = current_origin()
    by = origin.user if origin is not None else None
    member = instance.get_username()
    by_self = by is not None and by.pk == instance.pk
    if by_self:
        summary = f"{member} changed their own password"
    elif by is not None:
        summary = f"Password of {member} set by {by.get_username()}"
    else:
        summary = f"Password of {member} set outside the dashboard"
    audit_record(Action.PASSWORD_SET, summary, details={**_account(instance), "by_self": by_self})


def account_created(sender, instance, created, raw=False, **kwargs) -> None:
    if created and not raw:
        audit_record(
            Action.MEMBER_CREATED,
            f"Account {instance.get_username()} created",
            details=_account(instance),
        )


def account_deleted(sender, instance, **kwargs) -> None:
    # The name is frozen here: the events keep saying who after the account is gone.
    audit_record(
        Action.MEMBER_DELETED,
        f"Account {instance.get_username()} deleted",
        details=_account(instance),
    )


def _permission_names(pks) -> list[str]:
    rows = Permission.objects.filter(pk__in=pks).values_list("content_type__app_label", "codename")
    return sorted(f"{app}.{codename}" for app, codename in rows)


def _permission_changes(instance, action, reverse, pk_set, *, holder_model, forward_related):
    """(holder, change, permission names) for an m2m change between holders (members or roles)
    and permissions, from either side."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return []
    change = "added" if action == "post_add" else "removed"
    if reverse:  # instance is a permission, pk_set holders
        if action == "pre_clear":
            holders = list(getattr(instance, f"{holder_model._meta.model_name}_set").all())
        else:
            holders = list(holder_model._default_manager.filter(pk__in=pk_set or ()))
        names = _permission_names([instance.pk])
        return [(holder, change, names) for holder in holders]
    if action == "pre_clear":
        pk_set = set(getattr(instance, forward_related).values_list("pk", flat=True))
    names = _permission_names(pk_set) if pk_set else []
    return [(instance, change, names)] if names else []


def member_permissions_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    """Permissions given to a member directly, outside the roles (a superuser's doing only)."""
    changes = _permission_changes(
        instance,
        action,
        reverse,
        pk_set,
        holder_model=get_user_model(),
        forward_related="user_permissions",
    )
    for member, change, names in changes:
        verb = "given" if change == "added" else "taken from"
        audit_record(
            Action.PERMISSIONS_CHANGED,
            f"Direct permissions {verb} {member.get_username()}: {', '.join(names)}",
            details={"member": member.get_username(), "change": change, "permissions": names},
        )


def role_permissions_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    """What a role gives changed: every member holding it can do more (or less)."""
    changes = _permission_changes(
        instance, action, reverse, pk_set, holder_model=Group, forward_related="permissions"
    )
    for group, change, names in changes:
        verb = "given" if change == "added" else "no longer gives"
        audit_record(
            Action.ROLE_PERMISSIONS_CHANGED,
            f"Role {group.name} {verb} {', '.join(names)}",
            details={"role": group.name, "change": change, "permissions": names},
        )


def channel_changing(sender, instance, raw=False, **kwargs) -> None:
    """Before a channel is saved: what it was, to tell what changed."""
    instance._audit_before = None
    if not raw and instance.pk is not None:
        fields = (*CHANNEL_SHOWN, *CHANNEL_HIDDEN)
        instance._audit_before = (
            sender._default_manager.filter(pk=instance.pk).values(*fields).first()
        )


def channel_saved(sender, instance, created, raw=False, **kwargs) -> None:
    if raw:
        return
    shown = {field: getattr(instance, field) for field in CHANNEL_SHOWN}
    before = getattr(instance, "_audit_before", None)
    if created or before is None:
        details = {
            "channel": instance.name,
            "change": "added",
            **shown,
            "signed": bool(instance.secret),
        }
        summary = f"Alert channel {instance.name} added ({instance.kind})"
    else:
        changed = {
            field: [before[field], value]
            for field, value in shown.items()
            if before[field] != value
        }
        hidden = [field for field in CHANNEL_HIDDEN if before[field] != getattr(instance, field)]
        if not changed and not hidden:
            return
        details = {"channel": instance.name, "change": "changed", "changed": changed}
        details.update({f"{field}_changed": True for field in hidden})
        summary = f"Alert channel {instance.name} changed: {', '.join([*changed, *hidden])}"
    audit_record(Action.ALERT_CHANNEL_CHANGED, summary, details=details)


def channel_deleted(sender, instance, **kwargs) -> None:
    audit_record(
        Action.ALERT_CHANNEL_CHANGED,
        f"Alert channel {instance.name} removed",
        details={"channel": instance.name, "change": "removed", "kind": instance.kind},
    )


def connect() -> None:
    from axes.signals import user_locked_out
    from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
    from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

    user_model = get_user_model()
    user_logged_in.connect(signed_in, dispatch_uid="xds-audit-signed-in")
    user_logged_out.connect(signed_out, dispatch_uid="xds-audit-signed-out")
    user_login_failed.connect(sign_in_failed, dispatch_uid="xds-audit-sign-in-failed")
    user_locked_out.connect(locked_out, dispatch_uid="xds-audit-locked-out")
    m2m_changed.connect(
        groups_changed, sender=user_model.groups.through, dispatch_uid="xds-audit-groups"
    )
    pre_save.connect(flags_changed, sender=user_model, dispatch_uid="xds-audit-flags")
    pre_save.connect(password_set, sender=user_model, dispatch_uid="xds-audit-password")
    post_save.connect(account_created, sender=user_model, dispatch_uid="xds-audit-created")
    post_delete.connect(account_deleted, sender=user_model, dispatch_uid="xds-audit-deleted")
    m2m_changed.connect(
        member_permissions_changed,
        sender=user_model.user_permissions.through,
        dispatch_uid="xds-audit-member-permissions",
    )
    pre_save.connect(channel_changing, sender=AlertChannel, dispatch_uid="xds-audit-channel-pre")
    post_save.connect(channel_saved, sender=AlertChannel, dispatch_uid="xds-audit-channel")
    post_delete.connect(channel_deleted, sender=AlertChannel, dispatch_uid="xds-audit-channel-rm")
    m2m_changed.connect(
        role_permissions_changed,
        sender=Group.permissions.through,
        dispatch_uid="xds-audit-role-permissions",
    )
