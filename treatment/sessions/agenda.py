"""The clinician's agenda (issue 16): one day or one week of their sessions, soonest first, each with what is
still to do before it. Written so that other kinds of appointment (visits) can join: `AgendaItem` is what the
page lists, whatever it comes from."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import render
from django.utils import timezone

from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record_many

from .models import TherapySession
from .selectors import visible_sessions
from .services import checklist_items

VIEWS = {"day": 1, "week": 7}


@dataclass(frozen=True)
class AgendaItem:
    at: datetime
    title: str
    patient: object
    url_name: str  # a treatment URL taking (patient id, item id)
    item_id: object
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
        url_name="treatment:patient-session",
        item_id=session.pk,
        todo=todo,
    )


def agenda(user, first_day, days):
    """[AgendaDay] from `first_day` for `days` days in the user's time zone, every day listed even when empty.
    One query for the sessions."""
    tz = timezone.get_current_timezone()
    start = datetime.combine(first_day, time(0), tzinfo=tz)
    sessions = (
        visible_sessions(user)
        .filter(status=TherapySession.Status.SCHEDULED, scheduled_at__gte=start)
        .filter(scheduled_at__lt=start + timedelta(days=days))
        .select_related("patient", "dose_plan")
        .annotate(items_confirmed=Count("checklist"))
        .order_by("scheduled_at", "id")
    )
    by_day = {first_day + timedelta(days=n): AgendaDay(first_day + timedelta(days=n)) for n in range(days)}
    for session in sessions:
        by_day[timezone.localtime(session.scheduled_at, tz).date()].items.append(_session_item(session))
    return list(by_day.values())


def _first_day(request, view):
    try:
        day = date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        day = timezone.localdate()
    return day - timedelta(days=day.weekday()) if view == "week" else day


@login_required
def agenda_page(request):
    """/agenda/?view=day|week&date=YYYY-MM-DD: a bad date falls back to today, an unknown view to the day."""
    access.require(request.user, Permission.VIEW_SESSIONS)
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
            "count": sum(len(day.items) for day in days),
        },
    )
