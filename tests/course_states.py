"""States of the course of care, built through the services as real use would build them. The builders that
run many services refresh the patient's stored due work once, at their end (patients.due_work.deferred), not after
every service: the rows are the same, and the suite does not recompute them a dozen times per patient. Like a
request, such a builder writes all or nothing (one that stops at a refusal leaves nothing behind)."""

from datetime import timedelta
from decimal import Decimal

import time_machine
from django.utils import timezone

from assessments import services as assessment_services
from assessments.models import ScreeningFlag
from patients import content
from patients import selectors as patient_selectors
from patients import services as patient_services
from patients.due_work import deferred
from treatment.course import services as course_services
from treatment.models import CarePolicy, TherapySession
from treatment.sessions import services as session_services

from .factories import INTAKE_ANSWERS

# Raises a relative flag (a benzodiazepine) and an elevated blood pressure flag.
FLAGGED_INTAKE = {**INTAKE_ANSWERS, "bp_systolic": 148, "bp_diastolic": 94, "takes_medications": True}
FLAGGED_MEDICATIONS = [{"name": "Lorazepam", "dose": "0.5 mg", "frequency": "as needed"}]

EVALUATION = {
    "bp_systolic": 126,
    "bp_diastolic": 80,
    "pulse": 70,
    "weight_kg": Decimal("80.0"),
    "psychiatric_assessment": "Recurrent MDD, no psychosis or mania; PHQ-9 18.",
    "medical_assessment": "Healthy; blood pressure controlled.",
    "diagnosis": "Major depressive disorder, recurrent, moderate",
    "icd10_code": "F33.1",
    "decision": "eligible",
    "rationale": "Treatment-resistant depression; no contraindication found.",
}
DOSE_PLAN = {
    "route": "sublingual_rdt",
    "tablet_strength_mg": Decimal("100.0"),
    "full_dose_mg": Decimal("200.0"),
    "start_at": "half",
    "boosters_allowed": True,
    "booster_count": 1,
    "booster_mg": Decimal("50.0"),
    "booster_min_minutes": 30,
    "doses_authorized": 3,
    "instructions_patient": "Nothing to eat for 4 hours before; hold the tablets under the tongue.",
    "instructions_therapist": "Pre-dose blood pressure; recheck at 40 minutes.",
    "benzodiazepine_hold": "",
}


def sign_consents(patient):
    content.seed_current()
    for document in patient_selectors.outstanding_consents(patient):
        patient_services.consent_sign(
            actor=patient.user, patient=patient, document=document, typed_name=patient.full_name
        )


def ready_for_evaluation(patient, *, flagged=False, consents=True):
    """The patient (with a portal account) submits the intake and signs the consents: stage evaluation."""
    if consents:
        sign_consents(patient)
    assessment_services.intake_submit(
        actor=patient.user,
        patient=patient,
        data=FLAGGED_INTAKE if flagged else INTAKE_ANSWERS,
        medications=FLAGGED_MEDICATIONS if flagged else [],
    )
    patient.refresh_from_db()
    return patient


def review_all_flags(patient):
    flags = ScreeningFlag.objects.filter(intake__patient=patient, intake__status="submitted")
    return [{"flag": flag.pk, "outcome": "confirmed", "reason": ""} for flag in flags]


def signed_evaluation(prescriber, patient, **changes):
    evaluation = assessment_services.evaluation_save_draft(
        actor=prescriber, patient=patient, data={**EVALUATION, **changes}, flag_reviews=review_all_flags(patient)
    )
    evaluation = course_services.evaluation_sign_and_advance_course(actor=prescriber, evaluation=evaluation)
    patient.refresh_from_db()
    return evaluation


def signed_dose_plan(prescriber, patient, **changes):
    plan = course_services.dose_plan_save_draft(actor=prescriber, patient=patient, data={**DOSE_PLAN, **changes})
    return course_services.dose_plan_sign(actor=prescriber, plan=plan)


@deferred()
def completed_session(therapist, patient, kind, *, at=None):
    """A session that took place at `at` (default: long enough ago to be over: an hour, three for a dosing
    session), booked then and completed when it was over, on the clock of the time (time-machine): the real
    timeline the gates read. A dosing session is run through its dosing record (run_dosing_session)."""
    dosing = kind == TherapySession.Kind.DOSING
    at = at or timezone.now() - timedelta(hours=3 if dosing else 1)
    with time_machine.travel(at, tick=False):
        session = session_services.session_schedule(actor=therapist, patient=patient, kind=kind, scheduled_at=at)
    if dosing:
        run_dosing_session(therapist, session, at=at)
        session.refresh_from_db()
    else:
        over = max(min(at + timedelta(hours=1), timezone.now()), at + session_services.SHORTEST_SESSION)
        with time_machine.travel(over, tick=False):
            session = session_services.session_complete(actor=therapist, session=session)
    patient.refresh_from_db()
    return session


IN_RANGE = {"systolic": 124, "diastolic": 78, "pulse": 72, "spo2": 98, "taken_by": "therapist"}
END_CRITERIA = {"alert_and_oriented": True, "vitals_near_baseline": True, "safe_transport": True}


def confirm_checklist(therapist, session):
    """The therapist records every item of the pre-dosing checklist as confirmed in the session."""
    session_services.checklist_confirm(
        actor=therapist, session=session, items=session_services.checklist_items(session)
    )
    return session


def monitoring(session):
    """The minutes the policy keeps the patient monitored after this session's dose."""
    policy = CarePolicy.for_group(session.patient.medical_group_id)
    return timedelta(minutes=policy.monitoring_minutes(session.dose_plan.route))


@deferred()
def run_dosing_session(therapist, session, *, at, dose_mg=None):
    """Document a booked dosing session that started at `at`, each step on the clock of its time
    (time-machine): checklist and pre-dose vitals at `at`, the dose 5 minutes in, end vitals and the end
    (every criterion met) once the policy's monitoring time has passed, which completes it."""
    dose_at = at + timedelta(minutes=5)
    ended_at = dose_at + monitoring(session) + timedelta(minutes=5)
    with time_machine.travel(at, tick=False):
        confirm_checklist(therapist, session)
        session_services.vitals_record(actor=therapist, session=session, phase="pre_dose", **IN_RANGE)
    with time_machine.travel(dose_at, tick=False):
        session_services.dose_record(
            actor=therapist, session=session, dose_mg=dose_mg or session.dose_plan.first_dose_mg
        )
    with time_machine.travel(ended_at, tick=False):
        session_services.vitals_record(actor=therapist, session=session, phase="end", **IN_RANGE)
        return session_services.dosing_end(actor=therapist, session=session, criteria=END_CRITERIA)


@deferred()
def ready_to_dose(therapist, prescriber, patient, **plan_changes):
    """Every dosing gate holds: eligible evaluation, consents, a completed preparation, a signed plan."""
    ready_for_evaluation(patient)
    signed_evaluation(prescriber, patient)
    completed_session(therapist, patient, TherapySession.Kind.PREPARATION, at=timezone.now() - timedelta(days=10))
    return signed_dose_plan(prescriber, patient, **plan_changes)
