"""The team's policy, set by its admins in the admin (Team policy): one row.

A change that lets more purchases through without approval (a higher limit, or none) is only
proposed: it takes effect once a second admin confirms it (dashboard.services.approval_policy),
as otherwise one admin could raise the limit and buy alone."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dashboard.models.fields import member_reference


class TeamPolicy(models.Model):
    # A create whose price is above this (the hourly price for pay-as-you-go, the period's total
    # for a rental) waits for another admin's approval before anything is bought. Empty: none
    # does.
    approval_threshold = models.DecimalField(
        _("approval above (¥)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_(
            "Creates priced above this (hourly for pay-as-you-go, the whole period for a "
            "rental) wait for another admin's approval. Empty: no approval needed."
        ),
    )
    # Only superusers (the break-glass accounts) may sign in with a local password; everyone
    # else through single sign-on (dashboard.sso.policy).
    sso_required = models.BooleanField(
        _("require single sign-on"),
        default=False,
        help_text=_(
            "Members sign in only through single sign-on (OpenID Connect or LDAP); local "
            "passwords keep working for superusers alone, as break-glass accounts."
        ),
    )
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by_name = models.CharField(max_length=150, blank=True)
    # A raise waiting for a second admin: when it was proposed (empty: none waits), the limit
    # proposed (empty: none) and by whom (the name kept if the account goes).
    proposed_at = models.DateTimeField(null=True, blank=True)
    proposed_threshold = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    proposed_by = member_reference()
    proposed_by_name = models.CharField(max_length=150, blank=True)

    class Meta:
        verbose_name = _("team policy")
        verbose_name_plural = _("team policy")

    def __str__(self) -> str:
        return str(_("Team policy"))

    @classmethod
    def current(cls) -> TeamPolicy:
        return cls.objects.get_or_create(pk=1)[0]
