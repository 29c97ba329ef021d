"""Leases: a member holds a shared host for some hours, for a purpose everyone sees ("training
run, until 18:00"). Before the end the holder is asked to extend it; at the end the host is
powered off (an ordinary operation in the holder's name) unless it was extended or given back.
See dashboard.services.leases, which also says how leases and power schedules share a host."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dashboard.models.fields import ChoiceCharField, member_reference
from dashboard.models.hosts import Host
from dashboard.models.operations import Operation


class LeaseQuerySet(models.QuerySet):
    def active(self) -> LeaseQuerySet:
        return self.filter(ended_at__isnull=True)


class Lease(models.Model):
    class Outcome(models.TextChoices):
        RELEASED = "released", _("Given back")
        POWERED_OFF = "powered_off", _("Powered off at its end")
        ALREADY_OFF = "already_off", _("Already off at its end")
        NOT_ALLOWED = "not_allowed", _("Not allowed any more")
        REFUSED = "refused", _("Power off not possible")

    # Stable: the power-off at the end has an operation key derived from it and the end time,
    # so a pass that runs twice asks once.
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="leases")
    holder = member_reference()
    holder_name = models.CharField(max_length=150)
    purpose = models.CharField(max_length=200)
    started_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField(db_index=True)
    extended_count = models.PositiveIntegerField(default=0)
    # The end time the holder was last reminded of: an extension moves the end, and the next
    # reminder is for the new one.
    reminded_for = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    outcome = ChoiceCharField(max_length=16, choices=Outcome.choices, blank=True)
    detail = models.TextField(blank=True)
    operation = models.ForeignKey(
        Operation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = LeaseQuerySet.as_manager()

    class Meta:
        ordering = ("-started_at", "-id")
        constraints = [
            # One holder at a time: the database decides between two members taking it at once.
            models.UniqueConstraint(
                fields=["host"], condition=Q(ended_at__isnull=True), name="one_lease_per_host"
            )
        ]

    def __str__(self) -> str:
        return f"{self.host} held by {self.holder_name} until {self.ends_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None
