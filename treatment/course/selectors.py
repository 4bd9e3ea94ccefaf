"""Reads of the course of care (courses, dose plans with their ledger, sessions, the chart's timeline).
Every one starts from kapcare.access; callers check the role's permission before showing them."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from assessments import selectors as assessment_selectors
from assessments.models import Evaluation
from kapcare import access
from kapcare.access import Permission
from patients.access import visible_patients
from treatment.course.models import DosePlan, FollowUp, TreatmentCourse
from treatment.measurement import selectors as measurement_selectors
from treatment.notes.models import SessionNote
from treatment.sessions.models import TherapySession

# The weight a dose per kg is computed from: the prescriber's measurement at the evaluation, else (and said)
# the patient's self-report on the intake.
WEIGHT_SOURCES = {
    "evaluation": "measured at the evaluation",
    "intake": "self-reported on the intake (no weight was measured at the evaluation)",
}


@dataclass(frozen=True)
class DosingWeight:
    kg: object = None
    source: str = ""  # "evaluation", "intake" or "" (none recorded)

    @property
    def source_label(self):
        return WEIGHT_SOURCES.get(self.source, "not recorded")


def dosing_weights(patient_ids) -> dict:
    """{patient id: DosingWeight}: the latest signed evaluation's weight, else the intake's. One query, two
    when a patient has no weight measured at the evaluation."""
    evaluated = {}
    rows = (
        Evaluation.objects.signed()
        .filter(patient_id__in=list(patient_ids))
        .order_by("signed_at", "id")
        .values_list("patient_id", "weight_kg")
    )
    for patient_id, weight in rows:
        evaluated[patient_id] = weight
    unmeasured = [pid for pid in patient_ids if not evaluated.get(pid)]
    reported = assessment_selectors.intake_weights_kg(unmeasured) if unmeasured else {}
    weights = {pid: DosingWeight(kg, "evaluation") for pid, kg in evaluated.items() if kg}
    weights.update({pid: DosingWeight(kg, "intake") for pid, kg in reported.items() if pid not in weights})
    return weights


def dosing_weight(patient) -> DosingWeight:
    return dosing_weights([patient.pk]).get(patient.pk, DosingWeight())


def visible_courses(user):
    return TreatmentCourse.objects.filter(patient__in=visible_patients(user)).order_by("-started_at", "-id")


def visible_dose_plans(user):
    return (
        DosePlan.objects.filter(patient__in=visible_patients(user))
        .select_related("prescriber")
        .order_by("patient_id", "-version")
    )


def visible_sessions(user):
    return TherapySession.objects.filter(patient__in=visible_patients(user)).order_by("scheduled_at", "id")


@dataclass(frozen=True)
class Ledger:
    """Dosing sessions authorized by the active signed plan, used (completed), booked (scheduled) and left."""

    authorized: int
    used: int
    booked: int

    @property
    def remaining(self):
        return max(self.authorized - self.used, 0)

    @property
    def can_book(self):
        return max(self.authorized - self.used - self.booked, 0)


def ledgers_for_courses(course_ids) -> dict:
    """{course id: Ledger} in two queries whatever the number of courses."""
    course_ids = list(course_ids)
    if not course_ids:
        return {}
    authorized = dict(
        DosePlan.objects.signed().filter(course_id__in=course_ids).values_list("course_id", "doses_authorized")
    )
    counts = {
        row["course_id"]: row
        for row in TherapySession.objects.dosing()
        .filter(course_id__in=course_ids)
        .values("course_id")
        .annotate(
            used=Count("id", filter=Q(status=TherapySession.Status.COMPLETED)),
            booked=Count("id", filter=Q(status=TherapySession.Status.SCHEDULED)),
        )
    }
    return {
        course_id: Ledger(
            authorized=authorized.get(course_id) or 0,
            used=counts.get(course_id, {}).get("used", 0),
            booked=counts.get(course_id, {}).get("booked", 0),
        )
        for course_id in course_ids
    }


def ledger(course) -> Ledger:
    return ledgers_for_courses([course.pk])[course.pk]


def open_course(patient):
    return TreatmentCourse.objects.open().filter(patient=patient).first()


def draft_dose_plan(patient):
    return DosePlan.objects.filter(patient=patient, course__ended_at__isnull=True, status=DosePlan.Status.DRAFT).first()


def active_dose_plan(patient):
    return DosePlan.objects.signed().filter(patient=patient, course__ended_at__isnull=True).first()


@dataclass(frozen=True)
class TimelineEvent:
    at: datetime
    title: str
    detail: str = ""


def _dismissed_absolute_flags(evaluation):
    """An absolute contraindication the prescriber dismissed stays in sight on the chart, with their reason."""
    dismissed = [
        f"{review.flag.reason} (dismissed: {review.reason})"
        for review in evaluation.flag_reviews.all()
        if review.outcome == "dismissed" and review.flag.severity == "absolute"
    ]
    return f"; absolute contraindication dismissed: {'; '.join(dismissed)}" if dismissed else ""


def course_timeline(patient, *, evaluations, plans, sessions, follow_ups=()) -> list[TimelineEvent]:
    """Every signed event of the patient's care, oldest first, from records already loaded."""
    events = []
    for evaluation in evaluations:
        if evaluation.is_signed:
            events.append(
                TimelineEvent(
                    evaluation.signed_at,
                    f"Evaluation signed: {evaluation.get_decision_display().lower()}",
                    f"by {evaluation.prescriber}{_dismissed_absolute_flags(evaluation)}",
                )
            )
            for addendum in evaluation.addenda.all():
                events.append(TimelineEvent(addendum.signed_at, "Evaluation addendum signed", f"by {addendum.author}"))
    for plan in plans:
        if plan.signed_at:
            events.append(
                TimelineEvent(
                    plan.signed_at,
                    f"Dose plan version {plan.version} signed",
                    f"{plan.full_dose_mg} mg {plan.get_route_display().lower()}, "
                    f"{plan.doses_authorized} dosing sessions authorized, by {plan.prescriber}",
                )
            )
    for follow_up in follow_ups:
        if follow_up.is_signed:
            detail = f"by {follow_up.prescriber}"
            if follow_up.decision == FollowUp.Decision.MORE_DOSES:
                detail = f"{follow_up.additional_doses} more dosing sessions authorized, {detail}"
            events.append(
                TimelineEvent(
                    follow_up.signed_at, f"Follow-up visit signed: {follow_up.get_decision_display()}", detail
                )
            )
    for session in sessions:
        if session.status == TherapySession.Status.COMPLETED:
            events.append(TimelineEvent(session.completed_at, f"{session.get_kind_display()} session completed"))
    return sorted(events, key=lambda event: event.at)


@dataclass
class CourseOnChart:
    """What the chart's course panel shows this user. Render with templates/treatment/_chart_course.html."""

    patient: object
    course: object
    timeline: list = field(default_factory=list)
    plan: object = None  # the active signed dose plan, for clinicians
    ledger: Ledger | None = None
    weight: DosingWeight | None = None
    sessions: list = field(default_factory=list)
    show_plan: bool = False
    can_write_evaluation: bool = False
    can_write_plan: bool = False
    can_schedule: bool = False
    can_complete: bool = False
    show_follow_up: bool = False
    can_write_follow_up: bool = False
    show_prescriptions: bool = False
    can_prescribe: bool = False
    next_follow_up: object = None  # the pending visit of the open course, for clinicians
    today: date | None = None

    @property
    def follow_up_days_overdue(self):
        return self.next_follow_up.days_overdue(self.today) if self.next_follow_up else 0

    @property
    def mg_per_kg(self):
        return self.plan.mg_per_kg(self.weight.kg) if self.plan and self.weight else None


def course_for_chart(user, patient) -> CourseOnChart:
    """The course panel of a patient's chart. `patient` must come from a visible_* queryset. The caller has
    audited the chart read; the signed records listed belong to it."""
    course = open_course(patient)
    show_clinical = access.can(user, Permission.VIEW_EVALUATION)
    show_plan = access.can(user, Permission.VIEW_DOSE_PLAN)
    evaluations = assessment_selectors.evaluations_of_patient(user, patient) if show_clinical else []
    plans = list(visible_dose_plans(user).filter(patient=patient).exclude(status=DosePlan.Status.DRAFT))
    sessions = list(visible_sessions(user).filter(patient=patient))
    show_follow_up = access.can(user, Permission.VIEW_FOLLOW_UP)
    follow_ups = list(visible_follow_ups(user).filter(patient=patient)) if show_follow_up else []
    timeline = course_timeline(
        patient, evaluations=evaluations, plans=plans if show_plan else [], sessions=sessions, follow_ups=follow_ups
    )
    if not show_clinical:  # coordinators and the patient see that the course moved, not the clinical detail
        timeline = [event for event in timeline if "session" in event.title]
    active = next((plan for plan in plans if plan.status == DosePlan.Status.SIGNED), None)
    return CourseOnChart(
        patient=patient,
        course=course,
        timeline=timeline,
        plan=active if show_plan else None,
        ledger=ledger(course) if course else None,
        weight=dosing_weight(patient) if show_plan and active else None,
        sessions=sessions,
        show_plan=show_plan,
        can_write_evaluation=access.can(user, Permission.WRITE_EVALUATION),
        can_write_plan=access.can(user, Permission.WRITE_DOSE_PLAN),
        can_schedule=access.can(user, Permission.SCHEDULE_SESSION),
        can_complete=access.can(user, Permission.COMPLETE_SESSION),
        show_follow_up=show_follow_up,
        can_write_follow_up=access.can(user, Permission.WRITE_FOLLOW_UP),
        show_prescriptions=access.can(user, Permission.VIEW_PRESCRIPTIONS),
        can_prescribe=access.can(user, Permission.WRITE_PRESCRIPTION) and active is not None,
        next_follow_up=next(
            (f for f in follow_ups if not f.is_signed and course and f.course_id == course.pk),
            None,
        ),
        today=timezone.localdate(),
    )


# Follow-up visits -----------------------------------------------------------------------------------

FOLLOW_UP_DUE_WITHIN_DAYS = 7
NEARLY_EXHAUSTED_REMAINING = 1


def visible_follow_ups(user):
    return (
        FollowUp.objects.filter(patient__in=visible_patients(user))
        .select_related("prescriber")
        .order_by("-due_on", "-id")
    )


def pending_follow_up(user, patient):
    """The open course's next visit (a draft), or None."""
    return visible_follow_ups(user).pending().filter(patient=patient, course__ended_at__isnull=True).first()


@dataclass(frozen=True)
class DueFollowUp:
    follow_up: FollowUp
    patient: object
    due_on: date
    days_overdue: int
    days_until: int


def follow_ups_due(user, *, today=None, within_days=FOLLOW_UP_DUE_WITHIN_DAYS, limit=50) -> list[DueFollowUp]:
    """The prescriber's visits due within `within_days` or past due, most overdue first. One query."""
    return follow_ups_due_among(visible_follow_ups(user), today=today, within_days=within_days, limit=limit)


def follow_ups_due_among(follow_ups, *, today=None, within_days=None, limit=None) -> list[DueFollowUp]:
    """follow_ups_due over a FollowUp queryset; `within_days` None: every pending visit of an open course."""
    today = today or timezone.localdate()
    rows = follow_ups.pending().filter(course__ended_at__isnull=True)
    if within_days is not None:
        rows = rows.filter(due_on__lte=today + timedelta(days=within_days))
    rows = rows.select_related("patient").order_by("due_on", "patient__last_name", "patient__first_name", "id")
    return [
        DueFollowUp(
            follow_up=row,
            patient=row.patient,
            due_on=row.due_on,
            days_overdue=max((today - row.due_on).days, 0),
            days_until=max((row.due_on - today).days, 0),
        )
        for row in rows[:limit]
    ]


def dose_plans_nearing_exhaustion(user, *, remaining_at_most=NEARLY_EXHAUSTED_REMAINING, limit=50) -> list[DosePlan]:
    """Active dose plans of open courses with at most `remaining_at_most` dosing sessions left (authorized
    minus completed), fewest left first. Each plan carries `used`, `booked`, `remaining` and `next_follow_up_on`
    (the pending visit's due date, or None). One query."""
    return list(plans_nearing_exhaustion_among(visible_dose_plans(user), remaining_at_most=remaining_at_most)[:limit])


def plans_nearing_exhaustion_among(plans, *, remaining_at_most=NEARLY_EXHAUSTED_REMAINING):
    """dose_plans_nearing_exhaustion over a DosePlan queryset, as a queryset."""

    def sessions(status):
        return Coalesce(
            Subquery(
                TherapySession.objects.filter(course=OuterRef("course"), kind=TherapySession.Kind.DOSING, status=status)
                .order_by()
                .values("course")
                .annotate(n=Count("id"))
                .values("n"),
                output_field=IntegerField(),
            ),
            Value(0),
        )

    next_visit = FollowUp.objects.pending().filter(course=OuterRef("course")).values("due_on")[:1]
    return (
        plans.signed()
        .filter(course__ended_at__isnull=True)
        .annotate(
            used=sessions(TherapySession.Status.COMPLETED),
            booked=sessions(TherapySession.Status.SCHEDULED),
            next_follow_up_on=Subquery(next_visit),
        )
        .annotate(remaining=F("doses_authorized") - F("used"))
        .filter(remaining__lte=remaining_at_most)
        .select_related("patient")
        .order_by("remaining", "patient__last_name", "patient__first_name", "id")
    )


@dataclass(frozen=True)
class SessionReview:
    session: TherapySession
    documented: bool


def dosing_sessions_for_review(course) -> list[SessionReview]:
    """The course's completed dosing sessions, each flagged when its progress note is not signed. One query."""
    if course is None:
        return []
    sessions = (
        TherapySession.objects.dosing()
        .completed()
        .filter(course=course)
        .annotate(documented=Exists(SessionNote.objects.signed().filter(session=OuterRef("pk"))))
        .order_by("scheduled_at", "id")
    )
    return [SessionReview(s, documented=s.documented) for s in sessions]


def scores_since_baseline(patient) -> list:
    """Questionnaire scores since the course baseline, one sentence per instrument, for the follow-up note (the
    caller has checked the prescriber's access to the patient)."""
    return measurement_selectors.since_baseline_lines(measurement_selectors.score_history(None, patient))


def side_effects_for_follow_up(course) -> list:
    """Side effects reported in the course, for the follow-up note (treatment.AdverseEvent, when present)."""
    if course is None or not hasattr(course, "adverse_events"):
        return []
    return list(course.adverse_events.all())
