"""The gates of the course of care (ARCHITECTURE.md, "The course of care and its gates").

`dosing_facts` reads what the gates need in a fixed number of queries; `first_failed_dosing_gate` is
pure: it takes those facts and returns the first gate that fails, as a code and a sentence that names
it, or None when a dosing session may go ahead. Services raise the failure as kapcare.rules.RuleRefused,
so the portal and the API refuse the same things in the same words.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from assessments.models import Evaluation
from assessments.selectors import latest_signed_evaluation
from patients import selectors as patient_selectors

from .models import CarePolicy, DosePlan, TherapySession

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Gate:
    code: str
    message: str


EVALUATION = "evaluation_eligible_signed"
CONSENTS = "consents_signed"
PREPARATION = "preparation_completed"
DOSE_PLAN = "dose_plan_signed"
DOSES_REMAINING = "doses_remaining"
IN_ORDER = "dosing_in_order"
INTEGRATION = "integration_after_dosing"
WEEKLY_LIMIT = "dosing_weekly_limit"
# Not a dosing gate: a dose plan authorizing more doses needs a signed follow-up (treatment.services).
FOLLOW_UP = "follow_up_required"

# In the order they are checked: the first that fails is the one reported.
DOSING_GATES = (
    EVALUATION,
    CONSENTS,
    PREPARATION,
    DOSE_PLAN,
    DOSES_REMAINING,
    IN_ORDER,
    INTEGRATION,
    WEEKLY_LIMIT,
)


@dataclass(frozen=True)
class DosingFacts:
    scheduled_at: datetime
    evaluation_decision: str | None  # of the latest signed evaluation, None when none is signed
    outstanding_consents: tuple  # labels of current required consents not signed at their current version
    preparation_completed: bool
    active_plan_version: int | None
    doses_authorized: int
    doses_used: int  # completed dosing sessions of the course
    doses_booked: int  # dosing sessions scheduled and not yet completed
    previous_dosing_at: datetime | None  # the latest scheduled or completed dosing session before this one
    integration_after_previous: bool  # a completed integration session between that one and this one
    nearby_dosing_times: tuple  # other scheduled or completed dosing sessions within 7 days either side
    max_dosing_per_7_days: int
    later_dosing_at: datetime | None = None  # the first other dosing session at or after this one (booking)


def busiest_week(times, at):
    """The most dosing sessions in any 7-day window that contains `at`, counting `at` itself."""
    points = sorted([*times, at])
    starts = [t for t in points if at - WEEK < t <= at]
    return max(sum(1 for t in points if start <= t < start + WEEK) for start in starts)


def first_failed_dosing_gate(facts: DosingFacts) -> Gate | None:
    """The first gate a dosing session at `facts.scheduled_at` fails, or None. Pure: no queries."""
    if facts.evaluation_decision != Evaluation.Decision.ELIGIBLE:
        found = {
            None: "no evaluation is signed yet",
            Evaluation.Decision.INELIGIBLE: "the latest signed evaluation found the patient ineligible",
            Evaluation.Decision.DEFERRED: "the latest signed evaluation deferred the decision",
        }.get(facts.evaluation_decision, "the evaluation is not eligible")
        return Gate(
            EVALUATION,
            f"Gate “signed eligible evaluation”: {found}. The prescriber must sign an evaluation "
            "finding the patient eligible before any dosing session.",
        )
    if facts.outstanding_consents:
        return Gate(
            CONSENTS,
            "Gate “consents signed”: the patient has not signed the current version of: "
            f"{'; '.join(facts.outstanding_consents)}.",
        )
    if not facts.preparation_completed:
        return Gate(
            PREPARATION,
            "Gate “preparation completed”: a preparation session must be completed before the first dosing session.",
        )
    if facts.active_plan_version is None:
        return Gate(DOSE_PLAN, "Gate “signed dose plan”: the prescriber has not signed a dose plan for this course.")
    remaining = facts.doses_authorized - facts.doses_used - facts.doses_booked
    if remaining <= 0:
        return Gate(
            DOSES_REMAINING,
            f"Gate “doses remaining”: dose plan version {facts.active_plan_version} "
            f"authorizes {facts.doses_authorized} dosing session{'s' if facts.doses_authorized != 1 else ''}; "
            f"{facts.doses_used} completed and {facts.doses_booked} booked leave none. More doses need a "
            "follow-up visit that authorizes them.",
        )
    if facts.later_dosing_at is not None:
        return Gate(
            IN_ORDER,
            f"Gate “dosing sessions in order”: a dosing session is already booked for "
            f"{facts.later_dosing_at:%b %-d, %Y %H:%M} UTC. Doses are booked one after another, each after an "
            "integration session; cancel or move the later one first.",
        )
    if facts.previous_dosing_at is not None and not facts.integration_after_previous:
        return Gate(
            INTEGRATION,
            "Gate “integration between dosing sessions”: no integration session has been "
            "completed between the previous dosing session and this one.",
        )
    if busiest_week(facts.nearby_dosing_times, facts.scheduled_at) > facts.max_dosing_per_7_days:
        limit = facts.max_dosing_per_7_days
        return Gate(
            WEEKLY_LIMIT,
            f"Gate “at most {limit} dosing session{'s' if limit != 1 else ''} in 7 days”: "
            "this one would exceed the medical group's limit.",
        )
    return None


def dosing_facts(patient, course, scheduled_at, *, session=None, rebooking=False) -> DosingFacts:
    """What the dosing gates read, for a dosing session of `patient` at `scheduled_at`. Seven queries.

    `session`: the booked session being checked again as its dose is taken; it is left out of the
    counts, and later bookings do not matter then (they were booked after it, in order). With
    `rebooking` (a reschedule) it is left out of the counts but later bookings still do."""
    evaluation = latest_signed_evaluation(patient)
    consents = tuple(document.get_kind_display() for document in patient_selectors.outstanding_consents(patient))
    others = TherapySession.objects.filter(course=course).planned_or_done()
    if session is not None:
        others = others.exclude(pk=session.pk)
    sessions = list(others.values_list("kind", "status", "scheduled_at"))
    plan = DosePlan.objects.signed().filter(course=course).first()
    policy = CarePolicy.for_group(patient.medical_group_id)

    dosing = [(status, at) for kind, status, at in sessions if kind == TherapySession.Kind.DOSING]
    earlier = [at for _status, at in dosing if at < scheduled_at]
    previous = max(earlier) if earlier else None
    later = [at for _status, at in dosing if at >= scheduled_at]
    completed = TherapySession.Status.COMPLETED
    return DosingFacts(
        scheduled_at=scheduled_at,
        evaluation_decision=evaluation.decision if evaluation else None,
        outstanding_consents=consents,
        preparation_completed=any(
            kind == TherapySession.Kind.PREPARATION and status == completed for kind, status, _at in sessions
        ),
        active_plan_version=plan.version if plan else None,
        doses_authorized=(plan.doses_authorized or 0) if plan else 0,
        doses_used=sum(1 for status, _at in dosing if status == completed),
        doses_booked=sum(1 for status, _at in dosing if status != completed),
        previous_dosing_at=previous,
        later_dosing_at=min(later) if later and (session is None or rebooking) else None,
        integration_after_previous=previous is not None
        and any(
            kind == TherapySession.Kind.INTEGRATION and status == completed and previous < at < scheduled_at
            for kind, status, at in sessions
        ),
        nearby_dosing_times=tuple(at for _status, at in dosing if abs(at - scheduled_at) < WEEK),
        max_dosing_per_7_days=policy.max_dosing_sessions_per_7_days,
    )


# The dose itself ------------------------------------------------------------------------------------
#
# When the dose is marked taken the dosing gates are asked again, and then the vitals: the latest
# pre-dose reading must be within the medical group's thresholds (CarePolicy). Out of range is a hold.

PRE_DOSE_VITALS = "pre_dose_vitals_in_range"
CHECKLIST = "pre_dosing_checklist_confirmed"


def vitals_out_of_range(policy: CarePolicy, *, systolic, diastolic, pulse, spo2=None) -> list[str]:
    """The values outside the policy's thresholds, in words; empty when every value is in range. A value
    equal to a threshold is in range. Pure."""
    found = []
    if systolic > policy.systolic_max:
        found.append(f"systolic {systolic} above {policy.systolic_max}")
    if diastolic > policy.diastolic_max:
        found.append(f"diastolic {diastolic} above {policy.diastolic_max}")
    if pulse < policy.pulse_min:
        found.append(f"pulse {pulse} below {policy.pulse_min}")
    if pulse > policy.pulse_max:
        found.append(f"pulse {pulse} above {policy.pulse_max}")
    if spo2 is not None and spo2 < policy.spo2_min:
        found.append(f"SpO2 {spo2}% below {policy.spo2_min}%")
    return found


def pre_dose_vitals_gate(reading) -> Gate | None:
    """Go / hold on the latest pre-dose reading (None when there is none). Pure."""
    if reading is None:
        return Gate(
            PRE_DOSE_VITALS,
            "Gate “pre-dose vitals in range”: no pre-dose vitals are recorded. Take them before the dose.",
        )
    if not reading.in_range:
        return Gate(
            PRE_DOSE_VITALS,
            f"Gate “pre-dose vitals in range”: hold. The latest pre-dose reading is out of range "
            f"({reading.out_of_range}). Do not give the dose; take the vitals again after a rest, or contact "
            "the prescriber.",
        )
    return None


def checklist_gate(unconfirmed: list) -> Gate | None:
    """Every item of the pre-dosing checklist confirmed, by the patient or the therapist. Pure."""
    if not unconfirmed:
        return None
    return Gate(
        CHECKLIST,
        "Gate “pre-dosing checklist confirmed”: not yet confirmed: "
        + "; ".join(str(label) for label in unconfirmed)
        + " Ask the patient and record the confirmation in the session.",
    )


def first_failed_dose_gate(facts: DosingFacts, latest_pre_dose, unconfirmed=()) -> Gate | None:
    """The first gate that keeps the dose from being marked taken: every dosing gate again, the pre-dosing
    checklist (`unconfirmed`: the labels of the items not confirmed), then the latest pre-dose vitals. Pure."""
    return first_failed_dosing_gate(facts) or checklist_gate(list(unconfirmed)) or pre_dose_vitals_gate(latest_pre_dose)
