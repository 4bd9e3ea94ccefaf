"""The course of care: the medical group's policy, the episode, the versioned dose plan and the follow-up visits.

The patient's stage (patients.Patient.stage) is derived from these signed records by
treatment.course.services.course_refresh; nothing here types a stage in.
"""

import datetime
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from kapcare.signing.models import SignedRecord


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
    # The real timeline (treatment.course.gates): hours between two doses taken, and how long a patient stays
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
    # Visits and session hours (treatment.visits): dosing sessions run inside these hours in the patient's time
    # zone (hours of monitoring and a ride home); a patient cancels or moves a visit up to this notice.
    dosing_hours_start = models.TimeField("dosing sessions from (patient's local time)", default=datetime.time(8))
    dosing_hours_end = models.TimeField("dosing sessions end by (patient's local time)", default=datetime.time(18))
    visit_change_notice_hours = models.PositiveSmallIntegerField(
        "a patient cancels or moves a visit up to (hours before)",
        default=24,
        validators=[MinValueValidator(0), MaxValueValidator(168)],
    )
    # Prescribing (treatment.prescriptions): how fresh a PDMP check must be, and the rule for prescribing a
    # controlled substance after a telemedicine evaluation (the DEA flexibilities run to the end of 2026).
    pdmp_max_age_days = models.PositiveSmallIntegerField(
        "PDMP check valid for (days)", default=7, validators=[MinValueValidator(1), MaxValueValidator(90)]
    )
    telemedicine_rule = models.CharField(
        "controlled substances after a telemedicine evaluation",
        max_length=20,
        choices=[
            ("flexibility", "Allowed under the DEA telemedicine flexibilities, attested"),
            ("in_person", "An in-person visit is required first"),
        ],
        default="flexibility",
    )
    telemedicine_flexibility_until = models.DateField(
        "DEA telemedicine flexibilities end on", default=datetime.date(2026, 12, 31)
    )
    # Route-aware monitoring: an intramuscular dose needs vitals this many minutes after it (besides before the
    # dose and before discharge); the minimum observation is monitoring_minutes_intramuscular.
    peak_vitals_minutes_intramuscular = models.PositiveSmallIntegerField(
        "vitals after an intramuscular dose at (minutes)",
        default=40,
        validators=[MinValueValidator(10), MaxValueValidator(120)],
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


class DosePlan(SignedRecord):
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
    LOCKED_MESSAGE = "This dose plan is signed and locked: sign a new version instead."
    TRANSITION = ("signed", "superseded", ("superseded_at", "updated_at"))

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
    superseded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DosePlanQuerySet.as_manager()

    class Meta(SignedRecord.Meta):
        ordering = ["-version"]
        constraints = [
            *SignedRecord.Meta.constraints,
            models.UniqueConstraint(fields=["course", "version"], name="dose_plan_version_unique"),
            models.UniqueConstraint(fields=["course"], condition=Q(status="draft"), name="dose_plan_one_draft"),
            models.UniqueConstraint(fields=["course"], condition=Q(status="signed"), name="dose_plan_one_active"),
        ]

    def __str__(self):
        return f"Dose plan v{self.version} ({self.get_status_display()})"

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


class FollowUpQuerySet(models.QuerySet):
    def signed(self):
        return self.filter(status=FollowUp.Status.SIGNED)

    def pending(self):
        """Visits not yet signed: the course's next follow-up, due on `due_on`."""
        return self.filter(status=FollowUp.Status.DRAFT)


class FollowUp(SignedRecord):
    """The prescriber's follow-up visit. The next visit of an open course is a draft row whose `due_on` the
    services compute (the first: `CarePolicy.first_follow_up_days` after the signed eligible evaluation; the
    next: the date the signed visit set). Overdue is derived from today, never stored. Signing records the
    decision and applies it (treatment.course.services.follow_up_sign); a signed visit never changes."""

    LOCKED_MESSAGE = "This follow-up is signed and locked: a signed note never changes."

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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = FollowUpQuerySet.as_manager()

    class Meta(SignedRecord.Meta):
        ordering = ["-due_on", "-id"]
        constraints = [
            *SignedRecord.Meta.constraints,
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
