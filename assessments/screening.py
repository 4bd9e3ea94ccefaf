"""Contraindication screening: pure functions from an intake's answers and the rule settings to flags.

No database access here. `screen()` takes an intake (saved or not), its medications, the settings
of each rule (ScreeningRule rows, or DEFAULTS) and today's date, and returns findings, each
absolute or relative with its reason in words ("resting BP 182/104 above 180/100").

"Above" and "below" are strict: a limit itself is not flagged (180/100 passes the 180/100 rule).

Defaults follow kap-domain.md §3.2-3.3 and §6.2. Sources disagree on absolute vs relative; the
defaults mark as absolute what a drug label contraindicates or says not to use, what the brief
says to stabilise first (acute suicidality, mania off a mood stabiliser, active substance use
disorder), pregnancy, breastfeeding and IVF, and psychosis (excluded by most KAP services); the
rest is relative: the prescriber weighs it. Pulse and BMI limits are not in the brief (it notes
the ranges used in practice are unpublished): pulse above 100 or below 50 are the usual
tachycardia/marked-bradycardia cut-offs, and BMI above 35 is STOP-BANG's sleep-apnoea item.
An administrator changes any of this in the ScreeningRule table.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

ABSOLUTE = "absolute"
RELATIVE = "relative"


@dataclass(frozen=True)
class Setting:
    """How a rule runs: its severity, whether it runs, and its limits (ScreeningRule in the database)."""

    severity: str
    enabled: bool = True
    limit: Decimal | None = None
    second_limit: Decimal | None = None


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    reason: str


@dataclass(frozen=True)
class Rule:
    code: str
    description: str
    default: Setting
    check: Callable  # (intake, medications, setting, today) -> reason or None


def _n(value):
    """A limit for display: 180, not 180.0."""
    return f"{Decimal(value).normalize():f}"


def _yes(field, phrase):
    def check(intake, medications, setting, today):
        if getattr(intake, field) is True:
            details = (getattr(intake, f"{field}_details", "") or "").strip()
            return f"{phrase}: {details[:120]}" if details else phrase
        return None

    return check


def _bp_above(intake, medications, setting, today):
    systolic, diastolic = intake.bp_systolic, intake.bp_diastolic
    if systolic is None or diastolic is None:
        return None
    if systolic > setting.limit or diastolic > setting.second_limit:
        return f"resting BP {systolic}/{diastolic} above {_n(setting.limit)}/{_n(setting.second_limit)}"
    return None


def _pulse_above(intake, medications, setting, today):
    if intake.pulse is not None and intake.pulse > setting.limit:
        return f"resting pulse {intake.pulse} above {_n(setting.limit)}"
    return None


def _pulse_below(intake, medications, setting, today):
    if intake.pulse is not None and intake.pulse < setting.limit:
        return f"resting pulse {intake.pulse} below {_n(setting.limit)}"
    return None


def _bmi_above(intake, medications, setting, today):
    bmi = intake.bmi
    if bmi is not None and bmi > setting.limit:
        return f"BMI {bmi} above {_n(setting.limit)} (sleep-apnoea risk: consider STOP-BANG)"
    return None


def age_on(born, today):
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _age_below(intake, medications, setting, today):
    born = intake.patient.date_of_birth
    age = age_on(born, today)
    if age < setting.limit:
        return f"age {age}, under {_n(setting.limit)}"
    return None


def months_between(start, today):
    return (today.year - start.year) * 12 + today.month - start.month - (today.day < start.day)


def _sud_current(intake, medications, setting, today):
    if intake.substance_use_disorder == "current":
        return "active substance use disorder"
    return None


def _sud_recent_remission(intake, medications, setting, today):
    since = intake.substance_use_remission_since
    if intake.substance_use_disorder != "in_remission" or since is None:
        return None
    months = months_between(since, today)
    if months < setting.limit:
        return f"substance use disorder in remission for {months} months, less than {_n(setting.limit)}"
    return None


def _bipolar(on_stabiliser):
    def check(intake, medications, setting, today):
        if intake.mania_or_bipolar is not True:
            return None
        if on_stabiliser and intake.on_mood_stabiliser is True:
            return "mania or bipolar disorder, on a mood stabiliser"
        if not on_stabiliser and intake.on_mood_stabiliser is not True:
            return "mania or bipolar disorder without a mood stabiliser"
        return None

    return check


def _suicidal(with_plan):
    def check(intake, medications, setting, today):
        if intake.suicidal_thoughts is not True:
            return None
        if with_plan and intake.suicidal_intent_or_plan is True:
            return "current suicidal thoughts with intent or a plan: stabilise at a higher level of care first"
        if not with_plan and intake.suicidal_intent_or_plan is not True:
            return "current suicidal thoughts (no intent or plan reported)"
        return None

    return check


def _suicide_attempt(intake, medications, setting, today):
    if intake.suicide_attempt is True:
        when = (intake.suicide_attempt_when or "").strip()
        return f"past suicide attempt (most recent: {when[:60]})" if when else "past suicide attempt"
    return None


def _cannot_abstain(intake, medications, setting, today):
    if intake.can_abstain_alcohol_24h is False:
        return f"cannot abstain from alcohol for 24 h ({intake.alcohol_drinks_per_week or 0} drinks a week)"
    return None


def _no_support(intake, medications, setting, today):
    if intake.has_support_person is False:
        return "no reliable support person or chaperone for home dosing"
    return None


def _recreational(intake, medications, setting, today):
    if intake.uses_recreational_drugs is True:
        details = (intake.recreational_drugs_details or "").strip()
        return f"recreational drug use: {details[:120]}" if details else "recreational drug use"
    return None


def _medication(flag, phrase):
    def check(intake, medications, setting, today):
        named = [f"{m.name} {m.dose}".strip() for m in medications if getattr(m, flag)]
        if named:
            return f"{phrase}: {', '.join(named)}"[:300]
        return None

    return check


RULES = (
    # Vitals and body.
    Rule(
        "bp_above_absolute",
        "Resting BP: systolic above the limit or diastolic above the second limit.",
        Setting(ABSOLUTE, limit=Decimal(180), second_limit=Decimal(100)),
        _bp_above,
    ),
    Rule(
        "bp_above_relative",
        "Resting BP: systolic above the limit or diastolic above the second limit (weigh benefit against risk).",
        Setting(RELATIVE, limit=Decimal(140), second_limit=Decimal(90)),
        _bp_above,
    ),
    Rule("pulse_above", "Resting pulse above the limit.", Setting(RELATIVE, limit=Decimal(100)), _pulse_above),
    Rule("pulse_below", "Resting pulse below the limit.", Setting(RELATIVE, limit=Decimal(50)), _pulse_below),
    Rule("bmi_above", "Body-mass index above the limit.", Setting(RELATIVE, limit=Decimal(35)), _bmi_above),
    Rule("age_below", "Age in years below the limit.", Setting(ABSOLUTE, limit=Decimal(18)), _age_below),
    # Medical history.
    Rule(
        "ketamine_hypersensitivity",
        "Hypersensitivity to ketamine or esketamine.",
        Setting(ABSOLUTE),
        _yes("ketamine_hypersensitivity", "hypersensitivity to ketamine or esketamine"),
    ),
    Rule(
        "uncontrolled_hypertension",
        "Uncontrolled or severe hypertension.",
        Setting(ABSOLUTE),
        _yes("uncontrolled_hypertension", "uncontrolled hypertension"),
    ),
    Rule(
        "vascular_disease",
        "Aneurysmal vascular disease, arteriovenous malformation or intracerebral haemorrhage.",
        Setting(ABSOLUTE),
        _yes("vascular_disease", "aneurysmal vascular disease, AVM or intracerebral haemorrhage"),
    ),
    Rule(
        "severe_heart_disease",
        "Severe coronary or myocardial disease.",
        Setting(ABSOLUTE),
        _yes("severe_heart_disease", "severe coronary or myocardial disease"),
    ),
    Rule("stroke", "History of stroke.", Setting(ABSOLUTE), _yes("stroke", "history of stroke")),
    Rule("cerebral_trauma", "Cerebral trauma.", Setting(ABSOLUTE), _yes("cerebral_trauma", "cerebral trauma")),
    Rule(
        "eclampsia", "Eclampsia or pre-eclampsia.", Setting(ABSOLUTE), _yes("eclampsia", "eclampsia or pre-eclampsia")
    ),
    Rule(
        "recent_cardiac_event",
        "Recent MI, unstable angina, decompensated heart failure or uncontrolled arrhythmia.",
        Setting(ABSOLUTE),
        _yes(
            "recent_cardiac_event",
            "recent MI, unstable angina, decompensated heart failure or uncontrolled arrhythmia",
        ),
    ),
    Rule(
        "raised_intracranial_pressure",
        "Raised intracranial pressure.",
        Setting(ABSOLUTE),
        _yes("raised_intracranial_pressure", "raised intracranial pressure"),
    ),
    Rule("glaucoma", "Glaucoma or raised intraocular pressure.", Setting(RELATIVE), _yes("glaucoma", "glaucoma")),
    Rule(
        "recent_seizures",
        "Epilepsy or seizures in the last 12 months.",
        Setting(RELATIVE),
        _yes("recent_seizures", "recent epilepsy or seizures"),
    ),
    Rule(
        "untreated_hyperthyroidism",
        "Untreated hyperthyroidism.",
        Setting(ABSOLUTE),
        _yes("untreated_hyperthyroidism", "untreated hyperthyroidism"),
    ),
    Rule(
        "severe_lung_disease",
        "Severe lung disease.",
        Setting(RELATIVE),
        _yes("severe_lung_disease", "severe lung disease"),
    ),
    Rule(
        "severe_liver_disease",
        "Severe liver disease.",
        Setting(RELATIVE),
        _yes("severe_liver_disease", "severe liver disease"),
    ),
    # Psychiatric history.
    Rule("psychosis", "Current or past psychosis.", Setting(ABSOLUTE), _yes("psychosis", "current or past psychosis")),
    Rule(
        "schizophrenia_spectrum",
        "Schizophrenia-spectrum disorder.",
        Setting(ABSOLUTE),
        _yes("schizophrenia_spectrum", "schizophrenia-spectrum disorder"),
    ),
    Rule(
        "family_psychosis",
        "Psychosis in a first-degree relative.",
        Setting(RELATIVE),
        _yes("family_psychosis", "first-degree family history of psychosis"),
    ),
    Rule(
        "bipolar_without_stabiliser",
        "Mania or bipolar disorder without a mood stabiliser.",
        Setting(ABSOLUTE),
        _bipolar(on_stabiliser=False),
    ),
    Rule(
        "bipolar_on_stabiliser",
        "Mania or bipolar disorder, on a mood stabiliser.",
        Setting(RELATIVE),
        _bipolar(on_stabiliser=True),
    ),
    Rule(
        "suicidal_intent",
        "Current suicidal thoughts with intent or a plan.",
        Setting(ABSOLUTE),
        _suicidal(with_plan=True),
    ),
    Rule(
        "suicidal_thoughts",
        "Current suicidal thoughts without intent or a plan.",
        Setting(RELATIVE),
        _suicidal(with_plan=False),
    ),
    Rule("suicide_attempt", "Past suicide attempt.", Setting(RELATIVE), _suicide_attempt),
    Rule(
        "personality_disorder",
        "Personality disorder (severe if it would block cooperation).",
        Setting(RELATIVE),
        _yes("personality_disorder", "personality disorder"),
    ),
    # Substance use.
    Rule("substance_use_current", "Active substance use disorder.", Setting(ABSOLUTE), _sud_current),
    Rule(
        "substance_use_recent_remission",
        "Substance use disorder in remission for fewer months than the limit.",
        Setting(RELATIVE, limit=Decimal(12)),
        _sud_recent_remission,
    ),
    Rule("alcohol_cannot_abstain", "Cannot abstain from alcohol for 24 h.", Setting(RELATIVE), _cannot_abstain),
    Rule("cannabis", "Uses cannabis.", Setting(RELATIVE), _yes("uses_cannabis", "cannabis use")),
    Rule(
        "recreational_drugs",
        "Uses other recreational drugs.",
        Setting(RELATIVE),
        _recreational,
    ),
    # Pregnancy.
    Rule("pregnancy", "Pregnant or could be.", Setting(ABSOLUTE), _yes("pregnant", "pregnant or could be pregnant")),
    Rule("breastfeeding", "Breastfeeding.", Setting(ABSOLUTE), _yes("breastfeeding", "breastfeeding")),
    Rule("ivf", "Fertility treatment (IVF).", Setting(ABSOLUTE), _yes("ivf", "fertility treatment (IVF)")),
    # Support.
    Rule("no_support_person", "No reliable support person or chaperone.", Setting(RELATIVE), _no_support),
    # Medications (kap-domain.md §3.3).
    Rule(
        "medication_benzodiazepine",
        "Takes a benzodiazepine.",
        Setting(RELATIVE),
        _medication("is_benzodiazepine", "benzodiazepine (may weaken or shorten the effect)"),
    ),
    Rule(
        "medication_lamotrigine",
        "Takes lamotrigine.",
        Setting(RELATIVE),
        _medication("is_lamotrigine", "lamotrigine (may attenuate the effect)"),
    ),
    Rule(
        "medication_maoi",
        "Takes an MAOI.",
        Setting(RELATIVE),
        _medication("is_maoi", "MAOI (monitor BP closely)"),
    ),
    Rule(
        "medication_stimulant",
        "Takes a psychostimulant.",
        Setting(RELATIVE),
        _medication("is_stimulant", "stimulant (monitor BP closely)"),
    ),
    Rule(
        "medication_opioid",
        "Takes an opioid.",
        Setting(RELATIVE),
        _medication("is_opioid", "opioid (sedation risk)"),
    ),
    Rule(
        "medication_sedative_hypnotic",
        "Takes a non-benzodiazepine sedative-hypnotic.",
        Setting(RELATIVE),
        _medication("is_sedative_hypnotic", "sedative-hypnotic (sedation risk)"),
    ),
)
RULES_BY_CODE = {rule.code: rule for rule in RULES}

# When the first rule fires, the second would only repeat it.
SUPERSEDES = {"bp_above_absolute": "bp_above_relative"}


def screen(intake, medications: Iterable, settings: dict[str, Setting], *, today: date) -> list[Finding]:
    """Every finding for this intake, absolute first. A rule missing from `settings` runs with its default."""
    medications = list(medications)
    findings = {}
    for rule in RULES:
        setting = settings.get(rule.code, rule.default)
        if not setting.enabled:
            continue
        reason = rule.check(intake, medications, setting, today)
        if reason:
            findings[rule.code] = Finding(rule.code, setting.severity, reason)
    for winner, loser in SUPERSEDES.items():
        if winner in findings:
            findings.pop(loser, None)
    return sorted(findings.values(), key=lambda finding: finding.severity != ABSOLUTE)


# Medicines a patient may not know the class of: the service ticks these flags from the name.
KNOWN_MEDICATIONS = {
    "is_benzodiazepine": (
        "alprazolam xanax lorazepam ativan clonazepam klonopin diazepam valium temazepam restoril "
        "chlordiazepoxide librium oxazepam clobazam onfi midazolam triazolam halcion"
    ),
    "is_lamotrigine": "lamotrigine lamictal",
    "is_maoi": "phenelzine nardil tranylcypromine parnate isocarboxazid marplan selegiline emsam moclobemide",
    "is_stimulant": (
        "adderall amphetamine dextroamphetamine dexedrine lisdexamfetamine vyvanse methylphenidate ritalin "
        "concerta focalin dexmethylphenidate modafinil provigil armodafinil nuvigil"
    ),
    "is_opioid": (
        "tramadol ultram oxycodone oxycontin percocet hydrocodone vicodin norco codeine morphine "
        "hydromorphone dilaudid fentanyl buprenorphine suboxone subutex methadone tapentadol"
    ),
    "is_sedative_hypnotic": "zolpidem ambien eszopiclone lunesta zaleplon sonata zopiclone",
}
_WORD_CLASSES = {word: flag for flag, words in KNOWN_MEDICATIONS.items() for word in words.split()}


def classes_from_name(name: str) -> set[str]:
    """The class flags a medicine's name implies ("Xanax 0.5" -> {"is_benzodiazepine"})."""
    words = "".join(ch if ch.isalnum() else " " for ch in name.lower()).split()
    return {_WORD_CLASSES[word] for word in words if word in _WORD_CLASSES}


# Questions a submission must answer, beyond those asked only after a "yes".
REQUIRED_YES_NO = (
    "takes_medications",
    "psychosis",
    "schizophrenia_spectrum",
    "family_psychosis",
    "mania_or_bipolar",
    "suicide_attempt",
    "psychiatric_hospitalisation",
    "suicidal_thoughts",
    "personality_disorder",
    "uses_cannabis",
    "uses_recreational_drugs",
    "pregnant",
    "breastfeeding",
    "ivf",
    "has_support_person",
)
REQUIRED_VALUES = ("alcohol_drinks_per_week", "height_cm", "weight_kg", "bp_systolic", "bp_diastolic", "pulse")


def missing_answers(intake, medical_conditions, medications=()) -> dict[str, str]:
    """What a submission still lacks: field -> message in words. Empty when complete."""
    missing = {}
    medications = list(medications)
    if intake.takes_medications is True and not medications:
        missing["medications"] = "Please list your medicines, or answer “No” to taking any."
    incomplete = [m.name for m in medications if not (m.dose or "").strip() or not (m.frequency or "").strip()]
    if incomplete:
        missing["medications"] = f"Please give the dose and how often for: {', '.join(incomplete)}."
    answer = "Please answer yes or no."
    for field in (*medical_conditions, *REQUIRED_YES_NO):
        if getattr(intake, field) is None:
            missing[field] = answer
    for field in REQUIRED_VALUES:
        if getattr(intake, field) is None:
            missing[field] = "Please fill this in."
    if not (intake.allergies or "").strip():
        missing["allergies"] = "Please list your allergies, or write “none”."
    if not intake.substance_use_disorder:
        missing["substance_use_disorder"] = "Please choose an answer."
    elif intake.substance_use_disorder == "in_remission" and intake.substance_use_remission_since is None:
        missing["substance_use_remission_since"] = "Please say since when (the first of the month is fine)."
    if intake.mania_or_bipolar is True and intake.on_mood_stabiliser is None:
        missing["on_mood_stabiliser"] = answer
    if intake.suicide_attempt is True and not intake.suicide_attempt_when.strip():
        missing["suicide_attempt_when"] = "Please say roughly when (a year is enough)."
    if intake.suicidal_thoughts is True and intake.suicidal_intent_or_plan is None:
        missing["suicidal_intent_or_plan"] = answer
    if intake.alcohol_drinks_per_week and intake.can_abstain_alcohol_24h is None:
        missing["can_abstain_alcohol_24h"] = answer
    return missing
