"""The intake's layout: its sections and questions, shared by the form, the answers page and the API docs."""

from dataclasses import dataclass

from .models import MEDICAL_CONDITIONS, Intake

# Short names of the medical conditions, for the "details" labels and the answers page.
CONDITION_NAMES = {
    "ketamine_hypersensitivity": "reaction to ketamine",
    "uncontrolled_hypertension": "high blood pressure",
    "vascular_disease": "aneurysm, AVM or brain bleed",
    "severe_heart_disease": "heart disease",
    "stroke": "stroke",
    "cerebral_trauma": "head or brain injury",
    "eclampsia": "eclampsia or pre-eclampsia",
    "recent_cardiac_event": "recent heart problem",
    "raised_intracranial_pressure": "raised pressure in the skull",
    "glaucoma": "glaucoma",
    "recent_seizures": "seizures or epilepsy",
    "untreated_hyperthyroidism": "overactive thyroid",
    "severe_lung_disease": "lung disease",
    "severe_liver_disease": "liver disease",
}


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    intro: str
    fields: tuple


SECTIONS = (
    Section(
        "medical",
        "Medical history",
        "Ketamine raises blood pressure and heart rate for a while, so the prescriber needs to know about these.",
        tuple(name for condition in MEDICAL_CONDITIONS for name in (condition, f"{condition}_details")),
    ),
    Section(
        "mental",
        "Mental health",
        "Honest answers help your care team keep you safe; they are seen only by your clinicians.",
        (
            "psychosis",
            "schizophrenia_spectrum",
            "family_psychosis",
            "mania_or_bipolar",
            "on_mood_stabiliser",
            "suicide_attempt",
            "suicide_attempt_when",
            "psychiatric_hospitalisation",
            "suicidal_thoughts",
            "suicidal_intent_or_plan",
            "personality_disorder",
            "psychiatric_details",
        ),
    ),
    Section(
        "medicines",
        "Medicines",
        "Include prescriptions, medicines you buy yourself and ones you take only sometimes.",
        ("takes_medications",),
    ),
    Section(
        "substances",
        "Alcohol and drugs",
        "",
        (
            "alcohol_drinks_per_week",
            "can_abstain_alcohol_24h",
            "uses_cannabis",
            "uses_recreational_drugs",
            "recreational_drugs_details",
            "substance_use_disorder",
            "substance_use_remission_since",
            "substance_use_details",
        ),
    ),
    Section("pregnancy", "Pregnancy", "", ("pregnant", "breastfeeding", "ivf")),
    Section("body", "Allergies, height and weight", "", ("allergies", "height_cm", "weight_kg")),
    Section(
        "vitals",
        "Blood pressure and pulse",
        "Measure at home with a blood-pressure cuff while sitting, after resting for 5 minutes.",
        ("bp_systolic", "bp_diastolic", "pulse"),
    ),
    Section("support", "Support at home", "", ("has_support_person", "support_details")),
)


# Questions that only follow a "yes" (or a drinker's answer): left out of the answers when empty.
ASKED_AFTER_YES = {
    "on_mood_stabiliser",
    "suicide_attempt_when",
    "suicidal_intent_or_plan",
    "can_abstain_alcohol_24h",
    "substance_use_remission_since",
}


def label_of(name):
    if name.endswith("_details") and name.removesuffix("_details") in CONDITION_NAMES:
        return f"Details about {CONDITION_NAMES[name.removesuffix('_details')]} (optional)"
    label = str(Intake._meta.get_field(name).verbose_name)
    return label[:1].upper() + label[1:]


def _display(intake, name):
    field = Intake._meta.get_field(name)
    value = getattr(intake, name)
    if value is None or value == "":
        return None
    if field.choices:
        return getattr(intake, f"get_{name}_display")()
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    return value


def answer_sections(intake):
    """[(title, [(question, answer), ...]), ...] with unanswered optional details left out."""
    sections = []
    for section in SECTIONS:
        rows = []
        for name in section.fields:
            value = _display(intake, name)
            if value is None and (name in ASKED_AFTER_YES or name.endswith("_details")):
                continue
            rows.append((label_of(name), "Not answered" if value is None else value))
        sections.append((section.title, rows))
    return sections
