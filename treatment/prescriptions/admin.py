"""Prescriptions and the controlled-substance log in the admin: read-only, integrity only (who, when, the hash),
never the directions or notes. Every change goes through treatment.prescriptions services."""

from django.contrib import admin

from treatment.admin import ReadOnlyRecordAdmin

from .models import PDMPCheck, Prescription, StockEntry, StockSite


@admin.register(Prescription)
class PrescriptionAdmin(ReadOnlyRecordAdmin):
    list_display = ["id", "patient_id", "issued_on", "status", "channel"]
    list_filter = ["status", "channel"]
    fields = ["id", "patient_id", "dose_plan_id", "prescriber", "issued_on", "status", "cancelled_at", "content_hash"]
    readonly_fields = fields


@admin.register(PDMPCheck)
class PDMPCheckAdmin(ReadOnlyRecordAdmin):
    list_display = ["id", "patient_id", "state", "checked_on"]
    fields = ["id", "patient_id", "prescriber", "state", "checked_on", "created_at"]
    readonly_fields = fields


@admin.register(StockSite)
class StockSiteAdmin(ReadOnlyRecordAdmin):
    """Sites are added by the medical group's coordinators (stock.stock_site_create, audited); here they are listed."""

    list_display = ["name", "medical_group"]
    fields = ["medical_group", "name", "address"]
    readonly_fields = fields


@admin.register(StockEntry)
class StockEntryAdmin(ReadOnlyRecordAdmin):
    list_display = ["id", "site", "kind", "lot", "quantity_mg", "recorded_at"]
    list_filter = ["kind"]
    fields = ["id", "site", "kind", "lot", "expires_on", "quantity_mg", "expected_mg", "recorded_by", "recorded_at"]
    readonly_fields = fields
