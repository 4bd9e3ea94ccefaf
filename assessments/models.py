"""The intake (what the patient tells the medical team) and its contraindication screening.

Answers live in real columns so the screening rules, the chart and later forms (REMS-style
monitoring, the prescriber's evaluation) read the same typed data. Yes/no questions are
nullable: `None` means "not answered yet", which a draft allows and a submission does not.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from kapcare.signing.models import SignedRecord
from patients.validators import validate_not_in_future


def _yes_no(question, help_text=""):
    return models.BooleanField(question, null=True, blank=True, help_text=help_text)


def _details(label="details"):
    return models.TextField(label, blank=True, max_length=2000)


def _number(label, low, high, help_text=""):
    return models.PositiveSmallIntegerField(
        label,
        null=True,
        blank=True,
        validators=[MinValueValidator(low), MaxValueValidator(high)],
        help_text=help_text,
    )


# The medical history of kap-domain.md §3.2, in the order the form asks. Each has `<name>_details`.
MEDICAL_CONDITIONS = (
    "ketamine_hypersensitivity",
    "uncontrolled_hypertension",
    "vascular_disease",
    "severe_heart_disease",
    "stroke",
    "cerebral_trauma",
    "eclampsia",
    "recent_cardiac_event",
    "raised_intracranial_pressure",
    "glaucoma",
    "recent_seizures",
    "untreated_hyperthyroidism",
    "severe_lung_disease",
    "severe_liver_disease",
)


class SubstanceUseDisorder(models.TextChoices):
    NONE = "none", "No, never"
    CURRENT = "current", "Yes, currently"
    IN_REMISSION = "in_remission", "Yes, in the past (now in remission)"


class IntakeQuerySet(models.QuerySet):
    def submitted(self):
        return self.filter(status=Intake.Status.SUBMITTED)

    def latest_first(self):
        return self.order_by("-created_at", "-id")


class Intake(models.Model):
    """One patient's intake for a course of care. A patient has at most one draft at a time; once
    submitted the answers never change (the prescriber's evaluation rests on them)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="intakes")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Medical history (kap-domain.md §3.2).
    ketamine_hypersensitivity = _yes_no(
        "Have you ever had an allergic or other serious reaction to ketamine or esketamine (Spravato)?"
    )
    ketamine_hypersensitivity_details = _details()
    uncontrolled_hypertension = _yes_no("Do you have high blood pressure that is not well controlled?")
    uncontrolled_hypertension_details = _details()
    vascular_disease = _yes_no(
        "Have you had an aneurysm (a bulging blood vessel in the brain, chest, belly or limbs), "
        "an arteriovenous malformation (AVM) or bleeding inside the brain?"
    )
    vascular_disease_details = _details()
    severe_heart_disease = _yes_no("Do you have severe heart disease (of the heart's arteries or muscle)?")
    severe_heart_disease_details = _details()
    stroke = _yes_no("Have you had a stroke?")
    stroke_details = _details()
    cerebral_trauma = _yes_no("Have you had a serious head or brain injury?")
    cerebral_trauma_details = _details()
    eclampsia = _yes_no("Have you had eclampsia or pre-eclampsia (dangerously high blood pressure in pregnancy)?")
    eclampsia_details = _details()
    recent_cardiac_event = _yes_no(
        "In the last 6 months, have you had a heart attack, unstable angina (chest pain at rest), "
        "heart failure that was getting worse, or an irregular heartbeat that is not controlled?"
    )
    recent_cardiac_event_details = _details()
    raised_intracranial_pressure = _yes_no(
        "Have you been told you have raised pressure inside the skull (raised intracranial pressure)?"
    )
    raised_intracranial_pressure_details = _details()
    glaucoma = _yes_no("Do you have glaucoma or raised pressure in the eye?")
    glaucoma_details = _details()
    recent_seizures = _yes_no("Have you had a seizure, or treatment for epilepsy, in the last 12 months?")
    recent_seizures_details = _details()
    untreated_hyperthyroidism = _yes_no("Do you have an overactive thyroid (hyperthyroidism) that is not treated?")
    untreated_hyperthyroidism_details = _details()
    severe_lung_disease = _yes_no("Do you have severe lung disease (for example severe COPD or asthma)?")
    severe_lung_disease_details = _details()
    severe_liver_disease = _yes_no("Do you have severe liver disease (for example cirrhosis)?")
    severe_liver_disease_details = _details()

    # Psychiatric history.
    psychosis = _yes_no(
        "Have you ever had psychosis (seeing or hearing things others did not, or beliefs others found impossible)?"
    )
    schizophrenia_spectrum = _yes_no(
        "Have you been diagnosed with schizophrenia, schizoaffective disorder or a similar condition?"
    )
    family_psychosis = _yes_no(
        "Has a parent, brother, sister or child of yours had psychosis or schizophrenia?",
    )
    mania_or_bipolar = _yes_no("Have you had mania, or been diagnosed with bipolar disorder?")
    on_mood_stabiliser = _yes_no(
        "If yes: do you take a mood stabiliser (lithium, lamotrigine or valproate)?",
    )
    suicide_attempt = _yes_no("Have you ever attempted suicide?")
    suicide_attempt_when = models.CharField(
        "If yes: when was the most recent attempt?", max_length=100, blank=True, help_text="A year is enough."
    )
    psychiatric_hospitalisation = _yes_no("Have you ever stayed in hospital for your mental health?")
    suicidal_thoughts = _yes_no(
        "Are you having thoughts of ending your life at the moment?",
        help_text="If you are in danger now, call or text 988 or call 911.",
    )
    suicidal_intent_or_plan = _yes_no("If yes: do you intend to act on them, or have a plan?")
    personality_disorder = _yes_no("Have you been diagnosed with a personality disorder?")
    psychiatric_details = _details("anything else about your mental health history")

    # Substance use.
    alcohol_drinks_per_week = _number(
        "How many alcoholic drinks do you have in a typical week?", 0, 200, help_text="Enter 0 if you do not drink."
    )
    can_abstain_alcohol_24h = _yes_no("Can you go without alcohol for 24 hours before and after a session?")
    uses_cannabis = _yes_no("Do you use cannabis?")
    uses_recreational_drugs = _yes_no("Do you use other recreational drugs?")
    recreational_drugs_details = _details("which drugs, and how often")
    substance_use_disorder = models.CharField(
        "Have you ever had a problem with alcohol or drugs (a substance use disorder)?",
        max_length=20,
        choices=SubstanceUseDisorder.choices,
        blank=True,
        help_text="Tobacco does not count here.",
    )
    substance_use_remission_since = models.DateField(
        "If in remission: since when?",
        null=True,
        blank=True,
        validators=[validate_not_in_future],
        help_text="The first of the month is fine.",
    )
    substance_use_details = _details()

    # Pregnancy.
    pregnant = _yes_no("Are you pregnant, or could you be?")
    breastfeeding = _yes_no("Are you breastfeeding?")
    ivf = _yes_no("Are you having fertility treatment (IVF)?")

    # Medicines (listed in IntakeMedication).
    takes_medications = _yes_no("Do you take any medicines, including ones you take only sometimes?")

    # Allergies, body and self-measured vitals.
    allergies = models.TextField(
        "Allergies to medicines, foods or anything else",
        blank=True,
        max_length=2000,
        help_text="Write “none” if you have no allergies.",
    )
    height_cm = _number("Height (cm)", 100, 250)
    weight_kg = models.DecimalField(
        "Weight (kg)",
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(25)), MaxValueValidator(Decimal(350))],
    )
    bp_systolic = _number(
        "Blood pressure: upper number (systolic)",
        60,
        260,
        help_text="Sit quietly for 5 minutes, then measure at your upper arm.",
    )
    bp_diastolic = _number("Blood pressure: lower number (diastolic)", 30, 160)
    pulse = _number("Pulse (beats per minute)", 25, 220)

    # Support.
    has_support_person = _yes_no(
        "Do you have a reliable adult who can stay with you during and after home sessions (a chaperone)?"
    )
    support_details = _details("who, or what makes it difficult")

    objects = IntakeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"], condition=Q(status="draft"), name="intake_one_draft_per_patient"
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(submitted_at__isnull=False), name="intake_submitted_has_time"
            ),
        ]
        indexes = [models.Index(fields=["patient", "-created_at"], name="intake_patient_created")]

    def __str__(self):
        return f"Intake {self.pk} ({self.get_status_display()})"

    @property
    def is_locked(self):
        return self.status == self.Status.SUBMITTED

    @property
    def bmi(self):
        if not self.height_cm or not self.weight_kg:
            return None
        metres = Decimal(self.height_cm) / 100
        return (Decimal(self.weight_kg) / (metres * metres)).quantize(Decimal("0.1"))

    def clean(self):
        if self.bp_systolic and self.bp_diastolic and self.bp_diastolic >= self.bp_systolic:
            raise ValidationError(
                {"bp_diastolic": "The lower number (diastolic) must be smaller than the upper number (systolic)."}
            )


class IntakeMedication(models.Model):
    """One medicine the patient takes, with the class flags the screening and later forms read."""

    CLASS_FLAGS = (
        "is_benzodiazepine",
        "is_lamotrigine",
        "is_maoi",
        "is_stimulant",
        "is_opioid",
        "is_sedative_hypnotic",
    )

    intake = models.ForeignKey(Intake, on_delete=models.CASCADE, related_name="medications")
    name = models.CharField("medicine", max_length=200)
    dose = models.CharField(max_length=100, blank=True, help_text="For example 20 mg.")
    frequency = models.CharField(
        "how often", max_length=100, blank=True, help_text="For example once a day, or as needed."
    )
    is_benzodiazepine = models.BooleanField(
        "benzodiazepine", default=False, help_text="For example alprazolam (Xanax), lorazepam, clonazepam, diazepam."
    )
    is_lamotrigine = models.BooleanField("lamotrigine", default=False, help_text="Lamictal.")
    is_maoi = models.BooleanField(
        "MAOI", default=False, help_text="For example phenelzine (Nardil), tranylcypromine (Parnate), selegiline."
    )
    is_stimulant = models.BooleanField(
        "stimulant", default=False, help_text="For example Adderall, methylphenidate (Ritalin), Vyvanse, modafinil."
    )
    is_opioid = models.BooleanField(
        "opioid", default=False, help_text="For example tramadol, oxycodone, codeine, buprenorphine, methadone."
    )
    is_sedative_hypnotic = models.BooleanField(
        "sleeping pill (sedative-hypnotic)", default=False, help_text="For example zolpidem (Ambien), eszopiclone."
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.name

    @property
    def classes(self):
        return [self._meta.get_field(flag).verbose_name for flag in self.CLASS_FLAGS if getattr(self, flag)]


class Severity(models.TextChoices):
    ABSOLUTE = "absolute", "Absolute"
    RELATIVE = "relative", "Relative"


class ScreeningRule(models.Model):
    """How one screening rule behaves: its severity, whether it runs, and its limits. Seeded with
    the domain brief's values (migration 0002); an administrator may change them. The rule's logic
    is in assessments/screening.py, keyed by `code`."""

    code = models.SlugField(max_length=50, unique=True)
    description = models.CharField(max_length=300, help_text="What the rule checks and what its limits mean.")
    severity = models.CharField(max_length=10, choices=Severity.choices)
    enabled = models.BooleanField(default=True)
    limit = models.DecimalField(
        max_digits=6, decimal_places=1, null=True, blank=True, help_text="The first limit, if the rule has one."
    )
    second_limit = models.DecimalField(
        max_digits=6, decimal_places=1, null=True, blank=True, help_text="The second limit (diastolic for BP rules)."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return self.code


class ScreeningFlag(models.Model):
    """A reason the prescriber must look at, raised when the intake was submitted. Never shown to the patient."""

    intake = models.ForeignKey(Intake, on_delete=models.PROTECT, related_name="flags")
    code = models.SlugField(max_length=50)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    reason = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Absolute before relative, then in the order the rules ran.
        ordering = ["severity", "id"]
        constraints = [models.UniqueConstraint(fields=["intake", "code"], name="screening_flag_one_per_rule")]

    def __str__(self):
        return f"{self.get_severity_display()}: {self.reason}"


# The prescriber's evaluation --------------------------------------------------------------------

# ICD-10-CM: a letter (not U), two characters, then optionally a dot and up to four more (F33.1, F43.10).
ICD10_PATTERN = r"^[A-TV-Z][0-9][0-9AB](\.[0-9A-TV-Z]{1,4})?$"
validate_icd10 = RegexValidator(ICD10_PATTERN, "Enter an ICD-10 code such as F33.1 (capital letter, digits, a dot).")


class EvaluationQuerySet(models.QuerySet):
    def signed(self):
        return self.filter(status=Evaluation.Status.SIGNED)

    def drafts(self):
        return self.filter(status=Evaluation.Status.DRAFT)

    def latest_first(self):
        return self.order_by("-signed_at", "-created_at", "-id")


class Evaluation(SignedRecord):
    """The prescriber's pre-treatment evaluation: vitals, assessments, diagnosis, each screening flag
    reviewed, and the eligibility decision. Signing locks it with a hash of its content; corrections
    are signed addenda (EvaluationAddendum)."""

    class Decision(models.TextChoices):
        ELIGIBLE = "eligible", "Eligible"
        INELIGIBLE = "ineligible", "Ineligible"
        DEFERRED = "deferred", "Deferred (decide later)"

    LOCKED_MESSAGE = "This evaluation is signed and locked: corrections are signed addenda."
    # What a prescriber writes; what the signature covers (with the flag reviews).
    CONTENT_FIELDS = (
        "bp_systolic",
        "bp_diastolic",
        "pulse",
        "weight_kg",
        "psychiatric_assessment",
        "medical_assessment",
        "diagnosis",
        "icd10_code",
        "decision",
        "rationale",
    )
    # Needed before signing (the ICD-10 code is optional).
    REQUIRED_TO_SIGN = (
        "bp_systolic",
        "bp_diastolic",
        "pulse",
        "weight_kg",
        "psychiatric_assessment",
        "medical_assessment",
        "diagnosis",
        "decision",
        "rationale",
    )

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="evaluations")
    prescriber = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="evaluations")
    intake = models.ForeignKey(
        Intake,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="evaluations",
        help_text="What it rests on.",
    )
    bp_systolic = _number("Blood pressure: systolic", 60, 260)
    bp_diastolic = _number("Blood pressure: diastolic", 30, 160)
    pulse = _number("Pulse (beats per minute)", 25, 220)
    weight_kg = models.DecimalField(
        "Weight (kg)",
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(25)), MaxValueValidator(Decimal(350))],
    )
    psychiatric_assessment = models.TextField(blank=True, max_length=10000)
    medical_assessment = models.TextField(blank=True, max_length=10000)
    diagnosis = models.TextField(blank=True, max_length=2000)
    icd10_code = models.CharField("ICD-10 code", max_length=8, blank=True, validators=[validate_icd10])
    decision = models.CharField(max_length=12, choices=Decision.choices, blank=True)
    rationale = models.TextField("rationale for the decision", blank=True, max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EvaluationQuerySet.as_manager()

    class Meta(SignedRecord.Meta):
        ordering = ["-created_at", "-id"]
        constraints = [
            *SignedRecord.Meta.constraints,
            models.UniqueConstraint(
                fields=["patient"], condition=Q(status="draft"), name="evaluation_one_draft_per_patient"
            ),
        ]
        indexes = [models.Index(fields=["patient", "status", "-signed_at"], name="evaluation_patient_signed")]

    def __str__(self):
        return f"Evaluation {self.pk} ({self.get_status_display()})"

    def clean(self):
        if self.bp_systolic and self.bp_diastolic and self.bp_diastolic >= self.bp_systolic:
            raise ValidationError({"bp_diastolic": "The diastolic pressure must be lower than the systolic."})

    def signed_content(self, reviews=None):
        reviews = self.flag_reviews.all() if reviews is None else reviews
        content = {field: getattr(self, field) for field in self.CONTENT_FIELDS}
        content.update(patient=str(self.patient_id), prescriber=self.prescriber_id, intake=str(self.intake_id or ""))
        content["flag_reviews"] = sorted([r.flag_id, r.outcome, r.reason] for r in reviews)
        return content


class EvaluationFlagReview(models.Model):
    """The prescriber's judgement on one screening flag: confirmed (it applies) or dismissed, with why.
    Locked with its evaluation (a trigger refuses changes once the evaluation is signed)."""

    class Outcome(models.TextChoices):
        CONFIRMED = "confirmed", "Confirmed"
        DISMISSED = "dismissed", "Dismissed"

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="flag_reviews")
    flag = models.ForeignKey(ScreeningFlag, on_delete=models.PROTECT, related_name="reviews")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    reason = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["flag__severity", "flag_id"]
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "flag"], name="evaluation_flag_review_once"),
            models.CheckConstraint(
                condition=Q(outcome="confirmed") | ~Q(reason=""), name="evaluation_flag_dismissal_has_reason"
            ),
        ]

    def __str__(self):
        return f"{self.get_outcome_display()}: flag {self.flag_id}"

    def clean(self):
        if self.outcome == self.Outcome.DISMISSED and not self.reason.strip():
            raise ValidationError({"reason": "Say why the flag is dismissed."})


class EvaluationAddendum(models.Model):
    """A signed correction or addition to a signed evaluation. Append-only: the database refuses UPDATE
    and DELETE. The original stays as it was signed; the chart shows both."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    evaluation = models.ForeignKey(Evaluation, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(max_length=5000)
    signed_at = models.DateTimeField()
    content_hash = models.CharField("SHA-256 of the signed content", max_length=64)

    class Meta:
        ordering = ["signed_at", "id"]

    def __str__(self):
        return f"Addendum to evaluation {self.evaluation_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError("A signed addendum never changes; add another addendum instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("A signed addendum is never deleted.")

    @property
    def patient_id(self):
        return self.evaluation.patient_id


class QuestionnaireResponse(models.Model):
    """One completed questionnaire (PHQ-9, GAD-7, ...; see assessments/instruments.json), scored when
    submitted. Written once by `questionnaire_submit`; never changed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="questionnaire_responses")
    instrument = models.CharField(max_length=30, help_text="An instrument code of assessments/instruments.json.")
    answers = models.JSONField(
        help_text="One value per item, in the instrument's item order; null for an item its skip logic skipped."
    )
    difficulty = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The unscored difficulty question (0 = not difficult at all), if asked."
    )
    total_score = models.PositiveSmallIntegerField(
        help_text="The sum of the items, or for a risk-level instrument (C-SSRS) the level's rank."
    )
    severity = models.CharField(max_length=40, blank=True, help_text="The label of the band the total falls in.")
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    on_behalf = models.BooleanField(default=False, help_text="A clinician entered it for the patient.")
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "instrument", "-submitted_at"], name="questionnaire_patient_time"),
        ]

    def __str__(self):
        return f"{self.instrument} {self.total_score} ({self.patient_id})"
