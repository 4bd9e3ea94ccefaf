from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the database refuses changes to the audit trail anyway."""

    list_display = [
        "at",
        "actor",
        "actor_role",
        "action",
        "outcome",
        "object_type",
        "object_id",
        "patient_id",
        "detail",
    ]
    list_filter = ["action", "outcome", "actor_role"]
    list_select_related = ["actor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
