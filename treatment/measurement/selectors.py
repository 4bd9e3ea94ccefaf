"""Measurement-based care over the course of care: which questionnaires are due, and scores over time.

Schedule (kap-domain.md §9): the baseline set (PHQ-9, GAD-7, and PCL-5 when trauma is a referral reason) before
the first dose; then the set before each integration session and every `CarePolicy.questionnaire_interval_days`
(14 by default) while a course is active (the first dose given, the course not ended). What is due is derived
from the course's sessions and the responses, like an overdue follow-up; the clinicians' dashboards read the
answer stored as due work (treatment.due_work, patients.due_work), which the services and a beat task keep equal
to this derivation.

Responses belong to the course whose window holds them: a course's window runs from the end of the patient's
previous course (or the beginning) to its own end, so a baseline answered at intake, before the course opened,
counts; baselines reset per course. The course baseline is the last response before the first dose (or, if
none was given before it, the course's first response).

Every read starts from kapcare.access; callers check Permission.VIEW_QUESTIONNAIRES before showing scores.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Max, OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone

from assessments import instruments
from assessments.models import QuestionnaireResponse
from assessments.questionnaires import selectors as questionnaire_selectors
from assessments.score_chart import Marker, Point, Series
from patients.access import visible_patients
from patients.models import Referral
from treatment.course.models import CarePolicy, TreatmentCourse
from treatment.sessions.models import TherapySession

BASELINE_SET = ("phq9", "gad7")
TRAUMA_SET = ("pcl5",)
# A regular questionnaire opens this many days before it is due; one before an integration session opens when
# the dose before that session was given (or this many days before the session when it follows no dose).
OPENS_DAYS_BEFORE = 2
INTEGRATION_WINDOW_DAYS = 7
LIVE_STATUSES = (TherapySession.Status.SCHEDULED, TherapySession.Status.COMPLETED)


@dataclass(frozen=True)
class Due:
    """One questionnaire a patient should answer now: why, and by when."""

    patient: object
    instrument: instruments.Instrument
    reason: str
    due_on: date
    today: date

    @property
    def code(self):
        return self.instrument.code

    @property
    def days_overdue(self):
        return max((self.today - self.due_on).days, 0)

    @property
    def overdue(self):
        return self.days_overdue > 0

    @property
    def url(self):
        return reverse("assessments:questionnaire-form", args=[self.code])


def instrument_codes(referral_reasons) -> tuple:
    """The measurement set for a patient with these referral reasons (Referral.reasons)."""
    trauma = Referral.Reason.TRAUMA in (referral_reasons or [])
    return BASELINE_SET + (TRAUMA_SET if trauma else ())


def _referral_reasons(patient):
    try:
        return patient.referral.reasons
    except Referral.DoesNotExist:
        return []


def questionnaire_interval_days(patient):
    try:
        return patient.medical_group.care_policy.questionnaire_interval_days
    except CarePolicy.DoesNotExist:
        return CarePolicy._meta.get_field("questionnaire_interval_days").default


def _day(moment):
    return timezone.localdate(moment)


def due_for_course(*, patient, course, window_start, sessions, answered, interval_days, now) -> list[Due]:
    """What is due for one patient's open course. `sessions`: the course's dosing and integration sessions;
    `answered`: {instrument code: [submitted_at, ...]} of the course window (from `window_start`). Pure."""
    today = _day(now)
    dosing = sorted((s for s in sessions if s.kind == TherapySession.Kind.DOSING), key=lambda s: s.scheduled_at)
    first_dose = next((s for s in dosing if s.status == TherapySession.Status.COMPLETED), None)
    result = []
    for code in instrument_codes(_referral_reasons(patient)):
        times = sorted(t for t in answered.get(code, []) if window_start is None or t > window_start)
        candidates = []
        if first_dose is None:
            if not times:
                booked = next((s for s in dosing if s.status == TherapySession.Status.SCHEDULED), None)
                candidates.append((_day(booked.scheduled_at) if booked else today, "Baseline, before the first dose"))
        else:
            anchor = times[-1] if times and times[-1] > first_dose.scheduled_at else first_dose.scheduled_at
            due_on = _day(anchor) + timedelta(days=interval_days)
            if today >= due_on - timedelta(days=OPENS_DAYS_BEFORE):
                candidates.append((due_on, f"Every {interval_days} days during the course"))
        for session in sessions:
            if session.kind != TherapySession.Kind.INTEGRATION or session.status != TherapySession.Status.SCHEDULED:
                continue
            before = [d.scheduled_at for d in dosing if d.scheduled_at < session.scheduled_at]
            opens = before[-1] if before else session.scheduled_at - timedelta(days=INTEGRATION_WINDOW_DAYS)
            if now < opens or any(opens <= t < session.scheduled_at for t in times):
                continue
            local = timezone.localtime(session.scheduled_at)
            candidates.append(
                (_day(session.scheduled_at), f"Before your integration session on {local:%a %b} {local.day}")
            )
        if candidates:
            due_on, reason = min(candidates)
            result.append(Due(patient, instruments.get(code), reason, due_on, today))
    return result


def _open_courses(patient_queryset):
    previous_end = (
        TreatmentCourse.objects.filter(patient=OuterRef("patient"), ended_at__isnull=False)
        .order_by()
        .values("patient")
        .annotate(last=Max("ended_at"))
        .values("last")
    )
    return (
        TreatmentCourse.objects.open()
        .filter(patient__in=patient_queryset)
        .annotate(window_start=Subquery(previous_end))
        .select_related("patient", "patient__referral", "patient__medical_group__care_policy")
    )


def questionnaires_due(user, *, patient=None, now=None) -> list[Due]:
    """The questionnaires due for the user's patients with an open course (or just `patient`), overdue first,
    then by due date. Always three queries, whatever the number of patients (none included)."""
    patients = visible_patients(user)
    if patient is not None:
        patients = patients.filter(pk=patient.pk)
    return questionnaires_due_among(
        patients, responses=questionnaire_selectors.visible_questionnaire_responses(user), now=now
    )


def questionnaires_due_among(patients, *, responses, now=None) -> list[Due]:
    """questionnaires_due for a queryset of patients (or a list of their ids), reading `responses` (a
    QuestionnaireResponse queryset): the rule itself, for a user's view or for the stored due work
    (treatment.due_work)."""
    now = now or timezone.now()
    open_courses = TreatmentCourse.objects.open().filter(patient__in=patients)
    courses = list(_open_courses(patients))
    sessions = {}
    for session in TherapySession.objects.filter(
        course__in=open_courses.values("pk"),
        kind__in=[TherapySession.Kind.DOSING, TherapySession.Kind.INTEGRATION],
        status__in=LIVE_STATUSES,
    ).order_by("scheduled_at", "id"):
        sessions.setdefault(session.course_id, []).append(session)
    answered = {}
    rows = responses.filter(patient__in=open_courses.values("patient_id"))
    for patient_id, code, submitted_at in rows.values_list("patient_id", "instrument", "submitted_at"):
        answered.setdefault(patient_id, {}).setdefault(code, []).append(submitted_at)
    due = []
    for course in courses:
        due += due_for_course(
            patient=course.patient,
            course=course,
            window_start=course.window_start,
            sessions=sessions.get(course.pk, []),
            answered=answered.get(course.patient_id, {}),
            interval_days=questionnaire_interval_days(course.patient),
            now=now,
        )
    return sorted(due, key=lambda d: (not d.overdue, d.due_on, d.patient.last_name, d.patient.first_name, d.code))


# Scores over time -------------------------------------------------------------------------------------


@dataclass
class ScoreHistory:
    """A patient's charts, one `Series` per instrument, and the responses read (for the audit)."""

    series: list
    responses: list


def _windows(courses):
    """[(course number, start, end)] with start exclusive and end inclusive (None: open)."""
    windows, previous_end = [], None
    for number, course in enumerate(courses, start=1):
        windows.append((number, previous_end, course.ended_at))
        previous_end = course.ended_at or previous_end
    return windows


def _course_of(moment, windows):
    for number, start, end in windows:
        if (start is None or moment > start) and (end is None or moment <= end):
            return number
    return 0


def _points(instrument, responses, windows, first_doses):
    points = []
    by_course = {}
    for response in responses:
        by_course.setdefault(_course_of(response.submitted_at, windows), []).append(response)
    for course_number, rows in sorted(by_course.items()):
        first_dose = first_doses.get(course_number)
        before = [r for r in rows if first_dose is None or r.submitted_at <= first_dose]
        baseline = (before[-1] if before else rows[0]) if course_number else None
        for response in rows:
            after = baseline is not None and response.submitted_at > baseline.submitted_at
            change = None
            if after and baseline.total_score:
                change = round((baseline.total_score - response.total_score) * 100 / baseline.total_score)
            points.append(
                Point(
                    at=response.submitted_at,
                    total=response.total_score,
                    severity=response.severity,
                    course=course_number,
                    is_baseline=response is baseline,
                    baseline_total=baseline.total_score if baseline else None,
                    change_percent=change,
                    response=instrument.is_response(baseline.total_score, response.total_score) if after else None,
                    remission=instrument.is_remission(response.total_score) if after else None,
                    on_behalf=response.on_behalf,
                    entered_by=str(response.entered_by) if response.on_behalf else "",
                )
            )
    return points


def score_history(user, patient) -> ScoreHistory:
    """Every instrument's scores for the patient, judged against each course's baseline, with the dosing
    sessions marked: four queries whatever the number of responses. `patient` must come from a visible_*
    queryset and the caller checks Permission.VIEW_QUESTIONNAIRES and audits `responses`; `user` None means
    the caller has already scoped the patient (a page that checked its own permission)."""
    courses = list(TreatmentCourse.objects.filter(patient=patient).order_by("started_at", "id"))
    doses = list(
        TherapySession.objects.dosing()
        .filter(patient=patient, status__in=LIVE_STATUSES)
        .order_by("scheduled_at", "id")
        .values_list("course_id", "scheduled_at", "status")
    )
    scope = (
        questionnaire_selectors.visible_questionnaire_responses(user)
        if user is not None
        else QuestionnaireResponse.objects.all()
    )
    responses = list(scope.filter(patient=patient).select_related("entered_by").order_by("submitted_at", "id"))
    windows = _windows(courses)
    numbers = {course.pk: number for number, course in enumerate(courses, start=1)}
    first_doses = {}
    for course_id, at, status in doses:
        if status == TherapySession.Status.COMPLETED:
            first_doses.setdefault(numbers[course_id], at)
    markers, counts = [], {}
    for course_id, at, status in doses:
        counts[course_id] = counts.get(course_id, 0) + 1
        label = f"D{counts[course_id]}" if status == TherapySession.Status.COMPLETED else f"D{counts[course_id]}?"
        markers.append(Marker(at, label))
    starts = (
        [Marker(course.started_at, f"course {numbers[course.pk]}") for course in courses] if len(courses) > 1 else []
    )
    codes = list(dict.fromkeys([*instrument_codes(_referral_reasons(patient)), *(r.instrument for r in responses)]))
    series = []
    for code in codes:
        instrument = instruments.get(code)
        if instrument is None:
            continue
        rows = [r for r in responses if r.instrument == code]
        series.append(
            Series(
                instrument, points=_points(instrument, rows, windows, first_doses), doses=markers, course_starts=starts
            )
        )
    return ScoreHistory(series=series, responses=responses)


def since_baseline_lines(history: ScoreHistory) -> list[str]:
    """One sentence per instrument of the latest course: baseline, latest, change and outcome (the follow-up
    note's "scores since baseline")."""
    lines = []
    for series in history.series:
        latest, baseline = series.latest, series.baseline
        if latest is None:
            continue
        name = series.instrument.short_name
        if baseline is None or latest is baseline:
            lines.append(f"{name}: {latest.total} ({latest.severity or 'no band'}) on {_day(latest.at):%b %-d}.")
            continue
        outcome = [word for word, on in (("response", latest.response), ("remission", latest.remission)) if on]
        change = f"{-latest.change_percent:+d}%" if latest.change_percent is not None else "no change measurable"
        lines.append(
            f"{name}: baseline {baseline.total} ({_day(baseline.at):%b %-d}) → {latest.total} "
            f"({_day(latest.at):%b %-d}), {change}" + (f": {' and '.join(outcome)}." if outcome else ".")
        )
    return lines
