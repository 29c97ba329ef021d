"""Power schedules: a host that switches itself off (or on) at a time of day, on chosen weekdays,
in the team's time zone (TIME_ZONE). Each run is an ordinary operation asked for in the name of
the member who made the schedule, with the same checks; every run is recorded, with why it did
not happen when it did not."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dashboard.models.fields import ChoiceCharField, member_reference
from dashboard.models.hosts import Host
from dashboard.models.operations import Operation
from dashboard.wording import recorded_words

WEEKDAY_LABELS = (
    _("Mon"),
    _("Tue"),
    _("Wed"),
    _("Thu"),
    _("Fri"),
    _("Sat"),
    _("Sun"),
)
EVERY_DAY = "0123456"


def team_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


class PowerSchedule(models.Model):
    class Action(models.TextChoices):
        POWER_OFF = Operation.Kind.POWER_OFF.value, _("Power off")
        POWER_ON = Operation.Kind.POWER_ON.value, _("Power on")

    # Stable across edits: each run's operation key is derived from it and the run's time, so a
    # run fired twice (two beats, a retried task) asks once.
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="schedules")
    action = ChoiceCharField(max_length=16, choices=Action.choices)
    at = models.TimeField(help_text="Time of day in the team's time zone")
    # The weekdays it runs on, Monday 0 to Sunday 6, as digits: "01234" is Monday to Friday.
    weekdays = models.CharField(max_length=7, default=EVERY_DAY)
    enabled = models.BooleanField(default=True)
    # In whose name it runs (their role decides, run by run), and their name at the time.
    created_by = member_reference()
    created_by_name = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)
    # "Skip the next run", with why and who said so, for everyone to see.
    skip_reason = models.CharField(max_length=300, blank=True)
    skip_by_name = models.CharField(max_length=150, blank=True)
    next_run_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ("next_run_at", "id")
        permissions = [("manage_any_schedule", "Can manage the power schedules of any host")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.host} {self.at:%H:%M}"

    @property
    def skips_next(self) -> bool:
        return bool(self.skip_reason)

    @property
    def weekday_labels(self) -> list[str]:
        return [str(WEEKDAY_LABELS[int(day)]) for day in self.weekdays]

    def next_after(self, moment: datetime) -> datetime | None:
        """The first run strictly after `moment`, in the team's time zone (a wall-clock time:
        it follows daylight saving where the zone has it)."""
        days = {int(day) for day in self.weekdays}
        if not days:
            return None
        zone = team_zone()
        local = moment.astimezone(zone)
        for offset in range(8):
            day = (local + timedelta(days=offset)).date()
            if day.weekday() not in days:
                continue
            candidate = datetime.combine(day, time(self.at.hour, self.at.minute), tzinfo=zone)
            if candidate > local:
                return candidate
        return None


class ScheduleRun(models.Model):
    """What happened at one due time of a schedule."""

    class Outcome(models.TextChoices):
        STARTED = "started", _("Started")
        SKIPPED = "skipped", _("Skipped on request")
        NOTHING_TO_DO = "nothing_to_do", _("Nothing to do")
        HOST_BUSY = "host_busy", _("Host busy")
        NOT_ALLOWED = "not_allowed", _("Not allowed any more")
        REFUSED = "refused", _("Not possible")
        MISSED = "missed", _("Missed")
        LEASED = "leased", _("Held by a lease")

    schedule = models.ForeignKey(PowerSchedule, on_delete=models.CASCADE, related_name="runs")
    due_at = models.DateTimeField()
    ran_at = models.DateTimeField(default=timezone.now)
    outcome = ChoiceCharField(max_length=16, choices=Outcome.choices)
    # Why, as dashboard.wording keeps an outcome: the English words (logs, the audit trail), and
    # the key and values that word it in the reader's language. No key: the words as they were
    # written (a refusal's own words, or a run from before keys were kept).
    detail = models.TextField(blank=True)
    detail_key = models.CharField(max_length=64, blank=True)
    detail_values = models.JSONField(default=dict, blank=True)
    operation = models.ForeignKey(
        Operation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("-due_at", "-id")
        constraints = [
            models.UniqueConstraint(fields=["schedule", "due_at"], name="schedule_run_once")
        ]

    def __str__(self) -> str:
        return f"{self.schedule} {self.due_at:%Y-%m-%d %H:%M} {self.outcome}"

    @property
    def detail_words(self) -> str:
        """Why, in the reader's language."""
        return recorded_words(self, "detail")
