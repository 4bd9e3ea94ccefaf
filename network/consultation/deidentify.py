"""What a case presentation may carry out of the care team, computed from the record once, at creation.

Only values that identify nobody leave: an age band, scores by week since baseline (no dates), and the dose
plan's numbers (no names, no instructions). The free text the presenter writes is checked before it is saved:
no name, e-mail, phone, date of birth, exact date, or passage copied from the record."""

import re
from datetime import date

from django.core.exceptions import ValidationError

from assessments.models import QuestionnaireResponse
from treatment.models import DosePlan, IntegrationSummary, SessionNote

MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
EXACT_DATE = re.compile(
    r"\b\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b"  # 2026-03-05
    r"|\b\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}\b"  # 3/5/26, 05.03.2026
    rf"|\b{MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?\b"  # March 5
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTHS}"  # 5th of March
    rf"|\b{MONTHS}\s+\d{{4}}\b",  # March 2026
    re.IGNORECASE,
)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
COPIED_WORDS = 6  # a run of this many words of the record's own text is a copy


def age_band(date_of_birth, today: date) -> str:
    """A ten-year band ("30–39"); under 18 and 90 or older are one band each (HIPAA safe harbor)."""
    age = today.year - date_of_birth.year - ((today.month, today.day) < (date_of_birth.month, date_of_birth.day))
    if age < 18:
        return "under 18"
    if age >= 90:
        return "90 or older"
    low = age // 10 * 10
    return f"{max(low, 18)}–{low + 9}"


def score_series(patient) -> list[dict]:
    """Each scored questionnaire as {instrument, week, score}, the week counted from that instrument's first
    answer (its baseline): when, relative to treatment, without a date."""
    baseline = {}
    series = []
    responses = QuestionnaireResponse.objects.filter(patient=patient, total_score__isnull=False).order_by(
        "submitted_at"
    )
    for response in responses.only("instrument", "total_score", "submitted_at"):
        start = baseline.setdefault(response.instrument, response.submitted_at)
        week = (response.submitted_at - start).days // 7
        series.append({"instrument": response.instrument, "week": week, "score": response.total_score})
    return series


def dose_plan_numbers(patient) -> dict:
    """The active (signed) dose plan's numbers, or {}: no prescriber, no instructions, no dates."""
    plan = DosePlan.objects.filter(patient=patient, status=DosePlan.Status.SIGNED).first()
    if plan is None:
        return {}

    def mg(value):
        return None if value is None else str(value)

    return {
        "medication": plan.get_medication_display(),
        "route": plan.get_route_display(),
        "tablet_strength_mg": mg(plan.tablet_strength_mg),
        "full_dose_mg": mg(plan.full_dose_mg),
        "start_at": plan.get_start_at_display(),
        "boosters_allowed": plan.boosters_allowed,
        "booster_count": plan.booster_count,
        "booster_mg": mg(plan.booster_mg),
        "doses_authorized": plan.doses_authorized,
        "version": plan.version,
    }


def _words(text):
    return re.findall(r"[a-z0-9']+", text.lower())


def _record_texts(patient):
    """The record's free text a presenter might paste: the referral, progress notes, integration summaries."""
    referral = getattr(patient, "referral", None)
    if referral is not None:
        yield from (referral.reason_details, referral.current_diagnoses, referral.current_treatment)
        yield from (referral.current_medications, referral.clinical_summary)
    yield from SessionNote.objects.filter(patient=patient).values_list("body", flat=True)
    for summary in IntegrationSummary.objects.filter(patient=patient).values_list(
        "themes", "insights", "changes", "concerns_for_prescriber"
    ):
        yield from summary


def _copies_record(text, patient):
    words = _words(text)
    runs = {tuple(words[i : i + COPIED_WORDS]) for i in range(len(words) - COPIED_WORDS + 1)}
    for source in _record_texts(patient):
        source_words = _words(source or "")
        for i in range(len(source_words) - COPIED_WORDS + 1):
            if tuple(source_words[i : i + COPIED_WORDS]) in runs:
                return True
    return False


def _identifiers(patient):
    """The patient's own identifiers, as whole words: names, contacts' names, phone digits."""
    names = [patient.first_name, patient.last_name, patient.chaperone_name, patient.emergency_contact_name]
    words = {word for name in names for word in _words(name or "") if len(word) > 1}
    digits = re.sub(r"\D", "", patient.phone or "")
    return words, digits[-7:] if len(digits) >= 7 else ""


def check_free_text(text, patient, *, field):
    """Refuse (ValidationError on `field`) text that names or dates the patient or copies their record."""
    problems = []
    words, phone = _identifiers(patient)
    if words & set(_words(text)):
        problems.append("a name of the patient or of their contacts")
    if EMAIL.search(text):
        problems.append("an e-mail address")
    if phone and phone in re.sub(r"\D", "", text):
        problems.append("the patient's phone number")
    if EXACT_DATE.search(text) or str(patient.date_of_birth.year) in text:
        problems.append("an exact date or the year of birth (say “week 3 of treatment” instead)")
    if _copies_record(text, patient):
        problems.append(f"a passage of {COPIED_WORDS} or more words copied from the patient's record")
    if problems:
        raise ValidationError({field: f"Remove what could identify the patient: {'; '.join(problems)}."})
