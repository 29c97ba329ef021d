"""The form that makes a power schedule, and the one that skips its next run."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from dashboard.models import WEEKDAY_LABELS, PowerSchedule


class ScheduleForm(forms.Form):
    action = forms.ChoiceField(choices=PowerSchedule.Action.choices, label=_("Action"))
    at = forms.TimeField(
        label=_("At"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    weekdays = forms.MultipleChoiceField(
        label=_("On"),
        choices=[(str(day), label) for day, label in enumerate(WEEKDAY_LABELS)],
        widget=forms.CheckboxSelectMultiple,
        initial=list("01234"),
        error_messages={"required": _("Choose at least one day.")},
    )

    def weekday_digits(self) -> str:
        return "".join(sorted(self.cleaned_data["weekdays"]))


class SkipForm(forms.Form):
    reason = forms.CharField(
        required=False,
        max_length=300,
        label=_("Reason"),
        widget=forms.TextInput(attrs={"placeholder": _("Why (everyone sees it)")}),
    )
