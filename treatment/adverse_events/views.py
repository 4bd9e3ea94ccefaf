"""Portal pages for side effects: the report form (the therapist on the chart, the patient in the portal); the
safety alert it may raise is acknowledged on patients' alert page (patients/alerts_views.py).
Thin: look up through access, validate, call one service."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse

from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.forms import add_service_errors
from patients import selectors as patient_selectors
from treatment.adverse_events import services as adverse_event_services
from treatment.adverse_events.forms import AdverseEventForm
from treatment.sessions import selectors as session_selectors


def _report(request, patient, *, done_url, session=None):
    form = AdverseEventForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            event = adverse_event_services.adverse_event_report(
                actor=request.user, patient=patient, session=session, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if adverse_event_services.alert_rule(event) is not None:
                messages.warning(
                    request,
                    "Reported. The therapist and the prescriber have been alerted. In an emergency call 911; "
                    "for a mental-health crisis call or text 988.",
                )
            else:
                messages.success(request, "Side effect reported to the care team.")
            return redirect(done_url)
    return render(
        request,
        "treatment/adverse_events/side_effect_new.html",
        {"patient": patient, "form": form, "done_url": done_url, "session": session},
    )


@login_required
def chart_side_effect_new(request, patient_id):
    """The therapist on the care team reports a side effect from the chart."""
    action = AuditEvent.Action.CREATE if request.method == "POST" else AuditEvent.Action.READ
    patient = patient_selectors.patient_for_chart(request.user, patient_id, action=action)
    access.require(request.user, Permission.REPORT_ADVERSE_EVENT, patient)
    session_id = request.GET.get("session")  # reported from a session page: linked to that session
    if session_id:
        session = session_selectors.session_of_patient(request.user, patient, session_id, action=action)
        done_url = reverse("treatment:patient-session", args=[patient.pk, session.pk])
        return _report(request, patient, done_url=done_url, session=session)
    return _report(request, patient, done_url=reverse("dashboards:patient-chart", args=[patient.pk]))


@login_required
def own_side_effect_new(request):
    """The patient reports a side effect about themself."""
    access.require(request.user, Permission.REPORT_ADVERSE_EVENT, object_type="treatment.adverseevent")
    patient = patient_selectors.own_patient_record(request.user)
    if patient is None:
        return redirect("dashboards:dashboard")
    return _report(request, patient, done_url=reverse("dashboards:dashboard"))
