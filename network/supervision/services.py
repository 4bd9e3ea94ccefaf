"""Writes of supervision: assigning a supervisor, selecting signed records by the policy, the review and the
prescriber's acknowledgement. Selection runs from Celery tasks (lower apps sign records and cannot call up
here): `supervision_select` for one record, enqueued by each sign service on commit, and `supervision_reconcile`
for every recently signed record not yet considered (the beat task, for a lost message)."""

import hashlib
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Min
from django.urls import reverse
from django.utils import timezone

from assessments.models import Evaluation, EvaluationFlagReview, Severity
from kapcare import access
from kapcare.access import Permission
from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from kapcare.services import service
from messaging.services import notification_create
from treatment.adverse_events.models import AdverseEvent
from treatment.course.models import DosePlan, FollowUp

from .models import SupervisionAssignment, SupervisionCase, SupervisionComment
from .selectors import RECORD_MODELS, policy_of

Kind, Reason = SupervisionCase.Kind, SupervisionCase.Reason
RECONCILE_WINDOW = timedelta(days=7)
ESCALATE_AFTER = timedelta(days=7)  # past the due date, the coordinators are told too


@service(Permission.ASSIGN_SUPERVISOR, object_type="network.supervisionassignment")
def supervisor_assign(*, actor, prescriber, supervisor):
    """`prescriber` is supervised by `supervisor` (both prescribers of the actor's medical group)."""
    for person in (prescriber, supervisor):
        if person.role != person.Role.PRESCRIBER or person.organization_id != actor.organization_id:
            raise ValidationError("Supervision is between prescribers of your medical group.")
    assignment = SupervisionAssignment.objects.filter(prescriber=prescriber).first() or SupervisionAssignment(
        prescriber=prescriber
    )
    assignment.supervisor = supervisor
    assignment.full_clean()
    assignment.save()
    audit_record(actor, AuditEvent.Action.UPDATE, assignment, fields=["supervisor"])
    # The reviews still open go with the prescriber to the new supervisor (their grant, their reminders): the
    # previous supervisor no longer reads those records.
    open_cases = SupervisionCase.objects.filter(prescriber=prescriber, reviewed_at__isnull=True).exclude(reason="")
    open_cases.exclude(supervisor=supervisor).update(supervisor=supervisor, reminded_at=None, escalated_at=None)
    return assignment


# Selection --------------------------------------------------------------------------------------------


def is_sampled(policy, record_id):
    """Deterministic, auditable sampling: the first 8 bytes of sha256("seed:record id") modulo 100, below the
    policy's percentage. The same record and seed always give the same answer."""
    digest = hashlib.sha256(f"{policy.sample_seed}:{record_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100 < policy.sample_percent


def _patient_rank(evaluation):
    """1 for the prescriber's first patient (by their first signed evaluation), 2 for the second..."""
    firsts = (
        Evaluation.objects.signed()
        .filter(prescriber_id=evaluation.prescriber_id)
        .values("patient_id")
        .annotate(first=Min("signed_at"))
    )
    mine = firsts.get(patient_id=evaluation.patient_id)["first"]
    return firsts.filter(first__lte=mine).count()


def _evaluation_reason(evaluation, policy):
    dismissed_absolute = EvaluationFlagReview.objects.filter(
        evaluation=evaluation, outcome=EvaluationFlagReview.Outcome.DISMISSED, flag__severity=Severity.ABSOLUTE
    )
    if evaluation.decision == Evaluation.Decision.ELIGIBLE and dismissed_absolute.exists():
        return Reason.DISMISSED_ABSOLUTE_FLAG
    if _patient_rank(evaluation) <= policy.first_patients:
        return Reason.FIRST_PATIENTS
    return Reason.SAMPLED if is_sampled(policy, evaluation.pk) else Reason.NOT_PICKED


def _dose_plan_reason(plan, policy):
    weight = (
        Evaluation.objects.signed()
        .filter(patient_id=plan.patient_id, weight_kg__isnull=False)
        .order_by("-signed_at")
        .values_list("weight_kg", flat=True)
        .first()
    )
    mg_per_kg = plan.mg_per_kg(weight)
    if mg_per_kg is not None and mg_per_kg > policy.mg_per_kg_threshold:
        return Reason.MG_PER_KG
    previous = (
        DosePlan.objects.history()
        .filter(course_id=plan.course_id, version__lt=plan.version)
        .values_list("full_dose_mg", flat=True)
    ).first()
    if previous and (plan.full_dose_mg - previous) * 100 > previous * policy.dose_increase_percent:
        return Reason.DOSE_INCREASE
    return Reason.NOT_PICKED


def _follow_up_reason(follow_up, policy):
    adverse = AdverseEvent.objects.filter(course_id=follow_up.course_id).exists()
    if follow_up.decision == FollowUp.Decision.DISCONTINUE and adverse:
        return Reason.ADVERSE_EVENT
    return Reason.NOT_PICKED


REASONS = {Kind.EVALUATION: _evaluation_reason, Kind.DOSE_PLAN: _dose_plan_reason, Kind.FOLLOW_UP: _follow_up_reason}


@service()
def supervision_select(*, actor, kind, record):
    """Consider one signed record once: pick it for its prescriber's supervisor when the policy says so. Returns
    the case (reason blank when not picked), or None when the record is unsigned or its prescriber has no
    supervisor yet (then a later run considers it again)."""
    assignment = SupervisionAssignment.objects.filter(prescriber_id=record.prescriber_id).first()
    if not record.is_signed or assignment is None:
        return None
    existing = SupervisionCase.objects.filter(kind=kind, record_id=record.pk).first()
    if existing is not None:
        return existing
    policy = policy_of(assignment.prescriber.organization_id)
    reason = REASONS[kind](record, policy)
    picked = reason != Reason.NOT_PICKED
    try:
        with transaction.atomic():  # the signature's task and the reconcile beat may race: one case per record
            case = SupervisionCase.objects.create(
                kind=kind,
                record_id=record.pk,
                patient_id=record.patient_id,
                prescriber_id=record.prescriber_id,
                supervisor_id=assignment.supervisor_id if picked else None,
                reason=reason,
                due_on=timezone.localdate() + timedelta(days=policy.review_days) if picked else None,
            )
    except IntegrityError:
        return SupervisionCase.objects.get(kind=kind, record_id=record.pk)
    if picked:
        audit_record(actor, AuditEvent.Action.CREATE, case)
    return case


def supervision_reconcile(*, since=None):
    """Select every record signed since `since` (default: the last week) that no case has considered yet.
    Returns how many cases were created."""
    since = since or timezone.now() - RECONCILE_WINDOW
    supervised = SupervisionAssignment.objects.values("prescriber_id")  # the others' records wait for a supervisor
    created = 0
    for kind, model in RECORD_MODELS.items():
        considered = SupervisionCase.objects.filter(kind=kind).values("record_id")
        fresh = model.objects.exclude(status=model.Status.DRAFT).filter(signed_at__gte=since)
        fresh = fresh.filter(prescriber_id__in=supervised)
        for record in fresh.exclude(pk__in=considered).order_by("signed_at"):
            created += supervision_select(actor=None, kind=kind, record=record) is not None
    return created


# Review ----------------------------------------------------------------------------------------------


def _require_supervisor(*, actor, case, **_):
    access.require_supervision_side(actor, case, "supervisor")


def _require_prescriber(*, actor, case, **_):
    access.require_supervision_side(actor, case, "prescriber")


@service(before=_require_supervisor)
def supervision_review(*, actor, case, verdict, comment):
    """The supervisor's review: agree / discuss / disagree with a comment. Reviewed once."""
    if case.reviewed_at is not None:
        raise ValidationError("This record has been reviewed already.")
    if verdict not in SupervisionCase.Verdict.values:
        raise ValidationError({"verdict": "Choose agree, discuss or disagree."})
    if verdict != SupervisionCase.Verdict.AGREE and not comment.strip():
        raise ValidationError({"comment": "Say what to discuss or why you disagree."})
    case.verdict, case.comment, case.reviewed_at = verdict, comment.strip(), timezone.now()
    case.save(update_fields=["verdict", "comment", "reviewed_at"])
    audit_record(actor, AuditEvent.Action.UPDATE, case, fields=["verdict", "comment"])
    title = f"Supervision feedback: {case.get_verdict_display().lower()}"
    notification_create(recipients=[case.prescriber], kind="supervision_feedback", title=title, url=_url(case))
    return case


@service(before=_require_prescriber)
def supervision_acknowledge(*, actor, case):
    """The prescriber acknowledges a reviewed case ("disagree" must be acknowledged). Once."""
    if case.reviewed_at is None:
        raise ValidationError("This record has not been reviewed yet.")
    if case.acknowledged_at is None:
        case.acknowledged_at = timezone.now()
        case.save(update_fields=["acknowledged_at"])
        audit_record(actor, AuditEvent.Action.UPDATE, case, fields=["acknowledged_at"])
    return case


def _require_a_party(*, actor, case, **_):
    side = "supervisor" if case.supervisor_id == actor.pk else "prescriber"
    access.require_supervision_side(actor, case, side)


@service(before=_require_a_party)
def supervision_comment(*, actor, case, body):
    """A message in the supervision thread, which a "discuss" review opens; the other party is notified."""
    if case.verdict != SupervisionCase.Verdict.DISCUSS:
        raise ValidationError("A supervision thread opens when the supervisor asks to discuss.")
    if not body.strip():
        raise ValidationError({"body": "Write the message."})
    comment = SupervisionComment.objects.create(case=case, author=actor, body=body.strip())
    audit_record(actor, AuditEvent.Action.CREATE, case, fields=["comments"])
    other = case.prescriber if actor.pk == case.supervisor_id else case.supervisor
    notification_create(recipients=[other], kind="supervision_thread", title="New supervision message", url=_url(case))
    return comment


# Overdue reviews --------------------------------------------------------------------------------------


def _url(case):
    return reverse("network:supervision-case", args=[case.pk])


def supervision_remind_overdue(*, today=None):
    """Tell each supervisor once about a review past its due date; a week later tell the prescriber's medical
    group's coordinators once. Rows are claimed (SKIP LOCKED) so two runs never notify twice. Returns
    (reminded, escalated)."""
    today = today or timezone.localdate()
    late = SupervisionCase.objects.exclude(reason="").filter(reviewed_at__isnull=True, due_on__lt=today)
    reminded = _notify_once(late, "reminded_at", lambda case: [case.supervisor])
    escalated = _notify_once(late.filter(due_on__lt=today - ESCALATE_AFTER), "escalated_at", _coordinators)
    return reminded, escalated


def _coordinators(case):
    return User.objects.filter(role=User.Role.COORDINATOR, organization_id=case.prescriber.organization_id)


@transaction.atomic
def _notify_once(cases, marker, recipients_of):
    claimed = list(
        cases.filter(**{f"{marker}__isnull": True})
        .select_related("supervisor", "prescriber")
        .select_for_update(skip_locked=True, of=("self",))
    )
    for case in claimed:
        notification_create(
            recipients=recipients_of(case),
            kind="supervision_overdue",
            title="A supervision review is overdue",
            url=_url(case),
        )
    SupervisionCase.objects.filter(pk__in=[case.pk for case in claimed]).update(**{marker: timezone.now()})
    return len(claimed)
