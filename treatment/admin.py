from django.contrib import admin

from .models import (
    BoosterDose,
    CarePolicy,
    ChaperoneCheckIn,
    DosePlan,
    DosingRecord,
    FollowUp,
    SessionChange,
    SessionNote,
    SessionNoteAddendum,
    VitalsReading,
)


@admin.register(CarePolicy)
class CarePolicyAdmin(admin.ModelAdmin):
    """Each medical group's gate limits. A group without a row uses the defaults shown on a new row."""

    list_display = ["medical_group", "max_dosing_sessions_per_7_days", "first_follow_up_days", "updated_at"]
    fields = [
        "medical_group",
        "max_dosing_sessions_per_7_days",
        "first_follow_up_days",
        "systolic_max",
        "diastolic_max",
        "pulse_min",
        "pulse_max",
        "spo2_min",
        "chaperone_check_in_minutes",
    ]


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


# Session notes: integrity only (state, signer, time, hash), never the text. Psychotherapy notes are
# deliberately not registered at all: only their author ever reads one (kapcare.access).
@admin.register(SessionNote)
class SessionNoteAdmin(ReadOnlyRecordAdmin):
    list_display = ["id", "patient_id", "session_id", "status", "signed_at"]
    list_filter = ["status"]
    fields = ["id", "patient_id", "session_id", "author", "status", "signed_at", "content_hash"]
    readonly_fields = fields


@admin.register(SessionNoteAddendum)
class SessionNoteAddendumAdmin(ReadOnlyRecordAdmin):
    list_display = ["id", "patient_id", "note_id", "signed_at"]
    fields = ["id", "patient_id", "note_id", "author", "signed_at", "content_hash"]
    readonly_fields = fields


# The dosing record and session changes: append-only rows (database triggers), shown read-only for integrity
# checks (who recorded what, when), without reasons or remarks.
@admin.register(SessionChange)
class SessionChangeAdmin(ReadOnlyRecordAdmin):
    list_display = ["id", "session_id", "kind", "changed_at"]
    list_filter = ["kind"]
    fields = ["id", "patient_id", "session_id", "kind", "previous_scheduled_at", "new_scheduled_at", "changed_at"]
    readonly_fields = fields


@admin.register(VitalsReading)
class VitalsReadingAdmin(ReadOnlyRecordAdmin):
    list_display = ["id", "session_id", "phase", "in_range", "taken_at"]
    list_filter = ["phase", "in_range"]
    fields = ["id", "patient_id", "session_id", "phase", "in_range", "taken_at", "taken_by", "recorded_at"]
    readonly_fields = fields


@admin.register(DosingRecord)
class DosingRecordAdmin(ReadOnlyRecordAdmin):
    list_display = ["id", "session_id", "dose_taken_at", "ended_at"]
    fields = ["id", "patient_id", "session_id", "dose_taken_at", "ended_at", "created_at", "updated_at"]
    readonly_fields = fields


@admin.register(BoosterDose)
class BoosterDoseAdmin(ReadOnlyRecordAdmin):
    list_display = ["id", "session_id", "taken_at"]
    fields = ["id", "patient_id", "session_id", "taken_at", "recorded_at"]
    readonly_fields = fields


@admin.register(ChaperoneCheckIn)
class ChaperoneCheckInAdmin(ReadOnlyRecordAdmin):
    list_display = ["id", "session_id", "checked_at"]
    fields = ["id", "patient_id", "session_id", "checked_at", "recorded_at"]
    readonly_fields = fields
