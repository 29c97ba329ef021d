"""What the mirror keeps of every upstream thing it holds (hosts, cloud disks, personal images)
beside the thing's own fields, and how it tells the present ones from the gone."""

from __future__ import annotations

from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _


class MirroredQuerySet(models.QuerySet):
    def present(self):
        """The rows the last complete listing still had."""
        return self.filter(gone_at__isnull=True)


class Mirrored(models.Model):
    """The mirror's bookkeeping. A row missing from a complete listing is marked gone, never
    deleted, so history keeps its subject."""

    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    gone_at = models.DateTimeField(null=True, blank=True)  # missing from a complete listing
    status_changed_at = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField()  # when any mirrored field (or gone_at) last changed
    # Bumped on every change: a page polls with the versions it shows and gets back only the
    # rows whose version moved.
    version = models.PositiveIntegerField(default=1)

    # Each mirrored model names its statuses: the words and slugs for each, and the statuses that
    # move on by themselves (a row in one is polled until it settles).
    status_labels: dict = {}
    status_slugs: dict = {}
    changing_statuses: frozenset = frozenset()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name or self.id

    @property
    def label(self) -> str:
        return self.name or self.id

    @property
    def is_gone(self) -> bool:
        return self.gone_at is not None

    @cached_property
    def operation_in_flight(self):
        """The operation running on it now, or None. Selectors that list rows set it for a whole
        page in one query; read alone, it costs one."""
        return self.operations.in_flight().first()

    @property
    def is_changing(self) -> bool:
        """Worth polling until it settles (the model's queryset `changing`, where it has one,
        must mean the same)."""
        if self.operation_in_flight is not None:
            return True
        return not self.is_gone and self.status in self.changing_statuses

    @property
    def status_slug(self) -> str:
        if self.is_gone:
            return "gone"
        return self.status_slugs.get(self.status, "unknown")

    @property
    def status_label(self) -> str:
        if self.is_gone:
            return str(_("Gone"))
        if self.status not in self.status_labels:
            return str(_("Unknown"))
        return str(self.status_labels[self.status])
