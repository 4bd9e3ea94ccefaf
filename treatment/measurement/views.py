"""Portal pages of measurement-based care that follow the course: the patient's questionnaires (due ones
first), "My progress", and the chart's scores over time against the dosing sessions. The questionnaire form
itself is assessments.questionnaires.views. Thin: look up through access, call one selector, render."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from assessments import instruments
from assessments.score_chart import render_svg
from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record, audit_record_many
from patients import selectors as patient_selectors
from treatment.measurement import selectors as measurement_selectors


def _own_record(request, permission):
    access.require(request.user, permission, object_type="assessments.questionnaireresponse")
    return patient_selectors.own_patient_record(request.user)


@login_required
def questionnaire_list(request):
    """The patient's questionnaires: those due now first (with why and by when), then every other one."""
    patient = _own_record(request, Permission.SUBMIT_QUESTIONNAIRE)
    if patient is None:
        return redirect("dashboards:dashboard")
    audit_record(request.user, AuditEvent.Action.READ, patient)
    due = measurement_selectors.questionnaires_due(request.user, patient=patient)
    due_codes = {entry.code for entry in due}
    others = [
        instrument
        for code, instrument in instruments.instruments().items()
        if code not in due_codes and not instrument.clinician_rated
    ]
    return render(
        request, "treatment/measurement/questionnaire_list.html", {"patient": patient, "due": due, "others": others}
    )


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
        return redirect("dashboards:dashboard")
    history = measurement_selectors.score_history(request.user, patient)
    audit_record(request.user, AuditEvent.Action.READ, patient)
    audit_record_many(request.user, AuditEvent.Action.READ, history.responses)
    return render(
        request, "treatment/measurement/my_progress.html", {"patient": patient, "charts": _charts(history, simple=True)}
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
