"""Side effects and adverse events reported during or after the course."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models

from treatment.course.models import TreatmentCourse
from treatment.sessions.models import TherapySession


class AdverseEvent(models.Model):
    """A side effect or adverse event, reported by the therapist on the team or the patient themself.
    A severe one raises a safety alert to both clinicians (treatment.adverse_events.services.adverse_event_report)."""

    class Kind(models.TextChoices):
        NAUSEA = "nausea", "Nausea"
        VOMITING = "vomiting", "Vomiting"
        BLOOD_PRESSURE_RISE = "blood_pressure_rise", "Blood-pressure rise"
        DIZZINESS = "dizziness", "Dizziness"
        DISSOCIATION = "distressing_dissociation", "Distressing dissociation"
        BLADDER = "bladder_symptoms", "Bladder or urinary symptoms"
        OTHER = "other", "Other"

    class Severity(models.TextChoices):
        MILD = "mild", "Mild"
        MODERATE = "moderate", "Moderate"
        SEVERE = "severe", "Severe"

    class Action(models.TextChoices):
        NONE = "none", "None needed"
        MEDICATION_GIVEN = "medication_given", "Medication given"
        SESSION_STOPPED = "session_stopped", "Session stopped"
        EMERGENCY_SERVICES = "emergency_services", "Emergency services called"
        OTHER = "other", "Other"

    MAX_ONSET_MINUTES = 14 * 24 * 60  # two weeks after the dose

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    course = models.ForeignKey(TreatmentCourse, on_delete=models.PROTECT, related_name="adverse_events")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="adverse_events")
    session = models.ForeignKey(
        TherapySession,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="adverse_events",
        help_text="The session it happened in or after, when known.",
    )
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    description = models.TextField(blank=True, help_text="What happened; required for “other”.")
    severity = models.CharField(max_length=10, choices=Severity.choices)
    onset_minutes = models.PositiveIntegerField(
        "onset (minutes after the dose)",
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_ONSET_MINUTES)],
    )
    action_taken = models.CharField(max_length=20, choices=Action.choices, default=Action.NONE)
    action_details = models.TextField(blank=True, help_text="Which medication, or what else was done.")
    who_was_told = models.CharField(max_length=200, blank=True, help_text="E.g. the prescriber, the on-call line.")
    reported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-reported_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "-reported_at"], name="adverse_event_patient_time"),
            # The prescriber's recent side effects, newest first across their patients (bench/NOTES.md).
            models.Index(fields=["reported_at", "id"], name="adverse_event_reported_at"),
        ]

    def __str__(self):
        return f"{self.get_severity_display()} {self.get_kind_display().lower()} ({self.patient_id})"

    def clean(self):
        errors = {}
        if self.kind == self.Kind.OTHER and not self.description.strip():
            errors["description"] = "Describe the side effect."
        if self.action_taken == self.Action.OTHER and not self.action_details.strip():
            errors["action_details"] = "Say what was done."
        if errors:
            raise ValidationError(errors)
