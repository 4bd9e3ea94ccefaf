"""The clinician's agenda (issue 16): one day or one week of their sessions and the prescriber's booked visits
(issue 19), soonest first, in the clinician's own time zone (their schedule's), each session with what is still
to do before it. `AgendaItem` is what the page lists, whatever it comes from."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record_many

from ..visits import selectors as visit_selectors
from ..visits.models import Visit
from .models import TherapySession
from .selectors import visible_sessions
from .services import checklist_items

VIEWS = {"day": 1, "week": 7}
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)  # a date asked for outside these falls back to today


@dataclass(frozen=True)
class AgendaItem:
    at: datetime
    title: str
    patient: object
    url: str
    kind: str  # "session" or "visit"
    todo: list  # what is still to be done before it, in words


@dataclass
class AgendaDay:
    day: date
    items: list = field(default_factory=list)


def _session_item(session):
    todo = []
    if session.is_dosing:
        missing = len(checklist_items(session)) - session.items_confirmed
        if missing > 0:
            todo.append(f"{missing} checklist item{'s' if missing != 1 else ''} to confirm")
    return AgendaItem(
        at=session.scheduled_at,
        title=f"{session.get_kind_display()} session ({session.get_modality_display().lower()})",
        patient=session.patient,
        url=reverse("treatment:patient-session", args=(session.patient_id, session.pk)),
        kind="session",
        todo=todo,
    )


def _visit_item(visit, user):
    with_whom = "" if visit.prescriber_id == user.pk else f" with {visit.prescriber.get_full_name()}"
    return AgendaItem(
        at=visit.starts_at,
        title=f"{visit.get_kind_display()} visit{with_whom} ({visit.get_encounter_display().lower()})",
        patient=visit.patient,
        url=reverse("treatment:visit-page", args=(visit.pk,)),
        kind="visit",
        todo=[],
    )


def agenda(user, first_day, days):
    """[AgendaDay] from `first_day` for `days` days in the current time zone (the page sets the clinician's),
    every day listed even when empty. One query for the sessions, one for the visits."""
    tz = timezone.get_current_timezone()
    start = datetime.combine(first_day, time(0), tzinfo=tz)
    end = datetime.combine(first_day + timedelta(days=days), time(0), tzinfo=tz)
    sessions = (
        visible_sessions(user)
        .filter(status=TherapySession.Status.SCHEDULED, scheduled_at__gte=start, scheduled_at__lt=end)
        .select_related("patient", "dose_plan")
        .annotate(items_confirmed=Count("checklist"))
        .order_by("scheduled_at", "id")
    )
    items = [_session_item(session) for session in sessions]
    if access.can(user, Permission.VIEW_VISITS):
        visits = visit_selectors.visible_visits(user).filter(
            status=Visit.Status.BOOKED, starts_at__gte=start, starts_at__lt=end
        )
        items += [_visit_item(visit, user) for visit in visits.order_by("starts_at", "id")]
    by_day = {first_day + timedelta(days=n): AgendaDay(first_day + timedelta(days=n)) for n in range(days)}
    for item in sorted(items, key=lambda item: item.at):
        by_day[timezone.localtime(item.at, tz).date()].items.append(item)
    return list(by_day.values())


def _first_day(request, view):
    try:
        day = date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        day = timezone.localdate()
    if not EARLIEST <= day <= LATEST:
        day = timezone.localdate()
    return day - timedelta(days=day.weekday()) if view == "week" else day


@login_required
def agenda_page(request):
    """/agenda/?view=day|week&date=YYYY-MM-DD: a bad date falls back to today, an unknown view to the day."""
    access.require(request.user, Permission.VIEW_SESSIONS)
    with timezone.override(visit_selectors.schedule_of(request.user).time_zone):
        return _agenda_page(request)


def _agenda_page(request):
    view = request.GET.get("view") if request.GET.get("view") in VIEWS else "day"
    first_day = _first_day(request, view)
    days = agenda(request.user, first_day, VIEWS[view])
    audit_record_many(
        request.user, AuditEvent.Action.LIST, list({i.patient.pk: i.patient for d in days for i in d.items}.values())
    )
    step = timedelta(days=VIEWS[view])
    return render(
        request,
        "treatment/sessions/agenda.html",
        {
            "view": view,
            "days": days,
            "first_day": first_day,
            "previous": first_day - step,
            "next": first_day + step,
            "today": timezone.localdate(),
            "sessions": sum(item.kind == "session" for day in days for item in day.items),
            "visits": sum(item.kind == "visit" for day in days for item in day.items),
            "time_zone": timezone.get_current_timezone_name(),
        },
    )
