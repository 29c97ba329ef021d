"""Fields whose choices stay out of the migrations.

A field's choices are checked by forms, the admin and `full_clean`, never by the database: no
column, constraint or index depends on them. Django still writes them into every migration that
touches the field, so each new audit action, alert kind or operation kind used to need a
migration repeating the whole list (twenty-one migrations held forty copies of those lists).
These fields describe themselves to the migrations as the plain Django field without choices:
adding a member to one of the enums is one line in its class, and no migration.
"""

from django.conf import settings
from django.db import models


class _ChoicesOutOfMigrations:
    """Mixed into a Django field: the migrations see the base field, without its choices."""

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        kwargs.pop("choices", None)
        return name, f"django.db.models.{self.django_field.__name__}", args, kwargs


class ChoiceCharField(_ChoicesOutOfMigrations, models.CharField):
    django_field = models.CharField


class ChoicePositiveSmallIntegerField(_ChoicesOutOfMigrations, models.PositiveSmallIntegerField):
    django_field = models.PositiveSmallIntegerField


def member_reference(related_name: str = "+", **options) -> models.ForeignKey:
    """A member who may be deleted later. The key is set null then; the row keeps the name it
    was given beside it (NetBox's way), so it still reads the same."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name=related_name,
        **options,
    )


def loose_reference(to, related_name: str) -> models.ForeignKey:
    """A row named before the mirror has it, or kept after it is gone: a create names its host
    before the sync brings it, and the audit trail never changes when its subject goes. No
    database constraint, and nothing is done on delete."""
    return models.ForeignKey(
        to,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name=related_name,
    )
