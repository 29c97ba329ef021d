"""Making a personal API token: a name, its scopes and how many days it lasts."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from dashboard.models import ApiToken
from dashboard.services.tokens import DEFAULT_DAYS, NAME_MAX, max_days


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=NAME_MAX,
        label=_("Name"),
        help_text=_("What uses it, such as “nightly power-off” or “CI pipeline”."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    scopes = forms.MultipleChoiceField(
        choices=ApiToken.Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[ApiToken.Scope.READ],
        label=_("Scopes"),
    )
    days = forms.IntegerField(min_value=1, initial=DEFAULT_DAYS, label=_("Days until it expires"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        most = max_days()
        self.fields["days"].max_value = most
        self.fields["days"].validators.append(forms.IntegerField(max_value=most).validators[-1])
        self.fields["days"].widget.attrs["max"] = most
        self.fields["days"].help_text = _("At most %(max)d days.") % {"max": most}
