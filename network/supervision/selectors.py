"""Reads of supervision, each starting from kapcare.access: the supervisor's queue, the prescriber's feedback,
the coordinator's overdue list, and the supervised record and its context read through the case's grant (audited
as such).

The supervision grant (the supervisor's, on a picked case) opens, read-only, the picked record and its context:
the episode of care it belongs to, that is its treatment course (for an evaluation: the course its signature
opened or fell in), from the end of the patient's previous course to the end of this one. Within it:
- the signed evaluations, dose plan versions (signed and superseded) and follow-up visits: the prescriber's signed
  work the supervisor judges the record against;
- the course's adverse events;
- the questionnaire scores (instrument, date, total, band; not the item answers).
Nothing else: not the intake, contacts, consents, session notes, psychotherapy notes or messages, nor another
course's records, nor the patient's chart or API routes (the care team's); any of those is a 404 to the supervisor.
"""

from dataclasses import dataclass

from django.db.models import Max, Q
from django.http import Http404
from django.utils import timezone

from assessments.models import Evaluation, QuestionnaireResponse
from kapcare import access
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_denied, audit_record, audit_record_many
from treatment.adverse_events.models import AdverseEvent
from treatment.course.models import DosePlan, FollowUp, TreatmentCourse

from .models import SupervisionCase, SupervisionPolicy

RECORD_MODELS = {
    SupervisionCase.Kind.EVALUATION: Evaluation,
    SupervisionCase.Kind.DOSE_PLAN: DosePlan,
    SupervisionCase.Kind.FOLLOW_UP: FollowUp,
}


def visible_cases(user):
    cases = SupervisionCase.objects.select_related("prescriber", "supervisor")
    return access.visible_supervision_cases(user, cases)


def queue(user):
    """The supervisor's open reviews, soonest due first."""
    return visible_cases(user).filter(supervisor=user, reviewed_at__isnull=True).order_by("due_on")


def feedback(user):
    """The prescriber's reviewed work, newest first; a "disagree" waits for acknowledgement."""
    return visible_cases(user).filter(prescriber=user, reviewed_at__isnull=False).order_by("-reviewed_at")


def overdue(user, today=None):
    """Reviews past their due date, for the coordinator to chase (and for the supervisor's own page)."""
    today = today or timezone.localdate()
    return visible_cases(user).filter(reviewed_at__isnull=True, due_on__lt=today).order_by("due_on")


def policy_of(medical_group_id):
    """The medical group's policy (the defaults until a coordinator changes them); read by everyone."""
    return SupervisionPolicy.objects.filter(medical_group_id=medical_group_id).first() or SupervisionPolicy(
        medical_group_id=medical_group_id
    )


def supervised_record(user, case):
    """The record under review, reached through the case (not the care team): audited in the patient's access
    history as a supervision read when the supervisor opens it."""
    record = RECORD_MODELS[case.kind].objects.get(pk=case.record_id)
    audit_record(user, AuditEvent.Action.READ, record, detail=_via(user, case))
    return record


def _via(user, case):
    return {"via": "supervision", "case": str(case.pk)} if case.supervisor_id == user.pk else None


# The grant's context (the module docstring says what it holds) --------------------------------------------

CONTEXT_MODELS = {**RECORD_MODELS, "adverse_event": AdverseEvent}


@dataclass
class CaseContext:
    course: TreatmentCourse | None
    evaluations: list
    dose_plans: list
    follow_ups: list
    adverse_events: list
    scores: list

    def records(self):
        return [*self.evaluations, *self.dose_plans, *self.follow_ups, *self.adverse_events]


def _episode(case, record):
    """(course or None, start, end) of the record's episode: the window outcomes uses too (outcomes.selectors)."""
    courses = TreatmentCourse.objects.filter(patient_id=case.patient_id)
    if getattr(record, "course_id", None):
        course = courses.get(pk=record.course_id)
    else:  # an evaluation: the course open when it was signed, or the one it opened
        course = (
            courses.filter(Q(ended_at__isnull=True) | Q(ended_at__gte=record.signed_at)).order_by("started_at").first()
        )
    before = course.started_at if course else record.signed_at
    start = courses.filter(ended_at__lte=before).aggregate(end=Max("ended_at"))["end"]
    return course, start, course.ended_at if course else None


def _within(queryset, field, start, end):
    if start is not None:
        queryset = queryset.filter(**{f"{field}__gt": start})
    return queryset if end is None else queryset.filter(**{f"{field}__lte": end})


def case_context(case, record) -> CaseContext:
    """The records the case's grant opens besides the picked one (unaudited: the callers audit what they show)."""
    course, start, end = _episode(case, record)
    patient = case.patient_id
    evaluations = _within(Evaluation.objects.signed().filter(patient_id=patient), "signed_at", start, end)
    scores = _within(QuestionnaireResponse.objects.filter(patient_id=patient), "submitted_at", start, end)
    in_course = {"course": course} if course else {"pk__in": []}
    return CaseContext(
        course=course,
        evaluations=list(evaluations.order_by("signed_at")),
        dose_plans=list(DosePlan.objects.exclude(status=DosePlan.Status.DRAFT).filter(**in_course).order_by("version")),
        follow_ups=list(FollowUp.objects.signed().filter(**in_course).order_by("signed_at")),
        adverse_events=list(AdverseEvent.objects.filter(**in_course).order_by("reported_at")),
        scores=list(scores.defer("answers").order_by("submitted_at")),
    )


def context_items(context):
    """(kind, record) of each record of the context, the kinds of CONTEXT_MODELS."""
    return [
        *(("evaluation", obj) for obj in context.evaluations),
        *(("dose_plan", obj) for obj in context.dose_plans),
        *(("follow_up", obj) for obj in context.follow_ups),
        *(("adverse_event", obj) for obj in context.adverse_events),
    ]


def supervised_context(user, case, record) -> CaseContext | None:
    """The case's context for its supervisor (None for anyone else), each record and score shown audited in the
    patient's access history as a supervision read, in one INSERT."""
    if case.supervisor_id != user.pk:
        return None
    context = case_context(case, record)
    shown = [obj for obj in (*context.records(), *context.scores) if obj.pk != record.pk]
    audit_record_many(user, AuditEvent.Action.READ, shown, detail=_via(user, case))
    return context


def context_record(user, case, kind, record_id):
    """One record of the case's context, read by its supervisor through the grant (audited as a supervision
    read); 404 (audited) for anything outside it, and for anyone but the supervisor."""
    model = CONTEXT_MODELS.get(kind)
    picked = RECORD_MODELS[case.kind].objects.get(pk=case.record_id)
    context = case_context(case, picked) if model and case.supervisor_id == user.pk else None
    items = context_items(context) if context else []
    record = next((obj for of_kind, obj in items if of_kind == kind and str(obj.pk) == str(record_id)), None)
    if record is None:
        object_type = model._meta.label_lower if model else "network.supervisioncase"
        audit_denied(user, AuditEvent.Action.READ, object_type=object_type, object_id=record_id)
        raise Http404("This record is not part of the supervised record's context.")
    audit_record(user, AuditEvent.Action.READ, record, detail=_via(user, case))
    return record


ADVERSE_EVENT_FIELDS = ("kind", "severity", "onset_minutes", "description", "action_taken", "action_details")


def _content_fields(record):
    names = getattr(record, "CONTENT_FIELDS", ADVERSE_EVENT_FIELDS)
    return [record._meta.get_field(name) for name in names if hasattr(record, name)]


def record_fields(record):
    """(label, value) of what the signature covers (an adverse event: what was reported), for the review page."""
    return [(field.verbose_name.capitalize(), _shown(record, field)) for field in _content_fields(record)]


def record_values(record):
    """{field name: value shown} of the same fields, for the API."""
    return {field.name: _shown(record, field) for field in _content_fields(record)}


def _shown(record, field):
    if field.choices:
        return getattr(record, f"get_{field.name}_display")()
    return getattr(record, field.attname)
