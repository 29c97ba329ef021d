"""The endpoints. Each reads through the selectors and writes through the services the pages
use; the views only translate between HTTP and them.

Asking for an operation answers 202 with the operation (its `Location` is the operation's URL):
the worker does the rest, as for the pages. A create needs an `Idempotency-Key` header: sending
the same key again gives back the operation it made (never a second purchase); a host action
takes one too, optionally. A key is the member's own (two members' equal keys are two keys), and
a key reused for a different request is refused (422).
"""

from __future__ import annotations

import uuid

from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from dashboard import permissions, selectors, services
from dashboard.api.errors import CatalogNotReady
from dashboard.api.serializers import (
    BILLING_BY_NAME,
    CreateHost,
    HostSerializer,
    ImageRowSerializer,
    OperationSerializer,
    TemplateSerializer,
)
from dashboard.forms import CatalogFilterForm, HostFilterForm, OperationFilterForm
from dashboard.models import BILLING_SLUGS, Host, Operation

# Keys of the Idempotency-Key header become the operation's key through this namespace, with
# the member's id: two members' keys never meet.
IDEMPOTENCY_NAMESPACE = uuid.UUID("6f1c1f7e-7a43-4d0a-9d55-3c1b0a1e2f10")
IDEMPOTENCY_KEY_MAX = 255


class KeyReused(exceptions.APIException):
    status_code = 422
    default_code = "idempotency_key_reused"


class Error(serializers.Serializer):
    detail = serializers.CharField()


ERRORS = {
    400: OpenApiResponse(Error, description="Not valid (`errors` says why)."),
    401: OpenApiResponse(Error, description="No token, or not a usable one."),
    403: OpenApiResponse(Error, description="Beyond the token's scope or the member's role."),
    404: OpenApiResponse(Error, description="Not found."),
    429: OpenApiResponse(Error, description="Too many requests: see Retry-After."),
}
ACTION_ERRORS = {
    **ERRORS,
    409: OpenApiResponse(Error, description="The host is busy, or its state does not allow it."),
    422: OpenApiResponse(Error, description="This Idempotency-Key was used for another request."),
}
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Sending the same key again gives back the same operation.",
)


def asks_for_operation(*, body=None, parameters=(), errors=None):
    """The schema of an endpoint that asks for an operation: its `body` (none unless given), its
    `parameters` and the Idempotency-Key header, and 202 with the operation or one of the
    action errors (`errors` adds some)."""
    return extend_schema(
        request=body,
        parameters=[*parameters, IDEMPOTENCY_HEADER],
        responses={202: OperationSerializer, **(errors or {}), **ACTION_ERRORS},
    )


def _filter_values(form_class, query, renames: dict | None = None) -> dict:
    """A list page's filter form, strict: a value it does not accept is a 400 that says so."""
    data = query.copy()
    for name, mapping in (renames or {}).items():
        if data.get(name) in mapping:
            data[name] = mapping[data[name]]
    form = form_class(data)
    errors = {name: messages for name, messages in form.errors.items() if name != "page"}
    if errors:
        raise exceptions.ValidationError(errors)
    values = form.values()
    values.pop("page", None)  # the pages are REST framework's
    return values


def _host_or_404(host_id: str) -> Host:
    host = selectors.host_get(host_id=host_id)
    if host is None:
        raise Http404(_("No host with this id."))
    selectors.operations_in_flight_attach([host])
    return host


def _operation_answer(request, operation: Operation, *, replayed: bool = False) -> Response:
    operation = selectors.operation_get(operation_id=operation.pk)
    data = OperationSerializer(operation, context={"request": request}).data
    response = Response(data, status=status.HTTP_202_ACCEPTED)
    response["Location"] = reverse("api-operation-detail", args=[operation.pk])
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def _idempotency_key(request, *, required: bool) -> uuid.UUID:
    raw = request.headers.get("Idempotency-Key")
    if raw is None or not raw.strip():
        if required:
            raise exceptions.ValidationError(
                {
                    "Idempotency-Key": [
                        _(
                            "Send an Idempotency-Key header (any unique string, such as a "
                            "UUID): the same key never buys twice."
                        )
                    ]
                }
            )
        return uuid.uuid4()
    raw = raw.strip()
    if len(raw) > IDEMPOTENCY_KEY_MAX or not raw.isprintable():
        raise exceptions.ValidationError(
            {
                "Idempotency-Key": [
                    _("An Idempotency-Key has at most %(max)d printable characters.")
                    % {"max": IDEMPOTENCY_KEY_MAX}
                ]
            }
        )
    return uuid.uuid5(IDEMPOTENCY_NAMESPACE, f"{request.user.pk}:{raw}")


# What a replayed key must ask for again, beyond the kind and its targets: what a create buys
# (a host create's host is the one it found, so it is compared by its template and image).
SAME_PARAMS = {
    Operation.Kind.CREATE_PAY_AS_YOU_GO: ("package_id", "image_id", "period_type", "period_number"),
    Operation.Kind.CREATE_RENTAL: ("package_id", "image_id", "period_type", "period_number"),
    Operation.Kind.DISK_CREATE: ("area", "size_gb"),
    Operation.Kind.IMAGE_CREATE: ("name",),
    Operation.Kind.IMAGE_RENAME: ("name",),
}


# The kinds whose request names the host (the others' host is the one the operation found, or
# the disk's).
HOST_NAMED = (
    *permissions.HOST_ACTION_KINDS,
    Operation.Kind.DISK_CREATE,
    Operation.Kind.DISK_ATTACH,
    Operation.Kind.IMAGE_CREATE,
)


def _same_request(
    operation: Operation, *, kind: str, host: Host | None, disk=None, image=None, params: dict
) -> bool:
    """Whether the operation a key made is the one asked for again: its kind, what it acts on,
    and what a create buys."""
    if operation.kind != kind:
        return False
    if kind in HOST_NAMED and operation.host_id != (host.id if host is not None else None):
        return False
    if disk is not None and operation.disk_id != disk.pk:
        return False
    if image is not None and operation.image_id != image.pk:
        return False
    stored = operation.params or {}
    return all(stored.get(name) == params.get(name) for name in SAME_PARAMS.get(kind, ()))


def _ask(request, *, kind: str, host=None, disk=None, image=None, params=None, key_required=False):
    """Ask for an operation as the pages do, with the request's idempotency key."""
    key = _idempotency_key(request, required=key_required)
    made = selectors.operation_by_key(key=key, user=request.user)
    if made is not None:
        same = _same_request(
            made, kind=kind, host=host, disk=disk, image=image, params=params or {}
        )
        if not same:
            raise KeyReused(_("This Idempotency-Key was already used for another request."))
        return _operation_answer(request, made, replayed=True)
    try:
        operation = services.operation_request(
            user=request.user,
            kind=kind,
            host=host,
            disk=disk,
            image=image,
            params=params,
            idempotency_key=key,
        )
    except services.OperationRefused as refused:
        if refused.in_flight is None:
            refused.in_flight = _blocking(disk, image, host)
        raise
    return _operation_answer(request, operation)


def _blocking(*targets) -> Operation | None:
    """The operation in flight on a disk, image or host the refused request named (the rules
    of disks and images refuse a busy one in words only): a script reads which in `operation`."""
    for target in targets:
        if target is not None:
            in_flight = target.operations.in_flight().first()
            if in_flight is not None:
                return in_flight
    return None


HOST_FILTERS = [
    OpenApiParameter("status", str, description="running, off, booting…, changing, gone"),
    OpenApiParameter("q", str, description="A part of the name or id."),
    OpenApiParameter("owner", str, description="mine, none (unowned), or a member's name."),
    OpenApiParameter("label", str),
    OpenApiParameter("billing", str, enum=list(BILLING_BY_NAME)),
    OpenApiParameter("area", str, enum=["south-china", "west-china", "international"]),
    OpenApiParameter("os", str, description="An operating system, as listed."),
    OpenApiParameter("sort", str, description="name, status, created… ('-' first: descending)"),
]
# The API names billing as it is bought; the list page's form knows its own slugs.
BILLING_RENAMES = {"billing": {name: BILLING_SLUGS[b] for name, b in BILLING_BY_NAME.items()}}


class HostList(GenericAPIView):
    serializer_class = HostSerializer
    scopes = {"POST": permissions.SCOPE_OF_KIND[Operation.Kind.CREATE_PAY_AS_YOU_GO]}

    @extend_schema(parameters=HOST_FILTERS, responses={200: HostSerializer(many=True), **ERRORS})
    def get(self, request):
        """The hosts, with the host list page's filters, newest first."""
        filters = _filter_values(HostFilterForm, request.query_params, BILLING_RENAMES)
        hosts = selectors.host_list(**filters, me=request.user)
        page = selectors.operations_in_flight_attach(self.paginate_queryset(hosts))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @asks_for_operation(body=CreateHost, errors={503: Error})
    def post(self, request):
        """Buy a host: 202 with the create operation (which may wait for an admin's approval
        when the price is above the team's limit)."""
        body = CreateHost(data=request.data)
        body.is_valid(raise_exception=True)
        params = body.operation_params()
        return _ask(request, kind=body.kind, params=params, key_required=True)


class HostDetail(GenericAPIView):
    serializer_class = HostSerializer
    scopes = {"DELETE": permissions.SCOPE_OF_KIND[Operation.Kind.DELETE]}

    @extend_schema(responses={200: HostSerializer, **ERRORS})
    def get(self, request, host_id: str):
        return Response(self.get_serializer(_host_or_404(host_id)).data)

    @asks_for_operation()
    def delete(self, request, host_id: str):
        """Delete the host: 202 with the operation."""
        return _ask(request, kind=Operation.Kind.DELETE, host=_host_or_404(host_id))


class HostAction(GenericAPIView):
    """Power on, power off or reboot: 202 with the operation."""

    serializer_class = OperationSerializer
    scopes = {"POST": permissions.SCOPE_OPERATE}
    kind = ""

    @asks_for_operation()
    def post(self, request, host_id: str):
        return _ask(request, kind=self.kind, host=_host_or_404(host_id))


def host_action(kind: str):
    """The view class of one action (each its own operation in the OpenAPI document)."""
    label = Operation.Kind(kind).label
    return type(
        f"Host{kind.title().replace('_', '')}",
        (HostAction,),
        {
            "kind": kind,
            "scopes": {"POST": permissions.SCOPE_OF_KIND[kind]},
            "__doc__": f"{label}: 202 with the operation.",
        },
    )


OPERATION_FILTERS = [
    OpenApiParameter("person", str, description="Who asked (a member's name)."),
    OpenApiParameter("host", str, description="A host id or a part of its name."),
    OpenApiParameter("kind", str, description=", ".join(Operation.Kind.values)),
    OpenApiParameter("state", str, enum=["active", *Operation.State.values]),
]


class OperationList(GenericAPIView):
    serializer_class = OperationSerializer

    @extend_schema(
        parameters=OPERATION_FILTERS, responses={200: OperationSerializer(many=True), **ERRORS}
    )
    def get(self, request):
        """Everyone's operations, newest first (as the operations page)."""
        filters = _filter_values(OperationFilterForm, request.query_params)
        operations = selectors.operation_list(**filters).prefetch_related("events")
        page = self.paginate_queryset(operations)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class OperationDetail(GenericAPIView):
    serializer_class = OperationSerializer

    @extend_schema(responses={200: OperationSerializer, **ERRORS})
    def get(self, request, operation_id: int):
        """One operation: its state, outcome (in the asked language) and timeline."""
        operation = selectors.operation_get(operation_id=operation_id)
        if operation is None:
            raise Http404(_("No operation with this number."))
        return Response(self.get_serializer(operation).data)


CATALOG_FILTERS = [
    OpenApiParameter("billing", str, enum=list(BILLING_BY_NAME)),
    OpenApiParameter("area", str, enum=["south-china", "west-china", "international"]),
]


def _catalog(request):
    filters = _filter_values(CatalogFilterForm, request.query_params, BILLING_RENAMES)
    catalog = selectors.catalog_get(**filters)  # CatalogUnreadable: 503 (dashboard.api.errors)
    if catalog is None:
        raise CatalogNotReady
    return catalog


class PackageList(GenericAPIView):
    serializer_class = TemplateSerializer

    @extend_schema(
        parameters=CATALOG_FILTERS,
        responses={200: TemplateSerializer(many=True), 503: Error, **ERRORS},
    )
    def get(self, request):
        """The templates of both billing types, with their hourly prices after discount and
        the images that fit each one."""
        page = self.paginate_queryset(list(_catalog(request).templates))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class ImageList(GenericAPIView):
    serializer_class = ImageRowSerializer

    @extend_schema(responses={200: ImageRowSerializer(many=True), 503: Error, **ERRORS})
    def get(self, request):
        """The system images, by system."""
        rows = [
            {**_image(row.image), "template_count": row.template_count}
            for group in _catalog(request).image_groups
            for row in group.images
        ]
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


def _image(image) -> dict:
    return {
        "image_id": image.image_id,
        "label": image.label,
        "type": image.type,
        "system_name": image.system_name,
        "system_version": image.system_version,
    }


class Me(GenericAPIView):
    serializer_class = None

    @extend_schema(
        responses={
            200: inline_serializer(
                "Me",
                {
                    "username": serializers.CharField(),
                    "roles": serializers.ListField(child=serializers.CharField()),
                    "token": serializers.CharField(),
                    "scopes": serializers.ListField(child=serializers.CharField()),
                    "token_expires_at": serializers.DateTimeField(),
                },
            ),
            **ERRORS,
        }
    )
    def get(self, request):
        """Who the token speaks for, and what it may do (what `xds login` checks)."""
        token = request.auth
        return Response(
            {
                "username": request.user.get_username(),
                "roles": sorted(request.user.groups.values_list("name", flat=True)),
                "token": token.name,
                "scopes": list(token.scopes),
                "token_expires_at": token.expires_at,
            }
        )
