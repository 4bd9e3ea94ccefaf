"""Reads of the course of care (courses, dose plans with their ledger, sessions, the chart's timeline).
Every one starts from kapcare.access; callers check the role's permission before showing them."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Q

from assessments import selectors as assessment_selectors
from kapcare import access
from kapcare.access import Permission

from .models import DosePlan, TherapySession, TreatmentCourse


def visible_courses(user):
    return TreatmentCourse.objects.filter(patient__in=access.visible_patients(user)).order_by("-started_at", "-id")


def visible_dose_plans(user):
    return (
        DosePlan.objects.filter(patient__in=access.visible_patients(user))
        .select_related("prescriber")
        .order_by("patient_id", "-version")
    )


def visible_sessions(user):
    return TherapySession.objects.filter(patient__in=access.visible_patients(user)).order_by("scheduled_at", "id")


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


def course_timeline(patient, *, evaluations, plans, sessions) -> list[TimelineEvent]:
    """Every signed event of the patient's care, oldest first, from records already loaded."""
    events = []
    for evaluation in evaluations:
        if evaluation.is_signed:
            events.append(
                TimelineEvent(
                    evaluation.signed_at,
                    f"Evaluation signed: {evaluation.get_decision_display().lower()}",
                    f"by {evaluation.prescriber}",
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
    weight_kg: object = None
    sessions: list = field(default_factory=list)
    show_plan: bool = False
    can_write_evaluation: bool = False
    can_write_plan: bool = False
    can_schedule: bool = False
    can_complete: bool = False

    @property
    def mg_per_kg(self):
        return self.plan.mg_per_kg(self.weight_kg) if self.plan else None


def course_for_chart(user, patient) -> CourseOnChart:
    """The course panel of a patient's chart. `patient` must come from a visible_* queryset. The caller has
    audited the chart read; the signed records listed belong to it."""
    course = open_course(patient)
    show_clinical = access.can(user, Permission.VIEW_EVALUATION)
    show_plan = access.can(user, Permission.VIEW_DOSE_PLAN)
    evaluations = assessment_selectors.evaluations_of_patient(user, patient) if show_clinical else []
    plans = list(visible_dose_plans(user).filter(patient=patient).exclude(status=DosePlan.Status.DRAFT))
    sessions = list(visible_sessions(user).filter(patient=patient))
    timeline = course_timeline(patient, evaluations=evaluations, plans=plans if show_plan else [], sessions=sessions)
    if not show_clinical:  # coordinators and the patient see that the course moved, not the clinical detail
        timeline = [event for event in timeline if "session" in event.title]
    active = next((plan for plan in plans if plan.status == DosePlan.Status.SIGNED), None)
    return CourseOnChart(
        patient=patient,
        course=course,
        timeline=timeline,
        plan=active if show_plan else None,
        ledger=ledger(course) if course else None,
        weight_kg=assessment_selectors.intake_weight_kg(patient) if show_plan and active else None,
        sessions=sessions,
        show_plan=show_plan,
        can_write_evaluation=access.can(user, Permission.WRITE_EVALUATION),
        can_write_plan=access.can(user, Permission.WRITE_DOSE_PLAN),
        can_schedule=access.can(user, Permission.SCHEDULE_SESSION),
        can_complete=access.can(user, Permission.COMPLETE_SESSION),
    )
