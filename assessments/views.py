"""Portal pages: the patient's intake form, the same form for a clinician helping them, and the
clinician's view of a submitted intake. Thin: look up through access, validate, call one service."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from kapcare import access
from kapcare.access import Permission
from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from kapcare.forms import add_service_errors
from patients import selectors as patient_selectors

from . import selectors, services
from .forms import IntakeForm, MedicationFormSet, medication_initial, medications_from
from .models import Intake
from .questions import answer_sections


@login_required
def my_intake(request):
    """The patient's own intake: the form while it is a draft, a thank-you once submitted."""
    if request.user.role != User.Role.PATIENT:
        return redirect("dashboards:dashboard")
    patient = patient_selectors.patients_for_list(request.user).first()
    if patient is None:
        raise Http404("Your record is not linked to this account yet.")
    return _intake_form(request, patient, here=reverse("assessments:intake"), template="assessments/intake_form.html")


@login_required
def patient_intake_edit(request, patient_id):
    """A clinician on the care team fills in the intake with or for the patient."""
    patient = patient_selectors.patient_for_chart(request.user, patient_id, action=AuditEvent.Action.UPDATE)
    access.require(request.user, Permission.EDIT_INTAKE, patient)
    if request.user.role == User.Role.PATIENT:
        return redirect("assessments:intake")
    here = reverse("assessments:patient-intake-edit", args=[patient.pk])
    return _intake_form(request, patient, here=here, template="assessments/intake_form.html")


def _intake_form(request, patient, *, here, template):
    user = request.user
    intake = selectors.intake_for_patient(user, patient)
    if intake is not None and intake.is_locked:
        audit_record(user, AuditEvent.Action.READ, intake)
        if user.role == User.Role.PATIENT:
            if services.intake_raised_suicidal_alert(intake):  # as after PHQ-9 item 9: crisis resources first
                team = list(patient.care_team.active().select_related("clinician"))
                context = {"patient": patient, "intake": intake, "self_harm": True, "team": team}
                return render(request, "assessments/crisis_resources.html", context)
            return render(request, "assessments/intake_thanks.html", {"patient": patient, "intake": intake})
        return redirect("assessments:patient-intake", patient_id=patient.pk)

    if request.method != "POST":
        audit_record(user, AuditEvent.Action.READ, intake or patient)
        form = IntakeForm(instance=intake or Intake(patient=patient))
        formset = MedicationFormSet(prefix="medications", initial=medication_initial(intake))
        return _render_form(request, template, patient, form, formset)

    form = IntakeForm(request.POST, instance=Intake(patient=patient))
    formset = MedicationFormSet(request.POST, prefix="medications", initial=medication_initial(intake))
    if not (form.is_valid() and formset.is_valid()):
        return _render_form(request, template, patient, form, formset, status=400)
    try:
        intake = services.intake_save_draft(
            actor=user, patient=patient, data=form.answers(), medications=medications_from(formset), intake=intake
        )
    except services.IntakeLocked as locked:
        messages.error(request, str(locked))
        return redirect(here)
    except ValidationError as error:
        add_service_errors(form, error)
        return _render_form(request, template, patient, form, formset, status=400)

    if request.POST.get("action") != "submit":
        messages.success(request, "Your answers are saved. You can come back and finish at any time.")
        return redirect(here)
    try:
        services.intake_submit(actor=user, patient=patient, intake=intake)
    except ValidationError as error:
        add_service_errors(form, error)
        return _render_form(request, template, patient, form, formset, status=400, saved=True)
    except services.IntakeLocked as locked:
        messages.error(request, str(locked))
    return redirect(here)


def _render_form(request, template, patient, form, formset, *, status=200, saved=False):
    context = {
        "patient": patient,
        "form": form,
        "formset": formset,
        "saved_but_incomplete": saved,
        "for_patient": request.user.role == User.Role.PATIENT,
    }
    return render(request, template, context, status=status)


@login_required
def patient_intake(request, patient_id):
    """The intake as the care team sees it: answers and flags for clinicians, status and flag count for
    coordinators, the answers (never flags) for the patient themself."""
    patient = patient_selectors.patient_for_chart(request.user, patient_id, action=AuditEvent.Action.READ)
    access.require(request.user, Permission.VIEW_PATIENT, patient)
    chart = selectors.intake_for_chart(request.user, patient)
    if chart.intake is None:
        audit_record(request.user, AuditEvent.Action.READ, patient)
    context = {
        "patient": patient,
        "intake_chart": chart,
        "sections": answer_sections(chart.intake) if chart.intake is not None and chart.show_answers else [],
        "can_edit": chart.intake is not None
        and not chart.intake.is_locked
        and access.can(request.user, Permission.EDIT_INTAKE)
        and request.user.role != User.Role.PATIENT,
        "can_start": chart.intake is None
        and access.can(request.user, Permission.EDIT_INTAKE)
        and request.user.role != User.Role.PATIENT,
    }
    return render(request, "assessments/patient_intake.html", context)
