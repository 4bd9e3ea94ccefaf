"""Therapy sessions (preparation, dosing, integration) and their running records: changes, the pre-dosing
checklist, vitals, the dosing record, boosters and chaperone check-ins.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from treatment.course.models import DosePlan, TreatmentCourse


class TherapySessionQuerySet(models.QuerySet):
    def dosing(self):
        return self.filter(kind=TherapySession.Kind.DOSING)

    def completed(self):
        return self.filter(status=TherapySession.Status.COMPLETED)

    def planned_or_done(self):
        """Sessions that count against the limits: scheduled or completed (not cancelled, not missed)."""
        return self.filter(status__in=[TherapySession.Status.SCHEDULED, TherapySession.Status.COMPLETED])


class TherapySession(models.Model):
    """A preparation, dosing or integration session. Its time is stored in UTC and shown in the patient's
    time zone. A dosing session has a checklist, vitals readings, a dosing record, boosters and (remote)
    chaperone check-ins; every session has a progress note, and may have its author's psychotherapy note."""

    class Kind(models.TextChoices):
        PREPARATION = "preparation", "Preparation"
        DOSING = "dosing", "Dosing"
        INTEGRATION = "integration", "Integration"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "No-show"

    class Modality(models.TextChoices):
        IN_PERSON = "in_person", "In person"
        REMOTE = "remote", "Remote (video)"

    DEFAULT_MINUTES = {Kind.PREPARATION: 60, Kind.DOSING: 180, Kind.INTEGRATION: 60}

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    course = models.ForeignKey(TreatmentCourse, on_delete=models.PROTECT, related_name="sessions")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="therapy_sessions")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    scheduled_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(
        "duration (minutes)", default=60, validators=[MinValueValidator(15), MaxValueValidator(480)]
    )
    modality = models.CharField(max_length=10, choices=Modality.choices, default=Modality.IN_PERSON)
    location = models.CharField("location", max_length=300, blank=True, help_text="The room or address.")
    video_link = models.URLField("video link", max_length=500, blank=True)
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The therapist who runs the session.",
    )
    # A remote dosing session's chaperone, copied from the patient's profile when booked and editable.
    chaperone_name = models.CharField(max_length=200, blank=True)
    chaperone_phone = models.CharField(max_length=30, blank=True)
    chaperone_email = models.EmailField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    status_reason = models.TextField(
        "reason", blank=True, max_length=2000, help_text="Why it was cancelled, or what is known of a no-show."
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    dose_plan = models.ForeignKey(
        DosePlan,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sessions",
        help_text="For a dosing session: the plan in force when it was scheduled.",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Booked (or moved) to a start more than 15 minutes ago (session_services.LATE_ENTRY_AFTER): recorded
    # after the fact, with the reason.
    late_entry = models.BooleanField("late entry", default=False)
    late_entry_reason = models.TextField("why it is entered late", blank=True, max_length=2000)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TherapySessionQuerySet.as_manager()

    class Meta:
        ordering = ["scheduled_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="completed") | Q(completed_at__isnull=False), name="session_completed_has_time"
            ),
        ]
        indexes = [
            models.Index(fields=["patient", "kind", "scheduled_at"], name="session_patient_kind_time"),
            models.Index(fields=["status", "scheduled_at"], name="session_status_time"),
            # Dosing sessions booked in a window (the dosing reminder): bench/NOTES.md has the EXPLAIN.
            models.Index(fields=["kind", "status", "scheduled_at"], name="session_kind_status_time"),
            # The dashboards' upcoming sessions, soonest first with the id as tie-break: the scan stops at the
            # panel's limit even when many sessions start at the same time (bench/NOTES.md has the EXPLAIN).
            models.Index(fields=["status", "scheduled_at", "id"], name="session_status_time_id"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} session {self.pk}"

    @property
    def is_dosing(self):
        return self.kind == self.Kind.DOSING

    @property
    def is_remote(self):
        return self.modality == self.Modality.REMOTE


class SessionChange(models.Model):
    """What happened to a booked session: rescheduled (from, to), cancelled or a no-show, with the reason.
    Append-only (a trigger refuses UPDATE and DELETE): the session row holds the current state."""

    class Kind(models.TextChoices):
        RESCHEDULED = "rescheduled", "Rescheduled"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "No-show"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(TherapySession, on_delete=models.PROTECT, related_name="changes")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    previous_scheduled_at = models.DateTimeField()
    new_scheduled_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(max_length=2000)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.session_id}"


class ChecklistConfirmation(models.Model):
    """One pre-dosing checklist item confirmed for a dosing session, by the patient in the portal or by the
    therapist in the session. An item without a row is unconfirmed. "Consent current" is not confirmed here:
    it is read from the signatures (treatment.course.gates)."""

    class Item(models.TextChoices):
        FASTING = "fasting", "I will not eat for 4 hours before the session (clear fluids until 2 hours before)."
        RIDE_HOME = "ride_home", "I have a ride home and will not drive until the next day."
        CHAPERONE = "chaperone", "My chaperone will be with me for the whole session (remote sessions)."
        BENZODIAZEPINE_HOLD = "benzodiazepine_hold", "I have held my benzodiazepine as the prescriber asked."

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(TherapySession, on_delete=models.CASCADE, related_name="checklist")
    item = models.CharField(max_length=24, choices=Item.choices)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["item"]
        constraints = [models.UniqueConstraint(fields=["session", "item"], name="checklist_item_once")]

    def __str__(self):
        return f"{self.get_item_display()} ({self.session_id})"


class VitalsReading(models.Model):
    """One set of vitals taken in a dosing session. Append-only: a wrong reading is followed by a new one
    (the latest of a phase decides), never edited. `in_range` is judged against the medical group's
    CarePolicy when recorded and kept, so a later policy change does not rewrite history."""

    class Phase(models.TextChoices):
        PRE_DOSE = "pre_dose", "Before the dose"
        PEAK = "peak", "About 40 minutes after the dose"
        BOOSTER = "booster", "Before a booster"
        END = "end", "End of session"

    class TakenBy(models.TextChoices):
        PATIENT = "patient", "The patient"
        CHAPERONE = "chaperone", "The chaperone"
        THERAPIST = "therapist", "The therapist"
        NURSE = "nurse", "A nurse"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(TherapySession, on_delete=models.PROTECT, related_name="vitals")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    phase = models.CharField(max_length=10, choices=Phase.choices)
    systolic = models.PositiveSmallIntegerField(validators=[MinValueValidator(50), MaxValueValidator(300)])
    diastolic = models.PositiveSmallIntegerField(validators=[MinValueValidator(20), MaxValueValidator(200)])
    pulse = models.PositiveSmallIntegerField(validators=[MinValueValidator(20), MaxValueValidator(250)])
    spo2 = models.PositiveSmallIntegerField(
        "SpO2 (%)", null=True, blank=True, validators=[MinValueValidator(50), MaxValueValidator(100)]
    )
    taken_at = models.DateTimeField()
    taken_by = models.CharField(max_length=10, choices=TakenBy.choices)
    in_range = models.BooleanField()
    out_of_range = models.CharField(
        max_length=200, blank=True, help_text="Which values were outside the thresholds, in words."
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["taken_at", "recorded_at", "id"]
        indexes = [models.Index(fields=["session", "phase", "taken_at"], name="vitals_session_phase_time")]

    def __str__(self):
        return f"{self.systolic}/{self.diastolic}, {self.pulse} ({self.get_phase_display()})"


class DosingRecord(models.Model):
    """What was given in a dosing session and how it ended. The first dose is marked taken only when the
    latest pre-dose vitals are in range (treatment services); boosters are BoosterDose rows."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.OneToOneField(TherapySession, on_delete=models.PROTECT, related_name="dosing_record")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    dose_mg = models.DecimalField(
        "dose taken (mg)",
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("1000"))],
    )
    dose_taken_at = models.DateTimeField(null=True, blank=True)
    dose_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ended_at = models.DateTimeField("session ended at", null=True, blank=True)
    alert_and_oriented = models.BooleanField("alert and oriented", default=False)
    vitals_near_baseline = models.BooleanField("vitals back near baseline", default=False)
    safe_transport = models.BooleanField(
        "leaving with safe transport (or staying home with the chaperone)", default=False
    )
    end_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(dose_mg__isnull=True, dose_taken_at__isnull=True)
                | Q(dose_mg__isnull=False, dose_taken_at__isnull=False),
                name="dosing_record_dose_has_time",
            ),
        ]

    def __str__(self):
        return f"Dosing record of {self.session_id}"

    @property
    def dose_taken(self):
        return self.dose_taken_at is not None

    @property
    def end_criteria_met(self):
        return self.alert_and_oriented and self.vitals_near_baseline and self.safe_transport


class BoosterDose(models.Model):
    """A booster taken in a dosing session, checked against the dose plan (count, size, minutes after the
    first dose) before it is recorded. Append-only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(TherapySession, on_delete=models.PROTECT, related_name="boosters")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    dose_mg = models.DecimalField(
        "booster (mg)",
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("1000"))],
    )
    taken_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["taken_at", "id"]

    def __str__(self):
        return f"Booster {self.dose_mg} mg ({self.session_id})"


class ChaperoneCheckIn(models.Model):
    """A chaperone's visual check on the patient in a remote dosing session (every 15 minutes by default,
    CarePolicy.chaperone_check_in_minutes). Append-only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(TherapySession, on_delete=models.PROTECT, related_name="check_ins")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    checked_at = models.DateTimeField()
    patient_ok = models.BooleanField("patient is safe and comfortable", default=True)
    remark = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["checked_at", "id"]

    def __str__(self):
        return f"Check-in at {self.checked_at} ({self.session_id})"
