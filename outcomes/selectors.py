"""The outcome figures of a practice or the network, computed in SQL in four queries whatever the number of
patients (tests/test_outcomes query counts hold this): the figures that read the same rows share a query (the
scores and the referral delay read the dosed courses' windows). bench/NOTES.md has their plans at 10,000 patients.

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
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.utils import timezone

from assessments import instruments
from assessments.models import QuestionnaireResponse
from kapcare import access
from kapcare.access import Permission
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
    """A course's discharge is its latest signed discharge visit (by due date). Each of the course's facts (the
    discharge, a dose taken, a moderate or severe adverse event) is found once for the whole cohort and joined,
    rather than looked up per course for each count (10,000 lookups per count at 10,000 patients)."""
    (row,) = fetch(
        courses,
        """
        d AS (
            SELECT DISTINCT ON (f.course_id) f.course_id, f.decision FROM {follow_ups} f JOIN c ON c.id = f.course_id
            WHERE f.status = 'signed' AND f.decision IN %s ORDER BY f.course_id, f.due_on DESC, f.id DESC
        ),
        x AS (SELECT DISTINCT s.course_id FROM {sessions} s JOIN c ON c.id = s.course_id WHERE {dosed}),
        h AS (SELECT DISTINCT e.course_id FROM {adverse_events} e JOIN c ON c.id = e.course_id WHERE e.severity IN %s)
        SELECT COUNT(*), COUNT(*) FILTER (WHERE c.ended_at IS NULL),
            COUNT(*) FILTER (WHERE d.decision = %s), COUNT(*) FILTER (WHERE d.decision = %s),
            COUNT(*) FILTER (WHERE d.decision = %s AND h.course_id IS NOT NULL),
            COUNT(*) FILTER (WHERE d.decision = %s AND h.course_id IS NULL AND x.course_id IS NULL),
            COUNT(*) FILTER (WHERE d.decision = %s AND h.course_id IS NULL AND x.course_id IS NOT NULL)
        FROM c LEFT JOIN d ON d.course_id = c.id LEFT JOIN x ON x.course_id = c.id LEFT JOIN h ON h.course_id = c.id
        """,
        [tuple(FollowUp.DISCHARGES), HARMFUL, FollowUp.Decision.COMPLETE, *[FollowUp.Decision.DISCONTINUE] * 4],
    )
    started, ongoing, completed, discontinued, *by_reason = row
    reasons = list(zip(DISCONTINUE_REASONS.values(), by_reason, strict=True))
    return CourseCounts(started, ongoing, completed, discontinued, reasons)


# Scores: baseline, later scores, change by dosing sessions, response and remission ---------------------

# The dosed courses' windows (w, with the times of their doses), and their patients' responses to the instruments
# within them, read in one join (wr): the baseline candidates up to the first dose, the later scores with the
# number of doses before each (a binary search, width_bucket, in the course's sorted dose times: no lookup of the
# sessions per response).
SCORES = """
first_dose AS MATERIALIZED (
    SELECT s.course_id, MIN(s.scheduled_at) AS at, array_agg(s.scheduled_at ORDER BY s.scheduled_at) AS doses_at
    FROM {sessions} s JOIN c ON c.id = s.course_id WHERE {dosed} GROUP BY s.course_id
),
w AS MATERIALIZED (
    SELECT c.id AS course_id, c.patient_id, c.started_at, c.ended_at, f.at AS first_dose, f.doses_at,
        (SELECT MAX(p.ended_at) FROM {courses} p WHERE p.patient_id = c.patient_id AND p.ended_at <= c.started_at)
            AS window_start
    FROM c JOIN first_dose f ON f.course_id = c.id
),
wr AS MATERIALIZED (
    SELECT w.course_id, r.instrument, r.total_score AS total, r.submitted_at,
        r.submitted_at <= w.first_dose AS baseline,
        CASE WHEN r.submitted_at > w.first_dose THEN width_bucket(r.submitted_at, w.doses_at) END AS doses
    FROM w JOIN {responses} r ON r.patient_id = w.patient_id AND r.instrument IN %s
        AND (w.window_start IS NULL OR r.submitted_at > w.window_start)
        AND (r.submitted_at <= w.first_dose OR w.ended_at IS NULL OR r.submitted_at <= w.ended_at)
),
b AS MATERIALIZED (
    SELECT DISTINCT ON (course_id, instrument) course_id, instrument, total FROM wr WHERE baseline
    ORDER BY course_id, instrument, submitted_at DESC
),
l AS (SELECT course_id, instrument, total, submitted_at, doses FROM wr WHERE NOT baseline)
"""


@dataclass
class ChangeRow:
    instrument: str
    doses: int  # 0: the baseline
    patients: int
    mean_score: float
    mean_change: float  # later score minus baseline (negative: better)


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


@dataclass
class Delay:
    """Days from the referral to the first dose: how many patients, and the quartiles."""

    patients: int
    q1: float | None
    median: float | None
    q3: float | None


def scores(courses) -> tuple[list[ChangeRow], list[InstrumentOutcome], Delay]:
    """The change from baseline by dosing sessions, response and remission, and the time from referral to the
    first dose, in one query: they read the same dosed courses, windows and scores (SCORES), computed once. The
    delay is in days, of the patient's first course (the referral's episode)."""
    rows = fetch(
        courses,
        SCORES  # noqa: S608 (SQL of this module; values are parameters)
        + """, d (instrument, fall, below) AS (
            SELECT * FROM unnest(%s::text[], %s::integer[], %s::integer[])
        ),
        latest AS (
            SELECT DISTINCT ON (course_id, instrument) * FROM l ORDER BY course_id, instrument, submitted_at DESC
        )
        SELECT 'change', b.instrument, 0, COUNT(*), AVG(b.total), 0 FROM b GROUP BY b.instrument
        UNION ALL
        SELECT 'change', x.instrument, x.doses, COUNT(*), AVG(x.total), AVG(x.total - b.total)
        FROM (SELECT DISTINCT ON (course_id, instrument, doses) * FROM l
              ORDER BY course_id, instrument, doses, submitted_at DESC) x
        JOIN b ON b.course_id = x.course_id AND b.instrument = x.instrument
        GROUP BY x.instrument, x.doses
        UNION ALL
        SELECT 'rates', d.instrument, COUNT(x.course_id),
            COUNT(x.course_id) FILTER (WHERE b.total > 0 AND (b.total - x.total) * 100 >= d.fall * b.total),
            COUNT(x.course_id) FILTER (WHERE x.total < d.below), 0
        FROM d LEFT JOIN latest x ON x.instrument = d.instrument
        LEFT JOIN b ON b.course_id = x.course_id AND b.instrument = x.instrument
        WHERE x.course_id IS NULL OR b.course_id IS NOT NULL
        GROUP BY d.instrument
        UNION ALL
        SELECT 'delay', '', COUNT(*), percentile_cont(0.25) WITHIN GROUP (ORDER BY t.days),
            percentile_cont(0.5) WITHIN GROUP (ORDER BY t.days), percentile_cont(0.75) WITHIN GROUP (ORDER BY t.days)
        FROM (
            SELECT EXTRACT(EPOCH FROM w.first_dose - COALESCE(r.created_at, p.created_at)) / 86400.0 AS days
            FROM w JOIN {patients} p ON p.id = w.patient_id LEFT JOIN {referrals} r ON r.patient_id = w.patient_id
            WHERE NOT EXISTS (
                SELECT 1 FROM {courses} e WHERE e.patient_id = w.patient_id AND e.started_at < w.started_at
            )
        ) t
        ORDER BY 1, 2, 3
        """,
        [INSTRUMENTS, *_definitions()],
    )
    change = [
        ChangeRow(code, doses, n, round(float(mean), 1), round(float(delta), 1))
        for tag, code, doses, n, mean, delta in rows
        if tag == "change"
    ]
    rates = {code: (int(total), int(yes), int(remit)) for tag, code, total, yes, remit, _ in rows if tag == "rates"}
    ((_tag, _code, patients, *quartiles),) = (row for row in rows if row[0] == "delay")
    delay = Delay(int(patients), *(None if value is None else round(float(value), 1) for value in quartiles))
    return change, [_outcome(code, *rates.get(code, (0, 0, 0))) for code in INSTRUMENTS], delay


def _outcome(code, total, responders, remitters):
    instrument = instruments.get(code)
    return InstrumentOutcome(
        instrument=code,
        name=instrument.short_name,
        response=Rate("response", responders if instrument.response_fall_percent else None, total),
        remission=Rate("remission", remitters if instrument.remission_below is not None else None, total),
    )


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


WORK_MEM = "32MB"


@contextmanager
def without_jit():
    """PostgreSQL's JIT compiles a query it costs as large, for about half a second each: longer than these figures
    take to compute at 10,000 patients. Off for this transaction only, and with room to sort and hash the cohort's
    responses in memory (the default 4 MB spills the scores' sorts to disk at 10,000 patients). One statement."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('jit', 'off', true), set_config('work_mem', %s, true)", [WORK_MEM])
        yield


def outcomes_report(user, filters) -> Report:
    """Every figure for the user's cohort: four queries, whatever the number of patients."""
    courses = cohort_courses(user, filters)
    with without_jit():
        change, outcomes, delay = scores(courses)
        return Report(
            courses=course_counts(courses),
            change=change,
            outcomes=outcomes,
            adverse_events=adverse_event_rates(courses),
            referral_delay=delay,
            timeliness=timeliness(courses),
        )


# Research exports: each is its requester's alone ---------------------------------------------------------


def visible_research_exports(user):
    """The user's own exports, while they may still export (a coordinator who changes role loses the links)."""
    if not access.can(user, Permission.EXPORT_RESEARCH):
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
