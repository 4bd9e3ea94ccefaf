"""Portal pages of measurement-based care: the patient's questionnaires (due ones first), one phone-first form
per instrument, crisis resources after an answer that raised a safety alert, "My progress", and a clinician
entering a questionnaire on the patient's behalf from the chart. Thin: look up through access, call one
service, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from assessments import instruments
from assessments import questionnaire_selectors as response_selectors
from assessments.models import QuestionnaireResponse
from assessments.questionnaire_forms import form_for
from assessments.questionnaire_services import questionnaire_submit
from assessments.score_chart import render_svg
from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record, audit_record_many
from kapcare.forms import add_service_errors
from patients import selectors as patient_selectors
from patients.models import SafetyAlert

from . import measurement_selectors


def _instrument_or_404(code):
    instrument = instruments.get(code)
    if instrument is None:
        raise Http404("No such questionnaire.")
    return instrument


def _own_record(request, permission):
    access.require(request.user, permission, object_type="assessments.questionnaireresponse")
    return patient_selectors.own_patient_record(request.user)


@login_required
def questionnaire_list(request):
    """The patient's questionnaires: those due now first (with why and by when), then every other one."""
    patient = _own_record(request, Permission.SUBMIT_QUESTIONNAIRE)
    if patient is None:
        return redirect("dashboard")
    audit_record(request.user, AuditEvent.Action.READ, patient)
    due = measurement_selectors.questionnaires_due(request.user, patient=patient)
    due_codes = {entry.code for entry in due}
    others = [instrument for code, instrument in instruments.instruments().items() if code not in due_codes]
    return render(request, "assessments/questionnaire_list.html", {"patient": patient, "due": due, "others": others})


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
        return redirect("dashboard")
    response, context = _questionnaire_page(request, patient=patient, instrument=instrument, on_behalf=False)
    if response is not None:
        return redirect("questionnaire-done", response.pk)
    return render(request, "assessments/questionnaire_form.html", context)


SELF_HARM_KINDS = {SafetyAlert.Kind.PHQ9_ITEM9, SafetyAlert.Kind.CSSRS_RISK}


@login_required
def questionnaire_done(request, response_id):
    """After answering: crisis resources and "your care team has been told" when the answers raised a safety
    alert; otherwise thanks and the score."""
    access.require(request.user, Permission.VIEW_QUESTIONNAIRES, object_type="assessments.questionnaireresponse")
    response = access.get_visible(
        response_selectors.visible_questionnaire_responses(request.user),
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
    return render(request, "assessments/questionnaire_done.html", context)


def _charts(history, *, simple=False):
    return [
        {"series": series, "svg": render_svg(series, element_id=f"chart-{series.instrument.code}", simple=simple)}
        for series in history.series
    ]


@login_required
def my_progress(request):
    """The patient's own scores over time, in plain words and a simple chart per questionnaire."""
    patient = _own_record(request, Permission.VIEW_QUESTIONNAIRES)
    if patient is None:
        return redirect("dashboard")
    history = measurement_selectors.score_history(request.user, patient)
    audit_record(request.user, AuditEvent.Action.READ, patient)
    audit_record_many(request.user, AuditEvent.Action.READ, history.responses)
    return render(
        request, "assessments/my_progress.html", {"patient": patient, "charts": _charts(history, simple=True)}
    )


def scores_for_chart(user, patient):
    """The chart's "Scores over time" panel (None when the user's role sees no scores); audits the reads."""
    if not access.can(user, Permission.VIEW_QUESTIONNAIRES):
        return None
    history = measurement_selectors.score_history(user, patient)
    audit_record_many(user, AuditEvent.Action.READ, history.responses)
    return {
        "charts": _charts(history),
        "can_enter": access.can(user, Permission.SUBMIT_QUESTIONNAIRE) and user.role != "patient",
        "instruments": list(instruments.instruments().values()),
    }


@login_required
def chart_questionnaire_form(request, patient_id, code):
    """A clinician on the care team enters a questionnaire on the patient's behalf (recorded as such)."""
    instrument = _instrument_or_404(code)
    action = AuditEvent.Action.CREATE if request.method == "POST" else AuditEvent.Action.READ
    patient = patient_selectors.patient_for_chart(request.user, patient_id, action=action)
    access.require(request.user, Permission.SUBMIT_QUESTIONNAIRE, patient)
    if request.user.role == "patient":
        return redirect("questionnaire-form", instrument.code)
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
        return redirect(reverse("patient-chart", args=[patient.pk]) + "#scores-heading")
    return render(request, "assessments/questionnaire_form.html", context)
