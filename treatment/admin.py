from django.contrib import admin

from .models import CarePolicy, DosePlan, FollowUp


@admin.register(CarePolicy)
class CarePolicyAdmin(admin.ModelAdmin):
    """Each medical group's gate limits. A group without a row uses the defaults shown on a new row."""

    list_display = ["medical_group", "max_dosing_sessions_per_7_days", "first_follow_up_days", "updated_at"]
    fields = ["medical_group", "max_dosing_sessions_per_7_days", "first_follow_up_days"]


class ReadOnlyRecordAdmin(admin.ModelAdmin):
    """Signed clinical records, shown read-only and without their clinical content: an administrator checks
    integrity (who signed what when, the hash), never reads or edits the care itself. The database refuses
    changes to signed rows whatever the admin allows."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DosePlan)
class DosePlanAdmin(ReadOnlyRecordAdmin):
    list_display = ["id", "patient_id", "version", "status", "signed_at"]
    list_filter = ["status"]
    fields = ["id", "patient_id", "course_id", "version", "status", "signed_at", "superseded_at", "content_hash"]
    readonly_fields = fields


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyRecordAdmin):
    list_display = ["id", "patient_id", "due_on", "status", "decision", "signed_at"]
    list_filter = ["status", "decision"]
    fields = ["id", "patient_id", "course_id", "due_on", "status", "decision", "signed_at", "content_hash"]
    readonly_fields = fields
