from django.contrib import admin

from .models import CareTeamMember


@admin.register(CareTeamMember)
class CareTeamMemberAdmin(admin.ModelAdmin):
    """Administrators manage who is on which care team; they do not open patient records here."""

    list_display = ["patient_id", "clinician", "role", "active_from", "active_to"]
    list_filter = ["role"]
    list_select_related = ["clinician"]
    raw_id_fields = ["patient", "clinician"]
