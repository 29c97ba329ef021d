"""The forms of alerts: a chat channel (the admin's page and `manage.py add_alert_channel` both
check a channel through `AlertChannelForm`), and a member's choice of alerts by e-mail."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

from dashboard.models import AlertChannel, AlertPreference, Notification


class SecretInput(forms.PasswordInput):
    """Never renders the saved secret back (render_value=False): the field is write-only."""

    def __init__(self, attrs=None):
        super().__init__(attrs={"autocomplete": "new-password", **(attrs or {})})


class AlertChannelForm(forms.ModelForm):
    url = forms.URLField(
        label=_("webhook URL"),
        assume_scheme="https",
        max_length=500,
        validators=[URLValidator(schemes=["https", "http"])],
        help_text=_("The address the platform gave for the robot or webhook."),
    )
    secret = forms.CharField(
        label=_("signing secret"),
        required=False,
        max_length=200,
        strip=True,
        widget=SecretInput,
        help_text=_(
            "DingTalk (SEC…) and Feishu only. Write-only: it is never shown again; leave empty "
            "to keep the one saved."
        ),
    )
    clear_secret = forms.BooleanField(label=_("remove the saved secret"), required=False)
    alert_kinds = forms.MultipleChoiceField(
        label=_("alert kinds"),
        choices=Notification.Kind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Which alerts go to this channel."),
    )
    language = forms.ChoiceField(label=_("language"), choices=())

    class Meta:
        model = AlertChannel
        fields = ("name", "kind", "url", "secret", "alert_kinds", "language", "enabled")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = settings.LANGUAGES
        if not self.instance.pk:
            self.fields.pop("clear_secret")
            self.initial.setdefault("alert_kinds", list(Notification.Kind.values))
        elif self.instance.secret:
            self.fields["secret"].help_text = _(
                "A secret is saved (not shown). Type a new one to replace it, or leave empty to "
                "keep it."
            )
        self.initial["secret"] = ""

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        typed = cleaned.get("secret", "")
        clearing = cleaned.get("clear_secret", False)
        secret = "" if clearing else (typed or self.instance.secret or "")
        if kind and secret and kind not in AlertChannel.SIGNED_KINDS:
            label = AlertChannel.Kind(kind).label
            self.add_error(
                "secret" if typed else "kind",
                _("%(kind)s does not sign its messages: leave the secret empty.") % {"kind": label},
            )
        cleaned["secret"] = secret
        return cleaned


class EmailAlertsForm(forms.Form):
    email_kinds = forms.MultipleChoiceField(
        label=_("Also by e-mail"),
        choices=Notification.Kind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    @classmethod
    def for_user(cls, user, data=None):
        preference = AlertPreference.objects.filter(user=user).first()
        kinds = list(Notification.Kind.values) if preference is None else preference.email_kinds
        return cls(data, initial={"email_kinds": kinds})
