"""What the dashboard knows of the account's wallet: the provider gives no balance, so it is what
an admin recorded when topping up, or what a refusal for money (9001, 6003) told: the balance was
below what that purchase or power-on needed. The runway is worked out from the latest record
(dashboard.selectors.runway)."""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dashboard.models.fields import ChoiceCharField
from dashboard.models.operations import Operation


class WalletBalance(models.Model):
    class Source(models.TextChoices):
        RECORDED = "recorded", _("Recorded by an admin")
        REFUSED = "refused", _("Learnt from a refusal for money")

    source = ChoiceCharField(max_length=16, choices=Source.choices, default=Source.RECORDED)
    amount = models.DecimalField(
        _("balance (¥)"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(0)],
        help_text=_("The wallet's balance now, as the Xuandashi console shows it after a top-up."),
    )
    # A refusal only says the balance was below what was needed: `amount` is then a bound.
    is_upper_bound = models.BooleanField(default=False)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    recorded_by_name = models.CharField(max_length=150, blank=True)
    operation = models.ForeignKey(
        Operation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("wallet balance")
        verbose_name_plural = _("wallet balances")
        ordering = ("-at", "-id")

    def __str__(self) -> str:
        bound = "< " if self.is_upper_bound else ""
        return f"{bound}¥{self.amount} at {self.at:%Y-%m-%d %H:%M}"
