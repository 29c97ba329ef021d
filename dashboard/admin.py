"""The mirror, the operations and the audit trail in the admin, all read-only: the sync and the
worker own the first two, and the audit trail is append-only for everyone, superusers too. The
members' accounts, with who may change whom; and the team policy, whose raises need two admins."""

import csv
import json

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from dashboard import permissions
from dashboard.forms.alerts import AlertChannelForm
from dashboard.models import (
    AlertChannel,
    AlertDelivery,
    ApiToken,
    AuditEvent,
    Budget,
    Host,
    Notification,
    Operation,
    OperationEvent,
    SyncState,
    TeamPolicy,
    WalletBalance,
)
from dashboard.models.mirror import Mirrored
from dashboard.services import alert_delivery, approval_policy, budgets, tokens, wallet
from dashboard.sso import methods as sso_methods
from dashboard.sso import policy as sign_in_policy
from dashboard.views.common import csv_cell


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class HostOperationInline(ReadOnlyInline):
    """A host's history: every operation asked for on it, newest first, and who asked."""

    model = Operation
    fk_name = "host"
    fields = ("created_at", "kind", "requested_by_name", "state", "error_code", "trace_id")
    readonly_fields = fields
    ordering = ("-created_at",)
    verbose_name_plural = _("History")


@admin.register(Host)
class HostAdmin(ReadOnlyAdmin):
    list_display = ("id", "name", "owner_name", "created_by", "status", "billing_type", "gone_at")
    list_filter = ("status", "area", "billing_type", "operating_system", "owner_name")
    search_fields = ("id", "name", "owner_name")
    date_hierarchy = "created_at"
    inlines = [HostOperationInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("operations")

    def get_fields(self, request, obj=None):
        """The host's own fields first, the mirror's bookkeeping (first seen, version) last."""
        bookkeeping = {field.name for field in Mirrored._meta.fields}
        fields = super().get_fields(request, obj)
        return [f for f in fields if f not in bookkeeping] + [f for f in fields if f in bookkeeping]

    @admin.display(description=_("Created by"))
    def created_by(self, host):
        """The member whose create bought it, through the dashboard (blank if it was not)."""
        for operation in host.operations.all():
            if operation.kind in Operation.CREATE_KINDS:
                return operation.requested_by_name
        return ""


@admin.register(SyncState)
class SyncStateAdmin(ReadOnlyAdmin):
    list_display = ("job", "last_success_at", "last_error_at", "error_code", "error_trace_id")


class OperationEventInline(ReadOnlyInline):
    model = OperationEvent
    fields = ("at", "event", "detail", "code", "trace_id")
    readonly_fields = fields
    show_change_link = False


class OperationAuditInline(ReadOnlyInline):
    model = AuditEvent
    fields = ("at", "action", "actor_name", "ip", "summary")
    readonly_fields = fields
    show_change_link = False
    verbose_name_plural = _("Audit trail")


@admin.register(Operation)
class OperationAdmin(ReadOnlyAdmin):
    """Operations are written by the services and the worker only; the admin shows them."""

    list_display = (
        "id",
        "created_at",
        "kind",
        "host_name",
        "requested_by_name",
        "state",
        "error_code",
        "trace_id",
    )
    list_filter = ("state", "kind", "requested_by_name")
    search_fields = ("host_id", "host_name", "requested_by_name", "trace_id")
    date_hierarchy = "created_at"
    inlines = [OperationEventInline, OperationAuditInline]


class _Echo:
    def write(self, value):
        return value


CSV_COLUMNS = (
    "at",
    "action",
    "actor_name",
    "ip",
    "user_agent",
    "host_id",
    "host_name",
    "operation_id",
    "summary",
    "details",
)


def audit_csv_rows(queryset):
    yield CSV_COLUMNS
    for event in queryset.iterator(chunk_size=2000):
        yield (
            event.at.isoformat(),
            event.action,
            event.actor_name,
            event.ip,
            event.user_agent,
            event.host_id,
            event.host_name,
            event.operation_id,
            event.summary,
            json.dumps(event.details, ensure_ascii=False, sort_keys=True),
        )


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The audit trail: filter by person, action and date, search, export what is shown as CSV.
    Nobody may add, change or delete an event here (see dashboard.models.audit)."""

    list_display = ("at", "action", "actor_name", "host_label", "ip", "summary")
    list_filter = ("action", ("at", admin.DateFieldListFilter), "actor_name")
    search_fields = ("actor_name", "host_id", "host_name", "summary", "ip")
    date_hierarchy = "at"
    list_per_page = 100
    readonly_fields = [field.name for field in AuditEvent._meta.fields]
    change_list_template = "admin/dashboard/auditevent/change_list.html"

    @admin.display(description=_("Host"), ordering="host_name")
    def host_label(self, event):
        if not event.host_id:
            return ""
        if event.host_name and event.host_name != event.host_id:
            return format_html("{} <small>({})</small>", event.host_name, event.host_id)
        return event.host_id

    def get_urls(self):
        export = self.admin_site.admin_view(self.export_csv)
        return [
            path("export.csv", export, name="dashboard_auditevent_export"),
            *super().get_urls(),
        ]

    def export_csv(self, request):
        """The events the change list shows with the same filters and search, all pages."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        queryset = self.get_changelist_instance(request).get_queryset(request)
        writer = csv.writer(_Echo())
        rows = (
            writer.writerow([csv_cell(value) for value in row]) for row in audit_csv_rows(queryset)
        )
        response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
        return response

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "export_url": reverse("admin:dashboard_auditevent_export"),
        }
        return super().changelist_view(request, extra_context)


def _sso_required_clean(form):
    """Requiring single sign-on with none configured would leave only the superusers."""
    required = form.cleaned_data.get("sso_required")
    if required and not sso_methods.configured():
        raise forms.ValidationError(
            _(
                "No single sign-on is configured (XDS_OIDC_* or XDS_LDAP_* settings): requiring "
                "it would leave only the superusers able to sign in."
            )
        )
    return required


@admin.register(TeamPolicy)
class TeamPolicyAdmin(admin.ModelAdmin):
    """One row, changed by admins through dashboard.services.approval_policy: a stricter limit
    takes effect at once, a raise waits for a second admin to confirm it here. Audited."""

    fields = ("approval_threshold", "sso_required", "updated_at", "updated_by_name")
    readonly_fields = ("updated_at", "updated_by_name")
    change_form_template = "admin/dashboard/teampolicy/change_form.html"

    def has_add_permission(self, request):
        return False  # the one row is made by TeamPolicy.current(), on the way to its page

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        policy = TeamPolicy.current()
        return redirect("admin:dashboard_teampolicy_change", policy.pk)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/confirm/",
                self.admin_site.admin_view(self.confirm_view),
                name="dashboard_teampolicy_confirm",
            ),
            path(
                "<path:object_id>/discard/",
                self.admin_site.admin_view(self.discard_view),
                name="dashboard_teampolicy_discard",
            ),
            *super().get_urls(),
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type("TeamPolicyForm", (form,), {"clean_sso_required": _sso_required_clean})

    def save_model(self, request, obj, form, change):
        # The services write the row (or only the proposal); `obj` is not saved as the form has it.
        sign_in_policy.sso_required_change(user=request.user, required=obj.sso_required)
        request.xds_policy_change = approval_policy.policy_change(
            user=request.user, threshold=obj.approval_threshold
        )

    def response_change(self, request, obj):
        if getattr(request, "xds_policy_change", None) is approval_policy.PolicyChange.PROPOSED:
            self.message_user(
                request,
                _(
                    "The new limit waits for another admin to confirm it: until then the limit "
                    "in force stays as it was, and the other admins have been told."
                ),
                messages.WARNING,
            )
            return redirect("admin:dashboard_teampolicy_change", obj.pk)
        return super().response_change(request, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        policy = TeamPolicy.current()
        approvers = list(permissions.approvers()[:2])
        extra_context = {
            **(extra_context or {}),
            "policy": policy,
            "may_confirm": approval_policy.may_confirm(request.user, policy),
            "may_discard": self.has_change_permission(request, policy),
            "sole_approver": approvers[0] if len(approvers) == 1 else None,
            "no_approver": not approvers,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def _decide(self, request, object_id, decide, message):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request, TeamPolicy.current()):
            raise PermissionDenied
        decide(user=request.user)
        self.message_user(request, message, messages.SUCCESS)
        return redirect("admin:dashboard_teampolicy_change", TeamPolicy.current().pk)

    def confirm_view(self, request, object_id):
        return self._decide(
            request, object_id, approval_policy.policy_confirm, _("The new limit is in force.")
        )

    def discard_view(self, request, object_id):
        return self._decide(
            request,
            object_id,
            approval_policy.policy_discard,
            _("The proposed limit was discarded; the limit in force is unchanged."),
        )


@admin.register(Budget)
class BudgetAdmin(admin.ModelAdmin):
    """Monthly budgets per member or per label. Every change is audited. An admin who is not a
    superuser may not change or remove their own budget: over it, their creates need another
    admin's approval, which raising it alone would get round."""

    list_display = ("__str__", "monthly_amount", "note", "updated_at", "updated_by_name")
    fields = ("member", "label", "monthly_amount", "note")
    search_fields = ("member__username", "label__name", "note")

    def _own(self, request, obj) -> bool:
        return (
            obj is not None and obj.member_id == request.user.pk and not request.user.is_superuser
        )

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not self._own(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not self._own(request, obj)

    def save_model(self, request, obj, form, change):
        obj.updated_at, obj.updated_by_name = timezone.now(), request.user.get_username()
        super().save_model(request, obj, form, change)
        budgets.budget_changed(user=request.user, budget=obj, what="changed" if change else "set")

    def delete_model(self, request, obj):
        budgets.budget_changed(user=request.user, budget=obj, what="removed")
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for budget in queryset:
            self.delete_model(request, budget)


@admin.register(WalletBalance)
class WalletBalanceAdmin(admin.ModelAdmin):
    """The wallet's balance, as an admin reads it in the Xuandashi console after a top-up (the
    provider's API gives none), and the bounds refusals for money taught. Records are added, never
    changed: the runway reads the latest. Audited."""

    list_display = ("at", "amount", "is_upper_bound", "source", "recorded_by_name", "note")
    list_filter = ("source",)
    fields = ("amount", "note")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        recorded = wallet.wallet_record(user=request.user, amount=obj.amount, note=obj.note)
        obj.pk = recorded.pk


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "subject", "email_result", "webhook_result")
    list_filter = ("kind",)
    search_fields = ("subject", "host_id")


@admin.register(AlertChannel)
class AlertChannelAdmin(admin.ModelAdmin):
    """Chat channels for alerts. The form never shows a saved secret back; the change page shows
    the delivery history and a "Send a test message" button."""

    form = AlertChannelForm
    list_display = ("name", "kind", "enabled", "language", "kinds_taken", "last_delivery")
    list_filter = ("kind", "enabled")
    change_form_template = "admin/dashboard/alertchannel/change_form.html"
    history_length = 30

    def get_fields(self, request, obj=None):
        fields = ["name", "kind", "url", "secret", "clear_secret", "alert_kinds", "language"]
        if obj is None:
            fields.remove("clear_secret")  # nothing saved to remove yet
        return [*fields, "enabled"]

    @admin.display(description=_("alert kinds"))
    def kinds_taken(self, channel):
        labels = dict(Notification.Kind.choices)
        return ", ".join(str(labels.get(kind, kind)) for kind in channel.alert_kinds) or "-"

    @admin.display(description=_("last delivery"))
    def last_delivery(self, channel):
        delivery = channel.deliveries.order_by("-created_at", "-id").first()
        if delivery is None:
            return "-"
        return f"{delivery.get_state_display()}: {delivery.last_result or '-'}"

    def get_urls(self):
        return [
            path(
                "<path:object_id>/test/",
                self.admin_site.admin_view(self.test_view),
                name="dashboard_alertchannel_test",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        channel = self.get_object(request, object_id)
        deliveries = []
        if channel is not None:
            deliveries = list(
                channel.deliveries.select_related("notification").order_by("-created_at", "-id")[
                    : self.history_length
                ]
            )
        extra_context = {
            **(extra_context or {}),
            "deliveries": deliveries,
            "may_test": channel is not None and self.has_change_permission(request, channel),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def test_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        channel = self.get_object(request, object_id)
        if channel is None:
            return redirect("admin:dashboard_alertchannel_changelist")
        if not self.has_change_permission(request, channel):
            raise PermissionDenied
        delivery = alert_delivery.delivery_test(channel, request.user)
        if delivery.state == AlertDelivery.State.SENT:
            self.message_user(
                request, _("The test message was delivered to %(name)s.") % {"name": channel}
            )
        else:
            self.message_user(
                request,
                _(
                    "The test message was not delivered: %(reason)s. It is tried again with "
                    "the other deliveries; the history below shows how it goes."
                )
                % {"reason": delivery.last_result},
                messages.ERROR,
            )
        return redirect("admin:dashboard_alertchannel_change", channel.pk)


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """Every member's API tokens, for admins (who may also revoke them on /account/tokens/).
    Nothing here shows a token: only its digest is kept, and its first characters."""

    list_display = (
        "name",
        "user",
        "hint",
        "scopes",
        "created_at",
        "expires_at",
        "last_used_at",
        "last_used_ip",
        "revoked_at",
    )
    list_filter = ("revoked_at",)
    search_fields = ("name", "user__username", "hint")
    exclude = ("digest",)
    actions = ["revoke_tokens"]

    def has_view_permission(self, request, obj=None):
        return permissions.can_manage_tokens(request.user)

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke_tokens(self, request, queryset):
        for token in queryset:
            tokens.token_revoke(user=request.user, token_id=token.pk)
        self.message_user(request, _("Revoked."), messages.SUCCESS)


# --- Members' accounts --------------------------------------------------------------------------

User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class MemberAdmin(UserAdmin):
    """Django's user pages, with who may change whom (dashboard.permissions.may_manage_account).
    A superuser may change anyone. An admin who is not one may change, set the password of and
    delete only members who are not admins, never themselves; and may not give the staff or
    superuser flags, direct permissions or the Admin role, which only a superuser gives (an
    admin who could would make a second approver out of an account of their own)."""

    SUPERUSER_ONLY_FLAGS = ("is_staff", "is_superuser")

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or permissions.may_manage_account(request.user, obj))

    def has_delete_permission(self, request, obj=None):
        # Django asks per object on the delete page and for each row of "Delete selected".
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or permissions.may_manage_account(request.user, obj))

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        # Roles are how permissions are given: direct ones are not even shown to admins.
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f != "user_permissions"]})
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return readonly
        return readonly + self.SUPERUSER_ONLY_FLAGS

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups" and not request.user.is_superuser:
            kwargs["queryset"] = Group.objects.exclude(
                pk__in=permissions.roles_giving_admin_powers()
            )
            kwargs["help_text"] = _("Only a superuser gives or takes the Admin role.")
        return super().formfield_for_manytomany(db_field, request, **kwargs)
