"""Many hosts at once: one action asked for on each selected host, each an ordinary operation
(the same checks, the same audit rows), all sharing a batch id so their progress can be
followed together.

Each host is checked on its own: a member may select hosts they may not act on, or hosts whose
state does not allow the action; those are reported as "not allowed" or "not possible" and the
others go ahead. Asking is cheap (a row and a message per host); the calls to the provider are
made by the workers, as many at a time as they have processes (XDS_WORKER_CONCURRENCY), so a
batch of a hundred never opens a hundred connections at once.

The batch key comes from the form: sending the same form again (a double click) finds the
operations it already made, host by host.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings

from dashboard import permissions
from dashboard.models import Host, Operation
from dashboard.services.operations import OperationRefused, operation_request

BULK_KINDS = (Operation.Kind.POWER_ON, Operation.Kind.POWER_OFF, Operation.Kind.REBOOT)


@dataclass(frozen=True)
class BulkOutcome:
    host_id: str
    host_name: str
    outcome: str  # "started", "not_allowed", "not_possible", "unknown_host"
    message: str = ""
    operation: Operation | None = None


def bulk_request(*, user, kind: str, host_ids: list[str], batch_key) -> list[BulkOutcome]:
    """Ask for `kind` on each of `host_ids` (at most XDS_BULK_MAX_HOSTS); one outcome per host,
    in the order given."""
    if kind not in BULK_KINDS:
        raise ValueError(f"{kind} cannot be asked for on several hosts at once")
    batch = uuid.UUID(str(batch_key))
    ids = list(dict.fromkeys(host_ids))[: settings.XDS_BULK_MAX_HOSTS]
    hosts = Host.objects.in_bulk(ids)
    outcomes = []
    for host_id in ids:
        host = hosts.get(host_id)
        if host is None:
            outcomes.append(BulkOutcome(host_id, host_id, "unknown_host"))
            continue
        name = host.name or host.id
        try:
            operation = operation_request(
                user=user,
                kind=kind,
                host=host,
                idempotency_key=uuid.uuid5(batch, host.id),
                batch=batch,
            )
        except permissions.Forbidden as forbidden:
            outcomes.append(BulkOutcome(host.id, name, "not_allowed", forbidden.message))
        except OperationRefused as refused:
            outcomes.append(BulkOutcome(host.id, name, "not_possible", refused.message))
        else:
            outcomes.append(BulkOutcome(host.id, name, "started", operation=operation))
    return outcomes
