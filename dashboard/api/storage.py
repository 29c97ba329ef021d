"""The endpoints of cloud disks and personal images: the same selectors, services, permission
checks and operations as the /disks/ and /images/ pages (dashboard.views.disks, .images).

Destroying a disk or deleting an image is for ever: as the page asks the member to type the
name, the request carries `confirm_name` (a query parameter, or a field of a JSON body) equal
to its name (its id when it has none).
"""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from dashboard import permissions, selectors
from dashboard.api.serializers import (
    AREA_BY_NAME,
    AttachDisk,
    ConfirmName,
    CreateDisk,
    DiskSerializer,
    ImageName,
    OperationSerializer,
    PersonalImageSerializer,
)
from dashboard.api.views import (
    ERRORS,
    _ask,
    _filter_values,
    _host_or_404,
    asks_for_operation,
)
from dashboard.forms.disks import DiskFilterForm
from dashboard.models import Disk, Host, Operation, PersonalImage, is_host_id

Kind = Operation.Kind
SCOPE = permissions.SCOPE_OF_KIND

CONFIRM_NAME = OpenApiParameter(
    "confirm_name",
    str,
    required=True,
    description="Its name, typed again (its id when it has none): destroying is for ever.",
)


def _disk_or_404(disk_id: str) -> Disk:
    disk = selectors.disk_get(disk_id=disk_id) if is_host_id(disk_id) else None
    if disk is None:
        raise Http404(_("No disk with this id."))
    selectors.disk_operations_attach([disk])
    return disk


def _image_or_404(image_id: str) -> PersonalImage:
    image = selectors.personal_image_get(image_id=image_id)
    if image is None:
        raise Http404(_("No personal image with this id."))
    return image


def _named_host(host_id) -> Host | None:
    """The host a body names, or a 400 that says there is none."""
    if not host_id:
        return None
    host = Host.objects.filter(pk=host_id).first() if is_host_id(host_id) else None
    if host is None:
        raise exceptions.ValidationError({"host_id": [_("No host with this id.")]})
    return host


def _ask_confirmed(request, kind: str, expected: str, wrong: str, **target):
    """Ask for `kind`, done for ever, on `target` (a disk, an image) once `confirm_name` (the
    query's, else the body's) is `expected`, its name. The role's answer comes first (a member
    who may not destroy is told so, not that the name is wrong); the service asks again when it
    saves."""
    refused = permissions.refusal(request.user, kind, **target)
    if refused:
        raise permissions.Forbidden(refused)
    value = request.query_params.get("confirm_name")
    if value is None and isinstance(request.data, dict):
        value = request.data.get("confirm_name")
    body = ConfirmName(data={"confirm_name": value} if value is not None else {})
    body.is_valid(raise_exception=True)
    if body.validated_data["confirm_name"].strip() != expected:
        raise exceptions.ValidationError({"confirm_name": [wrong]})
    return _ask(request, kind=kind, **target)


# --- Disks ----------------------------------------------------------------------------------

DISK_FILTERS = [
    OpenApiParameter(
        "status", str, description="unmounted, mounting, in-use, arrears, destroying, gone"
    ),
    OpenApiParameter("area", str, enum=list(AREA_BY_NAME)),
    OpenApiParameter("owner", str, description="mine, none (unowned), or a member's name."),
    OpenApiParameter("mounted", str, enum=["yes", "no"]),
]


class DiskList(GenericAPIView):
    serializer_class = DiskSerializer
    scopes = {"POST": SCOPE[Kind.DISK_CREATE]}

    @extend_schema(parameters=DISK_FILTERS, responses={200: DiskSerializer(many=True), **ERRORS})
    def get(self, request):
        """The cloud disks, with the /disks/ page's filters, newest first."""
        filters = _filter_values(DiskFilterForm, request.query_params)
        disks = selectors.disk_list(**filters, me=request.user)
        page = selectors.disk_operations_attach(self.paginate_queryset(disks))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @asks_for_operation(body=CreateDisk)
    def post(self, request):
        """Create a disk (billed by the hour), mounted at once on `host_id` if given: 202 with
        the operation (which may wait for an admin's approval above the team's limit)."""
        body = CreateDisk(data=request.data)
        body.is_valid(raise_exception=True)
        host = _named_host(body.validated_data.get("host_id"))
        params = body.operation_params()
        return _ask(request, kind=Kind.DISK_CREATE, host=host, params=params, key_required=True)


class DiskDetail(GenericAPIView):
    serializer_class = DiskSerializer
    scopes = {"DELETE": SCOPE[Kind.DISK_DESTROY]}

    @extend_schema(responses={200: DiskSerializer, **ERRORS})
    def get(self, request, disk_id: str):
        return Response(self.get_serializer(_disk_or_404(disk_id)).data)

    @asks_for_operation(parameters=[CONFIRM_NAME])
    def delete(self, request, disk_id: str):
        """Destroy the disk and the data on it (it must be unmounted): 202 with the operation.
        `confirm_name` must be the disk's name."""
        disk = _disk_or_404(disk_id)
        wrong = _("That is not the disk's name.")
        return _ask_confirmed(request, Kind.DISK_DESTROY, disk.label, wrong, disk=disk)


class DiskAttach(GenericAPIView):
    serializer_class = OperationSerializer
    scopes = {"POST": SCOPE[Kind.DISK_ATTACH]}

    @asks_for_operation(body=AttachDisk)
    def post(self, request, disk_id: str):
        """Mount the disk on a host of its area that is off (or, with `power_off_first`, that
        runs: it is powered off first): 202 with the operation."""
        disk = _disk_or_404(disk_id)
        body = AttachDisk(data=request.data)
        body.is_valid(raise_exception=True)
        host = _named_host(body.validated_data["host_id"])
        params = {"power_off_first": body.validated_data["power_off_first"]}
        return _ask(request, kind=Kind.DISK_ATTACH, disk=disk, host=host, params=params)


class DiskDetach(GenericAPIView):
    serializer_class = OperationSerializer
    scopes = {"POST": SCOPE[Kind.DISK_DETACH]}

    @asks_for_operation()
    def post(self, request, disk_id: str):
        """Unmount the disk from its host (which must be off): 202 with the operation."""
        return _ask(request, kind=Kind.DISK_DETACH, disk=_disk_or_404(disk_id))


# --- Personal images ------------------------------------------------------------------------


class PersonalImageList(GenericAPIView):
    serializer_class = PersonalImageSerializer

    @extend_schema(responses={200: PersonalImageSerializer(many=True), **ERRORS})
    def get(self, request):
        """The personal images (made from the team's hosts), those still there first."""
        rows = selectors.personal_image_rows(user=request.user)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class PersonalImageDetail(GenericAPIView):
    serializer_class = PersonalImageSerializer
    scopes = {"DELETE": SCOPE[Kind.IMAGE_DELETE]}

    @extend_schema(responses={200: PersonalImageSerializer, **ERRORS})
    def get(self, request, image_id: str):
        row = selectors.personal_image_page(image_id=image_id, user=request.user)
        if row is None:
            raise Http404(_("No personal image with this id."))
        return Response(self.get_serializer(row).data)

    @asks_for_operation(parameters=[CONFIRM_NAME])
    def delete(self, request, image_id: str):
        """Delete the image (for ever): 202 with the operation. `confirm_name` must be its
        name."""
        image = _image_or_404(image_id)
        wrong = _("That is not the image's name.")
        return _ask_confirmed(request, Kind.IMAGE_DELETE, image.label, wrong, image=image)


class PersonalImageRename(GenericAPIView):
    serializer_class = OperationSerializer
    scopes = {"POST": SCOPE[Kind.IMAGE_RENAME]}

    @asks_for_operation(body=ImageName)
    def post(self, request, image_id: str):
        """Rename the image (a name no other image has): 202 with the operation."""
        image = _image_or_404(image_id)
        body = ImageName(data=request.data)
        body.is_valid(raise_exception=True)
        return _ask(request, kind=Kind.IMAGE_RENAME, image=image, params=body.operation_params())


class HostImageSave(GenericAPIView):
    serializer_class = OperationSerializer
    scopes = {"POST": SCOPE[Kind.IMAGE_CREATE]}

    @asks_for_operation(body=ImageName)
    def post(self, request, host_id: str):
        """Save a personal image of the host under `name`: 202 with the operation, which holds
        the host until the image is usable."""
        host = _host_or_404(host_id)
        body = ImageName(data=request.data)
        body.is_valid(raise_exception=True)
        params = body.operation_params()
        return _ask(request, kind=Kind.IMAGE_CREATE, host=host, params=params, key_required=True)
