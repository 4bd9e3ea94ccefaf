import uuid
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from kapcare.us_states import USState


def validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone, such as America/New_York.")


class Stage(models.TextChoices):
    """Where the patient is in their course of care, kept current by the services that move it."""

    REFERRED = "referred", "Referred"
    INTAKE = "intake", "Intake"
    EVALUATION = "evaluation", "Awaiting evaluation"
    PREPARATION = "preparation", "Preparation"
    DOSING = "dosing", "Dosing"
    MAINTENANCE = "maintenance", "Maintenance"
    COMPLETED = "completed", "Completed (discharged)"
    INELIGIBLE = "ineligible", "Ineligible"
    DISCONTINUED = "discontinued", "Discontinued"


class PatientQuerySet(models.QuerySet):
    def for_list(self):
        return self.order_by("last_name", "first_name", "id")


class Patient(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    email = models.EmailField("e-mail address")
    phone = models.CharField(max_length=30, blank=True)
    state = models.CharField("US state", max_length=2, choices=USState.choices)
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.REFERRED)
    medical_group = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="patients")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="patient_record",
        help_text="The patient's portal account, once they accept the invitation.",
    )
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="referred_patients"
    )
    # Profile the patient completes in the portal.
    emergency_contact_name = models.CharField(max_length=200, blank=True)
    emergency_contact_phone = models.CharField(max_length=30, blank=True)
    emergency_contact_relationship = models.CharField(max_length=100, blank=True)
    chaperone_name = models.CharField(max_length=200, blank=True, help_text="Sits with the patient in remote sessions.")
    chaperone_phone = models.CharField(max_length=30, blank=True)
    chaperone_email = models.EmailField(blank=True)
    # Kept current by the intake service (assessments), so the stage can be derived down here.
    intake_submitted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="patient_email_unique_ci"),
        ]
        indexes = [models.Index(fields=["last_name", "first_name", "id"], name="patient_name_order")]

    def __str__(self):
        return self.full_name

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}"


class Referral(models.Model):
    """What the referring therapist tells the prescriber, read when judging eligibility and the dose."""

    class Reason(models.TextChoices):
        DEPRESSION = "depression", "Depression"
        TREATMENT_RESISTANT_DEPRESSION = "trd", "Treatment-resistant depression"
        ANXIETY = "anxiety", "Anxiety"
        TRAUMA = "trauma", "PTSD or trauma"
        OCD = "ocd", "Obsessive-compulsive disorder"
        SUBSTANCE_USE = "substance_use", "Substance use (in remission)"
        EXISTENTIAL_DISTRESS = "existential", "Existential or end-of-life distress"
        OTHER = "other", "Other"

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="referral")
    reasons = models.JSONField(default=list, help_text="Reason codes, from Referral.Reason.")
    reason_details = models.TextField("reason for referral", blank=True)
    current_diagnoses = models.TextField(blank=True)
    current_treatment = models.TextField(blank=True)
    current_medications = models.TextField("current medications (as known)", blank=True)
    clinical_summary = models.TextField("clinical summary for the prescriber", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"Referral of {self.patient_id}"

    def get_reasons_display(self):
        labels = dict(self.Reason.choices)
        return [labels.get(code, code) for code in self.reasons]


class Invitation(models.Model):
    """A single-use link to the portal. Only a hash of the token is stored."""

    VALID_FOR_DAYS = 7

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, help_text="Set when a newer invitation replaces it.")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Invitation for {self.patient_id}"

    @property
    def is_usable(self):
        return self.used_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class CareTeamMemberQuerySet(models.QuerySet):
    def active(self, at=None):
        at = at or timezone.now()
        return self.filter(Q(active_to__isnull=True) | Q(active_to__gt=at), active_from__lte=at)


class CareTeamMember(models.Model):
    """A clinician's place on a patient's care team: the only way a clinician reaches a patient."""

    class Role(models.TextChoices):
        THERAPIST = "therapist", "Therapist"
        PRESCRIBER = "prescriber", "Prescriber"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="care_team")
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="care_teams")
    role = models.CharField(max_length=20, choices=Role.choices)
    active_from = models.DateTimeField(default=timezone.now)
    active_to = models.DateTimeField(null=True, blank=True)

    objects = CareTeamMemberQuerySet.as_manager()

    class Meta:
        ordering = ["role", "active_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "clinician"],
                condition=Q(active_to__isnull=True),
                name="care_team_one_open_membership",
            ),
        ]
        indexes = [models.Index(fields=["clinician", "patient"], name="care_team_clinician")]

    def __str__(self):
        return f"{self.clinician} ({self.get_role_display()}) for {self.patient_id}"
