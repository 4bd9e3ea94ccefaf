"""The course of care's due work, from the rules where they live (the measurement schedule, follow-ups, notes,
dose plans, holds), in the shape patients.due_work stores. Registered by TreatmentConfig.ready()."""

from datetime import UTC, datetime, time

from django.db.models import Exists, Q
from django.utils import timezone

from assessments.models import QuestionnaireResponse
from kapcare import prepared
from patients.due_work import Due
from patients.models import DueItem, Patient
from treatment.course import selectors as course_selectors
from treatment.measurement import selectors as measurement_selectors
from treatment.notes import selectors as note_selectors
from treatment.sessions import selectors as session_selectors

from .models import DosePlan, FollowUp, SessionNote, TherapySession, TreatmentCourse

Kind, Role = DueItem.Kind, DueItem.Role
# Who on the care team does each kind of work (kapcare.access.DUE_WORK_ROLES says which user roles that is).
KIND_ROLES = {
    Kind.QUESTIONNAIRE: Role.TEAM,
    Kind.FOLLOW_UP: Role.PRESCRIBER,
    Kind.DOSE_PLAN_ENDING: Role.PRESCRIBER,
    Kind.NOTE_TO_SIGN: Role.THERAPIST,
    Kind.DOCUMENTATION: Role.TEAM,
    Kind.HELD_SESSION: Role.TEAM,
}


def start_of_day(day):
    """A calendar day as the instant it starts (UTC), to order date-due items with timed ones."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def _item(kind, patient_id, key, *, on=None, at=None, object_id=None, urgency=1, detail=""):
    """A Due on a day (`on`) or at a moment (`at`)."""
    at = at or start_of_day(on)
    on = on or timezone.localdate(at)
    return Due(patient_id, kind, str(key), KIND_ROLES[kind], at, on, object_id, urgency, detail)


def _questionnaires(patient_ids, now):
    responses = QuestionnaireResponse.objects.all()
    for due in measurement_selectors.questionnaires_due_among(patient_ids, responses=responses, now=now):
        yield _item(Kind.QUESTIONNAIRE, due.patient.pk, due.code, on=due.due_on, detail=due.reason)


def _follow_ups(patient_ids, now):
    rows = FollowUp.objects.filter(patient_id__in=patient_ids)
    for due in course_selectors.follow_ups_due_among(rows, today=timezone.localdate(now)):
        pk = due.follow_up.pk
        yield _item(Kind.FOLLOW_UP, due.patient.pk, pk, on=due.due_on, object_id=pk)


def _session_words(session):
    return f"{session.get_kind_display().lower()} session, {timezone.localdate(session.scheduled_at):%b %-d, %Y}"


def _documentation(patient_ids, now):
    for due in note_selectors.missing_before_follow_up_among(patient_ids, today=timezone.localdate(now)):
        pk, detail = due.session.pk, _session_words(due.session)
        yield _item(Kind.DOCUMENTATION, due.patient.pk, pk, on=due.follow_up_due_on, object_id=pk, detail=detail)


def _notes_to_sign(patient_ids, now):
    for session in note_selectors.sessions_with_unsigned_notes(patient_ids):
        pk, state = session.pk, "draft not signed" if getattr(session, "note", None) else "no note yet"
        detail = f"{_session_words(session)} · {state}"
        yield _item(Kind.NOTE_TO_SIGN, session.patient_id, pk, at=session.scheduled_at, object_id=pk, detail=detail)


def _plan_words(plan):
    booked = f" ({plan.booked} booked)" if plan.booked else ""
    visit = f"next follow-up due {plan.next_follow_up_on:%b %-d, %Y}" if plan.next_follow_up_on else ""
    left = f"{plan.remaining} of {plan.doses_authorized} dosing session{'s' if plan.doses_authorized != 1 else ''}"
    return f"version {plan.version}: {left} left{booked} · {visit or 'no follow-up planned'}"


def _dose_plans_ending(patient_ids, now):
    plans = DosePlan.objects.filter(patient_id__in=patient_ids)
    for plan in course_selectors.plans_nearing_exhaustion_among(plans):
        on = plan.next_follow_up_on or timezone.localdate(plan.signed_at)
        urgency, detail = max(plan.remaining, 0), _plan_words(plan)
        yield _item(
            Kind.DOSE_PLAN_ENDING, plan.patient_id, plan.pk, on=on, object_id=plan.pk, urgency=urgency, detail=detail
        )


def _held_sessions(patient_ids, now):
    sessions = TherapySession.objects.filter(patient_id__in=patient_ids)
    for held in session_selectors.held_dosing_sessions_among(sessions, now=now):
        session = held.session
        yield _item(
            Kind.HELD_SESSION,
            session.patient_id,
            session.pk,
            at=session.scheduled_at,
            object_id=session.pk,
            urgency=0,
            detail=held.hold.message,
        )


# Each rule with what its items start from: for patients with no such row the rule finds nothing, so it is not
# run. Most services (a referral, an assignment, a consent, an intake) change patients who have no course yet, and
# their refresh is then one query instead of a dozen; a patient in a course has all rules run only while a dose is
# booked, a follow-up is pending and a plan is signed. Each start is a condition its rule's own query requires.
STARTS = {
    "open_course": TreatmentCourse.objects.open(),  # questionnaires_due_among: the open courses
    "pending_follow_up": FollowUp.objects.pending().filter(course__ended_at__isnull=True),
    "done_or_drafted_session": TherapySession.objects.filter(
        Q(status=TherapySession.Status.COMPLETED) | Q(note__status=SessionNote.Status.DRAFT)
    ),
    "signed_plan": DosePlan.objects.signed().filter(course__ended_at__isnull=True),
    "booked_dose": TherapySession.objects.filter(
        status=TherapySession.Status.SCHEDULED, kind=TherapySession.Kind.DOSING
    ),
}
RULES = (
    (_questionnaires, "open_course"),
    (_follow_ups, "pending_follow_up"),
    (_documentation, "pending_follow_up"),  # a completed session's note is missing before the pending visit
    (_notes_to_sign, "done_or_drafted_session"),
    (_dose_plans_ending, "signed_plan"),
    (_held_sessions, "booked_dose"),
)


def _starts(patient_ids):
    return (
        Patient.objects.filter(pk__in=patient_ids)
        .order_by()
        .annotate(**{name: Exists(rows.filter(patient_id__in=patient_ids)) for name, rows in STARTS.items()})
        .values(*STARTS)[:1]
    )


# Every service write asks it: built and compiled once per process (its five subqueries cost about 2 ms to build).
_STARTS = prepared.PreparedForIds(_starts)


def _starts_with_rows(patient_ids) -> set:
    """Which STARTS have a row for any of these patients. One query."""
    found = _STARTS(patient_ids)
    return {name for name, present in (found[0] if found else {}).items() if present}


def derive(patient_ids, now) -> list[Due]:
    """Every item the course-of-care rules say is due now for these patients (a list of their ids: each rule's
    queries compare the ids themselves, not a subquery of patients each would compile again)."""
    present = _starts_with_rows(patient_ids)
    return [item for rule, start in RULES if start in present for item in rule(patient_ids, now)]
