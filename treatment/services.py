"""Writes to the course of care. Keyword-only, actor first, atomic, audited.

The patient's stage after the front door is derived here (`course_refresh`) from signed records: the
latest signed evaluation, and completed dosing sessions. Use cases that start lower down and move the
stage (signing an evaluation) are orchestrated here, because treatment sits above assessments.
Permission is checked before each transaction opens, so the audit row of a refusal is not rolled back.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from assessments import selectors as assessment_selectors
from assessments import services as assessment_services
from assessments.models import Evaluation
from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from kapcare.rules import RuleRefused
from patients import services as patient_services
from patients.models import Patient, Stage

from . import gates
from .models import DosePlan, TherapySession, TreatmentCourse

# Stages set by follow-up visits (a later issue), which course_refresh leaves alone.
STAGES_AFTER_DOSING = {Stage.MAINTENANCE, Stage.COMPLETED, Stage.DISCONTINUED}
DOSE_PLAN_FIELDS = DosePlan.CONTENT_FIELDS


def _lock_patient(patient):
    """One course-of-care write at a time per patient (limits and versions are checked, then written)."""
    return Patient.objects.select_for_update().get(pk=patient.pk)


def course_current(*, actor, patient) -> TreatmentCourse:
    """The patient's open course, opened now if there is none."""
    course = TreatmentCourse.objects.open().filter(patient=patient).first()
    if course is None:
        course = TreatmentCourse.objects.create(patient=patient, started_at=timezone.now())
        audit_record(actor, AuditEvent.Action.CREATE, course)
    return course


def course_refresh(*, actor, patient) -> Patient:
    """Derive the patient's stage from signed records and store it on the patient.

    Before an evaluation is signed the front-door rules of patients.services apply. Then the latest signed
    evaluation decides: eligible -> preparation, or dosing once a dosing session is completed; ineligible
    -> ineligible; deferred -> evaluation. Maintenance, completed and discontinued come from follow-up
    visits (a later issue) and are left as they are."""
    patient = patient_services.patient_refresh_stage(patient=patient)
    if patient.stage in STAGES_AFTER_DOSING:
        return patient
    evaluation = assessment_selectors.latest_signed_evaluation(patient)
    if evaluation is None:
        return patient
    if evaluation.decision == Evaluation.Decision.INELIGIBLE:
        stage = Stage.INELIGIBLE
    elif evaluation.decision == Evaluation.Decision.DEFERRED:
        stage = Stage.EVALUATION
    else:
        dosed = (
            TherapySession.objects.dosing().completed().filter(patient=patient, course__ended_at__isnull=True).exists()
        )
        stage = Stage.DOSING if dosed else Stage.PREPARATION
    return patient_services.patient_set_stage(actor=actor, patient=patient, stage=stage)


# Evaluation ---------------------------------------------------------------------------------------


def evaluation_sign(*, actor, evaluation) -> Evaluation:
    """Sign the prescriber's evaluation (assessments' rules) and move the course on from it."""
    access.require(actor, Permission.WRITE_EVALUATION, evaluation)
    return _evaluation_sign(actor=actor, evaluation=evaluation)


@transaction.atomic
def _evaluation_sign(*, actor, evaluation):
    patient = _lock_patient(evaluation.patient)
    evaluation = assessment_services.evaluation_sign(actor=actor, evaluation=evaluation)
    if evaluation.decision == Evaluation.Decision.ELIGIBLE:
        course_current(actor=actor, patient=patient)
    course_refresh(actor=actor, patient=patient)
    return evaluation


# Dose plan ----------------------------------------------------------------------------------------


def dose_plan_locked(plan):
    return RuleRefused(
        f"Dose plan version {plan.version} is {plan.get_status_display().lower()} and locked: a signed dose plan "
        "never changes. Write a new version instead.",
        code="dose_plan_signed",
    )


def dose_plan_save_draft(*, actor, patient, data: dict, plan=None) -> DosePlan:
    """Save the prescriber's draft dose plan (nothing required yet). The draft is the course's next version;
    a course has at most one draft. Raises RuleRefused when `plan` is signed or superseded."""
    access.require(actor, Permission.WRITE_DOSE_PLAN, patient)
    return _dose_plan_save_draft(actor=actor, patient=patient, data=data, plan=plan)


@transaction.atomic
def _dose_plan_save_draft(*, actor, patient, data, plan):
    data = dict(data or {})
    unknown = set(data) - set(DOSE_PLAN_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This is not a field of the dose plan."))
    patient = _lock_patient(patient)
    course = course_current(actor=actor, patient=patient)
    if plan is not None:
        plan = DosePlan.objects.select_for_update().get(pk=plan.pk)
        if plan.patient_id != patient.pk:
            raise ValidationError("This dose plan belongs to another patient.")
        if not plan.is_draft:
            raise dose_plan_locked(plan)
    else:
        plan = DosePlan.objects.filter(course=course, status=DosePlan.Status.DRAFT).first()
    creating = plan is None
    if creating:
        highest = DosePlan.objects.filter(course=course).aggregate(highest=Max("version"))["highest"] or 0
        plan = DosePlan(course=course, patient=patient, version=highest + 1)
    plan.prescriber = actor
    text_fields = {"instructions_patient", "instructions_therapist", "benzodiazepine_hold", "route", "start_at"}
    for field, value in data.items():
        if value is None and field in text_fields:
            value = ""
        if value is None and field == "booster_count":
            value = 0
        setattr(plan, field, value)
    plan.full_clean(exclude=["course", "patient", "prescriber", "version"], validate_constraints=False)
    plan.save()
    audit_record(actor, AuditEvent.Action.CREATE if creating else AuditEvent.Action.UPDATE, plan)
    return plan


def dose_plan_missing(plan) -> dict:
    missing = {}
    for name in DosePlan.REQUIRED_TO_SIGN:
        value = getattr(plan, name)
        if value is None or value == "":
            missing[name] = f"Required before signing: {DosePlan._meta.get_field(name).verbose_name}."
    if plan.route in (DosePlan.Route.SUBLINGUAL_RDT, DosePlan.Route.TROCHE) and not plan.tablet_strength_mg:
        missing["tablet_strength_mg"] = "Required before signing: the tablet strength of a tablet or troche."
    return missing


def dose_plan_sign(*, actor, plan) -> DosePlan:
    """Sign the draft: it becomes the course's active plan and the previous version is superseded (kept).
    Refused until the required fields are filled (naming them), and without a signed eligible evaluation."""
    access.require(actor, Permission.WRITE_DOSE_PLAN, plan)
    return _dose_plan_sign(actor=actor, plan=plan)


@transaction.atomic
def _dose_plan_sign(*, actor, plan):
    _lock_patient(plan.patient)
    plan = DosePlan.objects.select_for_update().get(pk=plan.pk)
    if not plan.is_draft:
        raise dose_plan_locked(plan)
    missing = dose_plan_missing(plan)
    if missing:
        raise ValidationError(missing)
    plan.full_clean(exclude=["course", "patient", "prescriber", "version"], validate_constraints=False)
    evaluation = assessment_selectors.latest_signed_evaluation(plan.patient)
    if evaluation is None or evaluation.decision != Evaluation.Decision.ELIGIBLE:
        raise RuleRefused(
            "Gate “signed eligible evaluation”: a dose plan can be signed only after the prescriber has signed an "
            "evaluation finding the patient eligible.",
            code=gates.EVALUATION,
        )
    used = TherapySession.objects.dosing().completed().filter(course_id=plan.course_id).count()
    if plan.doses_authorized < used:
        raise ValidationError(
            {
                "doses_authorized": f"{used} dosing sessions are already completed in this course: "
                "authorize at least that many."
            }
        )
    # A later issue adds: authorizing more doses than the active version needs a completed follow-up visit.
    now = timezone.now()
    for previous in DosePlan.objects.select_for_update().filter(
        course_id=plan.course_id, status=DosePlan.Status.SIGNED
    ):
        previous.status = DosePlan.Status.SUPERSEDED
        previous.superseded_at = now
        previous.save(update_fields=["status", "superseded_at", "updated_at"])
        audit_record(actor, AuditEvent.Action.UPDATE, previous)
    plan.prescriber = actor
    plan.status = DosePlan.Status.SIGNED
    plan.signed_at = now
    plan.content_hash = plan.compute_hash()
    plan.save()
    audit_record(actor, AuditEvent.Action.UPDATE, plan)
    return plan


# Sessions -----------------------------------------------------------------------------------------


def session_schedule(*, actor, patient, kind: str, scheduled_at) -> TherapySession:
    """Schedule a preparation, dosing or integration session. A dosing session must pass every dosing gate
    (treatment.gates); the first that fails is raised as RuleRefused with its code and sentence."""
    access.require(actor, Permission.SCHEDULE_SESSION, patient)
    if kind not in TherapySession.Kind.values:
        raise ValidationError({"kind": "Choose preparation, dosing or integration."})
    if scheduled_at is None or timezone.is_naive(scheduled_at):
        raise ValidationError({"scheduled_at": "Give a date and time with its time zone."})
    return _session_schedule(actor=actor, patient=patient, kind=kind, scheduled_at=scheduled_at)


@transaction.atomic
def _session_schedule(*, actor, patient, kind, scheduled_at):
    patient = _lock_patient(patient)  # two dosing sessions booked at once both see the other
    closed = patient.stage in (Stage.INELIGIBLE, Stage.DISCONTINUED, Stage.COMPLETED)
    if closed and kind != TherapySession.Kind.DOSING:  # a dosing session is refused by its gates, named
        raise RuleRefused(
            f"This patient's course is {patient.get_stage_display().lower()}: no sessions can be scheduled.",
            code="course_closed",
        )
    course = course_current(actor=actor, patient=patient)
    plan = None
    if kind == TherapySession.Kind.DOSING:
        failed = gates.first_failed_dosing_gate(gates.dosing_facts(patient, course, scheduled_at))
        if failed is not None:
            raise RuleRefused(failed.message, code=failed.code)
        plan = DosePlan.objects.signed().filter(course=course).first()
    session = TherapySession.objects.create(
        course=course, patient=patient, kind=kind, scheduled_at=scheduled_at, dose_plan=plan, created_by=actor
    )
    audit_record(actor, AuditEvent.Action.CREATE, session)
    return session


def session_complete(*, actor, session) -> TherapySession:
    """The therapist records that a scheduled session took place. A completed dosing session uses a dose
    from the ledger and moves the course to dosing."""
    access.require(actor, Permission.COMPLETE_SESSION, session)
    return _session_complete(actor=actor, session=session)


@transaction.atomic
def _session_complete(*, actor, session):
    patient = _lock_patient(session.patient)
    session = TherapySession.objects.select_for_update().get(pk=session.pk)
    if session.status != TherapySession.Status.SCHEDULED:
        raise RuleRefused(
            f"This session is {session.get_status_display().lower()}: only a scheduled session can be completed.",
            code="session_not_scheduled",
        )
    now = timezone.now()
    if session.scheduled_at > now:
        raise RuleRefused(
            "This session has not started yet: mark it completed after its start time.", code="session_not_started"
        )
    session.status = TherapySession.Status.COMPLETED
    session.completed_at = now
    session.completed_by = actor
    session.save(update_fields=["status", "completed_at", "completed_by"])
    audit_record(actor, AuditEvent.Action.UPDATE, session)
    course_refresh(actor=actor, patient=patient)
    return session
