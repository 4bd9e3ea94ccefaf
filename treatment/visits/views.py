"""Portal pages of visits: the patient books from open times shown in their own zone (a phone-sized list),
sees, cancels, moves and downloads a visit; the clinician keeps their hours; everyone with visits or sessions
keeps a private calendar feed. Thin: look up through access, validate, call one service. A refused rule shows
its sentence with status 409."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record, audit_record_many
from kapcare.forms import add_service_errors
from kapcare.rules import RuleRefused
from patients import selectors as patient_selectors

from . import ics, selectors, services
from .forms import BookForm, CancelForm, DateHoursForm, ScheduleForm, TimeOffForm, WeeklyHoursForm
from .models import DateHours, TimeOff, Visit, WeeklyHours


def _own_patient(user):
    patient = patient_selectors.patients_for_list(user).first() if user.is_patient else None
    if patient is None:
        raise Http404("Visits are booked from the patient's own page.")
    return patient


def _patient(user, patient_id, action):
    if patient_id is None:
        return _own_patient(user)
    return patient_selectors.patient_for_chart(user, patient_id, action=action)


@login_required
def visits_page(request, patient_id=None):
    """The patient's visits and what to book next (a follow-up: book it by its due date)."""
    patient = _patient(request.user, patient_id, AuditEvent.Action.READ)
    access.require(request.user, Permission.VIEW_VISITS, patient)
    visits = list(selectors.patient_visits(patient))
    audit_record(request.user, AuditEvent.Action.READ, patient)
    context = {
        "patient": patient,
        "visits": visits,
        "to_book": selectors.to_book(patient) if access.can(request.user, Permission.BOOK_VISIT) else [],
        "own": patient_id is None,
    }
    return render(request, "treatment/visits/visits.html", context)


def _book_url(patient, own, kind):
    return ("treatment:visit-book", kind) if own else ("treatment:patient-visit-book", patient.pk, kind)


@login_required
def visit_book(request, kind, patient_id=None):
    """Open times of the patient's prescriber, grouped by day in the patient's zone; choosing one books it."""
    if kind not in Visit.Kind.values:
        raise Http404("No such kind of visit.")
    action = AuditEvent.Action.CREATE if request.method == "POST" else AuditEvent.Action.READ
    patient = _patient(request.user, patient_id, action)
    access.require(request.user, Permission.BOOK_VISIT, patient)
    prescriber = selectors.active_prescriber(patient)
    slots = selectors.open_slots(prescriber, kind) if prescriber else []
    form = BookForm(request.POST or None, slots=slots, time_zone=patient.time_zone)
    refusal = None
    if request.method == "POST" and form.is_valid():
        try:
            visit = services.visit_book(actor=request.user, patient=patient, kind=kind, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except RuleRefused as error:
            refusal = str(error)
        else:
            messages.success(request, "Visit booked.")
            return redirect("treatment:visit-page", visit.pk)
    audit_record(request.user, action, patient)
    context = {
        "patient": patient,
        "kind": Visit.Kind(kind),
        "form": form,
        "days": selectors.slots_by_day(slots, patient.time_zone),
        "prescriber": prescriber,
        "refusal": refusal,
        "need": next((need for need in selectors.to_book(patient) if need.kind == kind), None),
    }
    status = 409 if refusal else 400 if request.method == "POST" else 200
    return render(request, "treatment/visits/book.html", context, status=status)


def _visit(user, visit_id, action):
    visit = access.get_visible(
        selectors.visible_visits(user), visit_id, user=user, action=action, model=Visit, patient_field="patient_id"
    )
    access.require(user, Permission.VIEW_VISITS, visit)
    return visit


@login_required
def visit_page(request, visit_id):
    visit = _visit(request.user, visit_id, AuditEvent.Action.READ)
    audit_record(request.user, AuditEvent.Action.READ, visit)
    can_change = access.can(request.user, Permission.BOOK_VISIT) and visit.status == Visit.Status.BOOKED
    context = {"visit": visit, "patient": visit.patient, "can_change": can_change, "cancel_form": CancelForm()}
    if can_change:
        slots = selectors.open_slots(visit.prescriber, visit.kind, ignore=visit)
        context["reschedule_form"] = BookForm(slots=slots, time_zone=visit.patient.time_zone)
        context["days"] = selectors.slots_by_day(slots, visit.patient.time_zone)
    return render(request, "treatment/visits/visit.html", context)


@login_required
@require_POST
def visit_change(request, visit_id, what):
    """Cancel (`cancel`) or move (`reschedule`) a visit; a patient within the policy's notice is refused."""
    visit = _visit(request.user, visit_id, AuditEvent.Action.UPDATE)
    access.require(request.user, Permission.BOOK_VISIT, visit)
    try:
        if what == "cancel":
            form = CancelForm(request.POST)
            form.is_valid()
            services.visit_cancel(actor=request.user, visit=visit, reason=form.cleaned_data.get("reason", ""))
            messages.success(request, "Visit cancelled.")
        else:
            slots = selectors.open_slots(visit.prescriber, visit.kind, ignore=visit)
            form = BookForm(request.POST, slots=slots, time_zone=visit.patient.time_zone)
            if not form.is_valid():
                messages.error(request, "Choose one of the open times.")
                return redirect("treatment:visit-page", visit.pk)
            services.visit_reschedule(actor=request.user, visit=visit, starts_at=form.cleaned_data["starts_at"])
            messages.success(request, "Visit moved.")
    except RuleRefused as error:
        return render(request, "treatment/visits/refused.html", {"refusal": str(error), "visit": visit}, status=409)
    return redirect("treatment:visit-page", visit.pk)


@login_required
def visit_ics(request, visit_id):
    """The visit as an .ics file to add to one's own calendar."""
    visit = _visit(request.user, visit_id, AuditEvent.Action.READ)
    audit_record(request.user, AuditEvent.Action.READ, visit)
    response = HttpResponse(ics.one_visit(visit, for_patient=request.user.is_patient), content_type="text/calendar")
    response["Content-Disposition"] = 'attachment; filename="kapcare-visit.ics"'
    return response


# The clinician's hours -----------------------------------------------------------------------------

SCHEDULE_FORMS = {
    "schedule": ScheduleForm,
    "weekly": WeeklyHoursForm,
    "date": DateHoursForm,
    "time_off": TimeOffForm,
}
ROW_MODELS = {"weekly": WeeklyHours, "date": DateHours, "time_off": TimeOff}


def _save_schedule_form(user, which, form):
    data = form.cleaned_data
    if which == "schedule":
        services.schedule_save(actor=user, **data)
    elif which == "weekly":
        services.hours_add(actor=user, **data)
    elif which == "date":
        services.date_hours_add(actor=user, **data)
    else:
        services.time_off_add(actor=user, **data)


@login_required
def schedule_page(request):
    """The clinician's own time zone, weekly hours, dates that differ and time off."""
    access.require(request.user, Permission.KEEP_SCHEDULE, object_type="treatment.schedule")
    schedule = selectors.schedule_of(request.user)
    which = request.POST.get("form") if request.method == "POST" else None
    status = 200
    with timezone.override(schedule.time_zone):
        forms = {
            name: cls(prefix=name, instance=schedule if name == "schedule" else None)
            for name, cls in SCHEDULE_FORMS.items()
        }
        if which in SCHEDULE_FORMS:
            form = SCHEDULE_FORMS[which](request.POST, prefix=which, instance=schedule if which == "schedule" else None)
            forms[which] = form
            if form.is_valid():
                try:
                    _save_schedule_form(request.user, which, form)
                except ValidationError as error:
                    add_service_errors(form, error)
                else:
                    messages.success(request, "Hours saved.")
                    return redirect("treatment:my-schedule")
            status = 400
    context = {"schedule": schedule, "forms": forms}
    if schedule.pk:
        context |= {
            "weekly": schedule.weekly_hours.all(),
            "dates": schedule.date_hours.filter(on__gte=timezone.localdate()),
            "time_off": schedule.time_off.filter(ends_at__gte=timezone.now()),
        }
    return render(request, "treatment/visits/schedule.html", context, status=status)


@login_required
@require_POST
def schedule_row_delete(request, which, pk):
    model = ROW_MODELS.get(which)
    if model is None:
        raise Http404("No such row.")
    try:
        services.schedule_row_delete(actor=request.user, model=model, pk=pk)
    except model.DoesNotExist as error:
        raise Http404("No such row on your schedule.") from error
    messages.success(request, "Removed.")
    return redirect("treatment:my-schedule")


# Calendar feeds -----------------------------------------------------------------------------------


@login_required
def calendar_page(request):
    """Make (or make anew) or revoke one's private feed address; a new address is shown once."""
    access.require(request.user, Permission.KEEP_CALENDAR_FEED, object_type="treatment.calendarfeed")
    feed_url = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            services.calendar_feed_revoke(actor=request.user)
            messages.success(request, "The feed address no longer works.")
            return redirect("treatment:my-calendar")
        token = services.calendar_feed_create(actor=request.user)
        feed_url = request.build_absolute_uri(f"/calendar/{token}.ics")
    has_feed = hasattr(request.user, "calendar_feed") and request.user.calendar_feed.pk is not None
    return render(request, "treatment/visits/calendar.html", {"feed_url": feed_url, "has_feed": has_feed})


def calendar_feed(request, token):
    """The feed itself, for calendar apps (no sign-in: the secret address is the key). No patient name in it."""
    owner = selectors.feed_owner(services.feed_token_hash(token))
    if owner is None:
        raise Http404("No such calendar.")
    visits, sessions = selectors.calendar_entries(owner)
    audit_record_many(owner, AuditEvent.Action.LIST, [*visits, *sessions])
    response = HttpResponse(ics.feed(owner, visits, sessions), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response
