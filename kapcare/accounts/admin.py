from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record

from .models import (
    ClinicianProfile,
    DEARegistration,
    KAPTraining,
    Licence,
    Organization,
    ReferralStateException,
    User,
)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "medical_group"]
    list_filter = ["kind"]
    search_fields = ["name"]


class ClinicianProfileInline(admin.StackedInline):
    model = ClinicianProfile
    can_delete = False


class CredentialInline(admin.TabularInline):
    fk_name = "clinician"
    extra = 0
    fields = ["state", "number", "expires_on", "verified_at", "verified_by", "verification_note"]
    readonly_fields = ["verified_by"]


class LicenceInline(CredentialInline):
    model = Licence
    fields = ["state", "number", "kind", "expires_on", "verified_at", "verified_by", "verification_note"]


class DEARegistrationInline(CredentialInline):
    model = DEARegistration


class KAPTrainingInline(admin.TabularInline):
    model = KAPTraining
    extra = 0
    fields = ["completed_on", "provider", "title", "certificate_number"]


class ReferralStateExceptionInline(admin.TabularInline):
    model = ReferralStateException
    fk_name = "therapist"
    extra = 0
    fields = ["state", "reason", "granted_by", "granted_at", "revoked_at"]
    readonly_fields = ["granted_by", "granted_at"]


CREDENTIAL_INLINES = [LicenceInline, DEARegistrationInline, KAPTrainingInline, ReferralStateExceptionInline]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "role", "organization", "is_active"]
    list_filter = ["role", "organization", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    inlines = [ClinicianProfileInline, *CREDENTIAL_INLINES]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["first_name", "last_name", "role", "organization"]}),
        ("Status", {"fields": ["is_active", "is_staff", "is_superuser", "last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "role", "organization", "password1", "password2"]})
    ]
    readonly_fields = ["last_login", "date_joined"]

    def save_formset(self, request, form, formset, change):
        """Credentials are facts the signing rules read: each change is audited, with who verified or granted."""
        instances = formset.save(commit=False)
        for instance in instances:
            if getattr(instance, "verified_at", None) and not instance.verified_by_id:
                instance.verified_by = request.user
            if isinstance(instance, ReferralStateException) and not instance.granted_by_id:
                instance.granted_by = request.user
            created = instance._state.adding
            instance.save()
            audit_record(request.user, AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE, instance)
        for instance in formset.deleted_objects:
            audit_record(request.user, AuditEvent.Action.DELETE, instance)
            instance.delete()
        formset.save_m2m()


class AuditedAdmin(admin.ModelAdmin):
    """Credentials are facts the signing and referral rules read: who changed which is audited."""

    def save_model(self, request, obj, form, change):
        if getattr(obj, "verified_at", None) and not obj.verified_by_id:
            obj.verified_by = request.user
        if isinstance(obj, ReferralStateException) and not obj.granted_by_id:
            obj.granted_by = request.user
        super().save_model(request, obj, form, change)
        audit_record(request.user, AuditEvent.Action.UPDATE if change else AuditEvent.Action.CREATE, obj)

    def delete_model(self, request, obj):
        audit_record(request.user, AuditEvent.Action.DELETE, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            audit_record(request.user, AuditEvent.Action.DELETE, obj)
        super().delete_queryset(request, queryset)


@admin.register(Licence)
class LicenceAdmin(AuditedAdmin):
    list_display = ["clinician", "state", "number", "kind", "expires_on", "verified_at"]
    list_filter = ["state", "kind"]
    search_fields = ["clinician__email", "clinician__last_name", "number"]
    autocomplete_fields = ["clinician"]
    fields = ["clinician", *LicenceInline.fields]
    readonly_fields = ["verified_by"]


@admin.register(DEARegistration)
class DEARegistrationAdmin(AuditedAdmin):
    list_display = ["clinician", "state", "number", "expires_on", "verified_at"]
    list_filter = ["state"]
    search_fields = ["clinician__email", "clinician__last_name", "number"]
    autocomplete_fields = ["clinician"]
    fields = ["clinician", *CredentialInline.fields]
    readonly_fields = ["verified_by"]


@admin.register(KAPTraining)
class KAPTrainingAdmin(AuditedAdmin):
    list_display = ["clinician", "title", "provider", "completed_on"]
    search_fields = ["clinician__email", "clinician__last_name", "title", "provider"]
    autocomplete_fields = ["clinician"]


@admin.register(ReferralStateException)
class ReferralStateExceptionAdmin(AuditedAdmin):
    list_display = ["therapist", "state", "granted_by", "granted_at", "revoked_at"]
    list_filter = ["state"]
    autocomplete_fields = ["therapist"]
    fields = ["therapist", "state", "reason", "granted_by", "granted_at", "revoked_at"]
    readonly_fields = ["granted_by", "granted_at"]
