"""The audit rows of operations: asked for, refused, finished. Summaries are in English (the
trail is one record for everyone, whatever language each member reads the pages in); the
particulars go into `details`."""

from __future__ import annotations

from django.utils import translation

from dashboard.models import AuditEvent, Host, Operation
from dashboard.services.audit import audit_record

Action = AuditEvent.Action

# What of a create's parameters the trail keeps: what was bought and at what price.
CREATE_DETAILS = (
    "package_id",
    "package_name",
    "image_id",
    "image_label",
    "billing",
    "period_type",
    "period_number",
    "hourly_price",
    "total_price",
)


# What of a disk operation the trail keeps: which disk, what size, where, at what price.
DISK_DETAILS = ("area", "size_gb", "host_id", "hourly_price", "power_off_first")
# Of an image operation: the name asked for.
IMAGE_DETAILS = ("name",)


def _what(
    kind: str, host_name: str, params: dict | None, disk_name: str = "", image_name: str = ""
) -> str:
    with translation.override("en"):
        label = str(Operation.Kind(kind).label)
    if kind in Operation.IMAGE_KINDS:
        params = params or {}
        if kind == Operation.Kind.IMAGE_CREATE:
            return f"{label} {params.get('name', '?')!r} of {host_name}"
        if kind == Operation.Kind.IMAGE_RENAME:
            return f"{label} {image_name} to {params.get('name', '?')!r}"
        return f"{label} {image_name}"
    if kind in Operation.DISK_KINDS:
        params = params or {}
        if kind == Operation.Kind.DISK_CREATE:
            where = f" on {host_name}" if host_name else ""
            return (
                f"{label}: {params.get('size_gb', '?')} GB in area {params.get('area', '?')}{where}"
            )
        onto = f" {'on' if kind == Operation.Kind.DISK_ATTACH else 'from'} {host_name}"
        return f"{label} {disk_name}{onto if host_name else ''}"
    if kind in Operation.CREATE_KINDS:
        params = params or {}
        package = params.get("package_name") or params.get("package_id") or "?"
        image = params.get("image_label") or params.get("image_id") or "?"
        return f"{label}: {package} with {image}"
    return f"{label} of {host_name}"


def _create_details(params: dict | None) -> dict:
    names = (*CREATE_DETAILS, *DISK_DETAILS, *IMAGE_DETAILS)
    return {name: (params or {}).get(name) for name in names if name in (params or {})}


def _disk_details(disk_id, disk_name) -> dict:
    return {"disk_id": disk_id, "disk_name": disk_name} if disk_id else {}


def _image_details(image_id, image_name) -> dict:
    return {"image_id": image_id, "image_name": image_name} if image_id else {}


def requested(operation: Operation) -> AuditEvent:
    return _operation_record(
        operation,
        Action.OPERATION_REQUESTED,
        f"{_summary(operation)} requested",
        params=_create_details(operation.params),
    )


def _summary(operation: Operation) -> str:
    return _what(
        operation.kind,
        operation.host_name,
        operation.params,
        operation.disk_label,
        operation.image_label,
    )


def refused(
    *, user, kind: str, host: Host | None, params, reason: str, code: str, disk=None, image=None
) -> AuditEvent:
    name = (host.name or host.id) if host is not None else ""
    disk_name = disk.label if disk is not None else ""
    image_name = image.label if image is not None else ""
    return audit_record(
        Action.OPERATION_REFUSED,
        f"{_what(kind, name, params, disk_name, image_name)} refused: {reason}",
        actor=user if getattr(user, "is_authenticated", False) else None,
        host=host,
        details={
            "kind": kind,
            "code": code,
            "reason": reason,
            "params": _create_details(params),
            **_disk_details(disk.pk if disk is not None else None, disk_name),
            **_image_details(image.pk if image is not None else None, image_name),
        },
    )


def finished(operation: Operation) -> AuditEvent:
    return _operation_record(
        operation,
        Action.OPERATION_FINISHED,
        f"{_summary(operation)}: {operation.state}",
        state=operation.state,
        code=operation.error_code,
        trace_id=operation.trace_id,
        message=operation.message,
    )


def _operation_record(operation: Operation, action: str, summary: str, **details) -> AuditEvent:
    """A row of `operation`'s, by the member who asked: its kind, `details`, its disk and its
    image."""
    return audit_record(
        action,
        summary,
        actor=operation.requested_by,
        actor_name=operation.requested_by_name,
        operation=operation,
        details={
            "kind": operation.kind,
            **details,
            **_disk_details(operation.disk_id, operation.disk_name),
            **_image_details(operation.image_id, operation.image_name),
        },
    )
