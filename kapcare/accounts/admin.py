from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from knox.models import AuthToken

from kapcare.audit.models import AuditEvent

from .admin_site import AuditedAdminMixin
from .models import (
    ClinicianProfile,
    DEARegistration,
    KAPTraining,
    Licence,
    Organization,
    ReferralStateException,
    User,
)

# No admin pages for API tokens or second factors: a token minted in the admin acts as its owner (and
# skips their second factor), and the authenticator page showed TOTP secrets. Tokens are made by their
# owner (the "API tokens" page) or by `manage.py issue_api_token`; authenticators only by allauth's pages.
# Nor for sign-in addresses: one added there, marked verified, received the account's password reset link.
admin.site.unregister(AuthToken)
admin.site.unregister(Authenticator)
admin.site.unregister(EmailAddress)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "medical_group"]
    list_filter = ["kind"]
    search_fields = ["name"]


class ClinicianProfileInline(admin.StackedInline):
    model = ClinicianProfile
    fk_name = "user"
    can_delete = False
    # The network's approval is written by a coordinator's approval of the application (network.joining).
    readonly_fields = ["approved_at", "approved_by"]


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


# What an administrator may not change on their own account: they cannot make themselves a clinician, move
# themselves into a practice, or widen their own powers. Another administrator has to, and it is audited.
OWN_ACCOUNT_LOCKED = ["role", "organization", "is_active", "is_staff", "is_superuser"]


# A patient's account has no second factor: whoever sets its password or its address (where a reset link goes)
# signs in as the patient. The patient keeps both; the administrator can only (de)activate the account.
PATIENT_ACCOUNT_LOCKED = ["email", "role", "organization"]
PATIENT_ROLE_ERROR = "Patient accounts are made only by the patient, from their invitation, and keep their role."


class AccountChangeForm(UserChangeForm):
    def clean_role(self):
        """An administrator account never becomes a clinician's: otherwise an administrator could make a second
        administrator account (whose password they set) a prescriber and read records through it. No account
        becomes a patient's, nor a patient's anything else."""
        role = self.cleaned_data["role"]
        if self.instance.role == User.Role.ADMIN and role != User.Role.ADMIN:
            raise ValidationError(
                "An administrator account keeps its role. Create a separate account for the person's other role."
            )
        if User.Role.PATIENT in (self.instance.role, role) and role != self.instance.role:
            raise ValidationError(PATIENT_ROLE_ERROR)
        return role


class AccountCreationForm(AdminUserCreationForm):
    def clean_role(self):
        role = self.cleaned_data["role"]
        if role == User.Role.PATIENT:
            raise ValidationError(PATIENT_ROLE_ERROR)
        return role


@admin.register(User)
class UserAdmin(AuditedAdminMixin, DjangoUserAdmin):
    form = AccountChangeForm
    add_form = AccountCreationForm
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
    audited_values = ["role", "organization", "is_active", "is_staff", "is_superuser"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.pk == request.user.pk:
            fields += OWN_ACCOUNT_LOCKED
        if obj is not None and obj.role == User.Role.PATIENT:
            fields += [name for name in PATIENT_ACCOUNT_LOCKED if name not in fields]
        return fields

    def save_model(self, request, obj, form, change):
        if change and obj.pk == request.user.pk and set(form.changed_data) & set(OWN_ACCOUNT_LOCKED):
            raise PermissionDenied("You cannot change your own role, organization or powers.")
        if change and form.initial.get("role") == User.Role.PATIENT and set(form.changed_data) & {"email", "role"}:
            raise PermissionDenied("A patient's sign-in address and role are the patient's own.")
        super().save_model(request, obj, form, change)

    def user_change_password(self, request, id, form_url=""):
        user = self.get_object(request, unquote(id))
        if user is not None and user.role == User.Role.PATIENT:
            raise PermissionDenied(
                "A patient sets their own password (“Forgot your password?” on the sign-in page sends them a link)."
            )
        before = user.password if user is not None else None
        response = super().user_change_password(request, id, form_url)
        if user is not None and request.method == "POST":
            user.refresh_from_db(fields=["password"])
            if user.password != before:
                self._audit(request, AuditEvent.Action.UPDATE, user, ["password"])
        return response

    def save_formset(self, request, form, formset, change):
        """Credentials record who verified or granted them (the admin site audits every inline change)."""
        for instance in formset.save(commit=False):
            _stamp_who(instance, request.user)
            instance.save()
        for instance in formset.deleted_objects:
            instance.delete()
        formset.save_m2m()


def _stamp_who(credential, user):
    if getattr(credential, "verified_at", None) and not credential.verified_by_id:
        credential.verified_by = user
    if isinstance(credential, ReferralStateException) and not credential.granted_by_id:
        credential.granted_by = user


class CredentialAdmin(admin.ModelAdmin):
    """Credentials are facts the signing and referral rules read (every change is audited by the admin site)."""

    def save_model(self, request, obj, form, change):
        _stamp_who(obj, request.user)
        super().save_model(request, obj, form, change)


@admin.register(Licence)
class LicenceAdmin(CredentialAdmin):
    list_display = ["clinician", "state", "number", "kind", "expires_on", "verified_at"]
    list_filter = ["state", "kind"]
    search_fields = ["clinician__email", "clinician__last_name", "number"]
    autocomplete_fields = ["clinician"]
    fields = ["clinician", *LicenceInline.fields]
    readonly_fields = ["verified_by"]


@admin.register(DEARegistration)
class DEARegistrationAdmin(CredentialAdmin):
    list_display = ["clinician", "state", "number", "expires_on", "verified_at"]
    list_filter = ["state"]
    search_fields = ["clinician__email", "clinician__last_name", "number"]
    autocomplete_fields = ["clinician"]
    fields = ["clinician", *CredentialInline.fields]
    readonly_fields = ["verified_by"]


@admin.register(KAPTraining)
class KAPTrainingAdmin(CredentialAdmin):
    list_display = ["clinician", "title", "provider", "completed_on"]
    search_fields = ["clinician__email", "clinician__last_name", "title", "provider"]
    autocomplete_fields = ["clinician"]


@admin.register(ReferralStateException)
class ReferralStateExceptionAdmin(CredentialAdmin):
    list_display = ["therapist", "state", "granted_by", "granted_at", "revoked_at"]
    list_filter = ["state"]
    autocomplete_fields = ["therapist"]
    fields = ["therapist", "state", "reason", "granted_by", "granted_at", "revoked_at"]
    readonly_fields = ["granted_by", "granted_at"]
