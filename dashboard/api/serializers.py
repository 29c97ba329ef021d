"""What the API answers and accepts. Hosts, operations, templates and images are read-only
views of what the selectors return; `CreateHost` is the body of a purchase.

Values are the API's own words, stable for scripts: a host's `status` is a slug (`running`,
`off`…, `gone`), billing is `pay-as-you-go` or `rental`, an operation's `kind` and `state` are
the values the dashboard stores. Labels (`status_label`, `message`…) are for people, in the
asked language.
"""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from dashboard import permissions
from dashboard.forms.disks import MAX_DISK_GB
from dashboard.models import (
    AREA_SLUGS,
    DISK_MIN_GB,
    IMAGE_NAME_MAX_LENGTH,
    Disk,
    Host,
    Operation,
)
from dashboard.services.pricing import MAX_PERIOD_NUMBER
from vmclient.types import RENTAL_PERIODS, Area, BillingType, PeriodType

BILLING_NAMES = {BillingType.PAY_AS_YOU_GO: "pay-as-you-go", BillingType.RENTAL: "rental"}
BILLING_BY_NAME = {name: billing for billing, name in BILLING_NAMES.items()}
PERIOD_NAMES = {period: period.name.lower() for period in RENTAL_PERIODS}
PERIOD_BY_NAME = {name: period for period, name in PERIOD_NAMES.items()}
AREA_BY_NAME = {name: area.value for area, name in AREA_SLUGS.items()}
# The OpenAPI document names these choice sets once each (SPECTACULAR_SETTINGS).
KIND_VALUES = list(Operation.Kind.values)
STATE_VALUES = list(Operation.State.values)


def billing_name(value) -> str | None:
    return None if value is None else BILLING_NAMES[BillingType(value)]


def area_name(value) -> str | None:
    return None if value is None else AREA_SLUGS[Area(value)]


# The answers a host's and a disk's serializer share, each for a `SerializerMethodField` of that
# name: the area's API name, the owner (none when unowned), the operation in flight. (A comment,
# not a docstring: the OpenAPI document would take it for the description of HostSerializer.)
class MirroredFields:
    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_area(self, row: Host | Disk):
        return area_name(row.area)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_owner(self, row: Host | Disk):
        return row.owner_name or None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_operation_in_flight(self, row: Host | Disk):
        operation = row.operation_in_flight
        return None if operation is None else operation.pk


class HostSerializer(MirroredFields, serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField(source="status_slug", help_text="running, off, booting… gone")
    status_label = serializers.CharField()
    changing = serializers.BooleanField(source="is_changing")
    gpu_description = serializers.CharField()
    gpu_number = serializers.IntegerField(allow_null=True)
    cpu_cores = serializers.IntegerField(allow_null=True)
    memory_gb = serializers.IntegerField(allow_null=True)
    disk_gb = serializers.IntegerField(allow_null=True)
    operating_system = serializers.CharField()
    login_user = serializers.CharField()
    address = serializers.CharField()
    port = serializers.IntegerField(allow_null=True)
    area = serializers.SerializerMethodField()
    billing = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    gone_at = serializers.DateTimeField(allow_null=True)
    owner = serializers.SerializerMethodField()
    labels = serializers.SerializerMethodField()
    note = serializers.CharField()
    operation_in_flight = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ChoiceField(choices=list(BILLING_BY_NAME), allow_null=True))
    def get_billing(self, host: Host):
        return billing_name(host.billing_type)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_labels(self, host: Host):
        return [label.name for label in host.labels_shown]

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=KIND_VALUES)))
    def get_actions(self, host: Host):
        """What the member may do on the host now (its state and their role), as on the page."""
        return list(permissions.host_actions_offered(self.context["request"].user, host))


def _language() -> str | None:
    return translation.get_language()


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    event = serializers.CharField()
    label = serializers.CharField(source="get_event_display")
    detail = serializers.SerializerMethodField()
    code = serializers.CharField()
    trace_id = serializers.CharField()

    def get_detail(self, entry) -> str:
        return entry.detail_in(_language())


class OperationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=KIND_VALUES)
    kind_label = serializers.CharField(source="get_kind_display")
    state = serializers.ChoiceField(choices=STATE_VALUES)
    state_label = serializers.CharField(source="get_state_display")
    final = serializers.BooleanField(source="is_final")
    host_id = serializers.CharField(allow_null=True)
    host_name = serializers.CharField()
    disk_id = serializers.CharField(allow_null=True, help_text="For a disk operation.")
    disk_name = serializers.CharField()
    image_id = serializers.CharField(
        allow_null=True, help_text="For a personal image operation: the image's id."
    )
    image_name = serializers.CharField()
    requested_by = serializers.CharField(source="requested_by_name")
    params = serializers.SerializerMethodField()
    code = serializers.CharField(source="error_code", help_text="The provider's error code.")
    message = serializers.SerializerMethodField()
    trace_id = serializers.CharField()
    waiting_for_queue = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    timeline = TimelineEntrySerializer(many=True, source="events.all")

    def get_message(self, operation: Operation) -> str:
        """The outcome, in the asked language (Accept-Language)."""
        return operation.message_in(_language())

    @extend_schema_field(serializers.BooleanField())
    def get_waiting_for_queue(self, operation: Operation) -> bool:
        """Saved, but the task queue could not be reached: it starts once the queue is back."""
        return bool(operation.queue_error)

    @extend_schema_field(serializers.DictField())
    def get_params(self, operation: Operation) -> dict:
        """What a create buys (template, image, billing, period, price), a disk create its area
        and size, an image create or rename its name; empty for an action."""
        params = operation.params or {}
        if operation.kind == Operation.Kind.DISK_CREATE:
            return {
                "area": area_name(params.get("area")),
                "size_gb": params.get("size_gb"),
                "host_id": params.get("host_id"),
                "hourly_price": params.get("hourly_price"),
            }
        if operation.kind == Operation.Kind.DISK_ATTACH:
            return {"power_off_first": bool(params.get("power_off_first"))}
        if operation.kind in (Operation.Kind.IMAGE_CREATE, Operation.Kind.IMAGE_RENAME):
            return {"name": params.get("name")}
        if not operation.is_create:
            return {}
        period = params.get("period_type")
        return {
            "package_id": params.get("package_id"),
            "package_name": params.get("package_name"),
            "image_id": params.get("image_id"),
            "image_label": params.get("image_label"),
            "billing": billing_name(params.get("billing")),
            "period_type": None if period is None else PeriodType(period).name.lower(),
            "period_number": params.get("period_number"),
            "hourly_price": params.get("hourly_price"),
            "total_price": params.get("total_price"),
        }


class ImageSerializer(serializers.Serializer):
    image_id = serializers.CharField()
    label = serializers.CharField()
    type = serializers.CharField(allow_null=True)
    system_name = serializers.CharField(allow_null=True)
    system_version = serializers.CharField(allow_null=True)


class ImageRowSerializer(ImageSerializer):
    """An image of the catalog, with how many templates it can be used with."""

    template_count = serializers.IntegerField()


class TemplateSerializer(serializers.Serializer):
    """A template of the catalog (`packages`), with its prices and the images that fit it."""

    package_id = serializers.CharField(source="package.package_id")
    name = serializers.CharField(source="package.name")
    billing = serializers.SerializerMethodField()
    hourly_prices = serializers.ListField(child=serializers.DecimalField(14, 2))
    discount = serializers.DecimalField(6, 4, source="package.discount")
    gpu_number = serializers.IntegerField(source="package.gpu_number")
    gpu_name = serializers.CharField(source="package.gpu_name", allow_null=True)
    cpu_cores = serializers.IntegerField(source="package.cpu_cores", allow_null=True)
    memory_gb = serializers.IntegerField(source="package.memory_gb", allow_null=True)
    disk_gb = serializers.IntegerField(source="package.disk_gb", allow_null=True)
    bandwidth = serializers.IntegerField(source="package.bandwidth", allow_null=True)
    type = serializers.CharField(source="package.type", allow_null=True)
    area = serializers.SerializerMethodField()
    images = ImageSerializer(many=True)

    @extend_schema_field(
        serializers.ListField(child=serializers.ChoiceField(choices=list(BILLING_BY_NAME)))
    )
    def get_billing(self, row) -> list[str]:
        return [BILLING_NAMES[billing] for billing in row.billing_types]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_area(self, row):
        return area_name(row.package.area)


class CreateHost(serializers.Serializer):
    package_id = serializers.CharField(max_length=64)
    image_id = serializers.CharField(max_length=64)
    billing = serializers.ChoiceField(choices=list(BILLING_BY_NAME), default="pay-as-you-go")
    period_type = serializers.ChoiceField(
        choices=list(PERIOD_BY_NAME), required=False, allow_null=True, help_text="For a rental."
    )
    period_number = serializers.IntegerField(
        min_value=1, max_value=MAX_PERIOD_NUMBER, required=False, allow_null=True
    )
    confirmed_price = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text="The price you were shown: refused if the price has changed since.",
    )

    def validate(self, data: dict) -> dict:
        if data["billing"] == "rental":
            if not data.get("period_type"):
                raise serializers.ValidationError({"period_type": _("Required for a rental.")})
            data.setdefault("period_number", 1)
            if data["period_number"] is None:
                data["period_number"] = 1
        return data

    @property
    def kind(self) -> str:
        if self.validated_data["billing"] == "rental":
            return Operation.Kind.CREATE_RENTAL
        return Operation.Kind.CREATE_PAY_AS_YOU_GO

    def operation_params(self) -> dict:
        data = self.validated_data
        rental = data["billing"] == "rental"
        confirmed = data.get("confirmed_price")
        return {
            "package_id": data["package_id"],
            "image_id": data["image_id"],
            "period_type": int(PERIOD_BY_NAME[data["period_type"]]) if rental else None,
            "period_number": data.get("period_number") if rental else None,
            "confirmed_price": None if confirmed is None else str(confirmed),
        }


class DiskSerializer(MirroredFields, serializers.Serializer):
    """A cloud disk of the mirror, with what the member may do with it now."""

    id = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField(
        source="status_slug", help_text="unmounted, mounting, in-use, arrears, destroying, gone"
    )
    status_label = serializers.CharField()
    changing = serializers.BooleanField(source="is_changing")
    area = serializers.SerializerMethodField()
    size_gb = serializers.IntegerField(allow_null=True)
    price_per_hour = serializers.DecimalField(12, 4, allow_null=True)
    host_id = serializers.CharField(allow_null=True, help_text="The host it is mounted on.")
    host_name = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(allow_null=True)
    gone_at = serializers.DateTimeField(allow_null=True)
    owner = serializers.SerializerMethodField()
    operation_in_flight = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_host_name(self, disk: Disk):
        try:
            host = disk.host  # a host the mirror has not seen yet: none
        except Host.DoesNotExist:
            host = None
        return None if host is None else (host.name or host.id)

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=KIND_VALUES)))
    def get_actions(self, disk: Disk):
        """What the member may do with the disk now (its state and their role); an attach is
        then checked against the host named."""
        return list(permissions.disk_actions_offered(self.context["request"].user, disk))


class PersonalImageSerializer(serializers.Serializer):
    """A personal image of the mirror (`source` a row of the selectors), with what the member
    may do with it now."""

    id = serializers.CharField(source="image.id", help_text="What rename and delete take.")
    image_id = serializers.CharField(
        source="image.image_id", help_text="The provider's imageId (what a host create is sent)."
    )
    name = serializers.CharField(source="image.name")
    status = serializers.CharField(
        source="image.status_slug", help_text="making, usable, failed, expired, gone"
    )
    status_label = serializers.CharField(source="image.status_label")
    changing = serializers.BooleanField(source="image.is_changing")
    system = serializers.CharField(source="image.image_type")
    size = serializers.IntegerField(source="image.size", allow_null=True)
    datacenter = serializers.CharField(source="image.datacenter")
    created_at = serializers.DateTimeField(source="image.created_at", allow_null=True)
    gone_at = serializers.DateTimeField(source="image.gone_at", allow_null=True)
    owner = serializers.SerializerMethodField()
    operation_in_flight = serializers.SerializerMethodField()
    actions = serializers.ListField(
        source="offered", child=serializers.ChoiceField(choices=KIND_VALUES)
    )

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_owner(self, row):
        return row.image.owner_name or None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_operation_in_flight(self, row):
        operation = row.image.operation_in_flight
        return None if operation is None else operation.pk


class CreateDisk(serializers.Serializer):
    area = serializers.ChoiceField(choices=list(AREA_BY_NAME))
    size_gb = serializers.IntegerField(min_value=DISK_MIN_GB, max_value=MAX_DISK_GB)
    host_id = serializers.CharField(
        max_length=64, required=False, allow_null=True, allow_blank=True,
        help_text="A pay-as-you-go host of that area, off, to mount it on at once.",
    )  # fmt: skip

    def operation_params(self) -> dict:
        data = self.validated_data
        return {"area": AREA_BY_NAME[data["area"]], "size_gb": data["size_gb"]}


class AttachDisk(serializers.Serializer):
    host_id = serializers.CharField(max_length=64)
    power_off_first = serializers.BooleanField(
        default=False, help_text="The host runs: power it off first, then mount the disk."
    )


class ImageName(serializers.Serializer):
    name = serializers.CharField(max_length=IMAGE_NAME_MAX_LENGTH)

    def operation_params(self) -> dict:
        return {"name": self.validated_data["name"].strip()}


class ConfirmName(serializers.Serializer):
    confirm_name = serializers.CharField(
        max_length=255, help_text="The name, typed again (its id when it has none)."
    )
