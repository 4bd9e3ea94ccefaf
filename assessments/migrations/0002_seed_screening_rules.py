"""Seed the screening rules with the domain brief's defaults (kap-domain.md §3.2-3.3, §6.2).

Values are copied here, not imported, so this migration means the same thing forever. An
administrator changes them afterwards in the admin.
"""

from decimal import Decimal

from django.db import migrations

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


def seed(apps, schema_editor):
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


def unseed(apps, schema_editor):
    ScreeningRule = apps.get_model("assessments", "ScreeningRule")
    ScreeningRule.objects.filter(code__in=[rule[0] for rule in DEFAULT_RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0001_add_intake_and_screening"),
    ]

    operations = [
        migrations.RunPython(seed, unseed),
    ]
