"""Contraindication screening: every rule at its threshold edge, as pure functions over unsaved intakes."""

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from assessments import screening
from assessments.models import MEDICAL_CONDITIONS, Intake, IntakeMedication, ScreeningRule
from assessments.screening import ABSOLUTE, RELATIVE, Setting
from patients.models import Patient
from tests.factories import INTAKE_ANSWERS

TODAY = date(2025, 6, 15)


def intake(born=date(1985, 5, 17), **answers):
    return Intake(patient=Patient(date_of_birth=born), **{**INTAKE_ANSWERS, **answers})


def medicine(name="Something", dose="1 mg", **flags):
    return SimpleNamespace(
        name=name,
        dose=dose,
        frequency="daily",
        **{flag: flags.get(flag, False) for flag in IntakeMedication.CLASS_FLAGS},
    )


def findings(the_intake, medications=(), settings=None, today=TODAY):
    return {f.code: f for f in screening.screen(the_intake, medications, settings or {}, today=today)}


def test_a_safe_intake_raises_no_flag():
    assert findings(intake()) == {}


# Blood pressure: "above" is strict on both numbers.
@pytest.mark.parametrize(
    ("systolic", "diastolic", "expected"),
    [
        (140, 90, {}),
        (141, 90, {"bp_above_relative": (RELATIVE, "resting BP 141/90 above 140/90")}),
        (140, 91, {"bp_above_relative": (RELATIVE, "resting BP 140/91 above 140/90")}),
        (180, 100, {"bp_above_relative": (RELATIVE, "resting BP 180/100 above 140/90")}),
        (181, 100, {"bp_above_absolute": (ABSOLUTE, "resting BP 181/100 above 180/100")}),
        (180, 101, {"bp_above_absolute": (ABSOLUTE, "resting BP 180/101 above 180/100")}),
        (182, 104, {"bp_above_absolute": (ABSOLUTE, "resting BP 182/104 above 180/100")}),
    ],
)
def test_blood_pressure_edges(systolic, diastolic, expected):
    found = findings(intake(bp_systolic=systolic, bp_diastolic=diastolic))
    assert {code: (f.severity, f.reason) for code, f in found.items()} == expected


@pytest.mark.parametrize(
    ("pulse", "code", "reason"),
    [
        (100, None, None),
        (101, "pulse_above", "resting pulse 101 above 100"),
        (50, None, None),
        (49, "pulse_below", "resting pulse 49 below 50"),
    ],
)
def test_pulse_edges(pulse, code, reason):
    found = findings(intake(pulse=pulse))
    if code is None:
        assert found == {}
    else:
        assert found[code].reason == reason
        assert found[code].severity == RELATIVE


@pytest.mark.parametrize(("weight", "flagged"), [("140.0", False), ("140.4", True)])
def test_bmi_edge(weight, flagged):
    # 2 m tall: BMI = weight / 4. 140.0 kg is BMI 35.0 exactly; 140.4 kg is 35.1.
    found = findings(intake(height_cm=200, weight_kg=Decimal(weight)))
    assert ("bmi_above" in found) is flagged
    if flagged:
        assert found["bmi_above"].reason.startswith("BMI 35.1 above 35")


def test_age_edge():
    eighteenth_birthday = TODAY.replace(year=TODAY.year - 18)
    assert findings(intake(born=eighteenth_birthday)) == {}
    found = findings(intake(born=eighteenth_birthday + timedelta(days=1)))
    assert found["age_below"].severity == ABSOLUTE
    assert found["age_below"].reason == "age 17, under 18"


def test_substance_use_disorder():
    assert findings(intake(substance_use_disorder="current"))["substance_use_current"].severity == ABSOLUTE
    a_year_ago = TODAY.replace(year=TODAY.year - 1)
    assert findings(intake(substance_use_disorder="in_remission", substance_use_remission_since=a_year_ago)) == {}
    found = findings(
        intake(substance_use_disorder="in_remission", substance_use_remission_since=a_year_ago + timedelta(days=1))
    )
    assert found["substance_use_recent_remission"].severity == RELATIVE
    assert found["substance_use_recent_remission"].reason == (
        "substance use disorder in remission for 11 months, less than 12"
    )


CONDITION_SEVERITY = {
    "ketamine_hypersensitivity": ABSOLUTE,
    "uncontrolled_hypertension": ABSOLUTE,
    "vascular_disease": ABSOLUTE,
    "severe_heart_disease": ABSOLUTE,
    "stroke": ABSOLUTE,
    "cerebral_trauma": ABSOLUTE,
    "eclampsia": ABSOLUTE,
    "recent_cardiac_event": ABSOLUTE,
    "raised_intracranial_pressure": ABSOLUTE,
    "glaucoma": RELATIVE,
    "recent_seizures": RELATIVE,
    "untreated_hyperthyroidism": ABSOLUTE,
    "severe_lung_disease": RELATIVE,
    "severe_liver_disease": RELATIVE,
}


def test_every_medical_condition_has_a_rule():
    assert set(CONDITION_SEVERITY) == set(MEDICAL_CONDITIONS)


@pytest.mark.parametrize(("condition", "severity"), sorted(CONDITION_SEVERITY.items()))
def test_each_medical_condition(condition, severity):
    assert findings(intake(**{condition: False})) == {}
    found = findings(intake(**{condition: True, f"{condition}_details": "since 2019"}))
    assert list(found) == [condition]
    assert found[condition].severity == severity
    assert found[condition].reason.endswith(": since 2019")


@pytest.mark.parametrize(
    ("answers", "code", "severity"),
    [
        ({"psychosis": True}, "psychosis", ABSOLUTE),
        ({"schizophrenia_spectrum": True}, "schizophrenia_spectrum", ABSOLUTE),
        ({"family_psychosis": True}, "family_psychosis", RELATIVE),
        ({"mania_or_bipolar": True, "on_mood_stabiliser": False}, "bipolar_without_stabiliser", ABSOLUTE),
        ({"mania_or_bipolar": True, "on_mood_stabiliser": True}, "bipolar_on_stabiliser", RELATIVE),
        ({"suicidal_thoughts": True, "suicidal_intent_or_plan": True}, "suicidal_intent", ABSOLUTE),
        ({"suicidal_thoughts": True, "suicidal_intent_or_plan": False}, "suicidal_thoughts", RELATIVE),
        ({"suicide_attempt": True, "suicide_attempt_when": "2019"}, "suicide_attempt", RELATIVE),
        ({"personality_disorder": True}, "personality_disorder", RELATIVE),
        ({"can_abstain_alcohol_24h": False}, "alcohol_cannot_abstain", RELATIVE),
        ({"uses_cannabis": True}, "cannabis", RELATIVE),
        ({"uses_recreational_drugs": True, "recreational_drugs_details": "MDMA"}, "recreational_drugs", RELATIVE),
        ({"pregnant": True}, "pregnancy", ABSOLUTE),
        ({"breastfeeding": True}, "breastfeeding", ABSOLUTE),
        ({"ivf": True}, "ivf", ABSOLUTE),
        ({"has_support_person": False}, "no_support_person", RELATIVE),
    ],
)
def test_psychiatric_substance_pregnancy_and_support_rules(answers, code, severity):
    found = findings(intake(**answers))
    assert list(found) == [code]
    assert found[code].severity == severity


def test_suicide_attempt_reason_says_when():
    found = findings(intake(suicide_attempt=True, suicide_attempt_when="2019"))
    assert found["suicide_attempt"].reason == "past suicide attempt (most recent: 2019)"


@pytest.mark.parametrize("flag", IntakeMedication.CLASS_FLAGS)
def test_each_medication_class(flag):
    code = "medication_" + flag.removeprefix("is_")
    assert findings(intake(), [medicine()]) == {}
    found = findings(intake(), [medicine("Drug A", "2 mg", **{flag: True}), medicine("Drug B", "5 mg", **{flag: True})])
    assert list(found) == [code]
    assert found[code].severity == RELATIVE
    assert "Drug A 2 mg, Drug B 5 mg" in found[code].reason


def test_absolute_findings_come_first():
    found = screening.screen(intake(glaucoma=True, pregnant=True), [], {}, today=TODAY)
    assert [f.severity for f in found] == [ABSOLUTE, RELATIVE]


def test_settings_change_severity_limits_and_can_turn_a_rule_off():
    settings = {
        "bp_above_absolute": Setting(ABSOLUTE, limit=Decimal(160), second_limit=Decimal(95)),
        "glaucoma": Setting(ABSOLUTE),
        "pregnancy": Setting(ABSOLUTE, enabled=False),
    }
    found = findings(intake(bp_systolic=161, bp_diastolic=95, glaucoma=True, pregnant=True), settings=settings)
    assert found["bp_above_absolute"].reason == "resting BP 161/95 above 160/95"
    assert found["glaucoma"].severity == ABSOLUTE
    assert "pregnancy" not in found
    assert findings(intake(bp_systolic=160, bp_diastolic=95), settings=settings)["bp_above_relative"]


def test_unanswered_questions_raise_no_flag():
    blank = Intake(patient=Patient(date_of_birth=date(1985, 5, 17)))
    assert findings(blank) == {}


@pytest.mark.parametrize(
    ("name", "flags"),
    [
        ("Xanax 0.5", {"is_benzodiazepine"}),
        ("lamotrigine (Lamictal)", {"is_lamotrigine"}),
        ("Adderall XR", {"is_stimulant"}),
        ("Ambien", {"is_sedative_hypnotic"}),
        ("Tramadol", {"is_opioid"}),
        ("Nardil", {"is_maoi"}),
        ("Sertraline", set()),
    ],
)
def test_medication_classes_from_the_name(name, flags):
    assert screening.classes_from_name(name) == flags


def test_missing_answers_of_an_empty_intake_name_every_required_question():
    blank = Intake(patient=Patient(date_of_birth=date(1985, 5, 17)))
    missing = screening.missing_answers(blank, MEDICAL_CONDITIONS)
    assert set(MEDICAL_CONDITIONS) <= set(missing)
    assert set(screening.REQUIRED_YES_NO) <= set(missing)
    assert set(screening.REQUIRED_VALUES) <= set(missing)
    assert {"allergies", "substance_use_disorder"} <= set(missing)
    assert screening.missing_answers(intake(), MEDICAL_CONDITIONS) == {}


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({"mania_or_bipolar": True}, "on_mood_stabiliser"),
        ({"suicide_attempt": True}, "suicide_attempt_when"),
        ({"suicidal_thoughts": True}, "suicidal_intent_or_plan"),
        ({"alcohol_drinks_per_week": 3, "can_abstain_alcohol_24h": None}, "can_abstain_alcohol_24h"),
        ({"substance_use_disorder": "in_remission"}, "substance_use_remission_since"),
        ({"takes_medications": True}, "medications"),
    ],
)
def test_follow_up_questions_are_required_after_a_yes(answers, field):
    assert set(screening.missing_answers(intake(**answers), MEDICAL_CONDITIONS)) == {field}


def test_a_non_drinker_need_not_answer_the_abstinence_question():
    assert screening.missing_answers(intake(alcohol_drinks_per_week=0, can_abstain_alcohol_24h=None), []) == {}


def test_medicines_need_a_dose_and_frequency_on_submission():
    missing = screening.missing_answers(intake(takes_medications=True), [], [medicine("Xanax", dose="")])
    assert missing == {"medications": "Please give the dose and how often for: Xanax."}


@pytest.mark.django_db
def test_the_seeded_rules_match_the_code_defaults():
    rows = {rule.code: rule for rule in ScreeningRule.objects.all()}
    assert set(rows) == set(screening.RULES_BY_CODE)
    for code, rule in screening.RULES_BY_CODE.items():
        row = rows[code]
        assert (row.severity, row.enabled, row.limit, row.second_limit) == (
            rule.default.severity,
            True,
            rule.default.limit,
            rule.default.second_limit,
        ), code
