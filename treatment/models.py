"""The course of care: the episode, its policy limits, the versioned dose plan and the sessions the gates read.

The patient's stage (patients.Patient.stage) is derived from these signed records by
treatment.services.course_refresh; nothing here types a stage in.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from assessments.models import content_sha256


class CarePolicy(models.Model):
    """A medical group's limits for the gates of the course of care. A group without a row gets the defaults."""

    DEFAULT_MAX_DOSING_PER_7_DAYS = 2
    DEFAULT_FIRST_FOLLOW_UP_DAYS = 30

    medical_group = models.OneToOneField(
        "accounts.Organization",
        on_delete=models.CASCADE,
        related_name="care_policy",
        limit_choices_to={"kind": "medical_group"},
    )
    max_dosing_sessions_per_7_days = models.PositiveSmallIntegerField(
        "most dosing sessions in any 7 days",
        default=DEFAULT_MAX_DOSING_PER_7_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(7)],
    )
    first_follow_up_days = models.PositiveSmallIntegerField(
        "first follow-up visit due (days after the evaluation)",
        default=DEFAULT_FIRST_FOLLOW_UP_DAYS,
        validators=[MinValueValidator(7), MaxValueValidator(120)],
    )
    # Vitals go / hold: a reading outside these holds the dose and raises a safety alert. The blood-pressure
    # defaults are the Spravato label's 140/90 guide (domain brief 6.2); pulse and SpO2 are common sedation
    # limits. Clinics set their own: no KAP standard is published.
    systolic_max = models.PositiveSmallIntegerField(
        "highest systolic (mmHg)", default=140, validators=[MinValueValidator(100), MaxValueValidator(200)]
    )
    diastolic_max = models.PositiveSmallIntegerField(
        "highest diastolic (mmHg)", default=90, validators=[MinValueValidator(60), MaxValueValidator(130)]
    )
    pulse_min = models.PositiveSmallIntegerField(
        "lowest pulse (beats/min)", default=50, validators=[MinValueValidator(30), MaxValueValidator(80)]
    )
    pulse_max = models.PositiveSmallIntegerField(
        "highest pulse (beats/min)", default=110, validators=[MinValueValidator(80), MaxValueValidator(180)]
    )
    spo2_min = models.PositiveSmallIntegerField(
        "lowest SpO2 (%)", default=94, validators=[MinValueValidator(80), MaxValueValidator(100)]
    )
    chaperone_check_in_minutes = models.PositiveSmallIntegerField(
        "chaperone check-in every (minutes, remote dosing)",
        default=15,
        validators=[MinValueValidator(5), MaxValueValidator(60)],
    )
    questionnaire_interval_days = models.PositiveSmallIntegerField(
        "questionnaires due every (days, during an active course)",
        default=14,
        validators=[MinValueValidator(7), MaxValueValidator(90)],
    )
    # The real timeline (treatment.gates): hours between two doses taken, and how long a patient stays
    # monitored after the dose before the dosing session may end, by route.
    min_hours_between_doses = models.PositiveSmallIntegerField(
        "fewest hours between two doses", default=72, validators=[MinValueValidator(24), MaxValueValidator(720)]
    )
    monitoring_minutes_sublingual = models.PositiveSmallIntegerField(
        "monitoring after a sublingual dose (minutes)",
        default=90,
        validators=[MinValueValidator(30), MaxValueValidator(480)],
    )
    monitoring_minutes_intramuscular = models.PositiveSmallIntegerField(
        "monitoring after an intramuscular dose (minutes)",
        default=120,
        validators=[MinValueValidator(30), MaxValueValidator(480)],
    )
    # Follow-up governs dosing: a first dose plan authorizes at most this many doses before the first
    # follow-up visit, and a visit overdue by more than the grace holds further doses.
    max_doses_before_first_follow_up = models.PositiveSmallIntegerField(
        "most doses a first dose plan authorizes before the first follow-up",
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(24)],
    )
    follow_up_grace_days = models.PositiveSmallIntegerField(
        "days a follow-up may be overdue before it holds doses",
        default=7,
        validators=[MinValueValidator(0), MaxValueValidator(60)],
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "care policy"
        verbose_name_plural = "care policies"

    def __str__(self):
        return f"Care policy of {self.medical_group}"

    @classmethod
    def for_group(cls, medical_group_id):
        """The group's stored policy, or an unsaved one with the defaults."""
        return cls.objects.filter(medical_group_id=medical_group_id).first() or cls(medical_group_id=medical_group_id)

    def monitoring_minutes(self, route):
        """The minutes a patient stays monitored after a dose by this route before the session may end."""
        if route == DosePlan.Route.INTRAMUSCULAR:
            return self.monitoring_minutes_intramuscular
        return self.monitoring_minutes_sublingual


class TreatmentCourseQuerySet(models.QuerySet):
    def open(self):
        return self.filter(ended_at__isnull=True)


class TreatmentCourse(models.Model):
    """One episode of care for a patient: what the dose plans and sessions belong to."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="courses")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TreatmentCourseQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"], condition=Q(ended_at__isnull=True), name="course_one_open_per_patient"
            ),
        ]

    def __str__(self):
        return f"Course {self.pk} of {self.patient_id}"


class DosePlanQuerySet(models.QuerySet):
    def signed(self):
        return self.filter(status=DosePlan.Status.SIGNED)

    def history(self):
        return self.exclude(status=DosePlan.Status.DRAFT).order_by("-version")


class DosePlan(models.Model):
    """The prescriber's dose plan, versioned per course. Signing a version supersedes the one before;
    every version is kept. `doses_authorized` is the course's total of dosing sessions authorized as of
    this version (the ledger subtracts the completed ones)."""

    class Medication(models.TextChoices):
        KETAMINE = "ketamine", "Ketamine"

    class Route(models.TextChoices):
        SUBLINGUAL_RDT = "sublingual_rdt", "Sublingual rapid-dissolve tablet"
        TROCHE = "troche", "Troche (lozenge)"
        INTRAMUSCULAR = "intramuscular", "Intramuscular injection"

    class Start(models.TextChoices):
        HALF = "half", "Start at half the dose"
        FULL = "full", "Full dose"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SIGNED = "signed", "Signed (active)"
        SUPERSEDED = "superseded", "Superseded"

    CONTENT_FIELDS = (
        "medication",
        "route",
        "tablet_strength_mg",
        "full_dose_mg",
        "start_at",
        "boosters_allowed",
        "booster_count",
        "booster_mg",
        "booster_min_minutes",
        "doses_authorized",
        "instructions_patient",
        "instructions_therapist",
        "benzodiazepine_hold",
    )
    REQUIRED_TO_SIGN = ("route", "full_dose_mg", "start_at", "doses_authorized", "instructions_patient")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    course = models.ForeignKey(TreatmentCourse, on_delete=models.PROTECT, related_name="dose_plans")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="dose_plans")
    version = models.PositiveSmallIntegerField()
    prescriber = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="dose_plans")
    medication = models.CharField(max_length=20, choices=Medication.choices, default=Medication.KETAMINE)
    route = models.CharField(max_length=20, choices=Route.choices, blank=True)
    tablet_strength_mg = models.DecimalField(
        "tablet strength (mg)",
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("1000"))],
        help_text="For tablets and troches.",
    )
    full_dose_mg = models.DecimalField(
        "full dose (mg)",
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("1000"))],
    )
    start_at = models.CharField(max_length=4, choices=Start.choices, blank=True)
    boosters_allowed = models.BooleanField(default=False)
    booster_count = models.PositiveSmallIntegerField(
        "boosters allowed per session", default=0, validators=[MaxValueValidator(4)]
    )
    booster_mg = models.DecimalField(
        "booster size (mg)",
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("1000"))],
    )
    booster_min_minutes = models.PositiveSmallIntegerField(
        "booster no sooner than (minutes after the first dose)",
        null=True,
        blank=True,
        validators=[MinValueValidator(5), MaxValueValidator(240)],
    )
    doses_authorized = models.PositiveSmallIntegerField(
        "dosing sessions authorized in the course",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(24)],
    )
    instructions_patient = models.TextField("instructions to the patient", blank=True, max_length=5000)
    instructions_therapist = models.TextField("instructions to the therapist", blank=True, max_length=5000)
    benzodiazepine_hold = models.TextField("benzodiazepine hold instructions", blank=True, max_length=2000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    signed_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    content_hash = models.CharField("SHA-256 of the signed content", max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DosePlanQuerySet.as_manager()

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["course", "version"], name="dose_plan_version_unique"),
            models.UniqueConstraint(fields=["course"], condition=Q(status="draft"), name="dose_plan_one_draft"),
            models.UniqueConstraint(fields=["course"], condition=Q(status="signed"), name="dose_plan_one_active"),
            models.CheckConstraint(
                condition=Q(status="draft") | (Q(signed_at__isnull=False) & ~Q(content_hash="")),
                name="dose_plan_signed_has_time_and_hash",
            ),
        ]

    def __str__(self):
        return f"Dose plan v{self.version} ({self.get_status_display()})"

    def save(self, *args, **kwargs):
        """Drafts change freely; a signed version may only become superseded; a superseded one never changes."""
        if not self._state.adding:
            stored = self._stored()
            if stored and stored["status"] != self.Status.DRAFT:
                changed = [f for f in self.CONTENT_FIELDS if stored[f] != getattr(self, f)]
                allowed = stored["status"] == self.Status.SIGNED and self.status == self.Status.SUPERSEDED
                if changed or not allowed:
                    raise ValidationError("This dose plan is signed and locked: sign a new version instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        stored = self._stored()
        if stored and stored["status"] != self.Status.DRAFT:
            raise ValidationError("A signed dose plan is never deleted: its history is kept.")
        return super().delete(*args, **kwargs)

    def _stored(self):
        return type(self).objects.filter(pk=self.pk).values("status", *self.CONTENT_FIELDS).first()

    @property
    def is_draft(self):
        return self.status == self.Status.DRAFT

    @property
    def first_dose_mg(self):
        if self.full_dose_mg is None:
            return None
        return self.full_dose_mg / 2 if self.start_at == self.Start.HALF else self.full_dose_mg

    def mg_per_kg(self, weight_kg):
        """The full dose per kilogram of this weight (shown, never stored)."""
        if not self.full_dose_mg or not weight_kg:
            return None
        return (Decimal(self.full_dose_mg) / Decimal(weight_kg)).quantize(Decimal("0.01"))

    def clean(self):
        errors = {}
        if self.boosters_allowed:
            if not self.booster_count:
                errors["booster_count"] = "Say how many boosters are allowed."
            if not self.booster_mg:
                errors["booster_mg"] = "Say how large a booster is."
            if not self.booster_min_minutes:
                errors["booster_min_minutes"] = "Say how long after the first dose a booster may be taken."
        elif self.booster_count or self.booster_mg or self.booster_min_minutes:
            errors["boosters_allowed"] = "Tick “boosters allowed” or leave the booster fields empty."
        if self.route == self.Route.INTRAMUSCULAR and self.tablet_strength_mg:
            errors["tablet_strength_mg"] = "An intramuscular dose has no tablet strength."
        if errors:
            raise ValidationError(errors)

    def signed_content(self):
        content = {field: getattr(self, field) for field in self.CONTENT_FIELDS}
        content.update(patient=str(self.patient_id), course=str(self.course_id), version=self.version)
        content["prescriber"] = self.prescriber_id
        return content

    def compute_hash(self):
        return content_sha256(self.signed_content())


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
    it is read from the signatures (treatment.gates)."""

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


class SessionNoteQuerySet(models.QuerySet):
    def signed(self):
        return self.filter(status=SessionNote.Status.SIGNED)

    def drafts(self):
        return self.filter(status=SessionNote.Status.DRAFT)


class SessionNote(models.Model):
    """The session's progress note, for the care team: drafted, then signed and locked with a content hash.
    A trigger refuses any change to a signed note; corrections are SessionNoteAddendum rows."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SIGNED = "signed", "Signed"

    CONTENT_FIELDS = ("body",)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.OneToOneField(TherapySession, on_delete=models.PROTECT, related_name="note")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="session_notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField("progress note", blank=True, max_length=20000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    signed_at = models.DateTimeField(null=True, blank=True)
    content_hash = models.CharField("SHA-256 of the signed content", max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SessionNoteQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft") | (Q(signed_at__isnull=False) & ~Q(content_hash="")),
                name="session_note_signed_has_time_and_hash",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="session_note_status_created")]

    def __str__(self):
        return f"Progress note of {self.session_id} ({self.get_status_display()})"

    @property
    def is_signed(self):
        return self.status == self.Status.SIGNED


class SessionNoteAddendum(models.Model):
    """A signed correction or addition to a signed progress note; the original stays as it was. Append-only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    note = models.ForeignKey(SessionNote, on_delete=models.PROTECT, related_name="addenda")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(max_length=10000)
    signed_at = models.DateTimeField()
    content_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["signed_at", "id"]
        verbose_name_plural = "session note addenda"

    def __str__(self):
        return f"Addendum to {self.note_id}"


class PsychotherapyNote(models.Model):
    """A therapist's private process note on a session. Only its author can ever read it: not the
    prescriber, the coordinator, the patient, an administrator or another therapist (HIPAA psychotherapy
    notes, kept apart from the progress note). kapcare.access.visible_psychotherapy_notes is its only door."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(TherapySession, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(max_length=20000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["session", "author"], name="psychotherapy_note_one_per_author")]

    def __str__(self):
        return f"Psychotherapy note {self.pk}"


class IntegrationSummary(models.Model):
    """The structured summary of an integration session, for the prescriber. Messaging's "share to the team"
    action reads it into the care-team thread."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.OneToOneField(TherapySession, on_delete=models.PROTECT, related_name="integration_summary")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="integration_summaries")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    themes = models.TextField("themes", blank=True, max_length=5000)
    insights = models.TextField("insights", blank=True, max_length=5000)
    changes = models.TextField("changes the patient is working on", blank=True, max_length=5000)
    concerns_for_prescriber = models.TextField("concerns for the prescriber", blank=True, max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "integration summaries"

    def __str__(self):
        return f"Integration summary of {self.session_id}"


class AdverseEvent(models.Model):
    """A side effect or adverse event, reported by the therapist on the team or the patient themself.
    A severe one raises a safety alert to both clinicians (treatment.services.adverse_event_report)."""

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
        indexes = [models.Index(fields=["patient", "-reported_at"], name="adverse_event_patient_time")]

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


class FollowUpQuerySet(models.QuerySet):
    def signed(self):
        return self.filter(status=FollowUp.Status.SIGNED)

    def pending(self):
        """Visits not yet signed: the course's next follow-up, due on `due_on`."""
        return self.filter(status=FollowUp.Status.DRAFT)


class FollowUp(models.Model):
    """The prescriber's follow-up visit. The next visit of an open course is a draft row whose `due_on` the
    services compute (the first: `CarePolicy.first_follow_up_days` after the signed eligible evaluation; the
    next: the date the signed visit set). Overdue is derived from today, never stored. Signing records the
    decision and applies it (treatment.services.follow_up_sign); a signed visit never changes."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SIGNED = "signed", "Signed"

    class Decision(models.TextChoices):
        CONTINUE = "continue", "Continue the current plan"
        ADJUST_DOSE = "adjust_dose", "Adjust the dose (new dose plan version)"
        MORE_DOSES = "more_doses", "Authorize more doses"
        MAINTENANCE = "maintenance", "Move to maintenance"
        COMPLETE = "complete", "Discharge: course completed"
        DISCONTINUE = "discontinue", "Discharge: discontinue treatment"

    DISCHARGES = (Decision.COMPLETE, Decision.DISCONTINUE)
    CONTENT_FIELDS = (
        "symptoms",
        "sessions_review",
        "side_effects",
        "therapist_note",
        "decision",
        "additional_doses",
        "next_follow_up_on",
        "rationale",
    )
    REQUIRED_TO_SIGN = ("symptoms", "side_effects", "decision", "rationale")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    course = models.ForeignKey(TreatmentCourse, on_delete=models.PROTECT, related_name="follow_ups")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="follow_ups")
    prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="follow_ups",
        help_text="Who wrote the note; the signing prescriber once signed.",
    )
    due_on = models.DateField("due on")
    symptoms = models.TextField("symptoms and progress", blank=True, max_length=5000)
    sessions_review = models.TextField("dosing sessions and their documentation", blank=True, max_length=5000)
    side_effects = models.TextField("side effects", blank=True, max_length=5000)
    therapist_note = models.TextField("to the therapist", blank=True, max_length=2000)
    decision = models.CharField(max_length=12, choices=Decision.choices, blank=True)
    additional_doses = models.PositiveSmallIntegerField(
        "more dosing sessions authorized",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    next_follow_up_on = models.DateField("next follow-up due on", null=True, blank=True)
    rationale = models.TextField("decision and rationale", blank=True, max_length=5000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    signed_at = models.DateTimeField(null=True, blank=True)
    content_hash = models.CharField("SHA-256 of the signed content", max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        ordering = ["-due_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["course"], condition=Q(status="draft"), name="follow_up_one_pending"),
            models.CheckConstraint(
                condition=Q(status="draft")
                | (Q(signed_at__isnull=False) & ~Q(content_hash="") & Q(prescriber__isnull=False) & ~Q(decision="")),
                name="follow_up_signed_complete",
            ),
        ]
        indexes = [models.Index(fields=["status", "due_on"], name="follow_up_status_due")]

    def __str__(self):
        return f"Follow-up due {self.due_on} ({self.get_status_display()})"

    def save(self, *args, **kwargs):
        if not self._state.adding and self._stored_status() == self.Status.SIGNED:
            raise ValidationError("This follow-up is signed and locked: a signed note never changes.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._stored_status() == self.Status.SIGNED:
            raise ValidationError("A signed follow-up is never deleted.")
        return super().delete(*args, **kwargs)

    def _stored_status(self):
        return type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()

    @property
    def is_signed(self):
        return self.status == self.Status.SIGNED

    @property
    def is_discharge(self):
        return self.decision in self.DISCHARGES

    def days_overdue(self, today):
        """Days past the due date on `today` (0 when not yet due); only an unsigned visit is ever overdue."""
        if self.is_signed:
            return 0
        return max((today - self.due_on).days, 0)

    def signed_content(self):
        content = {field: getattr(self, field) for field in self.CONTENT_FIELDS}
        content.update(
            patient=str(self.patient_id), course=str(self.course_id), due_on=self.due_on, prescriber=self.prescriber_id
        )
        return content

    def compute_hash(self):
        return content_sha256(self.signed_content())
