"""The mirror in the admin, read-only: the sync owns these rows."""

from django.contrib import admin

from dashboard.models import Host, SyncState


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
