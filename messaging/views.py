"""Portal pages: the care-team thread, the thread with the patient (and the patient's "Message my care team"),
sharing a record to the team, acknowledging an urgent message, and the notifications with their badge.
Thin: look up through kapcare.access, validate, call one service."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record_many
from kapcare.forms import add_service_errors
from kapcare.rules import RuleRefused
from patients import selectors as patient_selectors
from treatment.adverse_events import selectors as adverse_event_selectors
from treatment.course import selectors as course_selectors
from treatment.notes import selectors as note_selectors

from . import selectors, services
from .forms import MessageForm, ShareNoteForm
from .models import Thread

OTHER_THREAD = {Thread.Kind.CARE_TEAM: Thread.Kind.PATIENT, Thread.Kind.PATIENT: Thread.Kind.CARE_TEAM}


def _thread_url(patient, kind, *, own=False):
    if own:
        return reverse("messaging:my-messages")
    name = "messaging:care-team-thread" if kind == Thread.Kind.CARE_TEAM else "messaging:patient-thread"
    return reverse(name, args=[patient.pk])


def _message_form(user, kind, team, data=None):
    return MessageForm(
        data,
        team=team,
        allow_urgent=kind == Thread.Kind.CARE_TEAM,
        choose_recipient=kind == Thread.Kind.PATIENT and user.is_patient,
    )


def _thread(request, patient, kind, *, own=False):
    user = request.user
    access.require(user, selectors.VIEW_PERMISSION[kind], patient)
    here = _thread_url(patient, kind, own=own)
    form = None
    if request.method == "POST":
        access.require(user, selectors.POST_PERMISSION[kind], patient)
        form = _message_form(user, kind, patient.active_team, request.POST)
        if form.is_valid():
            try:
                message = services.message_send(
                    actor=user,
                    patient=patient,
                    body=form.cleaned_data["body"],
                    thread_kind=kind,
                    urgent=form.cleaned_data.get("urgent", False),
                    for_clinician=form.cleaned_data.get("for_clinician"),
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Message sent.")
                return redirect(f"{here}#message-{message.pk}")
    events = []
    if kind == Thread.Kind.CARE_TEAM:  # course events, merged from the course timeline rather than copied in
        events = course_selectors.course_for_chart(user, patient).timeline
    page = selectors.thread_page(user, patient, kind, course_events=events, team=patient.active_team)
    audit_record_many(user, AuditEvent.Action.READ, [patient, *page.messages])
    services.thread_mark_read(actor=user, patient=patient, kind=kind)
    context = {
        "patient": patient,
        "thread": page,
        "form": form or _message_form(user, kind, page.team),
        "shareable": selectors.shareable_records(user, patient) if page.can_share else [],
        "own": own,
        "here": here,
        "other_thread_url": None if own else _thread_url(patient, OTHER_THREAD[kind]),
        "can_see_other_thread": not own and access.can(user, selectors.VIEW_PERMISSION[OTHER_THREAD[kind]]),
    }
    return render(request, "messaging/thread.html", context)


def _patient(request, patient_id):
    action = AuditEvent.Action.CREATE if request.method == "POST" else AuditEvent.Action.READ
    return patient_selectors.patient_for_chart(request.user, patient_id, action=action)


@login_required
def care_team_thread(request, patient_id):
    return _thread(request, _patient(request, patient_id), Thread.Kind.CARE_TEAM)


@login_required
def patient_thread(request, patient_id):
    return _thread(request, _patient(request, patient_id), Thread.Kind.PATIENT)


@login_required
def my_messages(request):
    """The patient's "Message my care team" page."""
    access.require(request.user, Permission.VIEW_PATIENT_THREAD, object_type="messaging.thread")
    if not request.user.is_patient:
        return redirect("dashboards:dashboard")
    record = patient_selectors.own_patient_record(request.user)
    if record is None:
        return redirect("dashboards:dashboard")
    return _thread(request, _patient(request, record.pk), Thread.Kind.PATIENT, own=True)


# Sharing a record to the care-team thread ------------------------------------------------------------------


def _share(request, patient_id, find, share):
    patient = patient_selectors.patient_for_chart(request.user, patient_id, action=AuditEvent.Action.CREATE)
    access.require(request.user, Permission.POST_CARE_TEAM_MESSAGE, patient)
    record = find(request.user, patient)
    form = ShareNoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        message = share(actor=request.user, record=record, note=note)
    except (ValidationError, RuleRefused) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        return redirect("messaging:care-team-thread", patient.pk)
    messages.success(request, "Shared with the care team.")
    return redirect(f"{_thread_url(patient, Thread.Kind.CARE_TEAM)}#message-{message.pk}")


def _one(queryset, pk, user, model):
    return access.get_visible(
        queryset, pk, user=user, action=AuditEvent.Action.CREATE, model=model, patient_field="patient_id"
    )


@login_required
@require_POST
def share_side_effect(request, patient_id, record_id):
    def find(user, patient):
        events = adverse_event_selectors.visible_adverse_events(user).filter(patient=patient)
        return _one(events, record_id, user, events.model)

    return _share(
        request,
        patient_id,
        find,
        lambda actor, record, note: services.message_share_side_effect(actor=actor, event=record, note=note),
    )


@login_required
@require_POST
def share_integration_summary(request, patient_id, record_id):
    def find(user, patient):
        summaries = note_selectors.visible_integration_summaries(user).filter(patient=patient)
        return _one(summaries, record_id, user, summaries.model)

    return _share(
        request,
        patient_id,
        find,
        lambda actor, record, note: services.message_share_integration_summary(actor=actor, summary=record, note=note),
    )


@login_required
@require_POST
def share_dose_plan(request, patient_id, record_id):
    def find(user, patient):
        plans = course_selectors.visible_dose_plans(user).filter(patient=patient)
        return _one(plans, record_id, user, plans.model)

    return _share(
        request,
        patient_id,
        find,
        lambda actor, record, note: services.message_share_dose_plan(actor=actor, plan=record, note=note),
    )


@login_required
@require_POST
def acknowledge(request, message_id):
    message = access.get_visible(
        selectors.visible_messages(request.user),
        message_id,
        user=request.user,
        action=AuditEvent.Action.UPDATE,
        model=selectors.Message,
        patient_field="patient_id",
    )
    access.require(request.user, selectors.VIEW_PERMISSION[message.thread.kind], message)
    try:
        services.message_acknowledge(actor=request.user, message=message)
    except RuleRefused as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Acknowledged. The others on the team can see it.")
    name = "messaging:care-team-thread" if message.thread.kind == Thread.Kind.CARE_TEAM else "messaging:patient-thread"
    return redirect(f"{reverse(name, args=[message.patient_id])}#message-{message.pk}")


# Notifications -----------------------------------------------------------------------------------------------


@login_required
def notification_list(request):
    if request.method == "POST":
        services.notifications_mark_all_read(actor=request.user)
        messages.success(request, "All notifications marked as read.")
        return redirect("messaging:notifications")
    notifications = selectors.notifications_for_list(request.user)
    audit_record_many(request.user, AuditEvent.Action.LIST, [n for n in notifications if n.patient_id])
    return render(
        request,
        "messaging/notifications.html",
        {"notifications": notifications, "unread": sum(1 for n in notifications if n.read_at is None)},
    )


# htmx stops polling when a response has this status (a signed-out tab stops asking).
HTMX_STOP_POLLING = 286


def notification_badge(request):
    """The badge alone, for htmx polling. The page sends `X-KAPCare-Background: 1`, so polling does not keep an
    idle session alive (kapcare.middleware.SessionTimeoutMiddleware answers 401 once it has ended)."""
    if not request.user.is_authenticated:
        return HttpResponse(status=HTMX_STOP_POLLING)
    return render(request, "messaging/_badge_link.html", {"unread": selectors.unread_badge(request.user)})
