"""The rows of a mirror of the provider's hosts, disks or personal images, as their syncs write
them (`sync`, `disk_sync`, `image_sync`) and the runs that follow an operation read them:

- the provider's values clipped to what the columns hold (`column_text`, `column_count`,
  `utc_aware`);
- a new row given to the member whose create claimed it, a known row seen again and, if
  anything differs, changed (its version bumped, so pages that show it refresh);
- the outcome of a sync job, in the `SyncState` the banner on every page reads
  (`sync_succeeded`, `sync_failed`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db.models import F, Model
from django.utils import timezone

from dashboard.models import Operation, SyncState
from dashboard.wording import Said, error_said, said, stored
from vmclient.errors import XdsError


def column_text(value: str | None, limit: int) -> str:
    """A text of the provider's, as a column of `limit` characters holds it."""
    # PostgreSQL refuses NUL in text; nothing legitimate upstream contains one.
    return (value or "").replace("\x00", "")[:limit]


def column_count(value: int | None, limit: int = 2_147_483_647) -> int | None:
    """A count of the provider's, or None (unknown) when a column cannot hold it."""
    if value is None or value < 0 or value > limit:
        return None
    return value


def utc_aware(value: datetime | None) -> datetime | None:
    """A time of the provider's, aware: one without a zone is read as UTC."""
    if value is None or timezone.is_aware(value):
        return value
    return value.replace(tzinfo=UTC)


def create_claims(kind: str, field: str, ids: list[str]) -> dict[str, tuple[int | None, str]]:
    """Of `ids`, those a create of `kind` claimed (its `field`), each with who asked for it."""
    return {
        claimed_id: (user_id, name)
        for claimed_id, user_id, name in Operation.objects.filter(
            kind=kind, **{f"{field}__in": ids}
        ).values_list(field, "requested_by_id", "requested_by_name")
    }


def mirror_insert(model: type[Model], values: dict, claims: dict, *, now: datetime) -> Model:
    """A row first seen now, owned by the member whose create claimed it (if one did)."""
    owner_id, owner_name = claims.get(values["id"], (None, ""))
    return model.objects.create(
        **values,
        owner_id=owner_id,
        owner_name=owner_name,
        first_seen_at=now,
        last_seen_at=now,
        status_changed_at=now,
        changed_at=now,
    )


def mirror_refresh(row: Model, values: dict, fields, *, now: datetime) -> bool:
    """A known row seen again now (back if it was gone); whether any of `fields` differs, and
    then the new values are written. `row` keeps the values it had."""
    differs = row.gone_at is not None or any(getattr(row, name) != values[name] for name in fields)
    update = {"last_seen_at": now, "gone_at": None}
    if differs:
        update.update(values, changed_at=now, version=F("version") + 1)
        if row.status != values["status"]:
            update["status_changed_at"] = now
    type(row).objects.filter(pk=row.pk).update(**update)
    return differs


# --- The outcome of a sync job ------------------------------------------------------------------


def sync_succeeded(job: str, *, at: datetime, count: int) -> None:
    """The sync `job` that started `at` saw `count` rows."""
    SyncState.objects.update_or_create(
        job=job,
        defaults={
            "last_attempt_at": at,
            "last_success_at": at,
            "item_count": count,
            "last_duration_seconds": _since(at),
        },
    )


def sync_failed(job: str, exc: Exception, *, at: datetime) -> None:
    """The sync `job` that started `at` failed with `exc` (the provider's error, or our own)."""
    if isinstance(exc, XdsError):
        values = {
            "error_code": str(exc.code) if exc.code is not None else type(exc).__name__,
            **_error_fields(error_said(exc)),
            "error_trace_id": exc.trace_id or "",
        }
    else:
        values = {
            "error_code": type(exc).__name__,
            **_error_fields(said("sync_failed_unexpectedly")),
            "error_trace_id": "",
        }
    SyncState.objects.update_or_create(
        job=job,
        defaults={
            "last_attempt_at": at,
            "last_error_at": at,
            "last_duration_seconds": _since(at),
            **values,
        },
    )


def _since(started: datetime) -> float:
    return max(0.0, (timezone.now() - started).total_seconds())


def _error_fields(outcome: Said) -> dict:
    return {**stored(outcome, "error_message"), "error_message_frozen": {}}
