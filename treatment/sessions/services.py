"""Writes to therapy sessions: scheduling, changes (reschedule, cancel, no-show), the pre-dosing checklist and
the dosing record (vitals, dose, boosters, chaperone check-ins, end of session). Keyword-only, actor first,
atomic, audited. Permission is checked before each transaction opens, so the audit row of a refusal stays.

The dosing gates (treatment.course.gates) are asked when a dosing session is booked or moved and again when its
dose is marked taken, with the latest pre-dose vitals. Once the session's progress note is signed its
dosing record is frozen (a database trigger, migration 0006): the services refuse first, in words.
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from kapcare.rules import RuleRefused
from kapcare.services import service
from patients import services as patient_services
from patients.due_work import keeps_due_work
from patients.models import CareTeamMember, SafetyAlert
from treatment.course import gates
from treatment.course.models import CarePolicy, DosePlan
from treatment.course.services import CLOSED_STAGES, _lock_patient, course_closed, course_current, course_refresh
from treatment.notes.models import SessionNote
from treatment.prescriptions.monitoring import TIMED_VITALS_TOLERANCE_MINUTES, monitoring_for
from treatment.sessions.models import (
    BoosterDose,
    ChaperoneCheckIn,
    ChecklistConfirmation,
    DosingRecord,
    SessionChange,
    TherapySession,
    VitalsReading,
)
from treatment.visits import services as visit_services

# Sessions are recorded up to a year after they took place and booked up to a year ahead. A session that
# started more than LATE_ENTRY_AFTER ago is a late entry: booked only with the reason, flagged and shown
# as such, and judged by the same gates on the real timeline (treatment.course.gates: the times doses were taken
# and sessions ended, not the times they were booked).
SESSION_BACKDATE_LIMIT = timedelta(days=365)
SESSION_BOOKING_HORIZON = timedelta(days=365)
LATE_ENTRY_AFTER = timedelta(minutes=15)
# A preparation or integration session is completed no sooner than the shortest session after its start.
SHORTEST_SESSION = timedelta(minutes=15)
# What is recorded in a session happens between shortly before its start and now (a clock a little ahead
# on a tablet is not an error). The dose itself is never taken before the session's start.
EARLIEST_BEFORE_START = timedelta(hours=2)
CLOCK_TOLERANCE = timedelta(minutes=5)
# Pre-dose vitals say how the patient is just before the dose: a reading older than this is taken again.
PRE_DOSE_VITALS_MAX_AGE = timedelta(hours=2)

Item = ChecklistConfirmation.Item


# Scheduling ---------------------------------------------------------------------------------------


def _check_when(scheduled_at, field="scheduled_at"):
    if scheduled_at is None or timezone.is_naive(scheduled_at):
        raise ValidationError({field: "Give a date and time with its time zone."})
    now = timezone.now()
    if not now - SESSION_BACKDATE_LIMIT <= scheduled_at <= now + SESSION_BOOKING_HORIZON:
        raise ValidationError({field: "Sessions are recorded or booked within a year of today; check the date."})


def _late_entry(scheduled_at, reason, *, late_entry=None):
    """(late, reason): a start more than LATE_ENTRY_AFTER ago is refused unless entered late with the reason.
    `late_entry` False (a reschedule not marked late) refuses a start in the past whatever the reason."""
    reason = (reason or "").strip()
    if scheduled_at >= timezone.now() - LATE_ENTRY_AFTER:
        return False, ""
    if late_entry is False or not reason:
        raise RuleRefused(
            f"Rule “late entries are explicit”: this session starts more than {LATE_ENTRY_AFTER.seconds // 60} "
            "minutes ago. Enter it as a late entry with the reason it is recorded after the fact; it is marked "
            "late on the chart and judged on the real timeline.",
            code="late_entry_reason_required",
        )
    if len(reason) > 2000:
        raise ValidationError({"reason": "Keep the reason under 2000 characters."})
    return True, reason


def _session_therapist(actor, patient):
    if actor.role == "therapist":
        return actor
    member = (
        CareTeamMember.objects.active()
        .filter(patient=patient, role=CareTeamMember.Role.THERAPIST)
        .select_related("clinician")
        .first()
    )
    return member.clinician if member else None


def _check_details(*, kind, modality, duration_minutes, location, video_link):
    errors = {}
    if kind not in TherapySession.Kind.values:
        errors["kind"] = "Choose preparation, dosing or integration."
    if modality not in TherapySession.Modality.values:
        errors["modality"] = "Choose in person or remote."
    if duration_minutes is not None and not 15 <= duration_minutes <= 480:
        errors["duration_minutes"] = "A session lasts between 15 minutes and 8 hours."
    if modality == TherapySession.Modality.REMOTE and not video_link:
        errors["video_link"] = "A remote session needs its video link."
    if len(location or "") > 300:
        errors["location"] = "Keep the location under 300 characters."
    if errors:
        raise ValidationError(errors)


@service(Permission.SCHEDULE_SESSION, on="patient")
@keeps_due_work
def session_schedule(
    *,
    actor,
    patient,
    kind: str,
    scheduled_at,
    duration_minutes: int | None = None,
    modality: str = TherapySession.Modality.IN_PERSON,
    location: str = "",
    video_link: str = "",
    chaperone: dict | None = None,
    reason: str = "",
) -> TherapySession:
    """Schedule a preparation, dosing or integration session (time stored in UTC). A dosing session must pass
    every dosing gate (treatment.course.gates); the first that fails is raised as RuleRefused with its code and
    sentence. A remote dosing session copies the chaperone from the patient's profile unless `chaperone`
    ({"name", "phone", "email"}) is given. A session that started more than 15 minutes ago needs `reason`:
    it is a late entry."""
    _check_details(
        kind=kind, modality=modality, duration_minutes=duration_minutes, location=location, video_link=video_link
    )
    _check_when(scheduled_at)
    hours_reason = reason  # also explains a time outside the usual hours (visits.services.require_session_hours)
    late, reason = _late_entry(scheduled_at, reason)
    details = {
        "duration_minutes": duration_minutes or TherapySession.DEFAULT_MINUTES[kind],
        "modality": modality,
        "location": location or "",
        "video_link": video_link or "",
        "late_entry": late,
        "late_entry_reason": reason,
    }
    patient = _lock_patient(patient)  # two dosing sessions booked at once both see the other
    closed = patient.stage in CLOSED_STAGES
    if closed and kind != TherapySession.Kind.DOSING:  # a dosing session is refused by its gates, named
        raise course_closed(patient)
    course = course_current(actor=actor, patient=patient)
    plan = None
    if kind == TherapySession.Kind.DOSING:
        _raise_failed(gates.first_failed_dosing_gate(gates.dosing_facts(patient, course, scheduled_at)))
        plan = DosePlan.objects.signed().filter(course=course).first()
    if kind == TherapySession.Kind.INTEGRATION and scheduled_at <= timezone.now():
        _check_integration_start(course, scheduled_at, patient)
    therapist = _session_therapist(actor, patient)
    hours = {"patient": patient, "therapist": therapist, "kind": kind, "reason": hours_reason}
    outside = visit_services.require_session_hours(start=scheduled_at, minutes=details["duration_minutes"], **hours)
    session = TherapySession(
        course=course,
        patient=patient,
        kind=kind,
        scheduled_at=scheduled_at,
        dose_plan=plan,
        created_by=actor,
        therapist=therapist,
        **details,
    )
    if kind == TherapySession.Kind.DOSING and details["modality"] == TherapySession.Modality.REMOTE:
        chaperone = chaperone or {}
        session.chaperone_name = chaperone.get("name") or patient.chaperone_name
        session.chaperone_phone = chaperone.get("phone") or patient.chaperone_phone
        session.chaperone_email = chaperone.get("email") or patient.chaperone_email
    session.full_clean(exclude=["course", "patient", "created_by", "therapist", "dose_plan"])
    session.save()
    audit_record(actor, AuditEvent.Action.CREATE, session)
    if outside:
        visit_services.session_hours_exception_record(
            actor=actor, session=session, outside=outside, reason=hours_reason
        )
    return session


def _check_integration_start(course, start, patient):
    """An integration session follows a dosing session: it starts once the latest dose before it has ended."""
    dosing = (
        DosingRecord.objects.filter(session__course=course, dose_taken_at__lt=start)
        .order_by("-dose_taken_at")
        .values("dose_taken_at", "ended_at")
        .first()
    )
    tz = gates.patient_zone(patient)
    if dosing is None:
        found = "no dose of this course was taken before it started"
    elif dosing["ended_at"] is None:
        found = f"the dosing session it follows (dose taken {gates.local(dosing['dose_taken_at'], tz)}) has not ended"
    elif dosing["ended_at"] > start:
        found = f"the dosing session it follows ended {gates.local(dosing['ended_at'], tz)}, after this one's start"
    else:
        return
    raise RuleRefused(
        f"Rule “integration after the dosing session”: an integration session starts after the dosing session it "
        f"follows has ended; this one starts {gates.local(start, tz)} and {found}.",
        code="integration_before_dosing_ended",
    )


def _raise_failed(gate):
    if gate is not None:
        raise RuleRefused(gate.message, code=gate.code)


def _locked_session(session):
    return TherapySession.objects.select_for_update().select_related("course").get(pk=session.pk)


def _require_scheduled(session, doing):
    if session.status != TherapySession.Status.SCHEDULED:
        raise RuleRefused(
            f"This session is {session.get_status_display().lower()}: only a scheduled session can be {doing}.",
            code="session_not_scheduled",
        )


def _require_reason(reason):
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason."})
    if len(reason) > 2000:
        raise ValidationError({"reason": "Keep the reason under 2000 characters."})
    return reason


@service(Permission.CHANGE_SESSION, on="session")
@keeps_due_work
def session_reschedule(*, actor, session, scheduled_at, reason: str, late_entry: bool = False) -> TherapySession:
    """Move a scheduled session to another time, with the reason (kept as a SessionChange). A dosing session
    is checked against the dosing gates again at its new time. Moving it to a start more than 15 minutes ago
    is a late entry: refused unless `late_entry` is set, and then the reason is the late entry's."""
    reason = _require_reason(reason)
    _check_when(scheduled_at)
    late, _reason = _late_entry(scheduled_at, reason, late_entry=late_entry)
    patient = _lock_patient(session.patient)
    session = _locked_session(session)
    _require_scheduled(session, "rescheduled")
    _refuse_after_dose(session, "rescheduled")
    _refuse_when_documented(session)
    if session.is_dosing:
        facts = gates.dosing_facts(patient, session.course, scheduled_at, session=session, rebooking=True)
        _raise_failed(gates.first_failed_dosing_gate(facts))
    if session.kind == TherapySession.Kind.INTEGRATION and scheduled_at <= timezone.now():
        _check_integration_start(session.course, scheduled_at, patient)
    outside = visit_services.require_session_hours(
        patient=patient,
        therapist=session.therapist,
        kind=session.kind,
        start=scheduled_at,
        minutes=session.duration_minutes,
        reason=reason,
    )
    if outside:
        visit_services.session_hours_exception_record(actor=actor, session=session, outside=outside, reason=reason)
    previous = session.scheduled_at
    session.scheduled_at = scheduled_at
    if session.is_dosing:
        # Fasting, the ride home, the chaperone were confirmed for the old time: they are asked again for the new
        # one (and pre-dose vitals from the old time no longer count: latest_pre_dose).
        ChecklistConfirmation.objects.filter(session=session).delete()
    if late:
        session.late_entry, session.late_entry_reason = True, reason
    session.status_reason = reason
    session.status_changed_at = timezone.now()
    session.status_changed_by = actor
    session.save()
    change = SessionChange.objects.create(
        session=session,
        patient=patient,
        kind=SessionChange.Kind.RESCHEDULED,
        previous_scheduled_at=previous,
        new_scheduled_at=scheduled_at,
        reason=reason,
        changed_by=actor,
    )
    audit_record(actor, AuditEvent.Action.UPDATE, session)
    audit_record(actor, AuditEvent.Action.CREATE, change)
    return session


@service(Permission.CHANGE_SESSION, on="session")
@keeps_due_work
def session_cancel(*, actor, session, reason: str) -> TherapySession:
    """Cancel a scheduled session, with the reason. A cancelled dosing session frees its dose in the ledger."""
    return _session_set_status(
        actor=actor, session=session, status=TherapySession.Status.CANCELLED, reason=_require_reason(reason)
    )


@service(Permission.CHANGE_SESSION, on="session")
@keeps_due_work
def session_no_show(*, actor, session, reason: str) -> TherapySession:
    """Record that the patient did not come (after the session's start time), with what is known."""
    return _session_set_status(
        actor=actor, session=session, status=TherapySession.Status.NO_SHOW, reason=_require_reason(reason)
    )


def _session_set_status(*, actor, session, status, reason):
    """Cancel or mark a no-show, inside the transaction of session_cancel or session_no_show."""
    patient = _lock_patient(session.patient)
    session = _locked_session(session)
    doing = "cancelled" if status == TherapySession.Status.CANCELLED else "marked a no-show"
    _require_scheduled(session, doing)
    _refuse_after_dose(session, doing)
    _refuse_when_documented(session)
    now = timezone.now()
    if status == TherapySession.Status.NO_SHOW and session.scheduled_at > now:
        raise RuleRefused(
            "This session has not started yet: a no-show is recorded after its start time.",
            code="session_not_started",
        )
    session.status = status
    session.status_reason = reason
    session.status_changed_at = now
    session.status_changed_by = actor
    session.save()
    change = SessionChange.objects.create(
        session=session,
        patient=patient,
        kind=SessionChange.Kind.CANCELLED if status == TherapySession.Status.CANCELLED else SessionChange.Kind.NO_SHOW,
        previous_scheduled_at=session.scheduled_at,
        reason=reason,
        changed_by=actor,
    )
    audit_record(actor, AuditEvent.Action.UPDATE, session)
    audit_record(actor, AuditEvent.Action.CREATE, change)
    return session


def _refuse_when_documented(session):
    """The signed progress note covers the session's time and status: they no longer change."""
    if SessionNote.objects.signed().filter(session=session).exists():
        raise RuleRefused(
            "The progress note of this session is signed: its time and status no longer change. "
            "Add a signed addendum to the note instead.",
            code="documentation_locked",
        )


def _refuse_after_dose(session, doing):
    if DosingRecord.objects.filter(session=session, dose_taken_at__isnull=False).exists():
        raise RuleRefused(
            f"The dose of this session was taken: it cannot be {doing}. Record the end of the session instead.",
            code="dose_taken",
        )


@service(Permission.COMPLETE_SESSION, on="session")
@keeps_due_work
def session_complete(*, actor, session) -> TherapySession:
    """The therapist records that a scheduled session took place. A dosing session is completed by recording
    its end (`dosing_end`), which needs the dose taken: it uses a dose from the ledger and moves the course to
    dosing."""
    patient = _lock_patient(session.patient)
    session = _locked_session(session)
    _require_scheduled(session, "completed")
    now = timezone.now()
    if session.is_dosing:
        record = DosingRecord.objects.filter(session=session).first()
        missing = [
            what
            for what, done in (
                ("the dose taken", record is not None and record.dose_taken),
                ("the end of the session", record is not None and record.ended_at is not None),
            )
            if not done
        ]
        if missing:
            raise RuleRefused(
                f"A dosing session is completed when its dosing record is: record {' and '.join(missing)} first.",
                code="dosing_record_incomplete",
            )
    else:
        _check_completion(session, patient, now)
    _mark_completed(actor=actor, session=session, at=now)
    course_refresh(actor=actor, patient=patient)
    return session


def _check_completion(session, patient, now):
    """A preparation or integration session is completed after it has taken place: at least the shortest
    session after its start; an integration only after the dosing session it follows has ended."""
    if session.scheduled_at > now:
        raise RuleRefused(
            "This session has not started yet: mark it completed after its start time.", code="session_not_started"
        )
    if now < session.scheduled_at + SHORTEST_SESSION:
        tz = gates.patient_zone(patient)
        raise RuleRefused(
            f"This session started {gates.local(session.scheduled_at, tz)}: a session lasts at least "
            f"{SHORTEST_SESSION.seconds // 60} minutes, so mark it completed when it is over.",
            code="session_not_over",
        )
    if session.kind == TherapySession.Kind.INTEGRATION:
        _check_integration_start(session.course, session.scheduled_at, patient)


def _mark_completed(*, actor, session, at):
    session.status = TherapySession.Status.COMPLETED
    session.completed_at = at
    session.completed_by = actor
    session.save(update_fields=["status", "completed_at", "completed_by", "updated_at"])
    audit_record(actor, AuditEvent.Action.UPDATE, session)


# The pre-dosing checklist -------------------------------------------------------------------------


def checklist_items(session) -> list[str]:
    """The items this dosing session's checklist asks for: fasting and the ride home always; the chaperone
    for a remote session; the benzodiazepine hold when the dose plan asks for one."""
    if not session.is_dosing:
        return []
    items = [Item.FASTING, Item.RIDE_HOME]
    if session.is_remote:
        items.append(Item.CHAPERONE)
    plan = session.dose_plan
    if plan is not None and plan.benzodiazepine_hold.strip():
        items.append(Item.BENZODIAZEPINE_HOLD)
    return items


def unconfirmed_checklist(session) -> list[str]:
    """The labels of the session's checklist items nobody has confirmed yet. One query."""
    done = set(ChecklistConfirmation.objects.filter(session=session).values_list("item", flat=True))
    return [Item(item).label for item in checklist_items(session) if item not in done]


@service(Permission.CONFIRM_CHECKLIST, on="session")
def checklist_confirm(*, actor, session, items) -> list[ChecklistConfirmation]:
    """The patient (their own session) or the therapist in the session confirms checklist items. Confirming
    an item twice keeps the first confirmation. Returns the rows created."""
    items = list(dict.fromkeys(items or []))
    if not items:
        raise ValidationError({"items": "Choose at least one item to confirm."})
    session = _locked_session(session)
    if not session.is_dosing:
        raise RuleRefused("Only a dosing session has a pre-dosing checklist.", code="not_a_dosing_session")
    _require_scheduled(session, "prepared")
    allowed = checklist_items(session)
    wrong = [item for item in items if item not in allowed]
    if wrong:
        raise ValidationError({"items": f"Not an item of this session's checklist: {', '.join(map(str, wrong))}."})
    done = set(ChecklistConfirmation.objects.filter(session=session).values_list("item", flat=True))
    created = []
    for item in items:
        if item in done:
            continue
        row = ChecklistConfirmation.objects.create(session=session, item=item, confirmed_by=actor)
        audit_record(actor, AuditEvent.Action.CREATE, row)
        created.append(row)
    return created


# The dosing record --------------------------------------------------------------------------------


def documentation_locked():
    return RuleRefused(
        "The progress note of this session is signed, so its dosing record is locked: add a signed addendum to "
        "the note instead.",
        code="documentation_locked",
    )


def _dosing_session(session, doing):
    """The session locked for a dosing-record write, after the rules every such write shares."""
    session = _locked_session(session)
    if not session.is_dosing:
        raise RuleRefused("Only a dosing session has a dosing record.", code="not_a_dosing_session")
    if SessionNote.objects.signed().filter(session=session).exists():
        raise documentation_locked()
    _require_scheduled(session, doing)
    return session


def _check_moment(session, at, field, *, earliest_before_start=EARLIEST_BEFORE_START):
    if at is None or timezone.is_naive(at):
        raise ValidationError({field: "Give a date and time with its time zone."})
    if at > timezone.now() + CLOCK_TOLERANCE:
        raise ValidationError({field: "This time is in the future: record what has happened."})
    if at < session.scheduled_at - earliest_before_start:
        tz = gates.patient_zone(session.patient)
        if not earliest_before_start:
            message = f"This is before the session started ({gates.local(session.scheduled_at, tz)}): check the time."
        else:
            message = "This time is long before the session started: check the date."
        raise ValidationError({field: message})
    return at


def _record_of(session):
    record, _created = DosingRecord.objects.select_for_update().get_or_create(
        session=session, defaults={"patient_id": session.patient_id}
    )
    return record


@service(Permission.RECORD_DOSING, on="session")
def vitals_record(
    *, actor, session, phase: str, systolic: int, diastolic: int, pulse: int, spo2=None, taken_by: str, taken_at=None
) -> VitalsReading:
    """Record one set of vitals. It is judged against the medical group's thresholds now and the verdict kept;
    a reading out of range raises a safety alert to the clinicians on the team (and holds the dose while it is
    the latest pre-dose reading). Append-only: a wrong reading is followed by a new one."""
    reading = VitalsReading(
        phase=phase,
        systolic=systolic,
        diastolic=diastolic,
        pulse=pulse,
        spo2=spo2,
        taken_by=taken_by,
        taken_at=taken_at or timezone.now(),
        in_range=True,
    )
    reading.full_clean(exclude=["session", "patient", "recorded_by"])
    session = _dosing_session(session, "documented")
    _check_moment(session, reading.taken_at, "taken_at")
    policy = CarePolicy.for_group(session.patient.medical_group_id)
    found = gates.vitals_out_of_range(
        policy, systolic=reading.systolic, diastolic=reading.diastolic, pulse=reading.pulse, spo2=reading.spo2
    )
    reading.session = session
    reading.patient_id = session.patient_id
    reading.recorded_by = actor
    reading.in_range = not found
    reading.out_of_range = "; ".join(found)[:200]
    reading.save()
    audit_record(actor, AuditEvent.Action.CREATE, reading)
    if found:
        patient_services.safety_alert_raise(
            patient=session.patient,
            kind=SafetyAlert.Kind.VITALS_OUT_OF_RANGE,
            reason=f"Vitals out of range ({reading.get_phase_display().lower()}): {reading.out_of_range}.",
            source=reading,
            actor=actor,
        )
    return reading


def _check_monitoring(session, record, ended_at):
    """The patient stays monitored the policy's minutes for the route after the dose (and any booster), with
    the route's timed vitals recorded (treatment.prescriptions.monitoring: intramuscular, at 40 minutes)."""
    policy = CarePolicy.for_group(session.patient.medical_group_id)
    plan = session.dose_plan or DosePlan.objects.signed().filter(course=session.course).first()
    needs = monitoring_for(policy, plan.route if plan else "")
    minutes = needs.observation_minutes
    last = max([record.dose_taken_at, *BoosterDose.objects.filter(session=session).values_list("taken_at", flat=True)])
    earliest = last + timedelta(minutes=minutes)
    tz = gates.patient_zone(session.patient)
    route = plan.get_route_display().lower() if plan and plan.route else "this"
    if ended_at < earliest:
        raise RuleRefused(
            f"Rule “minimum monitoring time”: after a {route} dose the patient stays monitored at least {minutes} "
            f"minutes; the last dose was taken {gates.local(last, tz)}, so the session ends no sooner than "
            f"{gates.local(earliest, tz)}.",
            code="monitoring_time",
        )
    for phase, after in needs.timed_vitals:
        due = record.dose_taken_at + timedelta(minutes=after - TIMED_VITALS_TOLERANCE_MINUTES)
        if not VitalsReading.objects.filter(session=session, phase=phase, taken_at__gte=due).exists():
            raise RuleRefused(
                f"Rule “route-aware monitoring”: after a {route} dose vitals are taken {after} minutes after the dose "
                f"(from {gates.local(due, tz)}); record them before the session ends.",
                code="monitoring_vitals_missing",
            )


def latest_vitals(session, phase=None):
    readings = VitalsReading.objects.filter(session=session)
    if phase:
        readings = readings.filter(phase=phase)
    return readings.order_by("-taken_at", "-recorded_at", "-id").first()


def latest_pre_dose(session, readings=None):
    """The latest pre-dose reading of the session as it is booked now. Readings from more than
    EARLIEST_BEFORE_START before its start were taken for another time (before a reschedule) and do not count.
    `readings`: the session's readings already read, oldest first (no query then)."""
    earliest = session.scheduled_at - EARLIEST_BEFORE_START
    if readings is not None:
        found = [r for r in readings if r.phase == VitalsReading.Phase.PRE_DOSE and r.taken_at >= earliest]
        return found[-1] if found else None
    readings = VitalsReading.objects.filter(session=session, phase=VitalsReading.Phase.PRE_DOSE, taken_at__gte=earliest)
    return readings.order_by("-taken_at", "-recorded_at", "-id").first()


@service(Permission.RECORD_DOSING, on="session")
@keeps_due_work
def dose_record(*, actor, session, dose_mg, taken_at=None) -> DosingRecord:
    """Mark the dose taken (mg, time). Refused unless every dosing gate holds again now and the latest pre-dose
    vitals are in range (a hold); the dose may not exceed the dose plan's full dose. Recorded once."""
    if dose_mg is None:
        raise ValidationError({"dose_mg": "Give the dose taken in mg."})
    taken_at = taken_at or timezone.now()
    patient = _lock_patient(session.patient)
    session = _dosing_session(session, "dosed")
    _check_moment(session, taken_at, "taken_at", earliest_before_start=timedelta(0))
    record = _record_of(session)
    if record.dose_taken:
        raise RuleRefused(
            "The dose of this session is already recorded. A correction is an addendum to the progress note.",
            code="dose_already_recorded",
        )
    facts = gates.dosing_facts(patient, session.course, taken_at, session=session)
    pre_dose = latest_pre_dose(session)
    holds = gates.hold_facts(patient, session.course)
    _raise_failed(gates.first_failed_dose_gate(facts, pre_dose, unconfirmed_checklist(session), holds))
    if pre_dose.taken_at > taken_at:
        raise ValidationError({"taken_at": "The dose is taken after the pre-dose vitals."})
    if pre_dose.taken_at < taken_at - PRE_DOSE_VITALS_MAX_AGE:
        tz = gates.patient_zone(patient)
        raise RuleRefused(
            "Gate “pre-dose vitals in range”: the latest pre-dose reading was taken "
            f"{gates.local(pre_dose.taken_at, tz)}, more than {PRE_DOSE_VITALS_MAX_AGE.seconds // 3600} hours "
            f"before a dose at {gates.local(taken_at, tz)}. "
            "Take them again before the dose.",
            code=gates.PRE_DOSE_VITALS,
        )
    plan = DosePlan.objects.signed().filter(course=session.course).first()
    _check_dose_against_plan(plan, session, dose_mg)
    record.dose_mg = dose_mg
    record.dose_taken_at = taken_at
    record.dose_recorded_by = actor
    record.full_clean(exclude=["session", "patient"])
    record.save()
    audit_record(actor, AuditEvent.Action.UPDATE, record)
    return record


def _check_dose_against_plan(plan, session, dose_mg):
    """At most the plan's full dose; at most its first dose in the course's first dosing session when the plan
    starts at half the dose."""
    first_of_course = not DosingRecord.objects.filter(
        session__course=session.course, dose_taken_at__isnull=False
    ).exists()
    if first_of_course and plan.start_at == DosePlan.Start.HALF and plan.first_dose_mg is not None:
        limit, what = plan.first_dose_mg, "starts at half the dose: the course's first dose is"
    else:
        limit, what = plan.full_dose_mg, "prescribes"
    if limit is not None and dose_mg > limit:
        raise RuleRefused(
            f"Dose plan version {plan.version} {what} at most {limit} mg per dose; {dose_mg} mg is more.",
            code="dose_over_plan",
        )


def booster_refusal(plan, record, boosters_taken: int, dose_mg, taken_at, latest_reading) -> RuleRefused | None:
    """Why a booster of `dose_mg` at `taken_at` is outside the dose plan, or None. Pure."""
    if record is None or not record.dose_taken:
        return RuleRefused("A booster follows the first dose: record the dose first.", code="dose_not_taken")
    if plan is None or not plan.boosters_allowed:
        return RuleRefused("The dose plan allows no boosters.", code="booster_not_allowed")
    if boosters_taken >= plan.booster_count:
        return RuleRefused(
            f"The dose plan allows {plan.booster_count} booster{'s' if plan.booster_count != 1 else ''} per "
            "session, and that many are recorded.",
            code="booster_count",
        )
    if dose_mg > plan.booster_mg:
        return RuleRefused(
            f"The dose plan allows a booster of at most {plan.booster_mg} mg; {dose_mg} mg is more.",
            code="booster_size",
        )
    earliest = record.dose_taken_at + timedelta(minutes=plan.booster_min_minutes)
    if taken_at < earliest:
        return RuleRefused(
            f"The dose plan allows a booster no sooner than {plan.booster_min_minutes} minutes after the first dose.",
            code="booster_too_soon",
        )
    if latest_reading is not None and not latest_reading.in_range:
        return RuleRefused(
            f"Hold: the latest vitals are out of range ({latest_reading.out_of_range}). No booster until a reading "
            "is back in range.",
            code=gates.PRE_DOSE_VITALS,
        )
    return None


@service(Permission.RECORD_DOSING, on="session")
def booster_record(*, actor, session, dose_mg, taken_at=None) -> BoosterDose:
    """Record a booster, checked against the dose plan (count, size, minutes after the first dose) and the
    latest vitals. Append-only."""
    if dose_mg is None:
        raise ValidationError({"dose_mg": "Give the booster in mg."})
    taken_at = taken_at or timezone.now()
    session = _dosing_session(session, "dosed")
    _check_moment(session, taken_at, "taken_at", earliest_before_start=timedelta(0))
    record = DosingRecord.objects.filter(session=session).first()
    plan = DosePlan.objects.signed().filter(course=session.course).first()
    refusal = booster_refusal(
        plan, record, BoosterDose.objects.filter(session=session).count(), dose_mg, taken_at, latest_vitals(session)
    )
    if refusal is not None:
        raise refusal
    _raise_failed(gates.first_hold(gates.hold_facts(session.patient, session.course)))  # a booster is a dose
    booster = BoosterDose(
        session=session, patient_id=session.patient_id, dose_mg=dose_mg, taken_at=taken_at, recorded_by=actor
    )
    booster.full_clean(exclude=["session", "patient", "recorded_by"])
    booster.save()
    audit_record(actor, AuditEvent.Action.CREATE, booster)
    return booster


@service(Permission.RECORD_DOSING, on="session")
def check_in_record(*, actor, session, patient_ok: bool = True, remark: str = "", checked_at=None) -> ChaperoneCheckIn:
    """Record a chaperone's check on the patient in a remote dosing session. Append-only."""
    if len(remark or "") > 300:
        raise ValidationError({"remark": "Keep the remark under 300 characters."})
    remark = remark or ""
    session = _dosing_session(session, "documented")
    if not session.is_remote:
        raise RuleRefused(
            "Chaperone check-ins are for remote sessions: in person, the therapist is with the patient.",
            code="not_remote",
        )
    checked_at = _check_moment(session, checked_at or timezone.now(), "checked_at")
    check_in = ChaperoneCheckIn.objects.create(
        session=session,
        patient_id=session.patient_id,
        checked_at=checked_at,
        patient_ok=patient_ok,
        remark=remark,
        recorded_by=actor,
    )
    audit_record(actor, AuditEvent.Action.CREATE, check_in)
    if not patient_ok:
        # One alert per session: a second "not OK" (or a retried one) adds to the record, not to the alerts.
        patient_services.safety_alert_raise(
            patient=session.patient,
            kind=SafetyAlert.Kind.CHECK_IN_NOT_OK,
            reason="A check-in during the dosing session found the patient not safe or not comfortable.",
            source=session,
            severity=SafetyAlert.Severity.URGENT,
            actor=actor,
        )
    return check_in


END_CRITERIA = ("alert_and_oriented", "vitals_near_baseline", "safe_transport")


@service(Permission.RECORD_DOSING, on="session")
@keeps_due_work
def dosing_end(*, actor, session, criteria: dict, ended_at=None) -> DosingRecord:
    """Record the end of a dosing session: the end criteria (alert and oriented, vitals back near baseline, safe
    transport), all met, after end-of-session vitals; the end time. This completes the session (the ledger
    uses the dose) and moves the course to dosing."""
    unknown = set(criteria or {}) - set(END_CRITERIA)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Not an end-of-session criterion."))
    criteria = criteria or {}
    ended_at = ended_at or timezone.now()
    patient = _lock_patient(session.patient)
    session = _dosing_session(session, "ended")
    _check_moment(session, ended_at, "ended_at")
    record = DosingRecord.objects.select_for_update().filter(session=session).first()
    if record is None or not record.dose_taken:
        raise RuleRefused(
            "The dose is not recorded: a session without a dose is cancelled with the reason, not ended.",
            code="dose_not_taken",
        )
    if ended_at <= record.dose_taken_at:
        raise ValidationError({"ended_at": "The session ends after the dose."})
    _check_monitoring(session, record, ended_at)
    end_vitals = latest_vitals(session, VitalsReading.Phase.END)
    if end_vitals is None or end_vitals.taken_at <= record.dose_taken_at:
        raise RuleRefused("Record the end-of-session vitals (after the dose) first.", code="end_vitals_missing")
    if not end_vitals.in_range:
        raise RuleRefused(
            f"The latest end-of-session vitals are out of range ({end_vitals.out_of_range}): the patient stays "
            "monitored. Take them again when they have settled, or contact the prescriber.",
            code="end_vitals_out_of_range",
        )
    if ended_at < end_vitals.taken_at:
        raise ValidationError({"ended_at": "The session ends after its end-of-session vitals."})
    unmet = [DosingRecord._meta.get_field(name).verbose_name for name in END_CRITERIA if not criteria.get(name)]
    if unmet:
        raise RuleRefused(
            f"Not met: {'; '.join(unmet)}. The patient stays monitored until every end-of-session criterion is met.",
            code="end_criteria_not_met",
        )
    for name in END_CRITERIA:
        setattr(record, name, True)
    record.ended_at = ended_at
    record.end_recorded_by = actor
    record.save()
    audit_record(actor, AuditEvent.Action.UPDATE, record)
    _mark_completed(actor=actor, session=session, at=timezone.now())
    course_refresh(actor=actor, patient=patient)
    return record
