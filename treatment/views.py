from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from assessments import selectors as intake_selectors
from kapcare import access
from kapcare.access import Permission
from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record, audit_record_many
from kapcare.forms import add_service_errors
from kapcare.rules import RuleRefused
from patients import selectors
from patients import services as patient_services

from . import adverse_event_selectors as side_effects
from . import course_selectors as course_of_care
from . import measurement_selectors, measurement_views, note_selectors, session_selectors
from . import selectors as course_selectors
from .forms import AssignPrescriberForm, AssignTherapistForm, ProfileForm, ReferralForm

DASHBOARD_PAGE_SIZE = 50
DASHBOARD_PANEL_LIMIT = 50  # each panel lists its most urgent rows; the patient list pages through the rest


@login_required
def dashboard(request):
    """Each role's home: clinicians and coordinators see their patients; a patient sees their own page."""
    user = request.user
    if user.role == User.Role.PATIENT:
        return _patient_dashboard(request)
    if user.role == User.Role.ADMIN:
        return render(request, "treatment/dashboard_admin.html")
    page = Paginator(selectors.patients_for_list(user), DASHBOARD_PAGE_SIZE).get_page(request.GET.get("page"))
    patients = course_selectors.annotate_dashboard_page(user, list(page.object_list))
    # Each panel is one query (the questionnaire schedule three) and lists its most urgent rows only.
    # The prescriber's evaluation queue ([] for everyone else).
    evaluation_queue = intake_selectors.evaluation_queue(user, limit=DASHBOARD_PANEL_LIMIT)
    follow_ups_due, plans_nearing_exhaustion = [], []
    if access.can(user, Permission.WRITE_FOLLOW_UP):  # the prescriber's lists
        follow_ups_due = course_of_care.follow_ups_due(user, limit=DASHBOARD_PANEL_LIMIT)
        plans_nearing_exhaustion = course_of_care.dose_plans_nearing_exhaustion(user, limit=DASHBOARD_PANEL_LIMIT)
    # Safety: the alerts waiting for this clinician, and (prescribers) recent side effects.
    open_alerts = selectors.open_safety_alerts_for(user, limit=DASHBOARD_PANEL_LIMIT)
    recent_side_effects = (
        side_effects.recent_adverse_events(user, limit=DASHBOARD_PANEL_LIMIT)
        if user.role == User.Role.PRESCRIBER
        else []
    )
    questionnaires_due = measurement_selectors.questionnaires_due(user) if user.role in User.CLINICIAN_ROLES else []
    questionnaires_due = questionnaires_due[:DASHBOARD_PANEL_LIMIT]  # the most overdue first
    # Session documentation: the therapist's unsigned notes and, for the clinicians, completed sessions still
    # undocumented before the next follow-up visit.
    unsigned_notes = note_selectors.unsigned_notes(user, limit=DASHBOARD_PANEL_LIMIT)
    missing_documentation = note_selectors.missing_before_follow_up(user, limit=DASHBOARD_PANEL_LIMIT)
    # Sessions (the therapist's and the coordinator's schedule): patients by stage, today's and upcoming sessions
    # with their checklist state; the therapist also sees each patient's current dose plan.
    show_sessions = user.role in (User.Role.THERAPIST, User.Role.COORDINATOR)
    stage_counts = session_selectors.patients_by_stage(user) if user.role == User.Role.THERAPIST else []
    upcoming_sessions = session_selectors.upcoming_sessions(user, limit=DASHBOARD_PANEL_LIMIT) if show_sessions else []
    held_sessions = session_selectors.held_dosing_sessions(user, limit=DASHBOARD_PANEL_LIMIT)
    current_plans = (
        session_selectors.current_dose_plans(user, limit=DASHBOARD_PANEL_LIMIT)
        if user.role == User.Role.THERAPIST
        else []
    )
    # Every patient the page shows, once, in one audit INSERT (alerts and side effects as themselves).
    shown = {
        patient.pk: patient
        for patient in [
            *patients,
            *(entry.patient for entry in evaluation_queue),
            *(entry.patient for entry in follow_ups_due),
            *(plan.patient for plan in plans_nearing_exhaustion),
            *(entry.patient for entry in questionnaires_due),
            *(session.patient for session in unsigned_notes),
            *(entry.session.patient for entry in missing_documentation),
            *(entry.session.patient for entry in upcoming_sessions),
            *(entry.session.patient for entry in held_sessions),
            *(plan.patient for plan in current_plans),
        ]
    }
    audit_record_many(user, AuditEvent.Action.LIST, [*shown.values(), *open_alerts, *recent_side_effects])
    return render(
        request,
        "treatment/dashboard_clinical.html",
        {
            "show_sessions": show_sessions,
            "stage_counts": stage_counts,
            "upcoming_sessions": upcoming_sessions,
            "held_sessions": held_sessions,
            "show_checklist_state": access.can(user, Permission.VIEW_CHECKLIST),
            "current_plans": current_plans,
            "page": page,
            "patients": patients,
            "can_refer": access.can(user, Permission.REFER_PATIENT),
            "show_flags": access.can(user, Permission.VIEW_SCREENING_FLAGS),
            "evaluation_queue": evaluation_queue,
            "follow_ups_due": follow_ups_due,
            "plans_nearing_exhaustion": plans_nearing_exhaustion,
            "show_alerts": user.role in (*User.CLINICIAN_ROLES, User.Role.COORDINATOR),
            "open_alerts": open_alerts,
            "show_side_effects": user.role == User.Role.PRESCRIBER,
            "recent_side_effects": recent_side_effects,
            "unsigned_notes": unsigned_notes,
            "missing_documentation": missing_documentation,
            "show_questionnaires_due": user.role in User.CLINICIAN_ROLES,
            "questionnaires_due": questionnaires_due,
        },
    )


def _patient_dashboard(request):
    patient = selectors.patients_for_list(request.user).first()
    if patient is None:
        return render(request, "treatment/dashboard_patient.html", {"patient": None})
    audit_record(request.user, AuditEvent.Action.READ, patient)
    intake = intake_selectors.intake_for_patient(request.user, patient)
    questionnaires_due = measurement_selectors.questionnaires_due(request.user, patient=patient)
    steps = course_selectors.onboarding_steps(patient, intake=intake, questionnaires_due=questionnaires_due)
    next_step = next((step for step in steps if not step.done and not step.later), None)
    return render(
        request,
        "treatment/dashboard_patient.html",
        {
            "patient": patient,
            "steps": steps,
            "next_step": next_step,
            "questionnaires_due": questionnaires_due,
            "my_sessions": session_selectors.upcoming_sessions(request.user, days=30),
        },
    )


@login_required
def patient_chart(request, patient_id):
    patient = selectors.patient_for_chart(request.user, patient_id, action=AuditEvent.Action.READ)
    access.require(request.user, Permission.VIEW_PATIENT, patient)
    audit_record(request.user, AuditEvent.Action.READ, patient)
    user = request.user
    context = {
        "patient": patient,
        "intake_chart": intake_selectors.intake_for_chart(user, patient),
        "course_chart": course_of_care.course_for_chart(user, patient),
        "consent_status": selectors.consent_status(patient),
        "education_progress": selectors.education_progress(patient),
        "can_view_history": access.can(user, Permission.VIEW_ACCESS_HISTORY),
        "can_view_referral": access.can(user, Permission.VIEW_REFERRAL_DETAIL),
        "can_invite": access.can(user, Permission.INVITE_PATIENT) and not patient.user_id,
        "latest_invitation": patient.invitations.order_by("-created_at").first(),
        "assign_form": AssignPrescriberForm(patient=patient)
        if access.can(user, Permission.ASSIGN_PRESCRIBER)
        else None,
        "assign_therapist_form": AssignTherapistForm(patient=patient)
        if access.can(user, Permission.ASSIGN_THERAPIST)
        else None,
        "scores": measurement_views.scores_for_chart(user, patient),
        "chart_alerts": selectors.safety_alerts_for_chart(user, patient)
        if access.can(user, Permission.VIEW_SAFETY_ALERTS)
        else None,
        "side_effects": side_effects.adverse_events_of_patient(user, patient)
        if access.can(user, Permission.VIEW_ADVERSE_EVENTS)
        else None,
        "can_report_side_effect": access.can(user, Permission.REPORT_ADVERSE_EVENT) and user.role != User.Role.PATIENT,
    }
    note_selectors.attach_documentation_state(user, context["course_chart"].sessions)
    return render(request, "treatment/chart.html", context)


@login_required
def refer_patient(request):
    access.require(request.user, Permission.REFER_PATIENT, object_type="patients.patient")
    form = ReferralForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        fields, referral = form.split()
        try:
            patient = patient_services.patient_refer(actor=request.user, referral=referral, **fields)
        except ValidationError as error:
            add_service_errors(form, error)
        except RuleRefused as error:  # the therapist's licence does not cover the client's state
            form.add_error(None, str(error))
            status = 409
        else:
            messages.success(request, f"{patient.first_name} is referred; an invitation to the portal is on its way.")
            if patient.prescriber_notice:  # no prescriber could be assigned: the coordinator's queue has it
                messages.warning(request, patient.prescriber_notice)
            return redirect("patient-chart", patient.pk)
    return render(request, "treatment/refer.html", {"form": form}, status=status)


def _assign(request, patient_id, *, permission, form_class, field, assign):
    """A coordinator puts a clinician on the care team (the previous one in that role leaves it)."""
    patient = selectors.patient_for_chart(request.user, patient_id, action=AuditEvent.Action.UPDATE)
    access.require(request.user, permission, patient)
    form = form_class(request.POST, patient=patient)
    if form.is_valid():
        try:
            member = assign(actor=request.user, patient=patient, **{field: form.cleaned_data[field]})
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"{member.clinician} is now {patient.first_name}'s {field}.")
    else:
        messages.error(request, f"Choose a {field} from the list.")
    return redirect("patient-chart", patient.pk)


@login_required
@require_POST
def assign_prescriber(request, patient_id):
    return _assign(
        request,
        patient_id,
        permission=Permission.ASSIGN_PRESCRIBER,
        form_class=AssignPrescriberForm,
        field="prescriber",
        assign=patient_services.prescriber_assign,
    )


@login_required
@require_POST
def assign_therapist(request, patient_id):
    """A coordinator matches the patient with a therapist (or a new one); open alerts pass to them."""
    return _assign(
        request,
        patient_id,
        permission=Permission.ASSIGN_THERAPIST,
        form_class=AssignTherapistForm,
        field="therapist",
        assign=patient_services.therapist_assign,
    )


@login_required
@require_POST
def resend_invitation(request, patient_id):
    patient = selectors.patient_for_chart(request.user, patient_id, action=AuditEvent.Action.UPDATE)
    access.require(request.user, Permission.INVITE_PATIENT, patient)
    try:
        patient_services.invitation_send(actor=request.user, patient=patient)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, f"A new invitation is on its way to {patient.first_name}. Earlier links no longer work."
        )
    return redirect("patient-chart", patient.pk)


@login_required
def patient_profile(request):
    access.require(request.user, Permission.EDIT_OWN_PROFILE, object_type="patients.patient")
    patient = selectors.own_patient_record(request.user)
    if patient is None:
        return redirect("dashboard")
    form = ProfileForm(request.POST or None, instance=patient)
    if request.method == "POST" and form.is_valid():
        changes = {field: form.cleaned_data[field] for field in form.changed_data}
        try:
            patient_services.patient_update_profile(actor=request.user, patient=patient, **changes)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Your profile is saved.")
            return redirect("dashboard")
    else:
        audit_record(request.user, AuditEvent.Action.READ, patient)
    return render(request, "treatment/profile.html", {"form": form, "patient": patient})
