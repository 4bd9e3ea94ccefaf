"""Writes of visits, schedules, calendar feeds and session-hours exceptions. Keyword-only, actor first,
atomic, audited; a refused rule is RuleRefused naming itself.

Booking locks the prescriber's schedule row (SELECT ... FOR UPDATE), so two bookings of one prescriber run one
after the other and the second sees the first; the unique constraint on (prescriber, start) of booked visits
is the database's backstop. Either way the loser hears "this time was just taken".
"""

import datetime
import hashlib
import secrets
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from kapcare import access
from kapcare.access import Permission
from kapcare.accounts.credentials import licence_gap
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from kapcare.rules import RuleRefused
from kapcare.services import service

from ..models import CarePolicy, TherapySession
from . import selectors
from .models import CalendarFeed, DateHours, Schedule, SessionHoursException, TimeOff, Visit, WeeklyHours

SLOT_TAKEN = RuleRefused(
    "Rule “one visit per time”: this time was just taken by someone else. Choose another open time.",
    code="visit_slot_taken",
)


def _local(at, time_zone):
    return f"{at.astimezone(ZoneInfo(time_zone)):%a %b %-d, %-I:%M %p %Z}"


# Booking -------------------------------------------------------------------------------------------


def visit_book(*, actor, patient, kind, starts_at, encounter=Visit.Encounter.VIDEO, patient_state="") -> Visit:
    """Book the patient's evaluation or next follow-up with their prescriber at an open slot. `patient_state`
    is where the patient will be during the visit (default: their state on file): the prescriber must hold a
    current licence there."""
    access.require(actor, Permission.BOOK_VISIT, patient)
    _check_input(kind=kind, starts_at=starts_at, encounter=encounter)
    prescriber = selectors.active_prescriber(patient)
    if prescriber is None:
        raise RuleRefused(
            "Rule “a prescriber on the team”: no prescriber is assigned yet; the coordinator assigns one first.",
            code="no_prescriber",
        )
    state = patient_state or patient.state
    _require_licensed(prescriber, state, starts_at)
    try:
        with transaction.atomic():
            return _visit_book(
                actor=actor,
                patient=patient,
                prescriber=prescriber,
                kind=kind,
                starts_at=starts_at,
                encounter=encounter,
                state=state,
            )
    except IntegrityError as error:  # the constraint caught a race the lock did not (e.g. a new schedule row)
        raise SLOT_TAKEN from error


def _check_input(*, kind, starts_at, encounter):
    errors = {}
    if kind not in Visit.Kind.values:
        errors["kind"] = "Choose an evaluation or a follow-up."
    if encounter not in Visit.Encounter.values:
        errors["encounter"] = "Choose in person or video."
    if starts_at is None or timezone.is_naive(starts_at):
        errors["starts_at"] = "Give a date and time with its time zone."
    if errors:
        raise ValidationError(errors)


def _lock_schedule(prescriber):
    Schedule.objects.get_or_create(clinician=prescriber)
    return Schedule.objects.select_for_update().get(clinician=prescriber)


def _what_to_book(patient, kind):
    """The follow-up the visit is for (None for an evaluation), or RuleRefused when there is nothing to book."""
    needs = {need.kind: need for need in selectors.to_book(patient)}
    if kind not in needs:
        what = "evaluation" if kind == Visit.Kind.EVALUATION else "follow-up"
        raise RuleRefused(
            f"Rule “one visit at a time”: there is no {what} to book now: it is booked already, or not due "
            "at this stage of care.",
            code="visit_nothing_to_book",
        )
    return needs[kind].follow_up


def _require_open(prescriber, kind, starts_at, *, moving=None):
    booked = Visit.objects.filter(prescriber=prescriber, status=Visit.Status.BOOKED, starts_at=starts_at)
    if booked.exclude(pk=getattr(moving, "pk", None)).exists():
        raise SLOT_TAKEN
    if starts_at not in selectors.open_slots(prescriber, kind, ignore=moving):
        raise RuleRefused(
            "Rule “booked from open times”: that time is not open on the prescriber's schedule (taken, outside "
            "their hours, too soon or too far ahead). Choose one of the open times.",
            code="visit_slot_not_open",
        )


def _visit_book(*, actor, patient, prescriber, kind, starts_at, encounter, state):
    schedule = _lock_schedule(prescriber)
    follow_up = _what_to_book(patient, kind)
    _require_open(prescriber, kind, starts_at)
    length = datetime.timedelta(minutes=selectors.visit_minutes(schedule, kind))
    visit = Visit.objects.create(
        patient=patient,
        prescriber=prescriber,
        kind=kind,
        follow_up=follow_up,
        starts_at=starts_at,
        ends_at=starts_at + length,
        encounter=encounter,
        video_link=schedule.video_link if encounter == Visit.Encounter.VIDEO else "",
        location=schedule.location if encounter == Visit.Encounter.IN_PERSON else "",
        patient_state=state,
        booked_by=actor,
    )
    audit_record(actor, AuditEvent.Action.CREATE, visit)
    return visit


def _require_notice(actor, visit, doing):
    """A patient changes a visit up to the policy's notice before it; the clinic can always."""
    if not actor.is_patient:
        return
    hours = CarePolicy.for_group(visit.patient.medical_group_id).visit_change_notice_hours
    if timezone.now() > visit.starts_at - datetime.timedelta(hours=hours):
        raise RuleRefused(
            f"Rule “changes with notice”: a visit is {doing} online up to {hours} hours before it starts. "
            "Call or message the clinic instead.",
            code="visit_notice",
        )


def _require_booked(visit):
    if visit.status != Visit.Status.BOOKED or visit.starts_at <= timezone.now():
        raise RuleRefused("This visit is cancelled or has started: it can no longer change.", code="visit_not_open")


def visit_cancel(*, actor, visit, reason="") -> Visit:
    access.require(actor, Permission.BOOK_VISIT, visit)
    reason = (reason or "").strip()
    if len(reason) > 2000:
        raise ValidationError({"reason": "Keep the reason under 2000 characters."})
    with transaction.atomic():
        visit = Visit.objects.select_for_update().select_related("patient").get(pk=visit.pk)
        _require_booked(visit)
        _require_notice(actor, visit, "cancelled")
        visit.status = Visit.Status.CANCELLED
        visit.cancelled_at, visit.cancelled_by, visit.cancel_reason = timezone.now(), actor, reason
        visit.save()
        audit_record(actor, AuditEvent.Action.UPDATE, visit, fields=("status",))
    return visit


def visit_reschedule(*, actor, visit, starts_at) -> Visit:
    """Move a booked visit to another open time of the same prescriber (within the notice for a patient), under
    the rules a booking meets: still the patient's prescriber, licensed where the patient will be that day."""
    access.require(actor, Permission.BOOK_VISIT, visit)
    _check_input(kind=visit.kind, starts_at=starts_at, encounter=visit.encounter)
    if selectors.active_prescriber(visit.patient) != visit.prescriber:
        raise RuleRefused(
            "Rule “a prescriber on the team”: this visit's prescriber is no longer on the care team; cancel it and "
            "book with the patient's prescriber.",
            code="visit_prescriber_changed",
        )
    _require_licensed(visit.prescriber, visit.patient_state, starts_at)
    try:
        with transaction.atomic():
            _lock_schedule(visit.prescriber)
            visit = Visit.objects.select_for_update().select_related("patient").get(pk=visit.pk)
            _require_booked(visit)
            _require_notice(actor, visit, "moved")
            _require_open(visit.prescriber, visit.kind, starts_at, moving=visit)
            visit.ends_at = starts_at + visit.duration
            visit.starts_at = starts_at
            visit.save()
            audit_record(actor, AuditEvent.Action.UPDATE, visit, fields=("starts_at", "ends_at"))
    except IntegrityError as error:
        raise SLOT_TAKEN from error
    return visit


def _require_licensed(prescriber, state, starts_at):
    gap = licence_gap(prescriber, state, starts_at.date())
    if gap:
        raise RuleRefused(
            f"Rule “licensed where the patient is”: {prescriber.get_full_name()} cannot see you there: {gap}.",
            code="prescriber_not_licensed",
        )


# The clinician's own schedule ------------------------------------------------------------------------
# One service per write, shared by the schedule page and /api/v1/availability/. Each locks the clinician's
# schedule row, so two overlapping rows added at once are checked one after the other.

keeps_schedule = service(Permission.KEEP_SCHEDULE, object_type="treatment.schedule")
HOURS_IN_ORDER = "The hours end after they start."
SCHEDULE_HORIZON = datetime.timedelta(days=3 * 366)  # how far ahead a date or time off may be set


def _hhmm(start, end):
    return f"{start:%H:%M}-{end:%H:%M}"


@keeps_schedule
def schedule_save(*, actor, **fields) -> Schedule:
    """The clinician's time zone, visit lengths, office address and video room."""
    schedule = _lock_schedule(actor)
    for name, value in fields.items():
        setattr(schedule, name, value)
    schedule.full_clean(exclude=["clinician"])
    schedule.save()
    audit_record(actor, AuditEvent.Action.UPDATE, schedule, fields=tuple(fields))
    return schedule


@keeps_schedule
def hours_add(*, actor, weekday, start_time, end_time) -> WeeklyHours:
    """A stretch of the week (wall-clock times in the clinician's zone), clear of the other stretches that day."""
    if start_time is None or end_time is None or end_time <= start_time:
        raise ValidationError({"end_time": HOURS_IN_ORDER})
    schedule = _lock_schedule(actor)
    hours = WeeklyHours(schedule=schedule, weekday=weekday, start_time=start_time, end_time=end_time)
    hours.full_clean()
    clash = schedule.weekly_hours.filter(weekday=weekday, start_time__lt=end_time, end_time__gt=start_time).first()
    if clash is not None:
        raise ValidationError({"start_time": f"These hours overlap your {clash}. Change or remove those first."})
    hours.save()
    audit_record(actor, AuditEvent.Action.CREATE, hours)
    return hours


def _check_date(schedule, on, start_time, end_time):
    today = timezone.localdate(timezone=ZoneInfo(schedule.time_zone))
    if not today <= on <= today + SCHEDULE_HORIZON:
        raise ValidationError({"on": "Choose a date from today up to three years ahead."})
    same_day = list(schedule.date_hours.filter(on=on))
    if start_time is None and same_day:
        raise ValidationError({"on": f"{on:%b %-d, %Y} already has its own hours. Remove them first."})
    if any(row.start_time is None for row in same_day):
        raise ValidationError({"on": f"{on:%b %-d, %Y} is already a day off. Remove it first."})
    clash = next((row for row in same_day if row.start_time < end_time and start_time < row.end_time), None)
    if clash is not None:
        raise ValidationError(
            {"start_time": f"These hours overlap {_hhmm(clash.start_time, clash.end_time)} that day."}
        )


@keeps_schedule
def date_hours_add(*, actor, on, start_time=None, end_time=None, note="") -> DateHours:
    """A date whose hours replace the weekly ones (both times), or a day off (neither)."""
    schedule = _lock_schedule(actor)
    row = DateHours(schedule=schedule, on=on, start_time=start_time, end_time=end_time, note=note)
    row.full_clean()
    _check_date(schedule, on, start_time, end_time)
    row.save()
    audit_record(actor, AuditEvent.Action.CREATE, row)
    return row


@keeps_schedule
def time_off_add(*, actor, starts_at, ends_at, note="") -> TimeOff:
    """A stretch away, from one instant to another, clear of the time off already set."""
    if not starts_at or not ends_at or ends_at <= starts_at:
        raise ValidationError({"ends_at": "Time off ends after it starts."})
    now = timezone.now()
    if ends_at <= now or starts_at > now + SCHEDULE_HORIZON:
        raise ValidationError({"starts_at": "Choose time off that ends in the future, within three years."})
    schedule = _lock_schedule(actor)
    row = TimeOff(schedule=schedule, starts_at=starts_at, ends_at=ends_at, note=note)
    row.full_clean()
    clash = schedule.time_off.filter(starts_at__lt=ends_at, ends_at__gt=starts_at).first()
    if clash is not None:
        local = ZoneInfo(schedule.time_zone)
        raise ValidationError(
            {
                "starts_at": f"This overlaps your time off from {clash.starts_at.astimezone(local):%b %-d %H:%M} "
                f"to {clash.ends_at.astimezone(local):%b %-d %H:%M}."
            }
        )
    row.save()
    audit_record(actor, AuditEvent.Action.CREATE, row)
    return row


@keeps_schedule
def schedule_row_delete(*, actor, model, pk):
    """Remove one of the clinician's own weekly hours, dates or time off (someone else's: DoesNotExist, a 404)."""
    row = model.objects.filter(schedule=_lock_schedule(actor), pk=pk).first()
    if row is None:
        raise model.DoesNotExist
    audit_record(actor, AuditEvent.Action.DELETE, row)
    row.delete()


# Calendar feeds ------------------------------------------------------------------------------------


def feed_token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def calendar_feed_create(*, actor) -> str:
    """A new secret for the person's own feed (ending any earlier one). Returns the secret: shown once, kept
    only as its hash."""
    access.require(actor, Permission.KEEP_CALENDAR_FEED, object_type="treatment.calendarfeed")
    token = secrets.token_urlsafe(32)
    CalendarFeed.objects.update_or_create(owner=actor, defaults={"token_hash": feed_token_hash(token)})
    return token


def calendar_feed_revoke(*, actor):
    access.require(actor, Permission.KEEP_CALENDAR_FEED, object_type="treatment.calendarfeed")
    CalendarFeed.objects.filter(owner=actor).delete()


# Session hours ---------------------------------------------------------------------------------------


def _inside(windows, start, end):
    return any(w0 <= start and end <= w1 for w0, w1 in windows)


def outside_hours(*, patient, therapist, kind, start, minutes):
    """What a session from `start` for `minutes` falls outside of, as phrases ([] when inside): the therapist's
    working hours (their published weekly hours, else 08:00-18:00 in the patient's zone) and, for a dosing
    session, the policy's dosing hours in the patient's zone."""
    end = start + datetime.timedelta(minutes=minutes)
    day = start.astimezone(ZoneInfo(patient.time_zone)).date()
    outside = []
    schedule = selectors.schedule_of(therapist) if therapist else None
    if schedule is not None and schedule.pk and schedule.weekly_hours.exists():
        if not _inside(selectors.working_windows(schedule, day - selectors.DAY, day + selectors.DAY), start, end):
            outside.append(f"{therapist.get_full_name()}'s working hours")
    elif not _inside(_daily(patient.time_zone, day, *selectors.DEFAULT_HOURS), start, end):
        outside.append("the clinic's working hours (08:00-18:00, the patient's time)")
    if kind == TherapySession.Kind.DOSING:
        policy = CarePolicy.for_group(patient.medical_group_id)
        if not _inside(_daily(patient.time_zone, day, policy.dosing_hours_start, policy.dosing_hours_end), start, end):
            outside.append(
                f"the dosing hours ({policy.dosing_hours_start:%H:%M}-{policy.dosing_hours_end:%H:%M}, the "
                "patient's time: hours of monitoring and a ride home)"
            )
    return outside


def _daily(time_zone, day, start, end):
    zone = ZoneInfo(time_zone)
    return [(datetime.datetime.combine(day, start, tzinfo=zone), datetime.datetime.combine(day, end, tzinfo=zone))]


def require_session_hours(*, patient, therapist, kind, start, minutes, reason):
    """Refuse a session outside the hours unless a reason is given. Returns what it is outside of (to record
    with the reason via session_hours_exception_record), or ""."""
    outside = outside_hours(patient=patient, therapist=therapist, kind=kind, start=start, minutes=minutes)
    if not outside:
        return ""
    if not (reason or "").strip():
        raise RuleRefused(
            f"Rule “sessions at clinic hours”: this session ({_local(start, patient.time_zone)}, {minutes} minutes) "
            f"falls outside {' and '.join(outside)}. Choose another time, or give the reason for the exception.",
            code="session_outside_hours",
        )
    return "; ".join(outside)[:300]


def session_hours_exception_record(*, actor, session, outside, reason):
    """Keep why a session runs outside the hours (inside the booking's transaction); audited."""
    exception, _created = SessionHoursException.objects.update_or_create(
        session=session,
        defaults={"patient_id": session.patient_id, "outside": outside, "reason": reason.strip(), "recorded_by": actor},
    )
    audit_record(actor, AuditEvent.Action.CREATE, exception)
    return exception
