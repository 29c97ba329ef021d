"""The forms that ask for a personal image operation (each keyed, so a double click makes one
operation): save an image of a host, rename one, delete one (typing its name)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from dashboard.forms.operations import ConfirmByNameForm, KeyedForm
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


class DeleteImageForm(ConfirmByNameForm):
    """Deleting is for ever: the member types the image's name."""

    name_label = _("Type the image's name to confirm")
    wrong_name = _("That is not the image's name.")

    def __init__(self, *args, image: PersonalImage, **kwargs) -> None:
        super().__init__(*args, expected_name=image.label, **kwargs)
