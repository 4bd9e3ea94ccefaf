"""assessments 0001-0008 squashed, for a fresh database: each model created whole in its final state
(columns in the order the old migrations leave them), then the triggers and seeded rows they end with.
A database that applied only some of the replaced migrations goes on through them."""

import uuid
from decimal import Decimal

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import kapcare.signing.operations
import patients.validators

# Not carried over (nothing to do on a fresh database): 0008's fill_signed_by backfill.
# 0002's seeded screening rules, copied here as there. Values are copied, not imported, so this means the same
# thing forever.
# code, severity, limit, second limit, description
DEFAULT_RULES = [
    (
        "bp_above_absolute",
        "absolute",
        "180",
        "100",
        "Resting BP: systolic above the limit or diastolic above the second limit.",
    ),
    (
        "bp_above_relative",
        "relative",
        "140",
        "90",
        "Resting BP: systolic above the limit or diastolic above the second limit (weigh benefit against risk).",
    ),
    ("pulse_above", "relative", "100", None, "Resting pulse above the limit."),
    ("pulse_below", "relative", "50", None, "Resting pulse below the limit."),
    ("bmi_above", "relative", "35", None, "Body-mass index above the limit."),
    ("age_below", "absolute", "18", None, "Age in years below the limit."),
    ("ketamine_hypersensitivity", "absolute", None, None, "Hypersensitivity to ketamine or esketamine."),
    ("uncontrolled_hypertension", "absolute", None, None, "Uncontrolled or severe hypertension."),
    (
        "vascular_disease",
        "absolute",
        None,
        None,
        "Aneurysmal vascular disease, arteriovenous malformation or intracerebral haemorrhage.",
    ),
    ("severe_heart_disease", "absolute", None, None, "Severe coronary or myocardial disease."),
    ("stroke", "absolute", None, None, "History of stroke."),
    ("cerebral_trauma", "absolute", None, None, "Cerebral trauma."),
    ("eclampsia", "absolute", None, None, "Eclampsia or pre-eclampsia."),
    (
        "recent_cardiac_event",
        "absolute",
        None,
        None,
        "Recent MI, unstable angina, decompensated heart failure or uncontrolled arrhythmia.",
    ),
    ("raised_intracranial_pressure", "absolute", None, None, "Raised intracranial pressure."),
    ("glaucoma", "relative", None, None, "Glaucoma or raised intraocular pressure."),
    ("recent_seizures", "relative", None, None, "Epilepsy or seizures in the last 12 months."),
    ("untreated_hyperthyroidism", "absolute", None, None, "Untreated hyperthyroidism."),
    ("severe_lung_disease", "relative", None, None, "Severe lung disease."),
    ("severe_liver_disease", "relative", None, None, "Severe liver disease."),
    ("psychosis", "absolute", None, None, "Current or past psychosis."),
    ("schizophrenia_spectrum", "absolute", None, None, "Schizophrenia-spectrum disorder."),
    ("family_psychosis", "relative", None, None, "Psychosis in a first-degree relative."),
    ("bipolar_without_stabiliser", "absolute", None, None, "Mania or bipolar disorder without a mood stabiliser."),
    ("bipolar_on_stabiliser", "relative", None, None, "Mania or bipolar disorder, on a mood stabiliser."),
    ("suicidal_intent", "absolute", None, None, "Current suicidal thoughts with intent or a plan."),
    ("suicidal_thoughts", "relative", None, None, "Current suicidal thoughts without intent or a plan."),
    ("suicide_attempt", "relative", None, None, "Past suicide attempt."),
    ("personality_disorder", "relative", None, None, "Personality disorder (severe if it would block cooperation)."),
    ("substance_use_current", "absolute", None, None, "Active substance use disorder."),
    (
        "substance_use_recent_remission",
        "relative",
        "12",
        None,
        "Substance use disorder in remission for fewer months than the limit.",
    ),
    ("alcohol_cannot_abstain", "relative", None, None, "Cannot abstain from alcohol for 24 h."),
    ("cannabis", "relative", None, None, "Uses cannabis."),
    ("recreational_drugs", "relative", None, None, "Uses other recreational drugs."),
    ("pregnancy", "absolute", None, None, "Pregnant or could be."),
    ("breastfeeding", "absolute", None, None, "Breastfeeding."),
    ("ivf", "absolute", None, None, "Fertility treatment (IVF)."),
    ("no_support_person", "relative", None, None, "No reliable support person or chaperone."),
    ("medication_benzodiazepine", "relative", None, None, "Takes a benzodiazepine."),
    ("medication_lamotrigine", "relative", None, None, "Takes lamotrigine."),
    ("medication_maoi", "relative", None, None, "Takes an MAOI."),
    ("medication_stimulant", "relative", None, None, "Takes a psychostimulant."),
    ("medication_opioid", "relative", None, None, "Takes an opioid."),
    ("medication_sedative_hypnotic", "relative", None, None, "Takes a non-benzodiazepine sedative-hypnotic."),
]


def seed_screening_rules(apps, schema_editor):
    ScreeningRule = apps.get_model("assessments", "ScreeningRule")
    for code, severity, limit, second_limit, description in DEFAULT_RULES:
        ScreeningRule.objects.get_or_create(
            code=code,
            defaults={
                "severity": severity,
                "limit": Decimal(limit) if limit else None,
                "second_limit": Decimal(second_limit) if second_limit else None,
                "description": description,
            },
        )


# 0004's flag-review and addendum triggers (0008 replaced its evaluation trigger by the kernel's, below).
POSTGRES_FORWARD = """
CREATE FUNCTION assessments_evaluationflagreview_refuse_change() RETURNS trigger AS $$
DECLARE
    parent_status varchar;
BEGIN
    SELECT status INTO parent_status FROM assessments_evaluation
        WHERE id = (CASE WHEN TG_OP = 'INSERT' THEN NEW.evaluation_id ELSE OLD.evaluation_id END);
    IF parent_status IS DISTINCT FROM 'draft' AND parent_status IS NOT NULL THEN
        RAISE EXCEPTION 'the flag reviews of a signed evaluation never change (% refused)', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER assessments_evaluationflagreview_locked
    BEFORE INSERT OR UPDATE OR DELETE ON assessments_evaluationflagreview
    FOR EACH ROW EXECUTE FUNCTION assessments_evaluationflagreview_refuse_change();

CREATE FUNCTION assessments_evaluationaddendum_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'assessments_evaluationaddendum is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER assessments_evaluationaddendum_append_only
    BEFORE UPDATE OR DELETE ON assessments_evaluationaddendum
    FOR EACH ROW EXECUTE FUNCTION assessments_evaluationaddendum_refuse_change();
"""
POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS assessments_evaluationflagreview_locked ON assessments_evaluationflagreview;
DROP FUNCTION IF EXISTS assessments_evaluationflagreview_refuse_change();
DROP TRIGGER IF EXISTS assessments_evaluationaddendum_append_only ON assessments_evaluationaddendum;
DROP FUNCTION IF EXISTS assessments_evaluationaddendum_refuse_change();
"""
SQLITE_FORWARD = [
    *(
        f"""CREATE TRIGGER assessments_evaluationflagreview_refuse_{op.lower()} BEFORE {op}
        ON assessments_evaluationflagreview
        WHEN (SELECT status FROM assessments_evaluation WHERE id = OLD.evaluation_id) <> 'draft'
        BEGIN SELECT RAISE(ABORT, 'the flag reviews of a signed evaluation never change'); END;"""
        for op in ("UPDATE", "DELETE")
    ),
    *(
        f"""CREATE TRIGGER assessments_evaluationaddendum_refuse_{op.lower()} BEFORE {op}
        ON assessments_evaluationaddendum
        BEGIN SELECT RAISE(ABORT, 'assessments_evaluationaddendum is append-only'); END;"""
        for op in ("UPDATE", "DELETE")
    ),
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {table}_refuse_{op};"
    for table in ("assessments_evaluationflagreview", "assessments_evaluationaddendum")
    for op in ("update", "delete")
]


def lock_flag_reviews_and_addenda(apps, schema_editor):
    statements = {"postgresql": [POSTGRES_FORWARD], "sqlite": SQLITE_FORWARD}
    for sql in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


def unlock_flag_reviews_and_addenda(apps, schema_editor):
    statements = {"postgresql": [POSTGRES_BACKWARD], "sqlite": SQLITE_BACKWARD}
    for sql in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    replaces = [
        ("assessments", "0001_add_intake_and_screening"),
        ("assessments", "0002_seed_screening_rules"),
        ("assessments", "0003_add_evaluation_flag_review_and_addendum"),
        ("assessments", "0004_lock_signed_evaluations"),
        ("assessments", "0005_refuse_future_remission_dates"),
        ("assessments", "0006_add_questionnaire_response"),
        ("assessments", "0007_add_questionnaire_difficulty"),
        ("assessments", "0008_sign_evaluations_through_the_kernel"),
    ]

    initial = True

    dependencies = [
        ("patients", "0010_describe_consent_email_change_flag"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ScreeningRule",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("code", models.SlugField(unique=True)),
                (
                    "description",
                    models.CharField(help_text="What the rule checks and what its limits mean.", max_length=300),
                ),
                (
                    "severity",
                    models.CharField(choices=[("absolute", "Absolute"), ("relative", "Relative")], max_length=10),
                ),
                ("enabled", models.BooleanField(default=True)),
                (
                    "limit",
                    models.DecimalField(
                        blank=True,
                        decimal_places=1,
                        help_text="The first limit, if the rule has one.",
                        max_digits=6,
                        null=True,
                    ),
                ),
                (
                    "second_limit",
                    models.DecimalField(
                        blank=True,
                        decimal_places=1,
                        help_text="The second limit (diastolic for BP rules).",
                        max_digits=6,
                        null=True,
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "ordering": ["code"],
            },
        ),
        migrations.CreateModel(
            name="Intake",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                (
                    "status",
                    models.CharField(
                        choices=[("draft", "Draft"), ("submitted", "Submitted")], default="draft", max_length=10
                    ),
                ),
                ("submitted_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "ketamine_hypersensitivity",
                    models.BooleanField(
                        blank=True,
                        null=True,
                        verbose_name="Have you ever had an allergic or other serious reaction to ketamine or esketamine (Spravato)?",
                    ),
                ),
                (
                    "ketamine_hypersensitivity_details",
                    models.TextField(blank=True, max_length=2000, verbose_name="details"),
                ),
                (
                    "uncontrolled_hypertension",
                    models.BooleanField(
                        blank=True,
                        null=True,
                        verbose_name="Do you have high blood pressure that is not well controlled?",
                    ),
                ),
                (
                    "uncontrolled_hypertension_details",
                    models.TextField(blank=True, max_length=2000, verbose_name="details"),
                ),
                (
                    "vascular_disease",
                    models.BooleanField(
                        blank=True,
                        null=True,
                        verbose_name="Have you had an aneurysm (a bulging blood vessel in the brain, chest, belly or limbs), an arteriovenous malformation (AVM) or bleeding inside the brain?",
                    ),
                ),
                ("vascular_disease_details", models.TextField(blank=True, max_length=2000, verbose_name="details")),
                (
                    "severe_heart_disease",
                    models.BooleanField(
                        blank=True,
                        null=True,
                        verbose_name="Do you have severe heart disease (of the heart's arteries or muscle)?",
                    ),
                ),
                ("severe_heart_disease_details", models.TextField(blank=True, max_length=2000, verbose_name="details")),
                ("stroke", models.BooleanField(blank=True, null=True, verbose_name="Have you had a stroke?")),
                ("stroke_details", models.TextField(blank=True, max_length=2000, verbose_name="details")),
                (
                    "cerebral_trauma",
                    models.BooleanField(
                        blank=True, null=True, verbose_name="Have you had a serious head or brain injury?"
                    ),
                ),
                ("cerebral_trauma_details", models.TextField(blank=True, max_length=2000, verbose_name="details")),
                (
                    "eclampsia",
                    models.BooleanField(
                        blank=True,
                        null=True,
                        verbose_name="Have you had eclampsia or pre-eclampsia (dangerously high blood pressure in pregnancy)?",
                    ),
                ),
                ("eclampsia_details", models.TextField(blank=True, max_length=2000, verbose_name="details")),
                (
                    "recent_cardiac_event",
                    models.BooleanField(
                        blank=True,
                        null=True,
                        verbose_name="In the last 6 months, have you had a heart attack, unstable angina (chest pain at rest), heart failure that was getting worse, or an irregular heartbeat that is not controlled?",
                    ),
                ),
                ("recent_cardiac_event_details", models.TextField(blank=True, max_length=2000, verbose_name="details")),
                (
                    "raised_intracranial_pressure",
                    models.BooleanField(
                        blank=True,
                        null=True,
                        verbose_name="Have you been told you have raised pressure inside the skull (raised intracranial pressure)?",
                    ),
                ),
                (
                    "raised_intracranial_pressure_details",
                    models.TextField(blank=True, max_length=2000, verbose_name="details"),
                ),
                (
                    "glaucoma",
                    models.BooleanField(
                        blank=True, null=True, verbose_name="Do you have glaucoma or raised pressure in the eye?"
                    ),
                ),
                ("glaucoma_details", models.TextField(blank=True, max_length=2000, verbose_name="details")),
                (
                    "recent_seizures",
                    models.BooleanField(
                        blank=True,
                        null=True,
                        verbose_name="Have you had a seizure, or treatment for epilepsy, in the last 12 months?",
                    ),
                ),
                ("recent_seizures_details", models.TextField(blank=True, max_length=2000, verbose_name="details")),
                (
                    "untreated_hyperthyroidism",
                    models.BooleanField(
                        blank=True,
                        null=True,
                        verbose_name="Do you have an overactive thyroid (hyperthyroidism) that is not treated?",
                    ),
                ),
                (
                    "untreated_hyperthyroidism_details",
                    models.TextField(blank=True, max_length=2000, verbose_name="details"),
                ),
                (
                    "severe_lung_disease",
                    models.BooleanField(
                        blank=True,
                        null=True,
                        verbose_name="Do you have severe lung disease (for example severe COPD or asthma)?",
                    ),
                ),
                ("severe_lung_disease_details", models.TextField(blank=True, max_length=2000, verbose_name="details")),
                (
                    "severe_liver_disease",
                    models.BooleanField(
                        blank=True, null=True, verbose_name="Do you have severe liver disease (for example cirrhosis)?"
                    ),
                ),
                ("severe_liver_disease_details", models.TextField(blank=True, max_length=2000, verbose_name="details")),
                (
                    "psychosis",
                    models.BooleanField(
                        blank=True,
                        null=True,
                        verbose_name="Have you ever had psychosis (seeing or hearing things others did not, or beliefs others found impossible)?",
                    ),
                ),
                (
                    "schizophrenia_spectrum",
                    models.BooleanField(
                        blank=True,
                        null=True,
                        verbose_name="Have you been diagnosed with schizophrenia, schizoaffective disorder or a similar condition?",
                    ),
                ),
                (
                    "family_psychosis",
                    models.BooleanField(
                        blank=True,
                        null=True,
                        verbose_name="Has a parent, brother, sister or child of yours had psychosis or schizophrenia?",
                    ),
                ),
                (
                    "mania_or_bipolar",
                    models.BooleanField(
                        blank=True,
                        null=True,
                        verbose_name="Have you had mania, or been diagnosed with bipolar disorder?",
                    ),
                ),
                (
                    "on_mood_stabiliser",
                    models.BooleanField(
                        blank=True,
                        null=True,
                        verbose_name="If yes: do you take a mood stabiliser (lithium, lamotrigine or valproate)?",
                    ),
                ),
                (
                    "suicide_attempt",
                    models.BooleanField(blank=True, null=True, verbose_name="Have you ever attempted suicide?"),
                ),
                (
                    "suicide_attempt_when",
                    models.CharField(
                        blank=True,
                        help_text="A year is enough.",
                        max_length=100,
                        verbose_name="If yes: when was the most recent attempt?",
                    ),
                ),
                (
                    "psychiatric_hospitalisation",
                    models.BooleanField(
                        blank=True, null=True, verbose_name="Have you ever stayed in hospital for your mental health?"
                    ),
                ),
                (
                    "suicidal_thoughts",
                    models.BooleanField(
                        blank=True,
                        help_text="If you are in danger now, call or text 988 or call 911.",
                        null=True,
                        verbose_name="Are you having thoughts of ending your life at the moment?",
                    ),
                ),
                (
                    "suicidal_intent_or_plan",
                    models.BooleanField(
                        blank=True, null=True, verbose_name="If yes: do you intend to act on them, or have a plan?"
                    ),
                ),
                (
                    "personality_disorder",
                    models.BooleanField(
                        blank=True, null=True, verbose_name="Have you been diagnosed with a personality disorder?"
                    ),
                ),
                (
                    "psychiatric_details",
                    models.TextField(
                        blank=True, max_length=2000, verbose_name="anything else about your mental health history"
                    ),
                ),
                (
                    "alcohol_drinks_per_week",
                    models.PositiveSmallIntegerField(
                        blank=True,
                        help_text="Enter 0 if you do not drink.",
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(0),
                            django.core.validators.MaxValueValidator(200),
                        ],
                        verbose_name="How many alcoholic drinks do you have in a typical week?",
                    ),
                ),
                (
                    "can_abstain_alcohol_24h",
                    models.BooleanField(
                        blank=True,
                        null=True,
                        verbose_name="Can you go without alcohol for 24 hours before and after a session?",
                    ),
                ),
                ("uses_cannabis", models.BooleanField(blank=True, null=True, verbose_name="Do you use cannabis?")),
                (
                    "uses_recreational_drugs",
                    models.BooleanField(blank=True, null=True, verbose_name="Do you use other recreational drugs?"),
                ),
                (
                    "recreational_drugs_details",
                    models.TextField(blank=True, max_length=2000, verbose_name="which drugs, and how often"),
                ),
                (
                    "substance_use_disorder",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("none", "No, never"),
                            ("current", "Yes, currently"),
                            ("in_remission", "Yes, in the past (now in remission)"),
                        ],
                        help_text="Tobacco does not count here.",
                        max_length=20,
                        verbose_name="Have you ever had a problem with alcohol or drugs (a substance use disorder)?",
                    ),
                ),
                (
                    "substance_use_remission_since",
                    models.DateField(
                        blank=True,
                        help_text="The first of the month is fine.",
                        null=True,
                        validators=[patients.validators.validate_not_in_future],
                        verbose_name="If in remission: since when?",
                    ),
                ),
                ("substance_use_details", models.TextField(blank=True, max_length=2000, verbose_name="details")),
                (
                    "pregnant",
                    models.BooleanField(blank=True, null=True, verbose_name="Are you pregnant, or could you be?"),
                ),
                ("breastfeeding", models.BooleanField(blank=True, null=True, verbose_name="Are you breastfeeding?")),
                (
                    "ivf",
                    models.BooleanField(
                        blank=True, null=True, verbose_name="Are you having fertility treatment (IVF)?"
                    ),
                ),
                (
                    "takes_medications",
                    models.BooleanField(
                        blank=True,
                        null=True,
                        verbose_name="Do you take any medicines, including ones you take only sometimes?",
                    ),
                ),
                (
                    "allergies",
                    models.TextField(
                        blank=True,
                        help_text="Write “none” if you have no allergies.",
                        max_length=2000,
                        verbose_name="Allergies to medicines, foods or anything else",
                    ),
                ),
                (
                    "height_cm",
                    models.PositiveSmallIntegerField(
                        blank=True,
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(100),
                            django.core.validators.MaxValueValidator(250),
                        ],
                        verbose_name="Height (cm)",
                    ),
                ),
                (
                    "weight_kg",
                    models.DecimalField(
                        blank=True,
                        decimal_places=1,
                        max_digits=4,
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(Decimal("25")),
                            django.core.validators.MaxValueValidator(Decimal("350")),
                        ],
                        verbose_name="Weight (kg)",
                    ),
                ),
                (
                    "bp_systolic",
                    models.PositiveSmallIntegerField(
                        blank=True,
                        help_text="Sit quietly for 5 minutes, then measure at your upper arm.",
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(60),
                            django.core.validators.MaxValueValidator(260),
                        ],
                        verbose_name="Blood pressure: upper number (systolic)",
                    ),
                ),
                (
                    "bp_diastolic",
                    models.PositiveSmallIntegerField(
                        blank=True,
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(30),
                            django.core.validators.MaxValueValidator(160),
                        ],
                        verbose_name="Blood pressure: lower number (diastolic)",
                    ),
                ),
                (
                    "pulse",
                    models.PositiveSmallIntegerField(
                        blank=True,
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(25),
                            django.core.validators.MaxValueValidator(220),
                        ],
                        verbose_name="Pulse (beats per minute)",
                    ),
                ),
                (
                    "has_support_person",
                    models.BooleanField(
                        blank=True,
                        null=True,
                        verbose_name="Do you have a reliable adult who can stay with you during and after home sessions (a chaperone)?",
                    ),
                ),
                (
                    "support_details",
                    models.TextField(blank=True, max_length=2000, verbose_name="who, or what makes it difficult"),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="intakes", to="patients.patient"
                    ),
                ),
                (
                    "submitted_by",
                    models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
                "indexes": [models.Index(fields=["patient", "-created_at"], name="intake_patient_created")],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("status", "draft")),
                        fields=("patient",),
                        name="intake_one_draft_per_patient",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("status", "draft"), ("submitted_at__isnull", False), _connector="OR"),
                        name="intake_submitted_has_time",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="IntakeMedication",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=200, verbose_name="medicine")),
                ("dose", models.CharField(blank=True, help_text="For example 20 mg.", max_length=100)),
                (
                    "frequency",
                    models.CharField(
                        blank=True,
                        help_text="For example once a day, or as needed.",
                        max_length=100,
                        verbose_name="how often",
                    ),
                ),
                (
                    "is_benzodiazepine",
                    models.BooleanField(
                        default=False,
                        help_text="For example alprazolam (Xanax), lorazepam, clonazepam, diazepam.",
                        verbose_name="benzodiazepine",
                    ),
                ),
                (
                    "is_lamotrigine",
                    models.BooleanField(default=False, help_text="Lamictal.", verbose_name="lamotrigine"),
                ),
                (
                    "is_maoi",
                    models.BooleanField(
                        default=False,
                        help_text="For example phenelzine (Nardil), tranylcypromine (Parnate), selegiline.",
                        verbose_name="MAOI",
                    ),
                ),
                (
                    "is_stimulant",
                    models.BooleanField(
                        default=False,
                        help_text="For example Adderall, methylphenidate (Ritalin), Vyvanse, modafinil.",
                        verbose_name="stimulant",
                    ),
                ),
                (
                    "is_opioid",
                    models.BooleanField(
                        default=False,
                        help_text="For example tramadol, oxycodone, codeine, buprenorphine, methadone.",
                        verbose_name="opioid",
                    ),
                ),
                (
                    "is_sedative_hypnotic",
                    models.BooleanField(
                        default=False,
                        help_text="For example zolpidem (Ambien), eszopiclone.",
                        verbose_name="sleeping pill (sedative-hypnotic)",
                    ),
                ),
                ("position", models.PositiveSmallIntegerField(default=0)),
                (
                    "intake",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="medications", to="assessments.intake"
                    ),
                ),
            ],
            options={
                "ordering": ["position", "id"],
            },
        ),
        migrations.CreateModel(
            name="ScreeningFlag",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("code", models.SlugField()),
                (
                    "severity",
                    models.CharField(choices=[("absolute", "Absolute"), ("relative", "Relative")], max_length=10),
                ),
                ("reason", models.CharField(max_length=300)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "intake",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="flags", to="assessments.intake"
                    ),
                ),
            ],
            options={
                "ordering": ["severity", "id"],
                "constraints": [models.UniqueConstraint(fields=("intake", "code"), name="screening_flag_one_per_rule")],
            },
        ),
        migrations.CreateModel(
            name="Evaluation",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                (
                    "bp_systolic",
                    models.PositiveSmallIntegerField(
                        blank=True,
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(60),
                            django.core.validators.MaxValueValidator(260),
                        ],
                        verbose_name="Blood pressure: systolic",
                    ),
                ),
                (
                    "bp_diastolic",
                    models.PositiveSmallIntegerField(
                        blank=True,
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(30),
                            django.core.validators.MaxValueValidator(160),
                        ],
                        verbose_name="Blood pressure: diastolic",
                    ),
                ),
                (
                    "pulse",
                    models.PositiveSmallIntegerField(
                        blank=True,
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(25),
                            django.core.validators.MaxValueValidator(220),
                        ],
                        verbose_name="Pulse (beats per minute)",
                    ),
                ),
                (
                    "weight_kg",
                    models.DecimalField(
                        blank=True,
                        decimal_places=1,
                        max_digits=4,
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(Decimal("25")),
                            django.core.validators.MaxValueValidator(Decimal("350")),
                        ],
                        verbose_name="Weight (kg)",
                    ),
                ),
                ("psychiatric_assessment", models.TextField(blank=True, max_length=10000)),
                ("medical_assessment", models.TextField(blank=True, max_length=10000)),
                ("diagnosis", models.TextField(blank=True, max_length=2000)),
                (
                    "icd10_code",
                    models.CharField(
                        blank=True,
                        max_length=8,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^[A-TV-Z][0-9][0-9AB](\\.[0-9A-TV-Z]{1,4})?$",
                                "Enter an ICD-10 code such as F33.1 (capital letter, digits, a dot).",
                            )
                        ],
                        verbose_name="ICD-10 code",
                    ),
                ),
                (
                    "decision",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("eligible", "Eligible"),
                            ("ineligible", "Ineligible"),
                            ("deferred", "Deferred (decide later)"),
                        ],
                        max_length=12,
                    ),
                ),
                ("rationale", models.TextField(blank=True, max_length=5000, verbose_name="rationale for the decision")),
                (
                    "status",
                    models.CharField(
                        choices=[("draft", "Draft"), ("signed", "Signed")], default="draft", max_length=10
                    ),
                ),
                ("signed_at", models.DateTimeField(blank=True, null=True)),
                (
                    "content_hash",
                    models.CharField(blank=True, max_length=64, verbose_name="SHA-256 of the signed content"),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "intake",
                    models.ForeignKey(
                        blank=True,
                        help_text="What it rests on.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="evaluations",
                        to="assessments.intake",
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="evaluations", to="patients.patient"
                    ),
                ),
                (
                    "prescriber",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="evaluations",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "signed_by",
                    models.ForeignKey(
                        blank=True,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
                "indexes": [models.Index(fields=["patient", "status", "-signed_at"], name="evaluation_patient_signed")],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("status", "draft")),
                        fields=("patient",),
                        name="evaluation_one_draft_per_patient",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("status", "draft"),
                            models.Q(
                                ("signed_at__isnull", False),
                                models.Q(("content_hash", ""), _negated=True),
                                ("signed_by__isnull", False),
                            ),
                            _connector="OR",
                        ),
                        name="assessments_evaluation_signed_complete",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="EvaluationAddendum",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("text", models.TextField(max_length=5000)),
                ("signed_at", models.DateTimeField()),
                ("content_hash", models.CharField(max_length=64, verbose_name="SHA-256 of the signed content")),
                (
                    "author",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "evaluation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="addenda", to="assessments.evaluation"
                    ),
                ),
            ],
            options={
                "ordering": ["signed_at", "id"],
            },
        ),
        migrations.CreateModel(
            name="EvaluationFlagReview",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "outcome",
                    models.CharField(choices=[("confirmed", "Confirmed"), ("dismissed", "Dismissed")], max_length=10),
                ),
                ("reason", models.TextField(blank=True, max_length=2000)),
                (
                    "evaluation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="flag_reviews",
                        to="assessments.evaluation",
                    ),
                ),
                (
                    "flag",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="reviews",
                        to="assessments.screeningflag",
                    ),
                ),
            ],
            options={
                "ordering": ["flag__severity", "flag_id"],
                "constraints": [
                    models.UniqueConstraint(fields=("evaluation", "flag"), name="evaluation_flag_review_once"),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("outcome", "confirmed"), models.Q(("reason", ""), _negated=True), _connector="OR"
                        ),
                        name="evaluation_flag_dismissal_has_reason",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="QuestionnaireResponse",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                (
                    "instrument",
                    models.CharField(help_text="An instrument code of assessments/instruments.json.", max_length=30),
                ),
                (
                    "answers",
                    models.JSONField(
                        help_text="One value per item, in the instrument's item order; null for an item its skip logic skipped."
                    ),
                ),
                (
                    "total_score",
                    models.PositiveSmallIntegerField(
                        help_text="The sum of the items, or for a risk-level instrument (C-SSRS) the level's rank."
                    ),
                ),
                (
                    "severity",
                    models.CharField(blank=True, help_text="The label of the band the total falls in.", max_length=40),
                ),
                ("on_behalf", models.BooleanField(default=False, help_text="A clinician entered it for the patient.")),
                ("submitted_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "entered_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="questionnaire_responses",
                        to="patients.patient",
                    ),
                ),
                (
                    "difficulty",
                    models.PositiveSmallIntegerField(
                        blank=True,
                        help_text="The unscored difficulty question (0 = not difficult at all), if asked.",
                        null=True,
                    ),
                ),
            ],
            options={
                "ordering": ["-submitted_at", "-id"],
                "indexes": [
                    models.Index(fields=["patient", "instrument", "-submitted_at"], name="questionnaire_patient_time")
                ],
            },
        ),
        migrations.RunPython(seed_screening_rules, migrations.RunPython.noop),
        migrations.RunPython(lock_flag_reviews_and_addenda, unlock_flag_reviews_and_addenda),
        kapcare.signing.operations.SignedRecordTriggers(model_name="evaluation"),
    ]
