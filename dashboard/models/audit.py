"""The audit trail: who did what, when, from where, to which host. Append-only.

Rows are only ever inserted (by `dashboard.services.audit`). The model refuses to save a row
twice or delete one, its queryset refuses `update()` and `delete()`, the admin offers no change,
and on PostgreSQL a trigger makes the database itself refuse UPDATE and DELETE (migration 0004),
so neither a bulk update nor raw SQL rewrites history.

Names are frozen into each row (the member's, the host's): an event keeps saying who and what
after the account or the host is gone. The references to users and operations carry no
database constraint for the same reason: deleting a user must not have to touch the trail.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dashboard.models.fields import ChoiceCharField, loose_reference


class AppendOnlyError(Exception):
    """Something tried to change or delete an audit event."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("audit events cannot be changed")

    def delete(self):
        raise AppendOnlyError("audit events cannot be deleted")


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        SIGNED_IN = "signed_in", _("Signed in")
        SIGNED_OUT = "signed_out", _("Signed out")
        SIGN_IN_FAILED = "sign_in_failed", _("Sign-in failed")
        LOCKED_OUT = "locked_out", _("Locked out")
        OPERATION_REQUESTED = "operation_requested", _("Operation requested")
        OPERATION_REFUSED = "operation_refused", _("Operation refused")
        OPERATION_FINISHED = "operation_finished", _("Operation finished")
        OPERATION_RESOLVED = "operation_resolved", _("Operation resolved")
        PASSWORD_REVEALED = "password_revealed", _("Password revealed")
        OWNER_CHANGED = "owner_changed", _("Owner changed")
        ANNOTATION_CHANGED = "annotation_changed", _("Labels or note changed")
        ROLE_CHANGED = "role_changed", _("Role changed")
        # Who someone is and what they may do beyond their roles (see dashboard.receivers).
        PASSWORD_SET = "password_set", _("Password set")
        PERMISSIONS_CHANGED = "permissions_changed", _("Direct permissions changed")
        ROLE_PERMISSIONS_CHANGED = "role_permissions_changed", _("Role's permissions changed")
        MEMBER_CREATED = "member_created", _("Account created")
        MEMBER_DELETED = "member_deleted", _("Account deleted")
        SCHEDULE_CHANGED = "schedule_changed", _("Schedule changed")
        APPROVAL_GRANTED = "approval_granted", _("Purchase approved")
        APPROVAL_REJECTED = "approval_rejected", _("Purchase rejected")
        APPROVAL_EXPIRED = "approval_expired", _("Approval expired")
        POLICY_CHANGED = "policy_changed", _("Team policy changed")
        POLICY_PROPOSED = "policy_proposed", _("Team policy change proposed")
        POLICY_DISCARDED = "policy_discarded", _("Team policy change discarded")
        ACCESS_DENIED = "access_denied", _("Access denied")
        TOKEN_CREATED = "token_created", _("API token created")
        TOKEN_REVOKED = "token_revoked", _("API token revoked")
        BUDGET_CHANGED = "budget_changed", _("Budget changed")
        LEASE_TAKEN = "lease_taken", _("Host leased")
        LEASE_EXTENDED = "lease_extended", _("Lease extended")
        LEASE_ENDED = "lease_ended", _("Lease ended")
        WALLET_RECORDED = "wallet_recorded", _("Wallet balance recorded")
        ALERT_CHANNEL_CHANGED = "alert_channel_changed", _("Alert channel changed")

    at = models.DateTimeField(default=timezone.now, db_index=True)
    action = ChoiceCharField(max_length=32, choices=Action.choices)
    # Who: the account (which may be deleted later) and its name at the time. Empty for a
    # sign-in attempt with an unknown name only in `actor`; the name tried is in `actor_name`.
    actor = loose_reference(settings.AUTH_USER_MODEL, "+")
    actor_name = models.CharField(max_length=150, blank=True)
    # From where: the client's address (see dashboard.client_ip) and browser. Empty for what the
    # worker did on its own (an operation that finished).
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    # On which host: its id and name at the time, kept after the host is gone.
    host_id = models.CharField(max_length=64, blank=True, db_index=True)
    host_name = models.CharField(max_length=255, blank=True)
    operation = models.ForeignKey(
        "dashboard.Operation",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="audit_events",
    )
    # What, in one line for people, and the particulars: parameters, upstream code, trace id.
    summary = models.TextField()
    details = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ("-at", "-id")
        indexes = [
            models.Index(fields=["actor", "at"], name="audit_actor_at_idx"),
            models.Index(fields=["action", "at"], name="audit_action_at_idx"),
        ]

    def __str__(self) -> str:
        # In the team's time zone, as every list shows it (the admin heads an event's page so).
        at = timezone.localtime(self.at)
        return f"{at:%Y-%m-%d %H:%M:%S} {self.actor_name or '-'} {self.summary}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events cannot be deleted")
