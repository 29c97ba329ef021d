"""Query parameters, parsed in one place. A bad value never fails a page: each field that does
not validate falls back to its default, and the rest of the query still applies."""

from __future__ import annotations

from urllib.parse import unquote

from django import forms
from django.utils.translation import gettext_lazy as _

from dashboard import selectors
from dashboard.models import (
    AREA_LABELS,
    AREA_SLUGS,
    BILLING_LABELS,
    BILLING_SLUGS,
    STATUS_LABELS,
    STATUS_SLUGS,
    Operation,
    is_host_id,
)

STATUS_CHOICES = [
    ("", _("Any status")),
    (selectors.STATUS_CHANGING, _("Changing")),
    *((slug, STATUS_LABELS[status]) for status, slug in STATUS_SLUGS.items()),
    (selectors.STATUS_GONE, _("Gone")),
]
AREA_CHOICES = [("", _("Any area")), *((AREA_SLUGS[a], label) for a, label in AREA_LABELS.items())]
BILLING_CHOICES = [
    ("", _("Any billing")),
    *((BILLING_SLUGS[b], label) for b, label in BILLING_LABELS.items()),
]
SORT_CHOICES = [
    (f"{direction}{key}", f"{direction}{key}")
    for key in selectors.HOST_SORTS
    for direction in ("", "-")
]


def search_field(*, label, placeholder) -> forms.CharField:
    """A search box: a part of a name or id."""
    return forms.CharField(
        required=False,
        max_length=100,
        label=label,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": placeholder, "autocomplete": "off"}
        ),
    )


class LenientForm(forms.Form):
    """A form over query parameters whose invalid fields take their default."""

    def values(self) -> dict:
        self.is_valid()  # cleans every field; the valid ones land in cleaned_data
        values = {}
        for name, field in self.fields.items():
            value = None if name in self.errors else self.cleaned_data.get(name)
            if value is None or value == "":
                value = field.initial
            if value is None and not isinstance(field, forms.IntegerField):
                value = ""
            values[name] = value
        return values


class PagedFilterForm(LenientForm):
    """The filters of a list with pages; `offer_choices` and `offer_owners` let a page offer only
    the values that exist (the fleet's systems, the people who acted), keeping the current one."""

    page = forms.IntegerField(required=False, min_value=1, max_value=1_000_000, initial=1)

    def filters(self) -> tuple[dict, int]:
        """The selector's keyword arguments and the page number."""
        values = self.values()
        page = values.pop("page")
        return values, page

    def offer_choices(self, name: str, options: list[str], *, any_label) -> None:
        current = self.initial.get(name)
        options = list(options)
        if current and current not in options:
            options.append(current)
        self.fields[name].widget = forms.Select(
            choices=[("", any_label), *((option, option) for option in options)]
        )

    def offer_owners(self, owners: list[str], *, mine_label) -> None:
        """The owner field a choice: anyone's, the member's own, unowned, or one of `owners`
        (keeping the current one)."""
        current = self.initial.get("owner", "")
        names = [name for name in owners if name not in selectors.OWNER_SPECIAL]
        if current and current not in names and current not in selectors.OWNER_SPECIAL:
            names.append(current)
        self.fields["owner"].widget = forms.Select(
            choices=[
                ("", _("Anyone's")),
                (selectors.OWNER_MINE, mine_label),
                (selectors.OWNER_NONE, _("Unowned")),
                *((name, name) for name in names),
            ]
        )


class HostFilterForm(PagedFilterForm):
    q = search_field(label=_("Search"), placeholder=_("Name or id"))
    status = forms.ChoiceField(required=False, choices=STATUS_CHOICES, label=_("Status"))
    area = forms.ChoiceField(required=False, choices=AREA_CHOICES, label=_("Area"))
    billing = forms.ChoiceField(required=False, choices=BILLING_CHOICES, label=_("Billing"))
    os = forms.CharField(required=False, max_length=100, label=_("Operating system"))
    # "mine", "none" (unowned), or an owner's name.
    owner = forms.CharField(required=False, max_length=150, label=_("Owner"))
    label = forms.CharField(required=False, max_length=40, label=_("Label"))
    sort = forms.ChoiceField(
        required=False, choices=SORT_CHOICES, initial=selectors.HOST_DEFAULT_SORT
    )

    @classmethod
    def for_display(
        cls, filters: dict, *, operating_systems: list[str], owners: list[str], labels: list[str]
    ) -> HostFilterForm:
        """The form showing `filters`, its OS, label and owner fields a choice of the fleet's."""
        form = cls(initial=filters)
        form.offer_choices("os", operating_systems, any_label=_("Any OS"))
        form.offer_choices("label", labels, any_label=_("Any label"))
        form.offer_owners(owners, mine_label=_("My hosts"))
        return form


class CatalogFilterForm(LenientForm):
    billing = forms.ChoiceField(required=False, choices=BILLING_CHOICES, label=_("Billing"))
    area = forms.ChoiceField(required=False, choices=AREA_CHOICES, label=_("Area"))


def parse_versions(raw: str, *, limit: int = 200) -> dict[str, int]:
    """`id:version,id:version` (what a polling page sends, ids quoted) as a dict; bad entries
    are dropped."""
    versions: dict[str, int] = {}
    for item in raw.split(",")[:limit]:
        quoted_id, _sep, version = item.strip().rpartition(":")
        host_id = unquote(quoted_id)
        if is_host_id(host_id) and version.isdigit() and len(version) < 10:
            versions[host_id] = int(version)
    return versions


class OperationFilterForm(PagedFilterForm):
    person = forms.CharField(required=False, max_length=150, label=_("Person"))
    host = search_field(label=_("Host"), placeholder=_("Host name or id"))
    kind = forms.ChoiceField(
        required=False,
        choices=[("", _("Any action")), *Operation.Kind.choices],
        label=_("Action"),
    )
    state = forms.ChoiceField(
        required=False,
        choices=[
            ("", _("Any state")),
            (selectors.STATE_ACTIVE, _("In flight")),
            *Operation.State.choices,
        ],
        label=_("State"),
    )

    @classmethod
    def for_display(cls, filters: dict, *, people: list[str]) -> OperationFilterForm:
        """The form showing `filters`, its person field a choice of the people who can act."""
        form = cls(initial=filters)
        form.offer_choices("person", people, any_label=_("Anyone"))
        return form
