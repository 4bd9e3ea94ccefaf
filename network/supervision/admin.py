"""The administrator keeps the supervision policy and who supervises whom; cases (patient data) are not here."""

from django.contrib import admin

from .models import SupervisionAssignment, SupervisionPolicy


@admin.register(SupervisionPolicy)
class SupervisionPolicyAdmin(admin.ModelAdmin):
    list_display = ["medical_group", "first_patients", "sample_percent", "mg_per_kg_threshold", "review_days"]


@admin.register(SupervisionAssignment)
class SupervisionAssignmentAdmin(admin.ModelAdmin):
    list_display = ["prescriber", "supervisor", "created_at"]
    raw_id_fields = ["prescriber", "supervisor"]
