"""Writes to the course of care. Keyword-only, actor first, atomic, audited.

The patient's stage after the front door is derived here (`course_refresh`) from signed records: the
latest signed evaluation, and completed dosing sessions. Use cases that start lower down and move the
stage (signing an evaluation) are orchestrated here, because treatment sits above assessments.
Permission is checked before each transaction opens, so the audit row of a refusal is not rolled back.
"""

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Max
from django.utils import timezone

from assessments import selectors as assessment_selectors
from assessments import services as assessment_services
from assessments.models import Evaluation
from kapcare.access import Permission
from kapcare.accounts import credentials
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from kapcare.rules import RuleRefused
from kapcare.services import service
from kapcare.signing.services import record_sign, record_transition, supervision_consider_on_commit
from patients import services as patient_services
from patients.due_work import keeps_due_work
from patients.models import Patient, Stage
from treatment.course import gates
from treatment.course.models import CarePolicy, DosePlan, FollowUp, TreatmentCourse
from treatment.sessions.models import DosingRecord, SessionChange, TherapySession

DOSE_PLAN_FIELDS = DosePlan.CONTENT_FIELDS
FOLLOW_UP_FIELDS = (*FollowUp.CONTENT_FIELDS, "due_on")
CLOSED_STAGES = (Stage.INELIGIBLE, Stage.DISCONTINUED, Stage.COMPLETED)


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

    Before an evaluation is signed the front-door rules of patients.services apply. Then:
    - a course closed by a signed discharge follow-up after the latest signed evaluation -> completed or
      discontinued, as the discharge decided (a new evaluation starts the next episode);
    - otherwise the latest signed evaluation decides: ineligible -> ineligible; deferred -> evaluation;
      eligible -> maintenance once a signed follow-up of the open course moved it there, else dosing once a
      dosing session is completed, else preparation."""
    patient = patient_services.patient_refresh_stage(patient=patient)
    evaluation = assessment_selectors.latest_signed_evaluation(patient)
    if evaluation is None:
        return patient
    discharge = (
        FollowUp.objects.signed()
        .filter(patient=patient, decision__in=FollowUp.DISCHARGES, signed_at__gte=evaluation.signed_at)
        .order_by("-signed_at")
        .first()
    )
    open_follow_ups = FollowUp.objects.signed().filter(patient=patient, course__ended_at__isnull=True)
    if discharge is not None:
        stage = Stage.COMPLETED if discharge.decision == FollowUp.Decision.COMPLETE else Stage.DISCONTINUED
    elif evaluation.decision == Evaluation.Decision.INELIGIBLE:
        stage = Stage.INELIGIBLE
    elif evaluation.decision == Evaluation.Decision.DEFERRED:
        # A deferral before the intake or consents are done leaves the patient where the front door put them.
        stage = patient.stage if patient.stage in (Stage.REFERRED, Stage.INTAKE) else Stage.EVALUATION
    elif open_follow_ups.filter(decision=FollowUp.Decision.MAINTENANCE).exists():
        stage = Stage.MAINTENANCE
    else:
        dosed = (
            TherapySession.objects.dosing().completed().filter(patient=patient, course__ended_at__isnull=True).exists()
        )
        stage = Stage.DOSING if dosed else Stage.PREPARATION
    return patient_services.patient_set_stage(actor=actor, patient=patient, stage=stage)


# Evaluation ---------------------------------------------------------------------------------------


@service(Permission.WRITE_EVALUATION, on="evaluation")
@keeps_due_work
def evaluation_sign_and_advance_course(*, actor, evaluation) -> Evaluation:
    """Sign the prescriber's evaluation (assessments' rules) and move the course on from it."""
    patient = _lock_patient(evaluation.patient)
    evaluation = assessment_services.evaluation_sign(actor=actor, evaluation=evaluation)
    if evaluation.decision == Evaluation.Decision.ELIGIBLE:
        course = course_current(actor=actor, patient=patient)
        _follow_up_plan_next(actor=actor, course=course)
    course_refresh(actor=actor, patient=patient)
    return evaluation


# Dose plan ----------------------------------------------------------------------------------------


def dose_plan_locked(plan):
    return RuleRefused(
        f"Dose plan version {plan.version} is {plan.get_status_display().lower()} and locked: a signed dose plan "
        "never changes. Write a new version instead.",
        code="dose_plan_signed",
    )


@service(Permission.WRITE_DOSE_PLAN, on="patient")
def dose_plan_save_draft(*, actor, patient, data: dict, plan=None) -> DosePlan:
    """Save the prescriber's draft dose plan (nothing required yet). The draft is the course's next version;
    a course has at most one draft. Raises RuleRefused when `plan` is signed or superseded."""
    data = dict(data or {})
    unknown = set(data) - set(DOSE_PLAN_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This is not a field of the dose plan."))
    patient = _lock_patient(patient)
    if patient.stage in CLOSED_STAGES:
        raise course_closed(patient)
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


def course_closed(patient):
    return RuleRefused(
        f"This patient's course is {patient.get_stage_display().lower()}: nothing more can be planned or "
        "scheduled in it. A new signed evaluation starts a new course.",
        code="course_closed",
    )


def _require_follow_up_for_more_doses(plan):
    """Gate "completed follow-up": a version authorizing more dosing sessions than the active one is signed
    only on the strength of a follow-up visit signed since that version, deciding "authorize more doses",
    and no further than the number it authorized."""
    # The highest version signed before this one, even if something marked it superseded meanwhile.
    previous = (
        DosePlan.objects.filter(course_id=plan.course_id)
        .exclude(status=DosePlan.Status.DRAFT)
        .exclude(pk=plan.pk)
        .order_by("-version")
        .first()
    )
    if previous is None:
        _require_first_plan_cap(plan)
        return
    if plan.doses_authorized <= (previous.doses_authorized or 0):
        return
    follow_up = (
        FollowUp.objects.signed()
        .filter(course_id=plan.course_id, decision=FollowUp.Decision.MORE_DOSES, signed_at__gte=previous.signed_at)
        .order_by("-signed_at")
        .first()
    )
    if follow_up is None:
        raise RuleRefused(
            f"Gate “completed follow-up”: version {previous.version} authorizes {previous.doses_authorized} dosing "
            f"sessions; more can be authorized only through a follow-up visit signed since then that decides to "
            "authorize more doses.",
            code=gates.FOLLOW_UP,
        )
    allowed = previous.doses_authorized + follow_up.additional_doses
    if plan.doses_authorized > allowed:
        raise RuleRefused(
            f"Gate “completed follow-up”: the follow-up signed {timezone.localdate(follow_up.signed_at)} authorized "
            f"{follow_up.additional_doses} more dosing sessions, {allowed} in all; this version asks for "
            f"{plan.doses_authorized}.",
            code=gates.FOLLOW_UP,
        )


def _require_first_plan_cap(plan):
    """Follow-up governs dosing: a course's first plan authorizes at most the policy's doses before the first
    follow-up visit; more come only through a follow-up."""
    cap = CarePolicy.for_group(plan.patient.medical_group_id).max_doses_before_first_follow_up
    if plan.doses_authorized > cap:
        raise RuleRefused(
            f"Rule “doses before the first follow-up”: a first dose plan authorizes at most {cap} dosing sessions "
            f"before the first follow-up visit; this one asks for {plan.doses_authorized}. Authorize more at the "
            "follow-up.",
            code=gates.FIRST_PLAN_CAP,
        )


def dose_plan_missing(plan) -> dict:
    missing = {}
    for name in DosePlan.REQUIRED_TO_SIGN:
        value = getattr(plan, name)
        if value is None or value == "":
            missing[name] = f"Required before signing: {DosePlan._meta.get_field(name).verbose_name}."
    if plan.route in (DosePlan.Route.SUBLINGUAL_RDT, DosePlan.Route.TROCHE) and not plan.tablet_strength_mg:
        missing["tablet_strength_mg"] = "Required before signing: the tablet strength of a tablet or troche."
    return missing


@service(Permission.WRITE_DOSE_PLAN, on="plan")
@keeps_due_work
def dose_plan_sign(*, actor, plan) -> DosePlan:
    """Sign the draft: it becomes the course's active plan and the previous version is superseded (kept).
    Refused until the required fields are filled (naming them), and without a signed eligible evaluation."""
    _lock_patient(plan.patient)
    plan = DosePlan.objects.select_for_update().get(pk=plan.pk)
    if not plan.is_draft:
        raise dose_plan_locked(plan)
    missing = dose_plan_missing(plan)
    if missing:
        raise ValidationError(missing)
    plan.full_clean(exclude=["course", "patient", "prescriber", "version"], validate_constraints=False)
    credentials.require_to_sign(actor, plan.patient, f"dose plan version {plan.version}")
    evaluation = assessment_selectors.latest_signed_evaluation(plan.patient)
    if evaluation is None or evaluation.decision != Evaluation.Decision.ELIGIBLE:
        raise RuleRefused(
            "Gate “signed eligible evaluation”: a dose plan can be signed only after the prescriber has signed an "
            "evaluation finding the patient eligible.",
            code=gates.EVALUATION,
        )
    used = TherapySession.objects.dosing().planned_or_done().filter(course_id=plan.course_id).count()
    if plan.doses_authorized < used:
        raise ValidationError(
            {
                "doses_authorized": f"{used} dosing sessions are already completed or booked in this course: "
                "authorize at least that many, or cancel bookings first."
            }
        )
    _require_follow_up_for_more_doses(plan)
    now = timezone.now()
    for previous in DosePlan.objects.select_for_update().filter(
        course_id=plan.course_id, status=DosePlan.Status.SIGNED
    ):
        record_transition(previous, actor=actor, status=DosePlan.Status.SUPERSEDED, superseded_at=now)
    supervision_consider_on_commit("dose_plan", plan)
    return record_sign(plan, actor=actor, at=now, prescriber=actor)


# Sessions: treatment.sessions.services (scheduling, changes, the checklist and the dosing record).


# Follow-up visits ---------------------------------------------------------------------------------
#
# The course's next visit is a draft FollowUp with a due date, planned by the services: the first when the
# eligible evaluation is signed (CarePolicy.first_follow_up_days later), the next by each signed visit.
# Signing records the prescriber's decision and applies it in the same transaction.

NEXT_FOLLOW_UP_MAX_DAYS = 365


def follow_up_first_due_on(course, evaluation) -> date:
    """The first follow-up is due the medical group's `first_follow_up_days` after the signed evaluation."""
    policy = CarePolicy.for_group(course.patient.medical_group_id)
    return timezone.localdate(evaluation.signed_at) + timedelta(days=policy.first_follow_up_days)


def _follow_up_plan_next(*, actor, course, due_on=None):
    """The course's pending visit, planned now unless one is pending already. Returns (follow-up, created)."""
    pending = FollowUp.objects.pending().filter(course=course).first()
    if pending is not None:
        return pending, False
    if due_on is None:
        last = FollowUp.objects.signed().filter(course=course).order_by("-signed_at").first()
        if last is not None:  # an unscheduled visit after the planned ones
            due_on = last.next_follow_up_on or timezone.localdate()
        else:
            evaluation = assessment_selectors.latest_signed_evaluation(course.patient)
            due_on = follow_up_first_due_on(course, evaluation)
    follow_up = FollowUp.objects.create(course=course, patient=course.patient, due_on=due_on)
    audit_record(actor, AuditEvent.Action.CREATE, follow_up)
    return follow_up, True


def follow_up_locked(follow_up):
    return RuleRefused(
        f"This follow-up was signed on {timezone.localdate(follow_up.signed_at)} and is locked: a signed note "
        "never changes.",
        code="follow_up_signed",
    )


@service(Permission.WRITE_FOLLOW_UP, on="patient")
@keeps_due_work
def follow_up_start(*, actor, patient) -> tuple[FollowUp, bool]:
    """The patient's next follow-up visit for the prescriber to write: the pending one, or a new one due today
    when none is pending. Returns (follow-up, created). Refused without a signed eligible evaluation and once
    the course is closed."""
    patient = _lock_patient(patient)
    if patient.stage in CLOSED_STAGES:
        raise course_closed(patient)
    evaluation = assessment_selectors.latest_signed_evaluation(patient)
    if evaluation is None or evaluation.decision != Evaluation.Decision.ELIGIBLE:
        raise RuleRefused(
            "Gate “signed eligible evaluation”: a follow-up visit reviews a course of treatment, which starts when "
            "the prescriber signs an evaluation finding the patient eligible.",
            code=gates.EVALUATION,
        )
    course = course_current(actor=actor, patient=patient)
    return _follow_up_plan_next(actor=actor, course=course)


@service(Permission.WRITE_FOLLOW_UP, on="follow_up")
@keeps_due_work
def follow_up_save_draft(*, actor, follow_up, data: dict) -> FollowUp:
    """Save the prescriber's note (nothing required yet). `due_on` reschedules the visit (today or later).
    Raises RuleRefused when the follow-up is signed."""
    data = dict(data or {})
    unknown = set(data) - set(FOLLOW_UP_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This is not a field of the follow-up."))
    _lock_patient(follow_up.patient)
    follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    if follow_up.is_signed:
        raise follow_up_locked(follow_up)
    if "due_on" in data:
        due_on = data["due_on"]
        today = timezone.localdate()
        if not isinstance(due_on, date):
            raise ValidationError({"due_on": "Give the date the visit is due."})
        if not today <= due_on <= today + timedelta(days=NEXT_FOLLOW_UP_MAX_DAYS):
            raise ValidationError({"due_on": "Reschedule to a date from today up to a year ahead."})
        if due_on != follow_up.due_on:
            _refuse_moving_overdue(follow_up)
    text_fields = {"symptoms", "sessions_review", "side_effects", "therapist_note", "decision", "rationale"}
    for name, value in data.items():
        setattr(follow_up, name, "" if value is None and name in text_fields else value)
    follow_up.prescriber = actor
    follow_up.full_clean(exclude=["course", "patient", "prescriber"], validate_constraints=False)
    follow_up.save()
    audit_record(actor, AuditEvent.Action.UPDATE, follow_up)
    return follow_up


def _refuse_moving_overdue(follow_up):
    """Follow-up governs dosing: a visit past its due date is held to it (its grace runs from it), so moving
    the date cannot release or postpone the hold on further doses; only signing the visit does."""
    today = timezone.now().astimezone(gates.patient_zone(follow_up.patient)).date()
    if follow_up.days_overdue(today):
        raise RuleRefused(
            f"Gate “follow-up not overdue”: the visit was due {follow_up.due_on:%b %-d, %Y} and is overdue, so its "
            "date no longer moves; after the grace it holds further doses until the prescriber signs it.",
            code=gates.FOLLOW_UP_OVERDUE,
        )


def follow_up_missing(follow_up, today) -> dict:
    """What keeps the note from being signed, by field (empty when it can be signed)."""
    missing = {}
    for name in FollowUp.REQUIRED_TO_SIGN:
        if not getattr(follow_up, name):
            missing[name] = f"Required before signing: {FollowUp._meta.get_field(name).verbose_name}."
    decision = follow_up.decision
    if decision == FollowUp.Decision.MORE_DOSES and not follow_up.additional_doses:
        missing["additional_doses"] = "Required before signing: how many more dosing sessions are authorized."
    elif decision != FollowUp.Decision.MORE_DOSES and follow_up.additional_doses:
        missing["additional_doses"] = "Only “authorize more doses” authorizes a number of dosing sessions."
    next_on = follow_up.next_follow_up_on
    if decision in FollowUp.DISCHARGES:
        if next_on:
            missing["next_follow_up_on"] = "A discharge schedules no further follow-up: leave the date empty."
    elif decision:
        if not next_on:
            missing["next_follow_up_on"] = "Required before signing: the date the next follow-up is due."
        elif not today < next_on <= today + timedelta(days=NEXT_FOLLOW_UP_MAX_DAYS):
            missing["next_follow_up_on"] = "The next follow-up is due after today and within a year."
    return missing


@service(Permission.WRITE_FOLLOW_UP, on="follow_up")
@keeps_due_work
def follow_up_sign(*, actor, follow_up) -> FollowUp:
    """Sign and lock the note, and apply its decision in the same transaction:
    - more doses: a new dose plan version authorizing that many more (the draft version when one is written,
      else a copy of the active one), signed at once (the "completed follow-up" gate of dose_plan_sign);
    - adjust dose: the draft dose plan version, which must be written first, signed at once;
    - maintenance: the course moves to maintenance;
    - discharge (completed or discontinued): scheduled sessions are cancelled and the course is closed: the
      only way a course closes;
    - every decision but a discharge plans the next visit on `next_follow_up_on`.
    Refused until the required fields are filled, naming them."""
    patient = _lock_patient(follow_up.patient)
    follow_up = FollowUp.objects.select_for_update().select_related("course").get(pk=follow_up.pk)
    if follow_up.is_signed:
        raise follow_up_locked(follow_up)
    course = follow_up.course
    if course.ended_at is not None:
        raise course_closed(patient)
    missing = follow_up_missing(follow_up, timezone.localdate())
    if missing:
        raise ValidationError(missing)
    follow_up.full_clean(exclude=["course", "patient", "prescriber"], validate_constraints=False)
    credentials.require_to_sign(actor, patient, "this follow-up")
    decision = follow_up.decision
    active = DosePlan.objects.signed().filter(course=course).first()
    draft = DosePlan.objects.filter(course=course, status=DosePlan.Status.DRAFT).first()
    if decision == FollowUp.Decision.MORE_DOSES and active is None:
        raise ValidationError({"decision": "There is no signed dose plan to authorize more doses on: sign one first."})
    if decision == FollowUp.Decision.ADJUST_DOSE and draft is None:
        raise ValidationError(
            {
                "decision": "Adjusting the dose needs the new dose plan version: write it as a draft on the dose "
                "plan page, then sign this follow-up, which signs both."
            }
        )
    now = timezone.now()
    record_sign(follow_up, actor=actor, at=now, prescriber=actor)
    supervision_consider_on_commit("follow_up", follow_up)  # a discontinuation after an adverse event is picked

    if decision == FollowUp.Decision.MORE_DOSES:
        plan = draft or DosePlan(
            course=course,
            patient=patient,
            version=(DosePlan.objects.filter(course=course).aggregate(highest=Max("version"))["highest"] or 0) + 1,
            **{name: getattr(active, name) for name in DOSE_PLAN_FIELDS},
        )
        plan.prescriber = actor
        plan.doses_authorized = active.doses_authorized + follow_up.additional_doses
        plan.save()
        audit_record(actor, AuditEvent.Action.UPDATE if draft else AuditEvent.Action.CREATE, plan)
        _sign_plan_of_follow_up(actor=actor, plan=plan)
    elif decision == FollowUp.Decision.ADJUST_DOSE:
        _sign_plan_of_follow_up(actor=actor, plan=draft)
    if follow_up.is_discharge:
        _cancel_booked_sessions(actor=actor, course=course, now=now)
        course.ended_at = now
        course.save(update_fields=["ended_at"])
        audit_record(actor, AuditEvent.Action.UPDATE, course)
    else:
        _follow_up_plan_next(actor=actor, course=course, due_on=follow_up.next_follow_up_on)
    course_refresh(actor=actor, patient=patient)
    return follow_up


def _cancel_booked_sessions(*, actor, course, now):
    """A discharge cancels the course's booked sessions, each with the reason on record. A dosing session under
    way (its dose taken) is never cancelled: its end is recorded first."""
    booked = list(
        TherapySession.objects.select_for_update().filter(course=course, status=TherapySession.Status.SCHEDULED)
    )
    if DosingRecord.objects.filter(session__in=booked, dose_taken_at__isnull=False).exists():
        raise RuleRefused(
            "A dosing session of this course is under way (its dose is recorded): the therapist records its end "
            "before the discharge is signed.",
            code="dosing_session_under_way",
        )
    reason = "The course ended at the prescriber's follow-up visit (discharge)."
    for session in booked:
        session.status = TherapySession.Status.CANCELLED
        session.status_reason, session.status_changed_at, session.status_changed_by = reason, now, actor
        session.save(update_fields=["status", "status_reason", "status_changed_at", "status_changed_by", "updated_at"])
        change = SessionChange.objects.create(
            session=session,
            patient=session.patient,
            kind=SessionChange.Kind.CANCELLED,
            previous_scheduled_at=session.scheduled_at,
            reason=reason,
            changed_by=actor,
        )
        audit_record(actor, AuditEvent.Action.UPDATE, session)
        audit_record(actor, AuditEvent.Action.CREATE, change)


def _sign_plan_of_follow_up(*, actor, plan):
    """Sign the dose plan version a follow-up decided on; its refusals are the follow-up's."""
    try:
        dose_plan_sign.unchecked(actor=actor, plan=plan)
    except ValidationError as error:
        messages = error.messages
        raise ValidationError(
            {"decision": f"The dose plan version {plan.version} cannot be signed: {' '.join(messages)}"}
        ) from error
