"""The forms that ask for an operation. Each carries an idempotency key, made when the form is
rendered: sending the same form twice (a double click, the back button) finds the operation it
made instead of making a second one."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from dashboard import selectors, services
from dashboard.models import BILLING_LABELS, BILLING_SLUGS, PERIOD_LABELS, Host, Operation
from vmclient.types import RENTAL_PERIODS, BillingType, PeriodType

BILLING_BY_SLUG = {slug: billing for billing, slug in BILLING_SLUGS.items()}


class KeyedForm(forms.Form):
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("idempotency_key", uuid.uuid4())
        super().__init__(*args, **kwargs)

    def operation_params(self) -> dict | None:
        """What the operation needs beyond what it acts on: nothing, unless a form says."""
        return None


class ActionForm(KeyedForm):
    """Power on, power off, reboot: nothing to fill in."""


class ConfirmByNameForm(KeyedForm):
    """Something done for ever: the member types its name (`expected_name`) to confirm. A
    subclass names the field's label and the error for a wrong name."""

    name_label = ""
    wrong_name = ""

    name = forms.CharField(
        max_length=255,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args, expected_name: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.expected_name = expected_name
        self.fields["name"].label = self.name_label

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if name != self.expected_name:
            raise forms.ValidationError(self.wrong_name)
        return name


class DeleteHostForm(ConfirmByNameForm):
    """Deleting is for ever: the member types the host's name to confirm."""

    name_label = _("Type the host's name to confirm")
    wrong_name = _("That is not the host's name.")

    def __init__(self, *args, host: Host, **kwargs) -> None:
        super().__init__(*args, expected_name=host.name or host.id, **kwargs)


class CreateHostForm(KeyedForm):
    """A new host from one template: an image of its type, a billing type it allows and, for a
    rental, the period. Checked against the catalog again on the server, so a create the
    upstream would refuse with 7005 is never sent."""

    package = forms.CharField(widget=forms.HiddenInput, max_length=64)
    image = forms.ChoiceField(label=_("Image"))
    billing = forms.ChoiceField(label=_("Billing"), widget=forms.RadioSelect)
    period_type = forms.TypedChoiceField(
        label=_("Rental period"),
        coerce=int,
        required=False,
        choices=[(int(period), PERIOD_LABELS[period]) for period in RENTAL_PERIODS],
        initial=int(PeriodType.MONTH),
    )
    period_number = forms.IntegerField(
        label=_("Number of periods"),
        required=False,
        min_value=1,
        max_value=services.pricing.MAX_PERIOD_NUMBER,
        initial=1,
    )
    # Set on the review step: the price the member confirms. Buying at another price is refused.
    confirmed_price = forms.DecimalField(
        required=False, widget=forms.HiddenInput, max_digits=14, decimal_places=2
    )

    def __init__(self, *args, choice: selectors.PackageChoice, **kwargs) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("package", choice.package.package_id)
        if choice.images:
            kwargs["initial"].setdefault("image", choice.images[0].image_id)
        if choice.billing_types:
            kwargs["initial"].setdefault("billing", BILLING_SLUGS[choice.billing_types[0]])
        super().__init__(*args, **kwargs)
        self.choice = choice
        self.fields["image"].choices = [(image.image_id, image.label) for image in choice.images]
        self.fields["billing"].choices = [
            (BILLING_SLUGS[billing], BILLING_LABELS[billing]) for billing in choice.billing_types
        ]

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        billing = BILLING_BY_SLUG[data["billing"]]
        if billing is BillingType.RENTAL:
            for name in ("period_type", "period_number"):
                if data.get(name) in (None, ""):
                    self.add_error(name, _("Required for a rental."))
            if self.errors:
                return data
        try:
            data["quote"] = services.create_quote(
                package_id=data["package"],
                billing=billing,
                image_id=data["image"],
                period_type=data.get("period_type"),
                period_number=data.get("period_number"),
            )
        except services.OperationRefused as refused:
            raise forms.ValidationError(refused.message) from None
        return data

    @property
    def kind(self) -> str:
        billing = BILLING_BY_SLUG[self.cleaned_data["billing"]]
        if billing is BillingType.RENTAL:
            return Operation.Kind.CREATE_RENTAL
        return Operation.Kind.CREATE_PAY_AS_YOU_GO

    def operation_params(self) -> dict:
        quote = self.cleaned_data["quote"]
        return {
            "package_id": quote.choice.package.package_id,
            "image_id": quote.image_id,
            "period_type": None if quote.period_type is None else int(quote.period_type),
            "period_number": quote.period_number,
            "confirmed_price": self.cleaned_data.get("confirmed_price"),
        }
