"""Questionnaire pages: one phone-first form per instrument, crisis resources after an answer that raised a
safety alert, and a clinician entering a questionnaire on the patient's behalf from the chart. The list of
due questionnaires and "My progress" follow the course (treatment.measurement.views). Thin: look up through
access, call one service, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from assessments import instruments
from assessments.models import QuestionnaireResponse
from assessments.questionnaires import selectors as questionnaire_selectors
from assessments.questionnaires.forms import form_for
from assessments.questionnaires.services import questionnaire_submit
from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from kapcare.forms import add_service_errors
from patients import selectors as patient_selectors
from patients.models import SafetyAlert


def _instrument_or_404(code):
    instrument = instruments.get(code)
    if instrument is None:
        raise Http404("No such questionnaire.")
    return instrument


def _own_record(request, permission):
    access.require(request.user, permission, object_type="assessments.questionnaireresponse")
    return patient_selectors.own_patient_record(request.user)


def _questionnaire_page(request, *, patient, instrument, on_behalf):
    """Step through the form; on the last step submit it. Returns (response or None, page context)."""
    data = request.POST if request.method == "POST" else None
    state, form = form_for(instrument, data)
    if data is not None and state.complete:
        try:
            response = questionnaire_submit(
                actor=request.user,
                patient=patient,
                instrument=instrument.code,
                answers=instrument.complete_answers(state.known),
                difficulty=state.difficulty,
                difficulty_required=True,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return response, None
    context = {
        "patient": patient,
        "instrument": instrument,
        "form": form,
        "on_behalf": on_behalf,
        "first_page": not any(value is not None for value in state.known.values()),
    }
    return None, context


@login_required
def questionnaire_form(request, code):
    """The patient answers one questionnaire for themself."""
    instrument = _instrument_or_404(code)
    patient = _own_record(request, Permission.SUBMIT_QUESTIONNAIRE)
    if patient is None:
        return redirect("dashboards:dashboard")
    response, context = _questionnaire_page(request, patient=patient, instrument=instrument, on_behalf=False)
    if response is not None:
        return redirect("assessments:questionnaire-done", response.pk)
    return render(request, "assessments/questionnaires/questionnaire_form.html", context)


SELF_HARM_KINDS = {SafetyAlert.Kind.PHQ9_ITEM9, SafetyAlert.Kind.CSSRS_RISK}


@login_required
def questionnaire_done(request, response_id):
    """After answering: crisis resources and "your care team has been told" when the answers raised a safety
    alert; otherwise thanks and the score."""
    access.require(request.user, Permission.VIEW_QUESTIONNAIRES, object_type="assessments.questionnaireresponse")
    response = access.get_visible(
        questionnaire_selectors.visible_questionnaire_responses(request.user),
        response_id,
        user=request.user,
        action=AuditEvent.Action.READ,
        model=QuestionnaireResponse,
        patient_field="patient_id",
    )
    audit_record(request.user, AuditEvent.Action.READ, response)
    instrument = instruments.get(response.instrument)
    context = {"response": response, "instrument": instrument, "patient": response.patient}
    kinds = patient_selectors.alert_kinds_raised_by(response)
    if kinds:
        context["self_harm"] = bool(kinds & SELF_HARM_KINDS)
        context["team"] = list(response.patient.care_team.active().select_related("clinician"))
        return render(request, "assessments/crisis_resources.html", context)
    return render(request, "assessments/questionnaires/questionnaire_done.html", context)


@login_required
def chart_questionnaire_form(request, patient_id, code):
    """A clinician on the care team enters a questionnaire on the patient's behalf (recorded as such)."""
    instrument = _instrument_or_404(code)
    action = AuditEvent.Action.CREATE if request.method == "POST" else AuditEvent.Action.READ
    patient = patient_selectors.patient_for_chart(request.user, patient_id, action=action)
    access.require(request.user, Permission.SUBMIT_QUESTIONNAIRE, patient)
    if request.user.role == "patient":
        return redirect("assessments:questionnaire-form", instrument.code)
    response, context = _questionnaire_page(request, patient=patient, instrument=instrument, on_behalf=True)
    if response is not None:
        text = f"{instrument.short_name} entered for {patient.first_name}: {response.total_score}"
        text += f" ({response.severity})." if response.severity else "."
        if response.raised_alerts:
            messages.warning(
                request,
                f"{text} It raised a safety alert to the therapist and the prescriber; acknowledge it below "
                "with the action you take.",
            )
        else:
            messages.success(request, text)
        return redirect(reverse("dashboards:patient-chart", args=[patient.pk]) + "#scores-heading")
    return render(request, "assessments/questionnaires/questionnaire_form.html", context)
