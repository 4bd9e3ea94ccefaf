"""The administrator keeps the supervision policy and sees who supervises whom; a coordinator assigns supervisors
(services.supervisor_assign: prescribers of their own medical group, open reviews handed over), so the admin cannot
name one around those rules. Cases (patient data) are not here."""

from django.contrib import admin

from .models import SupervisionAssignment, SupervisionPolicy


@admin.register(SupervisionPolicy)
class SupervisionPolicyAdmin(admin.ModelAdmin):
    list_display = ["medical_group", "first_patients", "sample_percent", "mg_per_kg_threshold", "review_days"]


@admin.register(SupervisionAssignment)
class SupervisionAssignmentAdmin(admin.ModelAdmin):
    list_display = ["prescriber", "supervisor", "created_at"]
    raw_id_fields = ["prescriber", "supervisor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
