"""The forms of the disk pages: the list's filters (lenient, as the host list's), and those that
ask for a disk operation (each keyed, so a double click makes one operation)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from dashboard import selectors
from dashboard.forms.filters import AREA_CHOICES, PagedFilterForm
from dashboard.forms.operations import ConfirmByNameForm, KeyedForm
from dashboard.models import (
    AREA_SLUGS,
    DISK_MIN_GB,
    DISK_STATUS_LABELS,
    DISK_STATUS_SLUGS,
    Disk,
    is_host_id,
)

DISK_STATUS_CHOICES = [
    ("", _("Any status")),
    *((DISK_STATUS_SLUGS[status], label) for status, label in DISK_STATUS_LABELS.items()),
    (selectors.DISK_GONE, _("Gone")),
]
MOUNTED_CHOICES = [
    ("", _("Mounted or not")),
    (selectors.MOUNTED_YES, _("Mounted")),
    (selectors.MOUNTED_NO, _("Not mounted")),
]
AREA_BY_SLUG = {slug: area.value for area, slug in AREA_SLUGS.items()}
# The largest disk a form takes: the most any quota page of the provider's docs names.
MAX_DISK_GB = 20480


class DiskFilterForm(PagedFilterForm):
    status = forms.ChoiceField(required=False, choices=DISK_STATUS_CHOICES, label=_("Status"))
    area = forms.ChoiceField(required=False, choices=AREA_CHOICES, label=_("Area"))
    owner = forms.CharField(required=False, max_length=150, label=_("Owner"))
    mounted = forms.ChoiceField(required=False, choices=MOUNTED_CHOICES, label=_("Mounted"))

    @classmethod
    def for_display(cls, filters: dict, *, owners: list[str]) -> DiskFilterForm:
        form = cls(initial=filters)
        form.offer_owners(owners, mine_label=_("My disks"))
        return form


class CreateDiskForm(KeyedForm):
    """A new disk: its area and size, and optionally the host to mount it on (which must be a
    pay-as-you-go host of that area, off). The rules are checked again when it is asked for."""

    area = forms.ChoiceField(label=_("Area"), choices=AREA_CHOICES[1:])
    size_gb = forms.IntegerField(
        label=_("Size (GB)"), min_value=DISK_MIN_GB, max_value=MAX_DISK_GB, initial=100
    )
    host = forms.CharField(label=_("Mount on host"), required=False, max_length=64)

    def __init__(self, *args, hosts=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["host"].widget = forms.Select(
            choices=[
                ("", _("no host: keep it unmounted")),
                *(
                    (host.id, f"{host.name or host.id} ({host.get_area_display()})")
                    for host in hosts
                ),
            ]
        )

    def clean_area(self) -> int:
        return AREA_BY_SLUG[self.cleaned_data["area"]]

    def clean_host(self) -> str:
        value = self.cleaned_data["host"].strip()
        if value and not is_host_id(value):
            raise forms.ValidationError(_("Choose the host from the list."))
        return value

    def operation_params(self) -> dict:
        return {"area": self.cleaned_data["area"], "size_gb": self.cleaned_data["size_gb"]}


class AttachDiskForm(KeyedForm):
    """Mount a disk on a host; `power_off_first` when the host runs (one request: power off,
    then attach)."""

    host = forms.CharField(max_length=64)
    power_off_first = forms.BooleanField(required=False)

    def clean_host(self) -> str:
        value = self.cleaned_data["host"].strip()
        if not is_host_id(value):
            raise forms.ValidationError(_("Choose the host from the list."))
        return value

    def operation_params(self) -> dict:
        return {"power_off_first": self.cleaned_data["power_off_first"]}


class DestroyDiskForm(ConfirmByNameForm):
    """Destroying is for ever, and so is the data on it: the member types the disk's name."""

    name_label = _("Type the disk's name to confirm")
    wrong_name = _("That is not the disk's name.")

    def __init__(self, *args, disk: Disk, **kwargs) -> None:
        super().__init__(*args, expected_name=disk.label, **kwargs)
