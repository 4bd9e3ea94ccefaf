"""The intake (what the patient tells the medical team) and its contraindication screening.

Answers live in real columns so the screening rules, the chart and later forms (REMS-style
monitoring, the prescriber's evaluation) read the same typed data. Yes/no questions are
nullable: `None` means "not answered yet", which a draft allows and a submission does not.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q


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
        "If in remission: since when?", null=True, blank=True, help_text="The first of the month is fine."
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
