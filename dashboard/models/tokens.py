"""Personal API tokens: what a member's scripts sign in to the API with (dashboard/api/).

Only a digest of each token is kept: the token itself is shown once, when it is made. Tokens
start with `xds_` so that secret scanners (and people) recognise a leaked one; the few
characters after it are kept in clear to tell a member's tokens apart on their page. A token
carries scopes (what kinds of request it may make) and never more than its member's role
allows at the moment it is used: the role is checked by dashboard.permissions on every request,
as for the pages.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

TOKEN_PREFIX = "xds_"  # noqa: S105 (a prefix, not a secret)
# What is kept in clear after the prefix, to recognise a token in a list ("xds_3fQk…").
TOKEN_HINT_LENGTH = 6


class ApiToken(models.Model):
    class Scope(models.TextChoices):
        READ = "read", _("Read: see what the member may see")
        OPERATE = "operate", _("Operate: power on, power off, reboot")
        MANAGE = "manage", _("Manage: create and delete hosts")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    # sha256 of the whole token, hex: enough for a random 240-bit secret (no slow hash needed:
    # nobody can guess one to try offline).
    digest = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=len(TOKEN_PREFIX) + TOKEN_HINT_LENGTH)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    created_by_name = models.CharField(max_length=150, blank=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by_name = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["user", "created_at"], name="apitoken_user_idx")]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        permissions = [("manage_any_token", "Can see and revoke every member's API tokens")]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    @property
    def state_label(self) -> str:
        if self.revoked_at is not None:
            return str(_("Revoked"))
        if self.is_expired:
            return str(_("Expired"))
        return str(_("Active"))

    def allows(self, scope: str) -> bool:
        return scope in self.scopes

    @property
    def scope_labels(self) -> list[str]:
        return [scope for scope in self.Scope.values if scope in self.scopes]
