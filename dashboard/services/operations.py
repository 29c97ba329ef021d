"""Writes: asking for an operation, handing it to the worker, and picking up what was left.

- `operation_request` validates, refuses a second action in flight on a host, finds the
  operation a double click already made (one idempotency key per form), saves, and hands the
  operation to the worker only once the transaction has committed.
- `operation_dispatch` publishes one run of an operation. A broker that is down leaves the
  operation queued with the reason recorded (the member is told); `operations_requeue`, run by
  beat, publishes it again once the broker is back.
- `operations_reconcile`, run by beat, resumes operations a killed worker left in flight. What a
  run then does (never buying twice) is `operation_run`'s business.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from dashboard import permissions, selectors
from dashboard.locks import lock_holder
from dashboard.models import BILLING_LABELS, Host, Operation, OperationEvent
from dashboard.services import approval_policy, notifications, operation_audit
from dashboard.wording import note, said, stored
from vmclient.types import RENTAL_PERIODS, BillingType, PeriodType

logger = logging.getLogger(__name__)

MAX_PERIOD_NUMBER = 365
# The most queued or stale operations one periodic pass hands to the worker.
RESUME_BATCH = 500


class OperationRefused(Exception):
    """The operation cannot be asked for now. `message` says why, in the member's language;
    `in_flight` is the operation that blocks the host, if that is the reason."""

    def __init__(self, message: str, *, in_flight: Operation | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.in_flight = in_flight


# --- Asking ---------------------------------------------------------------------------------


def operation_request(
    *,
    user,
    kind: str,
    host: Host | None = None,
    params: dict | None = None,
    idempotency_key: uuid.UUID | str,
    batch: uuid.UUID | None = None,
) -> Operation:
    """Save an operation and hand it to the worker once the transaction commits.

    The same `idempotency_key` returns the operation it already made (a double click, a form
    sent again). Raises `OperationRefused` (why, for the member) and `PermissionDenied`. If the
    broker is down, the operation is saved all the same and its `queue_error` says so.
    """
    key = uuid.UUID(str(idempotency_key))
    existing = _by_key(key, user=user)
    if existing is not None:
        return existing
    if kind not in Operation.Kind.values:
        raise ValueError(f"unknown operation kind {kind!r}")
    if kind in Operation.CREATE_KINDS:
        if host is not None:
            raise ValueError("a create names no host")
    else:
        if host is None:
            raise ValueError(f"{kind} needs a host")
        host = Host.objects.get(pk=host.pk)  # the state as it is now, not as the page saw it
    forbidden = permissions.refusal(user, kind, host)
    if forbidden:
        _audit_refused(user, kind, host, params, forbidden, code="forbidden")
        raise permissions.Forbidden(forbidden, audited=True)
    try:
        if kind in Operation.CREATE_KINDS:
            params = create_params_checked(kind=kind, params=params or {})
        else:
            _check_host_allows(host, kind)
            params = {}
    except OperationRefused as refused:
        _audit_refused(user, kind, host, params, refused.message)
        raise

    now = timezone.now()
    awaiting = kind in Operation.CREATE_KINDS and approval_policy.needs_approval(params)
    try:
        with transaction.atomic():
            operation = Operation.objects.create(
                state=Operation.State.AWAITING if awaiting else Operation.State.QUEUED,
                kind=kind,
                requested_by=user,
                requested_by_name=user.get_username(),
                host=host,
                host_name=(host.name or host.id) if host is not None else "",
                params=params,
                idempotency_key=key,
                batch=batch,
                created_at=now,
                updated_at=now,
                next_run_at=None if awaiting else now,
            )
            _event(operation, OperationEvent.Event.REQUESTED, at=now)
            operation_audit.requested(operation)
            if host is not None:
                Host.objects.filter(pk=host.pk).update(version=F("version") + 1)
            if awaiting:
                _event(operation, OperationEvent.Event.APPROVAL_NEEDED, at=now)
                transaction.on_commit(lambda: notifications.approval_needed(operation))
            else:
                transaction.on_commit(lambda: operation_dispatch(operation=operation))
    except IntegrityError:
        # A race the checks above could not see: the same form twice at once, or two members
        # acting on one host at once. The database's constraints decided; say which.
        existing = _by_key(key, user=user)
        if existing is not None:
            return existing
        if host is not None:
            try:
                _check_host_allows(host, kind)
            except OperationRefused as refused:
                _audit_refused(user, kind, host, params, refused.message)
                raise
        raise
    return operation


def _audit_refused(user, kind, host, params, reason: str, *, code: str = "refused") -> None:
    operation_audit.refused(
        user=user, kind=kind, host=host, params=params, reason=reason, code=code
    )


def _by_key(key: uuid.UUID, *, user) -> Operation | None:
    existing = Operation.objects.filter(idempotency_key=key).first()
    if existing is not None and existing.requested_by_id != getattr(user, "pk", None):
        raise PermissionDenied  # another member's form: never show or reuse their operation
    return existing


def _check_host_allows(host: Host, kind: str) -> None:
    in_flight = host.operations.in_flight().first()
    if in_flight is not None:
        raise OperationRefused(in_flight_message(in_flight), in_flight=in_flight)
    host.operation_in_flight = None
    refusal = host_action_refusal(host=host, kind=kind)
    if refusal:
        raise OperationRefused(refusal)


def host_action_refusal(*, host: Host, kind: str) -> str:
    """Why `kind` cannot be asked for on `host` now (empty if it can), for the member."""
    if host.operation_in_flight is not None:
        return in_flight_message(host.operation_in_flight)
    if kind in host.actions_allowed:
        return ""
    label = Operation.Kind(kind).label
    if host.is_gone:
        return _("%(action)s is not possible: the host is gone.") % {"action": label}
    return _("%(action)s is not possible while the host is %(status)s.") % {
        "action": label,
        "status": host.status_label.lower(),
    }


def in_flight_message(operation: Operation) -> str:
    """ "Power off by alice since 12:03:07 is still running on this host" """
    when = date_format(timezone.localtime(operation.created_at), "Y-m-d H:i:s")
    return _(
        "%(action)s by %(person)s since %(when)s is still running on this host; wait until it "
        "has finished."
    ) % {
        "action": operation.get_kind_display(),
        "person": operation.requested_by_name,
        "when": when,
    }


@dataclass(frozen=True)
class CreateQuote:
    """What a create would buy and cost, as the form shows it before the member confirms."""

    choice: selectors.PackageChoice
    billing: BillingType
    image_id: str
    period_type: PeriodType | None
    period_number: int | None
    hourly_price: Decimal | None
    total_price: Decimal | None  # rentals: hourly amount x discount x hours

    @property
    def price(self) -> Decimal | None:
        """What the member confirms: a rental's total, or the hourly price."""
        return self.total_price if self.billing is BillingType.RENTAL else self.hourly_price


def create_quote(
    *,
    package_id: str,
    billing: BillingType,
    image_id: str,
    period_type: int | None = None,
    period_number: int | None = None,
) -> CreateQuote:
    """Check a create against the cached catalog and price it. Raises `OperationRefused` when the
    template, image, billing type or period is not one the catalog allows, so a create the
    upstream would refuse with 7005 (image and template types differ) is never sent."""
    try:
        choice = selectors.package_choice(package_id=package_id)
    except selectors.CatalogUnreadable:
        raise OperationRefused(
            _(
                "The catalog cannot be read right now (the dashboard's cache does not answer), "
                "so nothing was bought. Try again in a few minutes."
            )
        ) from None
    if choice is None:
        raise OperationRefused(
            _("This template is not in the catalog (any more). Choose one on the templates page.")
        )
    package = choice.package_for(billing)
    if package is None:
        raise OperationRefused(
            _("This template cannot be bought as %(billing)s.")
            % {"billing": str(BILLING_LABELS[billing]).lower()}
        )
    if choice.image(image_id) is None:
        raise OperationRefused(
            _("This image does not fit the template (their types differ). Choose another image.")
        )
    total = None
    if billing is BillingType.RENTAL:
        if period_type not in [int(p) for p in RENTAL_PERIODS]:
            raise OperationRefused(_("Choose a rental period: day, week, month, quarter or year."))
        if not isinstance(period_number, int) or not 1 <= period_number <= MAX_PERIOD_NUMBER:
            raise OperationRefused(
                _("The number of periods must be between 1 and %(max)d.")
                % {"max": MAX_PERIOD_NUMBER}
            )
        period_type = PeriodType(period_type)
        total = package.rental_price(period_type, period_number)
    else:
        period_type = period_number = None
    return CreateQuote(
        choice=choice,
        billing=billing,
        image_id=image_id,
        period_type=period_type,
        period_number=period_number,
        hourly_price=package.hourly_price,
        total_price=total,
    )


def create_params_checked(*, kind: str, params: dict) -> dict:
    """The params a create operation stores: what was chosen, what it costs, and the specs the
    new host will show (to recognise it in the listing if the upstream does not say its id).
    `confirmed_price`, when given, must still be the price: the member never buys at a price
    they were not shown."""
    billing = (
        BillingType.PAY_AS_YOU_GO
        if kind == Operation.Kind.CREATE_PAY_AS_YOU_GO
        else BillingType.RENTAL
    )
    quote = create_quote(
        package_id=str(params.get("package_id") or ""),
        billing=billing,
        image_id=str(params.get("image_id") or ""),
        period_type=params.get("period_type"),
        period_number=params.get("period_number"),
    )
    confirmed = params.get("confirmed_price")
    if confirmed is not None and _decimal(confirmed) != quote.price:
        raise OperationRefused(
            _("The price changed since you saw it; check the new price and confirm again.")
        )
    package = quote.choice.package_for(billing)
    image = quote.choice.image(quote.image_id)
    return {
        "package_id": package.package_id,
        "package_name": package.name,
        "image_id": image.image_id,
        "image_label": image.label,
        "billing": int(billing),
        "period_type": None if quote.period_type is None else int(quote.period_type),
        "period_number": quote.period_number,
        "hourly_price": None if quote.hourly_price is None else str(quote.hourly_price),
        "total_price": None if quote.total_price is None else str(quote.total_price),
        # What the new host will look like in the listing.
        "match": {
            "cpu_cores": package.cpu_cores,
            "memory_gb": package.memory_gb,
            "disk_gb": package.disk_gb,
            "gpu_number": package.gpu_number or 0,
            "operating_system": image.system_name,
            "area": None if package.area is None else int(package.area),
            "billing_type": int(billing),
        },
    }


def _decimal(value) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def operation_cancel(*, user, operation_id: int) -> Operation:
    """Cancel an operation that has not been sent upstream yet (still queued)."""
    with transaction.atomic():
        operation = Operation.objects.select_for_update().get(pk=operation_id)
        if not permissions.can_cancel(user, operation):
            raise permissions.Forbidden(
                _("You may cancel only the operations you asked for, and only while you still may.")
            )
        if operation.state not in (Operation.State.QUEUED, Operation.State.AWAITING):
            raise OperationRefused(
                _("Only a queued operation can be cancelled; this one is already past that.")
            )
        now = timezone.now()
        name = user.get_username()
        operation_finish(
            operation,
            Operation.State.CANCELLED,
            **stored(said("cancelled", name=name)),
            now=now,
            expect=(Operation.State.QUEUED, Operation.State.AWAITING),
        )
    return operation


# --- Handing operations to the worker --------------------------------------------------------


def operation_dispatch(*, operation: Operation, countdown: float = 0) -> bool:
    """Publish one run of `operation`, due in `countdown` seconds, under a new dispatch id (a run
    of an older message then does nothing). False when it is final or the broker refused; then
    the operation stays as it is, its `queue_error` set, for `operations_requeue` or the
    reconciler to dispatch it again. Call it outside a transaction (or from `on_commit`)."""
    from dashboard import tasks

    now = timezone.now()
    dispatch_id = uuid.uuid4().hex
    due = now + timedelta(seconds=countdown)
    updated = Operation.objects.filter(pk=operation.pk, state__in=Operation.ACTIVE_STATES).update(
        dispatch_id=dispatch_id, dispatches=F("dispatches") + 1, next_run_at=due, updated_at=now
    )
    if not updated:
        return False
    operation.dispatch_id, operation.next_run_at, operation.updated_at = dispatch_id, due, now
    try:
        tasks.run_operation.apply_async(
            args=(operation.pk, dispatch_id), countdown=countdown if countdown > 0 else None
        )
    except Exception as exc:
        logger.warning("could not enqueue operation %s: %s", operation.pk, exc)
        _queue_down(operation, exc)
        return False
    if operation.queue_error:
        Operation.objects.filter(pk=operation.pk).update(queue_error="", version=F("version") + 1)
        operation.queue_error = ""
    return True


def _queue_down(operation: Operation, exc: Exception) -> None:
    reason = f"{type(exc).__name__}: {exc}"[:500]
    with transaction.atomic():
        first = not Operation.objects.filter(pk=operation.pk).values_list("queue_error", flat=True)[
            0
        ]
        Operation.objects.filter(pk=operation.pk).update(
            queue_error=reason, version=F("version") + 1
        )
        if first:
            _event(
                operation,
                OperationEvent.Event.QUEUE_DOWN,
                **note(said("queue_down")),
            )
    operation.queue_error = reason


def operations_requeue() -> int:
    """Dispatch again the queued operations that should have started a while ago (the broker
    was down when they were asked for, or their message was lost). Returns how many."""
    cutoff = timezone.now() - timedelta(seconds=settings.XDS_ACTION_REQUEUE_SECONDS)
    due = Operation.objects.filter(state=Operation.State.QUEUED, next_run_at__lt=cutoff)
    count = 0
    for operation in due.order_by("next_run_at")[:RESUME_BATCH]:
        count += operation_dispatch(operation=operation)
    if count:
        logger.info("requeued %d queued operations", count)
    return count


def run_lock_key(operation: Operation) -> str:
    """The lock a run holds while it works: its host's, or its own while a create has none."""
    return f"xds:operation-poller:{operation.host_id or f'operation-{operation.pk}'}"


def _run_in_progress(operation: Operation) -> bool:
    """A run holds the operation's lock (or the cache cannot say: then leave it be)."""
    try:
        return lock_holder(run_lock_key(operation)) is not None
    except Exception as exc:
        logger.warning("cannot read the run lock of operation %s: %s", operation.pk, exc)
        return True


def operations_reconcile() -> int:
    """Resume the operations in flight that no worker has touched for XDS_ACTION_STALE_SECONDS
    past their next run, and whose host no run holds (a run refreshes its lock while it works):
    their worker was killed, or the broker lost their message. The run they get knows what to
    do: a create already sent is looked for by listing, never sent again. Returns how many."""
    cutoff = timezone.now() - timedelta(seconds=settings.XDS_ACTION_STALE_SECONDS)
    stale = Operation.objects.filter(
        Q(next_run_at__isnull=True) | Q(next_run_at__lt=cutoff),
        state__in=(Operation.State.SUBMITTED, Operation.State.WAITING),
        updated_at__lt=cutoff,
    )
    count = 0
    for operation in stale.order_by("updated_at")[:RESUME_BATCH]:
        if _run_in_progress(operation):
            continue
        minutes = max(1, round((timezone.now() - operation.updated_at).total_seconds() / 60))
        _event(
            operation,
            OperationEvent.Event.RESUMED,
            **note(said("resumed", minutes=minutes)),
        )
        count += operation_dispatch(operation=operation)
    if count:
        logger.warning("resumed %d operations left in flight by a stopped worker", count)
    return count


# --- Bookkeeping shared with the runs ---------------------------------------------------------


def _event(operation: Operation, event: str, *, at=None, **values) -> OperationEvent:
    return OperationEvent.objects.create(
        operation_id=operation.pk, event=event, at=at or timezone.now(), **values
    )


def operation_finish(
    operation: Operation,
    state: str,
    *,
    message: str = "",
    message_key: str = "",
    message_values: dict | None = None,
    code: str = "",
    trace_id: str = "",
    now=None,
    expect: tuple[str, ...] = Operation.ACTIVE_STATES,
    **values,
) -> bool:
    """End `operation` in `state` (if it is still in one of `expect`) with its message (as
    `wording.stored` gives it), the upstream's code and trace id, and a timeline entry. False
    when another run ended or moved it first."""
    now = now or timezone.now()
    event = {
        Operation.State.SUCCEEDED: OperationEvent.Event.SUCCEEDED,
        Operation.State.FAILED: OperationEvent.Event.FAILED,
        Operation.State.UNKNOWN: OperationEvent.Event.UNKNOWN,
        Operation.State.CANCELLED: OperationEvent.Event.CANCELLED,
    }[state]
    with transaction.atomic():  # the audit row and the outcome, or neither
        finished = operation_change(
            operation,
            expect=expect,
            event=event,
            note={
                "detail": message,
                "detail_key": message_key,
                "detail_values": message_values or {},
                "code": code,
                "trace_id": trace_id,
            },
            now=now,
            state=state,
            message=message,
            message_key=message_key,
            message_values=message_values or {},
            error_code=code,
            trace_id=trace_id,
            finished_at=now,
            **values,
        )
        if finished:
            operation_audit.finished(operation)
            notifications.operation_finished(operation)
    return finished


def operation_change(
    operation: Operation,
    *,
    expect: tuple[str, ...],
    event: str | None = None,
    note: dict | None = None,
    now=None,
    **values,
) -> bool:
    """Set `values` on `operation` if its state is still one of `expect` (a conditional update:
    of two runs racing, one wins), add the timeline entry `event` (with `note`: the detail as
    `wording.note` gives it, code, trace_id), and bump the versions pages poll: the operation's,
    and its host's so the host's row and panel show it. Updates the instance too. False when the
    state had moved on."""
    now = now or timezone.now()
    with transaction.atomic():
        updated = Operation.objects.filter(pk=operation.pk, state__in=expect).update(
            **values, updated_at=now, version=F("version") + 1
        )
        if not updated:
            return False
        if event is not None:
            _event(operation, event, at=now, **(note or {}))
        host_id = values.get("host_id", operation.host_id)
        if host_id:
            Host.objects.filter(pk=host_id).update(version=F("version") + 1)
    for name, value in values.items():
        setattr(operation, name, value)
    operation.updated_at = now
    operation.version += 1
    return True
