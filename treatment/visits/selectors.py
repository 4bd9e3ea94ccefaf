"""Reads of schedules, open slots and visits. Every patient-facing read starts from kapcare.access.

Weekly hours are wall-clock times in the clinician's zone; `working_windows` turns them into instants one
local date at a time (zoneinfo), so 09:00 stays 09:00 on both sides of a daylight-saving change, and a wall
time that does not exist that day (the hour skipped in spring) is left out rather than guessed.
"""

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from kapcare import prepared
from patients.access import visible_patient_ids, visible_patients
from patients.models import CareTeamMember, Stage

from ..models import FollowUp, TherapySession
from .models import CalendarFeed, DateHours, Schedule, TimeOff, Visit, WeeklyHours

DAY = datetime.timedelta(days=1)
BOOKING_DAYS = 28  # how far ahead a patient sees open slots
BOOKING_LEAD = datetime.timedelta(hours=2)  # the soonest a slot starts after now
DEFAULT_HOURS = (datetime.time(8), datetime.time(18))  # working hours of a clinician who published none


def schedule_of(clinician) -> Schedule:
    """The clinician's schedule, or an unsaved one with the defaults."""
    return Schedule.objects.filter(clinician=clinician).first() or Schedule(clinician=clinician)


def _instant(day, wall, zone):
    """The instant of a wall time on a local date, or None when that wall time does not exist (spring forward)."""
    local = datetime.datetime.combine(day, wall, tzinfo=zone)
    if local.astimezone(datetime.UTC).astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return local


def _hours_by_date(schedule, first, last):
    """{local date: [(start, end) wall times]}: a date with DateHours rows uses them (none with times: off)."""
    weekly = {}
    for row in WeeklyHours.objects.filter(schedule=schedule).values_list("weekday", "start_time", "end_time"):
        weekly.setdefault(row[0], []).append(row[1:])
    dated = {}
    for on, start, end in DateHours.objects.filter(schedule=schedule, on__gte=first, on__lte=last).values_list(
        "on", "start_time", "end_time"
    ):
        dated.setdefault(on, [])
        if start is not None:
            dated[on].append((start, end))
    days = (first + DAY * n for n in range((last - first).days + 1))
    return {day: dated[day] if day in dated else weekly.get(day.weekday(), []) for day in days}


def working_windows(schedule, first, last):
    """[(start, end)] instants the clinician works between two local dates, time off taken out."""
    if schedule.pk is None:  # nothing published yet
        return []
    zone = ZoneInfo(schedule.time_zone)
    windows = []
    for day, hours in sorted(_hours_by_date(schedule, first, last).items()):
        for start, end in hours:
            start_at, end_at = _instant(day, start, zone), _instant(day, end, zone)
            if start_at and end_at:
                windows.append((start_at, end_at))
    if windows:
        away = TimeOff.objects.filter(
            schedule=schedule, ends_at__gt=windows[0][0], starts_at__lt=windows[-1][1]
        ).values_list("starts_at", "ends_at")
        windows = _subtract(windows, list(away))
    return windows


def _subtract(windows, away):
    for off_start, off_end in away:
        kept = []
        for start, end in windows:
            if off_end <= start or off_start >= end:
                kept.append((start, end))
                continue
            if start < off_start:
                kept.append((start, off_start))
            if off_end < end:
                kept.append((off_end, end))
        windows = kept
    return windows


def _own_rows(model, user):
    """The user's own rows of their schedule (a clinician keeps only their own; nobody reads another's)."""
    rows = model.objects.select_related("schedule")
    return rows.filter(schedule__clinician=user) if user.is_authenticated else rows.none()


def own_weekly_hours(user):
    return _own_rows(WeeklyHours, user)


def own_date_hours(user):
    return _own_rows(DateHours, user)


def own_time_off(user):
    return _own_rows(TimeOff, user)


def visit_minutes(schedule, kind):
    return schedule.evaluation_minutes if kind == Visit.Kind.EVALUATION else schedule.follow_up_minutes


def open_slots(prescriber, kind, *, now=None, days=BOOKING_DAYS, ignore=None):
    """The starts a visit of this kind may be booked at on the prescriber's schedule: inside their working
    windows, on a grid of the visit's length, at least BOOKING_LEAD from now, clear of booked visits (but
    `ignore`, the visit being moved)."""
    now = now or timezone.now()
    schedule = schedule_of(prescriber)
    zone = ZoneInfo(schedule.time_zone)
    length = datetime.timedelta(minutes=visit_minutes(schedule, kind))
    today = now.astimezone(zone).date()
    windows = working_windows(schedule, today, today + DAY * days)
    booked = Visit.objects.filter(prescriber=prescriber, status=Visit.Status.BOOKED, ends_at__gt=now)
    if ignore is not None:
        booked = booked.exclude(pk=ignore.pk)
    busy = list(booked.values_list("starts_at", "ends_at"))
    slots = []
    for start, end in windows:
        at = start
        while at + length <= end:
            if at >= now + BOOKING_LEAD and not any(b0 < at + length and at < b1 for b0, b1 in busy):
                slots.append(at.astimezone(datetime.UTC))
            at += length
    return slots


@dataclass(frozen=True)
class SlotDay:
    day: datetime.date
    slots: list  # aware datetimes in the viewer's zone


def slots_by_day(slots, time_zone):
    """Slots grouped by local date in the viewer's zone (the patient's), for a phone-sized list."""
    zone = ZoneInfo(time_zone)
    days = {}
    for slot in slots:
        local = slot.astimezone(zone)
        days.setdefault(local.date(), []).append(local)
    return [SlotDay(day, times) for day, times in sorted(days.items())]


def active_prescriber(patient):
    member = (
        CareTeamMember.objects.active()
        .filter(patient=patient, role=CareTeamMember.Role.PRESCRIBER)
        .select_related("clinician")
        .first()
    )
    return member.clinician if member else None


def visible_visits(user):
    return Visit.objects.filter(patient__in=visible_patients(user)).select_related("patient", "prescriber")


def patient_visits(patient, *, upcoming=True):
    visits = Visit.objects.filter(patient=patient, status=Visit.Status.BOOKED).select_related("prescriber")
    return visits.filter(ends_at__gt=timezone.now()) if upcoming else visits


@dataclass(frozen=True)
class ToBook:
    """A visit the patient should book: its kind, the follow-up it is for, and the date to book it by."""

    kind: str
    follow_up: FollowUp | None
    book_by: datetime.date | None


def to_book(patient) -> list[ToBook]:
    """The visits the patient may book now: the evaluation while awaiting it, the course's next follow-up."""
    booked = Visit.objects.filter(patient=patient, status=Visit.Status.BOOKED)
    needs = []
    if patient.stage == Stage.EVALUATION and not booked.filter(kind=Visit.Kind.EVALUATION).exists():
        needs.append(ToBook(Visit.Kind.EVALUATION, None, None))
    follow_up = (
        FollowUp.objects.pending()
        .filter(patient=patient, course__ended_at__isnull=True)
        .exclude(Exists(booked.filter(follow_up=OuterRef("pk"))))
        .order_by("due_on")
        .first()
    )
    if follow_up is not None:
        needs.append(ToBook(Visit.Kind.FOLLOW_UP, follow_up, follow_up.due_on))
    return needs


# What the panel shows: the follow-up's day and its patient's name and time zone.
BOOKING_FIELDS = (
    *("id", "patient_id", "due_on"),
    *("patient__id", "patient__first_name", "patient__last_name", "patient__time_zone"),
)


def _booking_rows(key, values):
    shape, limit = key
    booked = Visit.objects.filter(follow_up=OuterRef("pk"), status=Visit.Status.BOOKED).values("starts_at")[:1]
    return (
        FollowUp.objects.pending()
        .filter(patient_id__in=visible_patient_ids(prepared.user_of(shape, values)), course__ended_at__isnull=True)
        .annotate(booked_at=Subquery(booked))
        .select_related("patient")
        .only(*BOOKING_FIELDS)
        .order_by("due_on", "id")[:limit]
    )


# Built once per role and limit (kapcare.prepared): the prescriber's dashboard shows it on every visit.
_BOOKING_ROWS = prepared.Prepared(_booking_rows, slots=prepared.USER_SLOTS)


def follow_up_bookings(user, *, limit=10):
    """The prescriber's pending follow-ups, soonest "book by" first, each with `booked_at`: the start of its
    booked visit, or None. One query (the care team index)."""
    if not user.is_authenticated:
        return []
    return _BOOKING_ROWS((prepared.user_shape(user), limit), **prepared.user_values(user))


def feed_owner(token_hash):
    feed = CalendarFeed.objects.filter(token_hash=token_hash).select_related("owner").first()
    return feed.owner if feed and feed.owner.is_active else None


FEED_PAST = datetime.timedelta(days=30)
FEED_AHEAD = datetime.timedelta(days=365)


def calendar_entries(user, *, now=None):
    """(visits, sessions) a person's feed holds: their own as a patient; as a clinician, their visits and the
    sessions they run. From 30 days back to a year ahead, cancelled ones left out."""
    now = now or timezone.now()
    visits = Visit.objects.filter(
        status=Visit.Status.BOOKED, starts_at__gte=now - FEED_PAST, starts_at__lte=now + FEED_AHEAD
    )
    sessions = TherapySession.objects.exclude(status=TherapySession.Status.CANCELLED).filter(
        scheduled_at__gte=now - FEED_PAST, scheduled_at__lte=now + FEED_AHEAD
    )
    if user.is_patient:
        visits, sessions = visits.filter(patient__user=user), sessions.filter(patient__user=user)
    else:
        visits, sessions = visits.filter(prescriber=user), sessions.filter(therapist=user)
    visible = visible_patients(user)
    return (
        list(visits.filter(patient__in=visible).select_related("patient", "prescriber")),
        list(sessions.filter(patient__in=visible).select_related("patient", "therapist")),
    )
