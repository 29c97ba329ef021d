"""The rows of a mirror of the provider's disks or personal images, as their syncs write them
(`disk_sync`, `image_sync`): a new row given to the member whose create claimed it, a known row
seen again and, if anything differs, changed (its version bumped, so pages that show it refresh).
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import F, Model

from dashboard.models import Operation


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
