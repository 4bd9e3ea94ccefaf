"""The gates of the course of care (ARCHITECTURE.md, "The course of care and its gates").

`dosing_facts` reads what the gates need in a fixed number of queries; `first_failed_dosing_gate` is
pure: it takes those facts and returns the first gate that fails, as a code and a sentence that names
it, or None when a dosing session may go ahead. Services raise the failure as kapcare.rules.RuleRefused,
so the portal and the API refuse the same things in the same words.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from django.utils import timezone

from assessments.models import Evaluation
from assessments.selectors import latest_signed_evaluation
from patients import selectors as patient_selectors
from patients.models import SafetyAlert
from treatment.course.models import CarePolicy, DosePlan, FollowUp
from treatment.sessions.models import TherapySession

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
MIN_INTERVAL = "dosing_min_interval"
WEEKLY_LIMIT = "dosing_weekly_limit"
# Holds: they keep a dose from being taken (and show on the dashboards), not a session from being booked.
FOLLOW_UP_OVERDUE = "follow_up_overdue"
RISK_HOLD = "risk_alert_open"
# Not a dosing gate: a dose plan authorizing more doses needs a signed follow-up (treatment.course.services).
FOLLOW_UP = "follow_up_required"
FIRST_PLAN_CAP = "first_plan_dose_cap"

# In the order they are checked: the first that fails is the one reported.
DOSING_GATES = (
    EVALUATION,
    CONSENTS,
    PREPARATION,
    DOSE_PLAN,
    DOSES_REMAINING,
    IN_ORDER,
    INTEGRATION,
    MIN_INTERVAL,
    WEEKLY_LIMIT,
)
DOSE_HOLDS = (FOLLOW_UP_OVERDUE, RISK_HOLD)


def local(at: datetime, tz: tzinfo) -> str:
    """A moment as the patient's pages show it: in the patient's time zone, with its abbreviation."""
    at = at.astimezone(tz)
    return f"{at:%b %-d, %Y %H:%M} {at.tzname()}"


def patient_zone(patient) -> tzinfo:
    try:
        return ZoneInfo(patient.time_zone)
    except (ValueError, KeyError):  # an unset or unknown zone: UTC, named as such
        return UTC


@dataclass(frozen=True)
class Dose:
    """A dosing session on the real timeline: `at` is when the dose was taken (or, not yet taken, when it is
    booked), `ended_at` when the session ended (None while it has not)."""

    at: datetime
    taken: bool
    ended_at: datetime | None = None


@dataclass(frozen=True)
class DosingFacts:
    at: datetime  # the dose's time: the booked start when booking, the time taken when the dose is recorded
    evaluation_decision: str | None  # of the latest signed evaluation, None when none is signed
    outstanding_consents: tuple  # labels of current required consents not signed at their current version
    preparation_completed: bool  # a preparation session that started before `at` is completed
    active_plan_version: int | None
    doses_authorized: int
    doses_used: int  # dosing sessions of the course whose dose was taken
    doses_booked: int  # dosing sessions scheduled whose dose is not taken yet
    previous: Dose | None  # the latest other dose before `at`
    integration_after_previous: bool  # a completed integration that started after it ended, before `at`
    nearby_dosing_times: tuple  # other doses (taken or booked) within 8 days either side
    max_dosing_per_7_days: int
    min_hours_between_doses: int = 72
    later_dosing_at: datetime | None = None  # the first other dose at or after `at`
    time_zone: tzinfo = UTC  # the patient's: windows are calendar weeks there, times are printed in it

    @property
    def scheduled_at(self):  # the name the booking code and older tests know
        return self.at


def busiest_week(times, at, tz: tzinfo = UTC):
    """The most doses in any 7-day window that contains `at`, counting `at` itself. Windows are calendar
    weeks on the patient's clock: from a time to the same time 7 days later, across a clock change too."""
    points = sorted(t.astimezone(tz) for t in [*times, at])
    at = at.astimezone(tz)
    # Aware datetimes of one tzinfo add and compare on the wall clock: the calendar week.
    starts = [t for t in points if at - WEEK < t <= at]
    return max(sum(1 for t in points if start <= t < start + WEEK) for start in starts)


def first_failed_dosing_gate(facts: DosingFacts) -> Gate | None:
    """The first gate a dose at `facts.at` fails, or None. Pure: no queries."""
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
            f"{facts.doses_used} taken and {facts.doses_booked} booked leave none. More doses need a "
            "follow-up visit that authorizes them.",
        )
    tz = facts.time_zone
    if facts.later_dosing_at is not None:
        return Gate(
            IN_ORDER,
            f"Gate “dosing sessions in order”: a dose is already taken or booked for "
            f"{local(facts.later_dosing_at, tz)}. Doses follow one another, each after an integration session; "
            "cancel or move the later one first.",
        )
    previous = facts.previous
    if previous is not None and not facts.integration_after_previous:
        if previous.ended_at is None:
            found = (
                f"the previous dosing session (dose taken {local(previous.at, tz)}) has not ended"
                if previous.taken
                else f"the previous dosing session (booked for {local(previous.at, tz)}) has not taken place"
            )
        else:
            found = (
                f"no integration session that started after the previous dosing session ended "
                f"({local(previous.ended_at, tz)}) has been completed"
            )
        return Gate(INTEGRATION, f"Gate “integration between dosing sessions”: {found}.")
    minimum = timedelta(hours=facts.min_hours_between_doses)
    close = [t for t in facts.nearby_dosing_times if abs(t - facts.at) < minimum]
    if close:
        hours = min(abs(t - facts.at) for t in close).total_seconds() / 3600
        return Gate(
            MIN_INTERVAL,
            f"Gate “at least {facts.min_hours_between_doses} hours between doses”: another dose is at "
            f"{local(min(close, key=lambda t: abs(t - facts.at)), tz)}, {hours:.0f} hours from "
            f"{local(facts.at, tz)}.",
        )
    if busiest_week(facts.nearby_dosing_times, facts.at, tz) > facts.max_dosing_per_7_days:
        limit = facts.max_dosing_per_7_days
        return Gate(
            WEEKLY_LIMIT,
            f"Gate “at most {limit} dosing session{'s' if limit != 1 else ''} in 7 days”: a dose at "
            f"{local(facts.at, tz)} would exceed the medical group's limit.",
        )
    return None


def _dose_of(row) -> Dose:
    _kind, _status, scheduled_at, taken_at, ended_at = row
    return Dose(at=taken_at or scheduled_at, taken=taken_at is not None, ended_at=ended_at)


def dosing_facts(patient, course, at, *, session=None, rebooking=False) -> DosingFacts:
    """What the dosing gates read, for a dose of `patient` at `at` (the booked start, or the time the dose is
    taken). Five queries.

    `session`: the booked session being checked again as its dose is taken; it is left out of the counts.
    With `rebooking` (a reschedule) it is left out but booked sessions after it still count as later."""
    at = at.astimezone(UTC)  # a form's time comes in the patient's zone; the arithmetic below is in elapsed time
    evaluation = latest_signed_evaluation(patient)
    consents = tuple(document.get_kind_display() for document in patient_selectors.outstanding_consents(patient))
    others = TherapySession.objects.filter(course=course).planned_or_done()
    if session is not None:
        others = others.exclude(pk=session.pk)
    rows = list(
        others.values_list("kind", "status", "scheduled_at", "dosing_record__dose_taken_at", "dosing_record__ended_at")
    )
    plan = DosePlan.objects.signed().filter(course=course).first()
    policy = CarePolicy.for_group(patient.medical_group_id)

    completed = TherapySession.Status.COMPLETED
    doses = [_dose_of(row) for row in rows if row[0] == TherapySession.Kind.DOSING]
    earlier = [dose for dose in doses if dose.at < at]
    previous = max(earlier, key=lambda dose: dose.at) if earlier else None
    # Booking, every later dose counts; taking a dose, only the doses already taken after it (booked ones
    # were booked after this one, in order).
    later = [dose.at for dose in doses if dose.at >= at and (session is None or rebooking or dose.taken)]
    integration_starts = [
        start for kind, status, start, _t, _e in rows if kind == TherapySession.Kind.INTEGRATION and status == completed
    ]
    return DosingFacts(
        at=at,
        evaluation_decision=evaluation.decision if evaluation else None,
        outstanding_consents=consents,
        preparation_completed=any(
            kind == TherapySession.Kind.PREPARATION and status == completed and start < at
            for kind, status, start, _t, _e in rows
        ),
        active_plan_version=plan.version if plan else None,
        doses_authorized=(plan.doses_authorized or 0) if plan else 0,
        doses_used=sum(1 for dose in doses if dose.taken),
        doses_booked=sum(1 for dose in doses if not dose.taken),
        previous=previous,
        later_dosing_at=min(later) if later else None,
        integration_after_previous=previous is not None
        and previous.ended_at is not None
        and any(previous.ended_at <= start < at for start in integration_starts),
        nearby_dosing_times=tuple(dose.at for dose in doses if abs(dose.at - at) < WEEK + timedelta(days=1)),
        max_dosing_per_7_days=policy.max_dosing_sessions_per_7_days,
        min_hours_between_doses=policy.min_hours_between_doses,
        time_zone=patient_zone(patient),
    )


# Holds: what keeps a dose from being taken though the session was booked ------------------------------


@dataclass(frozen=True)
class HoldFacts:
    alert_kind: str | None = None  # the open urgent or high alert's kind label, when one holds
    alert_raised_at: datetime | None = None
    follow_up_due_on: object = None  # the pending follow-up's due date, when it is overdue past the grace
    follow_up_days_overdue: int = 0
    grace_days: int = 7
    time_zone: tzinfo = UTC


def hold_facts(patient, course, policy=None, *, today=None) -> HoldFacts:
    """The holds on a dose of the patient now: the oldest open risk alert, the follow-up overdue. Two queries
    (three without `policy`)."""
    policy = policy or CarePolicy.for_group(patient.medical_group_id)
    tz = patient_zone(patient)
    alert = SafetyAlert.objects.filter(patient=patient).holding_dose().order_by("raised_at", "id").first()
    pending = FollowUp.objects.pending().filter(course=course).first()
    return hold_from(alert, pending, policy, tz, today=today)


def hold_from(alert, pending, policy, tz, *, today=None) -> HoldFacts:
    """HoldFacts from rows already read (the dashboards read them for many patients at once). Pure."""
    today = today or timezone.now().astimezone(tz).date()
    overdue = pending.days_overdue(today) if pending is not None else 0
    late = overdue > policy.follow_up_grace_days
    return HoldFacts(
        alert_kind=alert.kind_label if alert else None,
        alert_raised_at=alert.raised_at if alert else None,
        follow_up_due_on=pending.due_on if late else None,
        follow_up_days_overdue=overdue if late else 0,
        grace_days=policy.follow_up_grace_days,
        time_zone=tz,
    )


def first_hold(holds: HoldFacts) -> Gate | None:
    """The hold on a dose, or None. Pure."""
    if holds.alert_kind is not None:
        return Gate(
            RISK_HOLD,
            f"Gate “no open risk alert”: hold. The alert “{holds.alert_kind}” raised "
            f"{local(holds.alert_raised_at, holds.time_zone)} is not yet acknowledged by the prescriber. No dose "
            "until the prescriber acknowledges it with the action taken.",
        )
    if holds.follow_up_due_on is not None:
        return Gate(
            FOLLOW_UP_OVERDUE,
            f"Gate “follow-up not overdue”: hold. The prescriber's follow-up visit was due "
            f"{holds.follow_up_due_on:%b %-d, %Y} and is {holds.follow_up_days_overdue} days overdue (more than "
            f"the {holds.grace_days} days of grace). No further dose until it is signed.",
        )
    return None


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


def first_failed_dose_gate(
    facts: DosingFacts, latest_pre_dose, unconfirmed=(), holds: HoldFacts | None = None
) -> Gate | None:
    """The first gate that keeps the dose from being marked taken: every dosing gate again on the real
    timeline, the pre-dosing checklist (`unconfirmed`: the labels of the items not confirmed), the latest
    pre-dose vitals, then the holds (an open risk alert, a follow-up overdue). Pure."""
    return (
        first_failed_dosing_gate(facts)
        or checklist_gate(list(unconfirmed))
        or pre_dose_vitals_gate(latest_pre_dose)
        or (first_hold(holds) if holds is not None else None)
    )
