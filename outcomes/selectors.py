"""The outcome figures of a practice or the network, each computed in SQL in one query, whatever the number of
patients (tests/test_outcomes query counts hold this).

The cohort is the treatment courses of the patients the user may see (kapcare.access: a clinician their own
patients, a coordinator their medical group's), started in the period and narrowed by practice (the referring
therapist's), clinician (ever on the care team) and referral reason. Every figure describes that cohort:

- a course's baseline for an instrument is the last response before its first completed dosing session, within
  the course's window (after the end of the patient's previous course);
- a later score is a response after the first dose and before the course ended; "after N dosing sessions" counts
  the course's completed dosing sessions held before the response, and takes the patient's latest response at N;
- response and remission judge each course's latest score against its baseline, by the instruments' own
  definitions (assessments/instruments.json: PHQ-9 response is a fall of at least 50%, remission a total under 5);
- "discontinued and why": a signed discharge follow-up ended the course; the structured reason is derived from the
  record, since the note's rationale is free text: an adverse event of moderate or greater severity in the course,
  else before the first dose, else another clinical decision.
"""

import hashlib
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.http import Http404
from django.utils import timezone

from assessments import instruments
from assessments.models import QuestionnaireResponse
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_denied
from patients.access import visible_patients
from patients.models import CareTeamMember, Patient, Referral
from treatment.models import AdverseEvent, FollowUp, SessionNote, TherapySession, TreatmentCourse

from . import stats
from .models import ResearchExport

INSTRUMENTS = ("phq9", "gad7")
DOCUMENTATION_DUE_HOURS = 72  # a session's progress note is on time when signed within 72 hours of its end
HARMFUL = (AdverseEvent.Severity.MODERATE, AdverseEvent.Severity.SEVERE)
DISCONTINUE_REASONS = {
    "adverse_event": "After an adverse event (moderate or severe)",
    "before_first_dose": "Before the first dose",
    "other": "Another clinical decision",
}
TABLES = {
    "courses": TreatmentCourse._meta.db_table,
    "sessions": TherapySession._meta.db_table,
    "responses": QuestionnaireResponse._meta.db_table,
    "adverse_events": AdverseEvent._meta.db_table,
    "follow_ups": FollowUp._meta.db_table,
    "notes": SessionNote._meta.db_table,
    "patients": Patient._meta.db_table,
    "referrals": Referral._meta.db_table,
}
DOSED = "s.kind = 'dosing' AND s.status = 'completed'"


def cohort_patients(user, filters):
    patients = visible_patients(user)
    if filters.practice:
        patients = patients.filter(referred_by__organization=filters.practice)
    if filters.clinician:
        patients = patients.filter(
            Exists(CareTeamMember.objects.filter(patient=OuterRef("pk"), clinician=filters.clinician))
        )
    if filters.reason:
        patients = patients.filter(referral__reasons__contains=[filters.reason])
    return patients


def cohort_courses(user, filters):
    courses = TreatmentCourse.objects.filter(patient__in=cohort_patients(user, filters))
    if filters.started_from:
        courses = courses.filter(started_at__gte=filters.started_from)
    if filters.started_before:
        courses = courses.filter(started_at__lt=filters.started_before)
    return courses.order_by()


def _cohort_sql(courses):
    return courses.values("id", "patient_id", "started_at", "ended_at").query.sql_with_params()


def fetch(courses, body, params=()):
    """Run `body` (SQL after `WITH c AS (<the cohort>)`, formatted with the TABLES) in one query."""
    cohort, cohort_params = _cohort_sql(courses)
    with connection.cursor() as cursor:
        sql = f"WITH c AS MATERIALIZED ({cohort}), {body.format(**TABLES, dosed=DOSED)}"
        cursor.execute(sql, [*cohort_params, *params])
        return cursor.fetchall()


# Courses ------------------------------------------------------------------------------------------------


@dataclass
class CourseCounts:
    started: int
    ongoing: int
    completed: int
    discontinued: int
    reasons: list  # (label, count)

    @property
    def rates(self):
        return {
            "completed": stats.percent(self.completed, self.started),
            "discontinued": stats.percent(self.discontinued, self.started),
        }


def course_counts(courses) -> CourseCounts:
    discharged = FollowUp.objects.signed().filter(course=OuterRef("pk"), decision__in=FollowUp.DISCHARGES)
    dosed = TherapySession.objects.dosing().completed().filter(course=OuterRef("pk"))
    harmed = AdverseEvent.objects.filter(course=OuterRef("pk"), severity__in=HARMFUL)
    stopped = Q(discharge=FollowUp.Decision.DISCONTINUE)
    totals = courses.annotate(
        discharge=Subquery(discharged.values("decision")[:1]), dosed=Exists(dosed), harmed=Exists(harmed)
    ).aggregate(
        started=Count("pk"),
        ongoing=Count("pk", filter=Q(ended_at__isnull=True)),
        completed=Count("pk", filter=Q(discharge=FollowUp.Decision.COMPLETE)),
        discontinued=Count("pk", filter=stopped),
        adverse_event=Count("pk", filter=stopped & Q(harmed=True)),
        before_first_dose=Count("pk", filter=stopped & Q(harmed=False, dosed=False)),
        other=Count("pk", filter=stopped & Q(harmed=False, dosed=True)),
    )
    reasons = [(label, totals.pop(code)) for code, label in DISCONTINUE_REASONS.items()]
    return CourseCounts(reasons=reasons, **totals)


# Scores: baseline, later scores, change by dosing sessions, response and remission ---------------------

SCORES = """
first_dose AS MATERIALIZED (
    SELECT s.course_id, MIN(s.scheduled_at) AS at FROM {sessions} s JOIN c ON c.id = s.course_id
    WHERE {dosed} GROUP BY s.course_id
),
w AS MATERIALIZED (
    SELECT c.id AS course_id, c.patient_id, c.ended_at, f.at AS first_dose,
        (SELECT MAX(p.ended_at) FROM {courses} p WHERE p.patient_id = c.patient_id AND p.ended_at <= c.started_at)
            AS window_start
    FROM c JOIN first_dose f ON f.course_id = c.id
),
b AS MATERIALIZED (
    SELECT DISTINCT ON (w.course_id, r.instrument) w.course_id, r.instrument, r.total_score AS total
    FROM w JOIN {responses} r ON r.patient_id = w.patient_id AND r.instrument IN %s
        AND r.submitted_at <= w.first_dose AND (w.window_start IS NULL OR r.submitted_at > w.window_start)
    ORDER BY w.course_id, r.instrument, r.submitted_at DESC
),
l AS MATERIALIZED (
    SELECT w.course_id, r.instrument, r.total_score AS total, r.submitted_at,
        (SELECT COUNT(*) FROM {sessions} s WHERE s.course_id = w.course_id AND {dosed}
            AND s.scheduled_at <= r.submitted_at) AS doses
    FROM w JOIN {responses} r ON r.patient_id = w.patient_id AND r.instrument IN %s
        AND r.submitted_at > w.first_dose AND (w.ended_at IS NULL OR r.submitted_at <= w.ended_at)
)
"""


@dataclass
class ChangeRow:
    instrument: str
    doses: int  # 0: the baseline
    patients: int
    mean_score: float
    mean_change: float  # later score minus baseline (negative: better)


def score_change(courses) -> list[ChangeRow]:
    rows = fetch(
        courses,
        SCORES  # noqa: S608 (SQL of this module; values are parameters)
        + """
        SELECT b.instrument, 0, COUNT(*), AVG(b.total), 0 FROM b GROUP BY b.instrument
        UNION ALL
        SELECT x.instrument, x.doses, COUNT(*), AVG(x.total), AVG(x.total - b.total)
        FROM (SELECT DISTINCT ON (course_id, instrument, doses) * FROM l
              ORDER BY course_id, instrument, doses, submitted_at DESC) x
        JOIN b ON b.course_id = x.course_id AND b.instrument = x.instrument
        GROUP BY x.instrument, x.doses
        ORDER BY 1, 2
        """,
        [INSTRUMENTS, INSTRUMENTS],
    )
    return [
        ChangeRow(code, doses, n, round(float(mean), 1), round(float(change), 1))
        for code, doses, n, mean, change in rows
    ]


@dataclass
class Rate:
    name: str
    count: int | None  # None: not defined for this instrument
    total: int

    @property
    def percent(self):
        return None if self.count is None else stats.percent(self.count, self.total)

    @property
    def interval(self):
        """The 95% Wilson interval in percent, (low, high), or None."""
        bounds = None if self.count is None else stats.wilson(self.count, self.total)
        return None if bounds is None else (round(100 * bounds[0], 1), round(100 * bounds[1], 1))


@dataclass
class InstrumentOutcome:
    instrument: str
    name: str
    response: Rate
    remission: Rate


def _definitions():
    """[codes], [response fall percents], [remission cut-offs] of the instruments, as SQL array parameters."""
    defined = [instruments.get(code) for code in INSTRUMENTS]
    return [
        list(INSTRUMENTS),
        [instrument.response_fall_percent for instrument in defined],
        [instrument.remission_below for instrument in defined],
    ]


def response_remission(courses) -> list[InstrumentOutcome]:
    rows = fetch(
        courses,
        SCORES  # noqa: S608 (SQL of this module; values are parameters)
        + """, d (instrument, fall, below) AS (
            SELECT * FROM unnest(%s::text[], %s::integer[], %s::integer[])
        )
        SELECT d.instrument, COUNT(x.course_id),
            COUNT(x.course_id) FILTER (WHERE b.total > 0 AND (b.total - x.total) * 100 >= d.fall * b.total),
            COUNT(x.course_id) FILTER (WHERE x.total < d.below)
        FROM d LEFT JOIN (SELECT DISTINCT ON (course_id, instrument) * FROM l
                          ORDER BY course_id, instrument, submitted_at DESC) x ON x.instrument = d.instrument
        LEFT JOIN b ON b.course_id = x.course_id AND b.instrument = x.instrument
        WHERE x.course_id IS NULL OR b.course_id IS NOT NULL
        GROUP BY d.instrument
        """,
        [INSTRUMENTS, INSTRUMENTS, *_definitions()],
    )
    by_code = {row[0]: row for row in rows}
    outcomes = []
    for code in INSTRUMENTS:
        instrument = instruments.get(code)
        _code, total, responders, remitters = by_code.get(code, (code, 0, 0, 0))
        outcomes.append(
            InstrumentOutcome(
                instrument=code,
                name=instrument.short_name,
                response=Rate("response", responders if instrument.response_fall_percent else None, total),
                remission=Rate("remission", remitters if instrument.remission_below is not None else None, total),
            )
        )
    return outcomes


# Adverse events per 100 dosing sessions -----------------------------------------------------------------


@dataclass
class AdverseEventRates:
    dosing_sessions: int
    rows: list = field(default_factory=list)  # (kind label, severity label, events, patients, per 100)


def adverse_event_rates(courses) -> AdverseEventRates:
    rows = fetch(
        courses,
        """
        n AS (SELECT COUNT(*) AS sessions FROM {sessions} s JOIN c ON c.id = s.course_id WHERE {dosed})
        SELECT n.sessions, a.kind, a.severity, a.events, a.patients FROM n LEFT JOIN (
            SELECT e.kind, e.severity, COUNT(*) AS events, COUNT(DISTINCT e.patient_id) AS patients
            FROM {adverse_events} e JOIN c ON c.id = e.course_id GROUP BY e.kind, e.severity
        ) a ON TRUE
        ORDER BY a.kind, a.severity
        """,
    )
    sessions = rows[0][0] if rows else 0
    kinds, severities = dict(AdverseEvent.Kind.choices), dict(AdverseEvent.Severity.choices)
    result = AdverseEventRates(dosing_sessions=sessions)
    for _sessions, kind, severity, events, patients in rows:
        if kind is None:
            continue
        per_100 = round(100 * events / sessions, 1) if sessions else None
        result.rows.append((kinds.get(kind, kind), severities.get(severity, severity), events, patients, per_100))
    return result


# Time from referral to first dose ---------------------------------------------------------------------


@dataclass
class Delay:
    patients: int
    q1: float | None
    median: float | None
    q3: float | None


def referral_to_first_dose(courses) -> Delay:
    """Days from the referral to the first dose of the patient's first course (the referral's episode)."""
    rows = fetch(
        courses,
        """
        first_dose AS (
            SELECT s.course_id, MIN(s.scheduled_at) AS at FROM {sessions} s JOIN c ON c.id = s.course_id
            WHERE {dosed} GROUP BY s.course_id
        )
        SELECT COUNT(*), percentile_cont(ARRAY[0.25, 0.5, 0.75]) WITHIN GROUP (ORDER BY t.days) FROM (
            SELECT EXTRACT(EPOCH FROM f.at - COALESCE(r.created_at, p.created_at)) / 86400.0 AS days
            FROM c JOIN first_dose f ON f.course_id = c.id JOIN {patients} p ON p.id = c.patient_id
            LEFT JOIN {referrals} r ON r.patient_id = c.patient_id
            WHERE NOT EXISTS (
                SELECT 1 FROM {courses} e WHERE e.patient_id = c.patient_id AND e.started_at < c.started_at
            )
        ) t
        """,
    )
    count, quartiles = rows[0]
    q1, median, q3 = (round(float(value), 1) for value in quartiles) if quartiles else (None, None, None)
    return Delay(count, q1, median, q3)


# Follow-up and documentation timeliness ---------------------------------------------------------------


@dataclass
class Timeliness:
    follow_ups_signed: int
    follow_ups_on_time: int
    follow_ups_overdue: int  # pending visits past their due date today
    sessions_completed: int
    notes_signed: int
    notes_on_time: int
    median_hours_to_sign: float | None

    @property
    def follow_ups_on_time_percent(self):
        return stats.percent(self.follow_ups_on_time, self.follow_ups_signed)

    @property
    def notes_on_time_percent(self):
        return stats.percent(self.notes_on_time, self.sessions_completed)


def timeliness(courses) -> Timeliness:
    zone = timezone.get_current_timezone_name()
    rows = fetch(
        courses,
        """
        f AS (
            SELECT COUNT(*) FILTER (WHERE f.status = 'signed') AS signed,
                COUNT(*) FILTER (WHERE f.status = 'signed' AND (f.signed_at AT TIME ZONE %s)::date <= f.due_on)
                    AS on_time,
                COUNT(*) FILTER (WHERE f.status = 'draft' AND f.due_on < %s) AS overdue
            FROM {follow_ups} f JOIN c ON c.id = f.course_id
        ),
        d AS (
            SELECT COUNT(*) AS sessions, COUNT(n.id) FILTER (WHERE n.status = 'signed') AS signed,
                COUNT(n.id) FILTER (WHERE n.status = 'signed' AND n.signed_at
                    <= s.scheduled_at + (s.duration_minutes + %s * 60) * INTERVAL '1 minute') AS on_time,
                percentile_cont(0.5) WITHIN GROUP (
                    ORDER BY EXTRACT(EPOCH FROM n.signed_at - s.scheduled_at) / 3600.0
                ) FILTER (WHERE n.status = 'signed') AS median_hours
            FROM {sessions} s JOIN c ON c.id = s.course_id LEFT JOIN {notes} n ON n.session_id = s.id
            WHERE s.status = 'completed'
        )
        SELECT f.signed, f.on_time, f.overdue, d.sessions, d.signed, d.on_time, d.median_hours FROM f, d
        """,
        [zone, timezone.localdate(), DOCUMENTATION_DUE_HOURS],
    )
    *counts, median = rows[0]
    return Timeliness(*counts, median_hours_to_sign=None if median is None else round(float(median), 1))


# The whole report -----------------------------------------------------------------------------------------


@dataclass
class Report:
    courses: CourseCounts
    change: list
    outcomes: list
    adverse_events: AdverseEventRates
    referral_delay: Delay
    timeliness: Timeliness


@contextmanager
def without_jit():
    """PostgreSQL's JIT compiles a query it costs as large, for about half a second each: longer than these figures
    take to compute at 10,000 patients. Off for this transaction only."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
        yield


def outcomes_report(user, filters) -> Report:
    """Every figure for the user's cohort: six queries, whatever the number of patients."""
    courses = cohort_courses(user, filters)
    with without_jit():
        return Report(
            courses=course_counts(courses),
            change=score_change(courses),
            outcomes=response_remission(courses),
            adverse_events=adverse_event_rates(courses),
            referral_delay=referral_to_first_dose(courses),
            timeliness=timeliness(courses),
        )


# Research exports: each is its requester's alone ---------------------------------------------------------


def visible_research_exports(user):
    if not user.is_authenticated:
        return ResearchExport.objects.none()
    return ResearchExport.objects.filter(requested_by=user)


def token_hash(token: str) -> str:
    return hashlib.sha256((token or "").encode("utf-8")).hexdigest()


def research_export_by_token(user, token):
    """The export behind a download link, or 404 (audited): only its requester reaches it."""
    export = (
        visible_research_exports(user).filter(token_hash=token_hash(token)).defer("data_csv", "dictionary_csv").first()
    )
    if export is None:
        audit_denied(user, AuditEvent.Action.READ, object_type="outcomes.researchexport", object_id="")
        raise Http404("No such download link, or it is not yours.")
    return export


def recent_research_exports(user, limit=5):
    return list(visible_research_exports(user).defer("data_csv", "dictionary_csv")[:limit])
