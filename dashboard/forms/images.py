"""The forms that ask for a personal image operation (each keyed, so a double click makes one
operation): save an image of a host, rename one, delete one (typing its name)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from dashboard.forms.operations import KeyedForm
from dashboard.models import IMAGE_NAME_MAX_LENGTH, PersonalImage


class ImageNameForm(KeyedForm):
    """Save an image of a host, or rename one: the name (unique among the account's images)."""

    name = forms.CharField(
        max_length=IMAGE_NAME_MAX_LENGTH,
        label=_("Image name"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def operation_params(self) -> dict:
        return {"name": self.cleaned_data["name"].strip()}


class DeleteImageForm(KeyedForm):
    """Deleting is for ever: the member types the image's name."""

    name = forms.CharField(
        max_length=255,
        label=_("Type the image's name to confirm"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args, image: PersonalImage, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.image = image

    @property
    def expected_name(self) -> str:
        return self.image.label

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if name != self.expected_name:
            raise forms.ValidationError(_("That is not the image's name."))
        return name
