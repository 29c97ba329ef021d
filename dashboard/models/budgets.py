"""Monthly budgets, set by admins (in the admin): one per member or one per label (a project).

What a budget has used is worked out from the spend estimate (dashboard.selectors.budgets); at
80 % and 100 % of it the member and the admins are told once a month, and over budget a
member's creates wait for another admin's approval (dashboard.services.approval_policy)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dashboard.models.hosts import Label


class Budget(models.Model):
    member = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("member"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="budget",
    )
    label = models.OneToOneField(
        Label,
        verbose_name=_("label"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="budget",
    )
    monthly_amount = models.DecimalField(
        _("monthly budget (¥)"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by_name = models.CharField(max_length=150, blank=True)

    class Meta:
        verbose_name = _("budget")
        verbose_name_plural = _("budgets")
        ordering = ("label__name", "member__username", "id")
        constraints = [
            # A member's or a label's, never both nor neither.
            models.CheckConstraint(
                condition=(Q(member__isnull=False) & Q(label__isnull=True))
                | (Q(member__isnull=True) & Q(label__isnull=False)),
                name="budget_member_or_label",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        if self.member_id is not None:
            return str(_("Member %(name)s")) % {"name": self.member.get_username()}
        return str(_("Label %(name)s")) % {"name": self.label.name}
