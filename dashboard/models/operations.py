"""Operations: every action a member asks for (create, power on/off, reboot, delete), its state
and the timeline of what happened when.

A row is written before anything is sent upstream and is the single truth the Celery tasks
work from: a task takes only the operation's id, reads the row, and moves it on. Creates cost
money, so the row also carries what guards a create from being bought twice (its state, taken
under a row lock, and the mirror's watermark used to find the new host by listing).

Like the change log of NetBox, a row keeps the requester's and the host's names frozen beside
their foreign keys, so history stays readable after a user or a host is gone.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dashboard.models.disks import Disk
from dashboard.models.fields import ChoiceCharField, loose_reference, member_reference
from dashboard.models.hosts import CHANGING_STATUSES, Host
from dashboard.models.images import PersonalImage
from dashboard.wording import recorded_words
from vmclient.types import HostStatus, PeriodType

# The rental periods a create offers, as the form and the operation pages name them.
PERIOD_LABELS = {
    PeriodType.DAY: _("Day"),
    PeriodType.WEEK: _("Week"),
    PeriodType.MONTH: _("Month"),
    PeriodType.QUARTER: _("Quarter"),
    PeriodType.YEAR: _("Year"),
}
# The URL slug of each host action.
ACTION_SLUGS = {
    "power_on": "power-on",
    "power_off": "power-off",
    "reboot": "reboot",
    "delete": "delete",
}


class OperationQuerySet(models.QuerySet):
    def in_flight(self) -> OperationQuerySet:
        """Queued, submitted or waiting: not final yet."""
        return self.filter(state__in=Operation.ACTIVE_STATES)


def _one_at_a_time(subject: str, *, creates) -> list[models.UniqueConstraint]:
    """At most one operation in flight on one host, disk or image, and one create claiming it."""
    claimed_by = {"kind__in": creates} if isinstance(creates, list) else {"kind": creates}
    return [
        models.UniqueConstraint(
            fields=[subject],
            condition=Q(
                state__in=["queued", "submitted", "waiting"], **{f"{subject}__isnull": False}
            ),
            name=f"operation_one_in_flight_per_{subject}",
        ),
        models.UniqueConstraint(
            fields=[subject],
            condition=Q(**claimed_by, **{f"{subject}__isnull": False}),
            name=f"operation_one_create_per_{subject}",
        ),
    ]


class Operation(models.Model):
    class Kind(models.TextChoices):
        CREATE_PAY_AS_YOU_GO = "create_payg", _("Create (pay-as-you-go)")
        CREATE_RENTAL = "create_rental", _("Create (rental)")
        POWER_ON = "power_on", _("Power on")
        POWER_OFF = "power_off", _("Power off")
        REBOOT = "reboot", _("Reboot")
        DELETE = "delete", _("Delete")
        # Cloud disks (dashboard.services.disk_run): a create, optionally mounted on a host.
        DISK_CREATE = "disk_create", _("Create disk")
        DISK_ATTACH = "disk_attach", _("Attach disk")
        DISK_DETACH = "disk_detach", _("Detach disk")
        DISK_DESTROY = "disk_destroy", _("Destroy disk")
        # Personal images (dashboard.services.image_run): made from a host, renamed, deleted.
        IMAGE_CREATE = "image_create", _("Save personal image")
        IMAGE_RENAME = "image_rename", _("Rename personal image")
        IMAGE_DELETE = "image_delete", _("Delete personal image")

    class State(models.TextChoices):
        # A create priced above the team's limit, waiting for another admin (not active: the
        # worker never sees it until it is approved and so queued).
        AWAITING = "awaiting", _("Awaiting approval")
        QUEUED = "queued", _("Queued")
        SUBMITTED = "submitted", _("Submitted")
        WAITING = "waiting", _("Waiting for the host")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("Outcome unknown")
        CANCELLED = "cancelled", _("Cancelled")

    CREATE_KINDS = (Kind.CREATE_PAY_AS_YOU_GO, Kind.CREATE_RENTAL)
    DISK_KINDS = (Kind.DISK_CREATE, Kind.DISK_ATTACH, Kind.DISK_DETACH, Kind.DISK_DESTROY)
    IMAGE_KINDS = (Kind.IMAGE_CREATE, Kind.IMAGE_RENAME, Kind.IMAGE_DELETE)
    # The kinds that cost money when sent, and so may wait for an admin's approval.
    PRICED_KINDS = (*CREATE_KINDS, Kind.DISK_CREATE)
    ACTIVE_STATES = (State.QUEUED, State.SUBMITTED, State.WAITING)
    FINAL_STATES = (State.SUCCEEDED, State.FAILED, State.UNKNOWN, State.CANCELLED)

    kind = ChoiceCharField(max_length=16, choices=Kind.choices)
    state = ChoiceCharField(max_length=16, choices=State.choices, default=State.QUEUED)

    # Who asked: the user (kept null when the account is deleted) and the name frozen at the time.
    requested_by = member_reference("xds_operations")
    requested_by_name = models.CharField(max_length=150)
    # The host: known from the start for an action on one, found by a create. Not a database
    # constraint: a create may name a host before the mirror has its row.
    host = loose_reference(Host, "operations")
    host_name = models.CharField(max_length=255, blank=True)
    # The cloud disk of a disk operation: known from the start, found by a disk create. The
    # host above is the one it is mounted on or detached from (held as for a host action).
    disk = loose_reference(Disk, "operations")
    disk_name = models.CharField(max_length=255, blank=True)
    # The personal image of an image operation: known from the start, found by an image create
    # (whose host above is the one it is made from, held while it is made).
    image = loose_reference(PersonalImage, "operations")
    image_name = models.CharField(max_length=255, blank=True)
    # What was asked, as the member confirmed it: for a create the template and image (with a
    # snapshot of their specs, to recognise the new host) and the price shown.
    params = models.JSONField(default=dict, blank=True)
    # One per form: a double click or a resubmitted form finds the operation it already made.
    idempotency_key = models.UUIDField(unique=True, null=True, blank=True)
    # The operations asked for together (several hosts selected on the list) share a batch id.
    batch = models.UUIDField(null=True, blank=True, db_index=True)

    # The outcome: the upstream's code and trace id, and what it says: a message key of
    # dashboard.wording and its values, worded in the reader's language; `message` holds its
    # English words (for logs, mails, the audit trail). A row written before keys were kept has
    # no key: its words are frozen, English in `message`, others in `message_frozen` by language.
    error_code = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)
    message_key = models.CharField(max_length=64, blank=True)
    message_values = models.JSONField(default=dict, blank=True)
    message_frozen = models.JSONField(default=dict, blank=True)
    trace_id = models.CharField(max_length=128, blank=True)

    # The runs. A run is one delivery of a task message that carries the operation's id and the
    # dispatch id of the message; a message whose dispatch id is no longer the operation's was
    # superseded (a poll rescheduled, a reconciler's requeue) and does nothing.
    attempts = models.PositiveIntegerField(default=0)  # calls sent upstream
    deliveries = models.PositiveIntegerField(default=0)  # runs started
    dispatches = models.PositiveIntegerField(default=0)  # messages sent, or tried (polls too)
    dispatch_id = models.CharField(max_length=32, blank=True)
    next_run_at = models.DateTimeField(null=True, blank=True)  # when the next run is due
    # Why the last dispatch failed (the broker was down); empty once a dispatch got through.
    queue_error = models.TextField(blank=True)
    # Creates: the newest `first_seen_at` in the mirror just before the create was sent. A host
    # the mirror had seen by then cannot be the one this create bought.
    mirror_watermark = models.DateTimeField(null=True, blank=True)
    # What a run needs to remember between polls (e.g. that a rebooting host was seen down).
    progress = models.JSONField(default=dict, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    # The heartbeat: every run and every change touches it; a reconciler resumes an operation
    # whose heartbeat stopped (its worker was killed).
    updated_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)  # last call sent upstream
    accepted_at = models.DateTimeField(null=True, blank=True)  # accepted, or the new host found
    finished_at = models.DateTimeField(null=True, blank=True)
    # Bumped on every change a page shows: the operation's poll answers only when it moved.
    version = models.PositiveIntegerField(default=1)

    objects = OperationQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-id")
        # Per host, disk and image: one operation in flight, even if two requests race past the
        # service's check; and a new one is claimed by one create only.
        constraints = [
            *_one_at_a_time("host", creates=["create_payg", "create_rental"]),
            *_one_at_a_time("disk", creates="disk_create"),
            *_one_at_a_time("image", creates="image_create"),
        ]
        indexes = [
            models.Index(fields=["state", "next_run_at"], name="operation_state_due_idx"),
            models.Index(fields=["created_at"], name="operation_created_idx"),
            models.Index(fields=["requested_by", "created_at"], name="operation_user_idx"),
        ]
        permissions = [
            ("cancel_any_operation", "Can cancel any member's queued operation"),
            ("approve_operation", "Can approve or reject purchases above the team's limit"),
        ]

    def __str__(self) -> str:
        target = (
            self.disk_label
            or self.image_label
            or self.host_name
            or self.host_id
            or self.params.get("package_name", "")
        )
        return f"{self.get_kind_display()} {target}".strip()

    @property
    def is_final(self) -> bool:
        return self.state in self.FINAL_STATES

    @property
    def is_create(self) -> bool:
        return self.kind in self.CREATE_KINDS

    @property
    def is_disk(self) -> bool:
        return self.kind in self.DISK_KINDS

    @property
    def is_image(self) -> bool:
        return self.kind in self.IMAGE_KINDS

    @property
    def image_label(self) -> str:
        return self.image_name or self.image_id or ""

    @property
    def disk_label(self) -> str:
        return self.disk_name or self.disk_id or ""

    @property
    def host_label(self) -> str:
        return self.host_name or self.host_id or ""

    def message_in(self, language: str | None) -> str:
        """The outcome message in the member's language."""
        return recorded_words(self, "message", language)


class OperationEvent(models.Model):
    """One line of an operation's timeline."""

    class Event(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVAL_NEEDED = "approval_needed", _("Waiting for an admin's approval")
        APPROVED = "approved", _("Approved")
        QUEUE_DOWN = "queue_down", _("Saved, but the task queue could not be reached")
        SUBMITTED = "submitted", _("Sent to Xuandashi")
        ACCEPTED = "accepted", _("Accepted by Xuandashi")
        RETRY = "retry", _("Not created yet; trying again later")
        # A create looks for its host in the listing, an action follows its host: neither is
        # sent again.
        ANSWER_LOST = (
            "answer_lost",
            _("Answer lost; finding out what Xuandashi did instead of sending it again"),
        )
        FOUND = "found", _("New host found")
        STATUS = "status", _("Host status")
        DISK_FOUND = "disk_found", _("New disk found")
        DISK_STATUS = "disk_status", _("Disk status")
        IMAGE_FOUND = "image_found", _("New personal image found")
        IMAGE_STATUS = "image_status", _("Personal image status")
        RESUMED = "resumed", _("Resumed by the reconciler")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("Outcome unknown")
        CANCELLED = "cancelled", _("Cancelled")
        # An admin said what an operation left "outcome unknown" did (see services.resolutions).
        RESOLVED = "resolved", _("Resolved by an admin")

    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    event = ChoiceCharField(max_length=16, choices=Event.choices)
    # As an operation's message: a key and values, the English words, frozen words of old rows.
    detail = models.TextField(blank=True)
    detail_key = models.CharField(max_length=64, blank=True)
    detail_values = models.JSONField(default=dict, blank=True)
    detail_frozen = models.JSONField(default=dict, blank=True)
    code = models.CharField(max_length=64, blank=True)
    trace_id = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.get_event_display()}"

    def detail_in(self, language: str | None) -> str:
        return recorded_words(self, "detail", language)


def host_actions_allowed(host: Host) -> tuple[str, ...]:
    """The actions the host's state allows, in button order. None while an operation is in
    flight on it or once it is gone. A host whose status the upstream does not report (the
    original document version) gets every action: the upstream decides."""
    if host.is_gone or host.operation_in_flight is not None:
        return ()
    kind = Operation.Kind
    if host.status is None:
        return (kind.POWER_ON, kind.POWER_OFF, kind.REBOOT, kind.DELETE)
    status = HostStatus(host.status)
    allowed = []
    if status is HostStatus.OFF:
        allowed.append(kind.POWER_ON)
    if status is HostStatus.RUNNING:
        allowed += [kind.POWER_OFF, kind.REBOOT]
    if status.value not in CHANGING_STATUSES:
        allowed.append(kind.DELETE)
    return tuple(allowed)
