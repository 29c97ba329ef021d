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


def _what(kind: str, host_name: str, params: dict | None) -> str:
    with translation.override("en"):
        label = str(Operation.Kind(kind).label)
    if kind in Operation.CREATE_KINDS:
        params = params or {}
        package = params.get("package_name") or params.get("package_id") or "?"
        image = params.get("image_label") or params.get("image_id") or "?"
        return f"{label}: {package} with {image}"
    return f"{label} of {host_name}"


def _create_details(params: dict | None) -> dict:
    return {name: (params or {}).get(name) for name in CREATE_DETAILS if name in (params or {})}


def requested(operation: Operation) -> AuditEvent:
    return audit_record(
        Action.OPERATION_REQUESTED,
        f"{_what(operation.kind, operation.host_name, operation.params)} requested",
        actor=operation.requested_by,
        actor_name=operation.requested_by_name,
        operation=operation,
        details={"kind": operation.kind, "params": _create_details(operation.params)},
    )


def refused(*, user, kind: str, host: Host | None, params, reason: str, code: str) -> AuditEvent:
    name = (host.name or host.id) if host is not None else ""
    return audit_record(
        Action.OPERATION_REFUSED,
        f"{_what(kind, name, params)} refused: {reason}",
        actor=user if getattr(user, "is_authenticated", False) else None,
        host=host,
        details={"kind": kind, "code": code, "reason": reason, "params": _create_details(params)},
    )


def finished(operation: Operation) -> AuditEvent:
    return audit_record(
        Action.OPERATION_FINISHED,
        f"{_what(operation.kind, operation.host_name, operation.params)}: {operation.state}",
        actor=operation.requested_by,
        actor_name=operation.requested_by_name,
        operation=operation,
        details={
            "kind": operation.kind,
            "state": operation.state,
            "code": operation.error_code,
            "trace_id": operation.trace_id,
            "message": operation.message,
        },
    )
