"""Portal pages of therapy sessions: scheduling; the session page the therapist runs a session from on a
tablet (details, changes, checklist, vitals with go / hold, dose, boosters, chaperone check-ins, end); and
the patient's pre-dosing checklist. Thin: look up through access, validate, call one service. A refused
rule shows its sentence with status 409 (like the API); bad input 400."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from kapcare.forms import add_service_errors
from kapcare.rules import RuleRefused
from patients import selectors as patient_selectors
from treatment.notes import selectors as note_selectors
from treatment.sessions import selectors as session_selectors
from treatment.sessions import services as session_services
from treatment.sessions.forms import (
    CheckInForm,
    ChecklistForm,
    DoseForm,
    EndForm,
    ReasonForm,
    RescheduleForm,
    SessionScheduleForm,
    VitalsForm,
)
from treatment.sessions.models import TherapySession


@login_required
def session_new(request, patient_id):
    """Schedule a session, its time typed in the patient's time zone. A dosing session must pass every gate;
    a refusal names the gate."""
    user = request.user
    action = AuditEvent.Action.CREATE if request.method == "POST" else AuditEvent.Action.READ
    patient = patient_selectors.patient_for_chart(user, patient_id, action=action)
    access.require(user, Permission.SCHEDULE_SESSION, patient)
    refusal = None
    with timezone.override(patient.time_zone):
        form = SessionScheduleForm(request.POST or None)
        valid = request.method == "POST" and form.is_valid()
    if valid:
        try:
            session = session_services.session_schedule(actor=user, patient=patient, **form.details())
        except ValidationError as error:
            add_service_errors(form, error)
        except RuleRefused as error:
            refusal = str(error)
        else:
            messages.success(request, f"{session.get_kind_display()} session scheduled.")
            return redirect("treatment:patient-session", patient.pk, session.pk)
    status = 409 if refusal else 400 if request.method == "POST" else 200
    return render(
        request,
        "treatment/sessions/session_new.html",
        {"patient": patient, "form": form, "refusal": refusal},
        status=status,
    )


# The session page ---------------------------------------------------------------------------------

# action -> (form class, form prefix, permission, what a success says)
ACTIONS = {
    "reschedule": (RescheduleForm, "reschedule", Permission.CHANGE_SESSION, "Session rescheduled."),
    "cancel": (ReasonForm, "cancel", Permission.CHANGE_SESSION, "Session cancelled."),
    "no_show": (ReasonForm, "no_show", Permission.CHANGE_SESSION, "No-show recorded."),
    "checklist": (ChecklistForm, "checklist", Permission.CONFIRM_CHECKLIST, "Checklist confirmed."),
    "vitals": (VitalsForm, "vitals", Permission.RECORD_DOSING, "Vitals recorded."),
    "dose": (DoseForm, "dose", Permission.RECORD_DOSING, "Dose recorded."),
    "booster": (DoseForm, "booster", Permission.RECORD_DOSING, "Booster recorded."),
    "check_in": (CheckInForm, "check_in", Permission.RECORD_DOSING, "Check-in recorded."),
    "end": (EndForm, "end", Permission.RECORD_DOSING, "Session ended and completed."),
    "complete": (None, None, Permission.COMPLETE_SESSION, "Session marked completed."),
}


def _run(action, user, session, form):
    """Call the service behind `action` with the form's data."""
    data = form.cleaned_data if form is not None else {}
    when = {"taken_at": data.get("taken_at")}
    if action == "reschedule":
        return session_services.session_reschedule(
            actor=user,
            session=session,
            scheduled_at=data["scheduled_at"],
            reason=data["reason"],
            late_entry=data["late_entry"],
        )
    if action == "cancel":
        return session_services.session_cancel(actor=user, session=session, reason=data["reason"])
    if action == "no_show":
        return session_services.session_no_show(actor=user, session=session, reason=data["reason"])
    if action == "checklist":
        return session_services.checklist_confirm(actor=user, session=session, items=data["items"])
    if action == "vitals":
        return session_services.vitals_record(actor=user, session=session, **data)
    if action == "dose":
        return session_services.dose_record(actor=user, session=session, dose_mg=data["dose_mg"], **when)
    if action == "booster":
        return session_services.booster_record(actor=user, session=session, dose_mg=data["dose_mg"], **when)
    if action == "check_in":
        return session_services.check_in_record(
            actor=user,
            session=session,
            patient_ok=data["patient_ok"],
            remark=data["remark"],
            checked_at=data["checked_at"],
        )
    if action == "end":
        return session_services.dosing_end(
            actor=user, session=session, criteria=form.criteria(), ended_at=data["ended_at"]
        )
    return session_services.session_complete(actor=user, session=session)


def _blank_forms(session, items):
    return {
        "reschedule": RescheduleForm(prefix="reschedule"),
        "cancel": ReasonForm(prefix="cancel"),
        "no_show": ReasonForm(prefix="no_show"),
        "checklist": ChecklistForm(prefix="checklist", items=items),
        "vitals": VitalsForm(prefix="vitals"),
        "dose": DoseForm(
            prefix="dose", initial={"dose_mg": session.dose_plan.first_dose_mg if session.dose_plan else None}
        ),
        "booster": DoseForm(prefix="booster"),
        "check_in": CheckInForm(prefix="check_in", initial={"patient_ok": True}),
        "end": EndForm(prefix="end"),
    }


@login_required
def session_page(request, patient_id, session_id):
    """The session: everyone who sees the patient's sessions sees its details; the clinicians see the checklist
    and the dosing record; the therapist on the team records them. POST `action` names what is recorded."""
    user = request.user
    posting = request.method == "POST"
    action_audit = AuditEvent.Action.UPDATE if posting else AuditEvent.Action.READ
    patient = patient_selectors.patient_for_chart(user, patient_id, action=action_audit)
    access.require(user, Permission.VIEW_SESSIONS, patient)
    session = session_selectors.session_of_patient(user, patient, session_id, action=action_audit)
    items = session_services.checklist_items(session)
    forms = _blank_forms(session, items)
    refusal, status = None, 200
    if posting:
        action = request.POST.get("action")
        if action not in ACTIONS:
            return HttpResponseBadRequest("Unknown action.")
        form_class, prefix, permission, done = ACTIONS[action]
        access.require(user, permission, session)
        form = None
        if form_class is not None:
            extra = {"items": items} if form_class is ChecklistForm else {}
            with timezone.override(patient.time_zone):
                form = form_class(request.POST, prefix=prefix, **extra)
                valid = form.is_valid()
            forms[action] = form
        else:
            valid = True
        if valid:
            try:
                _run(action, user, session, form)
            except ValidationError as error:
                if form is None:
                    refusal = " ".join(error.messages)
                else:
                    add_service_errors(form, error)
            except RuleRefused as error:
                refusal = str(error)
            else:
                messages.success(request, done)
                return redirect("treatment:patient-session", patient.pk, session.pk)
        status = 409 if refusal else 400
        session = session_selectors.session_of_patient(user, patient, session_id, action=action_audit)
    else:
        audit_record(user, AuditEvent.Action.READ, session)
    context = {
        "patient": patient,
        "session": session,
        "forms": forms,
        "refusal": refusal,
        "changes": session_selectors.session_changes(session),
        "show_reasons": access.can(user, Permission.VIEW_SESSION_CHANGE_REASON),
        "can_change": access.can(user, Permission.CHANGE_SESSION) and session.status == TherapySession.Status.SCHEDULED,
        "can_complete": access.can(user, Permission.COMPLETE_SESSION)
        and session.status == TherapySession.Status.SCHEDULED
        and not session.is_dosing,
        "can_record": access.can(user, Permission.RECORD_DOSING) and session.status == TherapySession.Status.SCHEDULED,
        "can_confirm": access.can(user, Permission.CONFIRM_CHECKLIST)
        and session.status == TherapySession.Status.SCHEDULED,
        "can_report_side_effect": access.can(user, Permission.REPORT_ADVERSE_EVENT),
        "checklist": session_selectors.checklist(session)
        if session.is_dosing and access.can(user, Permission.VIEW_CHECKLIST)
        else None,
        "dosing": session_selectors.dosing_view(session)
        if session.is_dosing and access.can(user, Permission.VIEW_DOSING_RECORD)
        else None,
        "side_effects": list(session.adverse_events.all())
        if access.can(user, Permission.VIEW_ADVERSE_EVENTS)
        else None,
    }
    context.update(note_selectors.note_context(user, session))
    return render(request, "treatment/sessions/session_page.html", context, status=status)


@login_required
@require_POST
def session_complete(request, patient_id, session_id):
    """Mark a preparation or integration session completed from the chart."""
    user = request.user
    patient = patient_selectors.patient_for_chart(user, patient_id, action=AuditEvent.Action.UPDATE)
    session = session_selectors.session_of_patient(user, patient, session_id, action=AuditEvent.Action.UPDATE)
    access.require(user, Permission.COMPLETE_SESSION, session)
    try:
        session_services.session_complete(actor=user, session=session)
    except RuleRefused as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{session.get_kind_display()} session marked completed.")
    return redirect("dashboards:patient-chart", patient.pk)


# The patient's checklist --------------------------------------------------------------------------


@login_required
def own_checklist(request, session_id):
    """The patient confirms their pre-dosing checklist before a dosing session, on their phone."""
    user = request.user
    access.require(user, Permission.CONFIRM_CHECKLIST, object_type="treatment.checklistconfirmation")
    patient = patient_selectors.own_patient_record(user)
    if patient is None:
        return redirect("dashboards:dashboard")
    action = AuditEvent.Action.CREATE if request.method == "POST" else AuditEvent.Action.READ
    session = session_selectors.session_of_patient(user, patient, session_id, action=action)
    items = session_services.checklist_items(session)
    form = ChecklistForm(request.POST or None, items=items)
    refusal = None
    if request.method == "POST" and form.is_valid():
        try:
            session_services.checklist_confirm(actor=user, session=session, items=form.cleaned_data["items"])
        except ValidationError as error:
            add_service_errors(form, error)
        except RuleRefused as error:
            refusal = str(error)
        else:
            messages.success(request, "Thank you: your care team can see what you have confirmed.")
            return redirect("treatment:session-checklist", session.pk)
    if request.method != "POST":
        audit_record(user, AuditEvent.Action.READ, session)
    context = {
        "patient": patient,
        "session": session,
        "form": form,
        "refusal": refusal,
        "checklist": session_selectors.checklist(session) if session.is_dosing else None,
    }
    status = 409 if refusal else 400 if request.method == "POST" else 200
    return render(request, "treatment/sessions/session_checklist.html", context, status=status)
