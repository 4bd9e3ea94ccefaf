"""The de-identified research dataset: one row per treatment course of the cohort, and its data dictionary.

No direct identifier leaves: no name, e-mail, phone, address, date of birth, record id or free text. Each patient
is a random study id (outcomes.models.ResearchSubject); every date is moved by the patient's secret shift, so
intervals within a patient stay true and no real date appears; ages are banded at the course start, states grouped
into census regions. Then every quasi-identifier value, and every combination of them, describing fewer than 11
patients is replaced by SUPPRESSED, and so is any other value describing fewer than 11 patients."""

import csv
import io
from datetime import timedelta

from django.db.models import Count, Exists, F, Min, OuterRef, Subquery
from django.db.models.functions import Coalesce

from patients.models import Referral
from treatment.models import AdverseEvent, FollowUp, TherapySession

from . import selectors
from .models import ResearchExport, ResearchSubject

SUPPRESSED = "<11"
AGE_BANDS = ((18, "18-24"), (25, "25-34"), (35, "35-44"), (45, "45-54"), (55, "55-64"), (65, "65+"))
REGIONS = {
    "Northeast": "CT ME MA NH RI VT NJ NY PA",
    "Midwest": "IL IN MI OH WI IA KS MN MO NE ND SD",
    "South": "DE DC FL GA MD NC SC VA WV AL KY MS TN AR LA OK TX",
    "West": "AZ CO ID MT NV NM UT WY AK CA HI OR WA",
}
STATE_REGION = {state: region for region, states in REGIONS.items() for state in states.split()}
# (column, description). The quasi-identifiers are checked alone and together; the other columns alone.
QUASI_IDENTIFIERS = ("age_band", "region", "referral_reasons")
DICTIONARY = [
    ("study_id", "Random study id of the patient; the same patient keeps it across exports. Not derived from any id."),
    ("course_number", "1 for the patient's first course in this export, 2 for the next, and so on."),
    ("age_band", "Age at the course start, in bands: " + ", ".join(label for _age, label in AGE_BANDS) + "."),
    ("region", "US census region of the patient's state: " + ", ".join(REGIONS) + ", or Other (territories)."),
    ("referral_reasons", "Referral reason codes, sorted, joined by ';': " + ", ".join(Referral.Reason.values) + "."),
    ("course_start", "Date the course opened, shifted by the patient's secret offset (never a real date)."),
    ("course_end", "Date the course closed, shifted the same way; empty while it is open."),
    ("outcome", "ongoing, completed or discontinued (a signed discharge follow-up decided it)."),
    ("discontinue_reason", "When discontinued: " + ", ".join(selectors.DISCONTINUE_REASONS) + "."),
    ("dosing_sessions", "Completed dosing sessions in the course."),
    ("days_referral_to_first_dose", "Whole days from the referral to the course's first dose; empty without one."),
    ("phq9_baseline", "PHQ-9 total before the first dose (the course baseline); empty without one."),
    ("phq9_latest", "The latest PHQ-9 total after the first dose while the course was open."),
    ("gad7_baseline", "GAD-7 total at the course baseline."),
    ("gad7_latest", "The latest GAD-7 total after the first dose while the course was open."),
    ("adverse_events_mild", "Adverse events of mild severity reported in the course."),
    ("adverse_events_moderate", "Adverse events of moderate severity."),
    ("adverse_events_severe", "Adverse events of severe severity."),
]
COLUMNS = [name for name, _description in DICTIONARY]
NOT_SUPPRESSED = ("study_id", "course_number", "course_start", "course_end")


def age_band(born, on):
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    label = SUPPRESSED  # under 18: no band (too few by design)
    for lowest, band in AGE_BANDS:
        if age >= lowest:
            label = band
    return label


def _count_of(queryset):
    return Coalesce(Subquery(queryset.order_by().values("course").annotate(n=Count("pk")).values("n")[:1]), 0)


def _course_rows(courses):
    """One query: each course with the patient's facts and the course's counts."""
    dosing = TherapySession.objects.dosing().completed().filter(course=OuterRef("pk"))
    events = AdverseEvent.objects.filter(course=OuterRef("pk"))
    discharge = FollowUp.objects.signed().filter(course=OuterRef("pk"), decision__in=FollowUp.DISCHARGES)
    harmed = events.filter(severity__in=selectors.HARMFUL)
    return (
        courses.annotate(
            born=F("patient__date_of_birth"),
            state=F("patient__state"),
            reasons=F("patient__referral__reasons"),
            referred_at=Coalesce(F("patient__referral__created_at"), F("patient__created_at")),
            discharge=Subquery(discharge.values("decision")[:1]),
            doses=_count_of(dosing),
            first_dose=Subquery(dosing.order_by().values("course").annotate(at=Min("scheduled_at")).values("at")[:1]),
            harmed=Exists(harmed),
            mild=_count_of(events.filter(severity=AdverseEvent.Severity.MILD)),
            moderate=_count_of(events.filter(severity=AdverseEvent.Severity.MODERATE)),
            severe=_count_of(events.filter(severity=AdverseEvent.Severity.SEVERE)),
        )
        .order_by("patient_id", "started_at", "id")
        .values(
            "id",
            "patient_id",
            "started_at",
            "ended_at",
            "born",
            "state",
            "reasons",
            "referred_at",
            "discharge",
            "doses",
            "first_dose",
            "harmed",
            "mild",
            "moderate",
            "severe",
        )
    )


def _scores(courses):
    """{(course id, instrument): (baseline, latest)} in one query."""
    rows = selectors.fetch(
        courses,
        selectors.SCORES  # noqa: S608 (SQL of this module; values are parameters)
        + """
        SELECT b.course_id, b.instrument, b.total, x.total FROM b LEFT JOIN (
            SELECT DISTINCT ON (course_id, instrument) * FROM l ORDER BY course_id, instrument, submitted_at DESC
        ) x ON x.course_id = b.course_id AND x.instrument = b.instrument
        """,
        [selectors.INSTRUMENTS],
    )
    return {(course_id, code): (baseline, latest) for course_id, code, baseline, latest in rows}


def subjects_for(patient_ids):
    """{patient id: ResearchSubject}, creating the missing ones in one insert."""
    subjects = {subject.patient_id: subject for subject in ResearchSubject.objects.filter(patient_id__in=patient_ids)}
    missing = [ResearchSubject(patient_id=pid) for pid in patient_ids if pid not in subjects]
    ResearchSubject.objects.bulk_create(missing)
    subjects.update({subject.patient_id: subject for subject in missing})
    return subjects


def _outcome(course):
    if course["ended_at"] is None:
        return "ongoing", ""
    if course["discharge"] == FollowUp.Decision.COMPLETE:
        return "completed", ""
    if course["harmed"]:
        return "discontinued", "adverse_event"
    return "discontinued", "other" if course["doses"] else "before_first_dose"


def _row(course, subject, number, scores):
    shift = timedelta(days=subject.date_shift_days)
    outcome, reason = _outcome(course)
    start = course["started_at"].date()
    first_dose, ended = course["first_dose"], course["ended_at"]
    phq9 = scores.get((course["id"], "phq9"), (None, None))
    gad7 = scores.get((course["id"], "gad7"), (None, None))
    return {
        "study_id": subject.study_id,
        "course_number": number,
        "age_band": age_band(course["born"], start),
        "region": STATE_REGION.get(course["state"], "Other"),
        "referral_reasons": ";".join(sorted(course["reasons"] or [])),
        "course_start": (start + shift).isoformat(),
        "course_end": (ended.date() + shift).isoformat() if ended else "",
        "outcome": outcome,
        "discontinue_reason": reason,
        "dosing_sessions": course["doses"],
        "days_referral_to_first_dose": (first_dose - course["referred_at"]).days if first_dose else "",
        "phq9_baseline": phq9[0],
        "phq9_latest": phq9[1],
        "gad7_baseline": gad7[0],
        "gad7_latest": gad7[1],
        "adverse_events_mild": course["mild"],
        "adverse_events_moderate": course["moderate"],
        "adverse_events_severe": course["severe"],
    }


def _patients_by_value(rows, key):
    patients = {}
    for row in rows:
        patients.setdefault(key(row), set()).add(row["study_id"])
    return patients


def suppress(rows, minimum=ResearchExport.MIN_CELL):
    """Replace every value describing fewer than `minimum` patients: each column alone; then, while a row's
    combination of quasi-identifiers is shared by fewer patients, its quasi-identifiers one by one, the most
    identifying (the age band) first."""
    for column in COLUMNS:
        if column in NOT_SUPPRESSED:
            continue
        counts = _patients_by_value(rows, lambda row, column=column: row[column])
        for row in rows:
            if row[column] not in (None, "") and len(counts[row[column]]) < minimum:
                row[column] = SUPPRESSED
    for name in QUASI_IDENTIFIERS:
        combination = _patients_by_value(rows, _quasi_identifiers)
        for row in rows:
            if len(combination[_quasi_identifiers(row)]) < minimum:
                row[name] = SUPPRESSED
    return rows


def _quasi_identifiers(row):
    return tuple(row[name] for name in QUASI_IDENTIFIERS)


def dataset(courses, progress=lambda percent: None):
    """(rows, patient ids) of the de-identified dataset of these courses."""
    courses_rows = list(_course_rows(courses))
    progress(30)
    scores = _scores(courses)
    progress(50)
    patient_ids = list(dict.fromkeys(course["patient_id"] for course in courses_rows))
    subjects = subjects_for(patient_ids)
    progress(70)
    rows, numbers = [], {}
    for course in courses_rows:
        numbers[course["patient_id"]] = numbers.get(course["patient_id"], 0) + 1
        rows.append(_row(course, subjects[course["patient_id"]], numbers[course["patient_id"]], scores))
    rows.sort(key=lambda row: (row["study_id"], row["course_number"]))
    return suppress(rows), patient_ids


def to_csv(rows, columns):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: "" if value is None else value for key, value in row.items()})
    return buffer.getvalue()


def dictionary_csv():
    rows = [{"column": name, "description": description} for name, description in DICTIONARY]
    rows.append(
        {"column": "(any)", "description": f"{SUPPRESSED}: withheld, the value describes fewer than 11 patients."}
    )
    return to_csv(rows, ["column", "description"])
