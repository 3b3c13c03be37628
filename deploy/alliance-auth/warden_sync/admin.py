"""Read-only admin pages: what waits to be sent to Warden, and the links handed over from Alliance
Auth's Discord service (with Warden's refusals)."""

from django.contrib import admin

from .models import MigratedLink, OutboxEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(OutboxEntry)
class OutboxEntryAdmin(ReadOnlyAdmin):
    list_display = ("kind", "key", "queued_at", "attempts", "next_try_at", "last_error")
    list_filter = ("kind",)
    ordering = ("queued_at",)


@admin.register(MigratedLink)
class MigratedLinkAdmin(ReadOnlyAdmin):
    list_display = ("user_id", "uid", "outcome", "detail", "migrated_at")
    list_filter = ("outcome",)
    search_fields = ("user_id", "uid")
