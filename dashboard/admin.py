"""The mirror and the operations in the admin, read-only: the sync and the worker own these rows."""

from django.contrib import admin

from dashboard.models import Host, Operation, OperationEvent, SyncState


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Host)
class HostAdmin(ReadOnlyAdmin):
    list_display = ("id", "name", "status", "operating_system", "area", "billing_type", "gone_at")
    list_filter = ("status", "area", "billing_type", "operating_system")
    search_fields = ("id", "name")
    date_hierarchy = "created_at"


@admin.register(SyncState)
class SyncStateAdmin(ReadOnlyAdmin):
    list_display = ("job", "last_success_at", "last_error_at", "error_code", "error_trace_id")


class OperationEventInline(admin.TabularInline):
    model = OperationEvent
    fields = ("at", "event", "detail", "code", "trace_id")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


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
    list_filter = ("state", "kind")
    search_fields = ("host_id", "host_name", "requested_by_name", "trace_id")
    date_hierarchy = "created_at"
    inlines = [OperationEventInline]
