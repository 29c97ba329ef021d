"""Pricing and checking a create against the cached catalog, before anything is bought.

- `create_quote` prices a template, image, billing type and period the catalog allows (the
  form shows it before the member confirms), refusing any other.
- `create_params_checked` is what a create operation stores: the choice, its price (which must
  still be the one the member confirmed) and the specs to recognise the new host by.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from dashboard import selectors
from dashboard.models import BILLING_LABELS, Operation
from dashboard.refusals import OperationRefused
from vmclient.types import RENTAL_PERIODS, BillingType, PeriodType

MAX_PERIOD_NUMBER = 365


@dataclass(frozen=True)
class CreateQuote:
    """What a create would buy and cost, as the form shows it before the member confirms."""

    choice: selectors.PackageChoice
    billing: BillingType
    image_id: str
    period_type: PeriodType | None
    period_number: int | None
    hourly_price: Decimal | None
    total_price: Decimal | None  # rentals: hourly amount x discount x hours

    @property
    def price(self) -> Decimal | None:
        """What the member confirms: a rental's total, or the hourly price."""
        return self.total_price if self.billing is BillingType.RENTAL else self.hourly_price


def create_quote(
    *,
    package_id: str,
    billing: BillingType,
    image_id: str,
    period_type: int | None = None,
    period_number: int | None = None,
) -> CreateQuote:
    """Check a create against the cached catalog and price it. Raises `OperationRefused` when the
    template, image, billing type or period is not one the catalog allows, so a create the
    upstream would refuse with 7005 (image and template types differ) is never sent."""
    try:
        choice = selectors.package_choice(package_id=package_id)
    except selectors.CatalogUnreadable:
        raise OperationRefused(
            _(
                "The catalog cannot be read right now (the dashboard's cache does not answer), "
                "so nothing was bought. Try again in a few minutes."
            )
        ) from None
    if choice is None:
        raise OperationRefused(
            _("This template is not in the catalog (any more). Choose one on the templates page.")
        )
    package = choice.package_for(billing)
    if package is None:
        raise OperationRefused(
            _("This template cannot be bought as %(billing)s.")
            % {"billing": str(BILLING_LABELS[billing]).lower()}
        )
    if choice.image(image_id) is None:
        raise OperationRefused(
            _("This image does not fit the template (their types differ). Choose another image.")
        )
    total = None
    if billing is BillingType.RENTAL:
        if period_type not in [int(p) for p in RENTAL_PERIODS]:
            raise OperationRefused(_("Choose a rental period: day, week, month, quarter or year."))
        if not isinstance(period_number, int) or not 1 <= period_number <= MAX_PERIOD_NUMBER:
            raise OperationRefused(
                _("The number of periods must be between 1 and %(max)d.")
                % {"max": MAX_PERIOD_NUMBER}
            )
        period_type = PeriodType(period_type)
        total = package.rental_price(period_type, period_number)
    else:
        period_type = period_number = None
    return CreateQuote(
        choice=choice,
        billing=billing,
        image_id=image_id,
        period_type=period_type,
        period_number=period_number,
        hourly_price=package.hourly_price,
        total_price=total,
    )


def create_params_checked(*, kind: str, params: dict) -> dict:
    """The params a create operation stores: what was chosen, what it costs, and the specs the
    new host will show (to recognise it in the listing if the upstream does not say its id).
    `confirmed_price`, when given, must still be the price: the member never buys at a price
    they were not shown."""
    billing = (
        BillingType.PAY_AS_YOU_GO
        if kind == Operation.Kind.CREATE_PAY_AS_YOU_GO
        else BillingType.RENTAL
    )
    quote = create_quote(
        package_id=str(params.get("package_id") or ""),
        billing=billing,
        image_id=str(params.get("image_id") or ""),
        period_type=params.get("period_type"),
        period_number=params.get("period_number"),
    )
    confirmed = params.get("confirmed_price")
    if confirmed is not None and _decimal(confirmed) != quote.price:
        raise OperationRefused(
            _("The price changed since you saw it; check the new price and confirm again.")
        )
    package = quote.choice.package_for(billing)
    image = quote.choice.image(quote.image_id)
    return {
        "package_id": package.package_id,
        "package_name": package.name,
        "image_id": image.image_id,
        "image_label": image.label,
        "billing": int(billing),
        "period_type": None if quote.period_type is None else int(quote.period_type),
        "period_number": quote.period_number,
        "hourly_price": None if quote.hourly_price is None else str(quote.hourly_price),
        "total_price": None if quote.total_price is None else str(quote.total_price),
        # What the new host will look like in the listing.
        "match": {
            "cpu_cores": package.cpu_cores,
            "memory_gb": package.memory_gb,
            "disk_gb": package.disk_gb,
            "gpu_number": package.gpu_number or 0,
            "operating_system": image.system_name,
            "area": None if package.area is None else int(package.area),
            "billing_type": int(billing),
        },
    }


def _decimal(value) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
