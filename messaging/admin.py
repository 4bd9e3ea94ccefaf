from django.contrib import admin

from .models import Message, Notification


class MetadataOnlyAdmin(admin.ModelAdmin):
    """Who wrote to whom and when, never what: an administrator reaches no patient record (kapcare.access), so
    message bodies, cards and notification titles are not shown, and nothing is added or changed here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Message)
class MessageAdmin(MetadataOnlyAdmin):
    list_display = ["id", "kind", "author", "urgent", "created_at"]
    list_filter = ["kind", "urgent"]
    fields = ["id", "thread", "kind", "author", "urgent", "source_type", "source_id", "created_at"]
    readonly_fields = fields


@admin.register(Notification)
class NotificationAdmin(MetadataOnlyAdmin):
    list_display = ["id", "recipient", "kind", "created_at", "read_at"]
    list_filter = ["kind"]
    fields = ["id", "recipient", "kind", "created_at", "read_at"]
    readonly_fields = fields
