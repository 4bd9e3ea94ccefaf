"""Portal pages for side effects and safety alerts: the report form (the therapist on the chart, the patient
in the portal) and acknowledging an alert from a dashboard or the chart. Thin: look up through access,
validate, call one service."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from kapcare.forms import add_service_errors
from kapcare.rules import RuleRefused
from patients import selectors as patient_selectors
from patients import services as patient_services
from patients.access import require_safety_alert, safety_alert_role
from patients.models import SafetyAlert

from . import adverse_event_services, session_selectors
from .adverse_event_forms import AcknowledgeAlertForm, AdverseEventForm


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
        "treatment/side_effect_new.html",
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
        done_url = reverse("patient-session", args=[patient.pk, session.pk])
        return _report(request, patient, done_url=done_url, session=session)
    return _report(request, patient, done_url=reverse("patient-chart", args=[patient.pk]))


@login_required
def own_side_effect_new(request):
    """The patient reports a side effect about themself."""
    access.require(request.user, Permission.REPORT_ADVERSE_EVENT, object_type="treatment.adverseevent")
    patient = patient_selectors.own_patient_record(request.user)
    if patient is None:
        return redirect("dashboard")
    return _report(request, patient, done_url=reverse("dashboard"))


def _alert(request, alert_id, action):
    alerts = patient_selectors.visible_safety_alerts(request.user)
    alert = access.get_visible(
        alerts, alert_id, user=request.user, action=action, model=SafetyAlert, patient_field="patient_id"
    )
    permission = (
        Permission.VIEW_SAFETY_ALERTS if action == AuditEvent.Action.READ else Permission.ACKNOWLEDGE_SAFETY_ALERT
    )
    require_safety_alert(request.user, permission, alert)
    return alert


@login_required
def alert_page(request, alert_id):
    """One alert: what raised it, which roles still have to acknowledge it, who did what in which role, and the
    form for whoever it waits for (the patient's therapist or prescriber now, a coordinator it was escalated to).
    Where the alert's e-mails and notifications lead."""
    alert = _alert(request, alert_id, AuditEvent.Action.READ)
    audit_record(request.user, AuditEvent.Action.READ, alert)
    context = {
        "alert": alert,
        "patient": alert.patient,
        "my_role": safety_alert_role(request.user, alert),
        "form": AcknowledgeAlertForm(),
    }
    return render(request, "treatment/alert_page.html", context)


@login_required
@require_POST
def alert_acknowledge(request, alert_id):
    """Acknowledge an alert with the action taken, from the alert page, a dashboard or the chart; back to where
    it was."""
    user = request.user
    alert = _alert(request, alert_id, AuditEvent.Action.UPDATE)
    back = request.POST.get("next") or reverse("alert-page", args=[alert.pk])
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=False):
        back = "/"
    form = AcknowledgeAlertForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write the action you took before acknowledging the alert.")
        return redirect(back)
    try:
        patient_services.safety_alert_acknowledge(actor=user, alert=alert, note=form.cleaned_data["note"])
    except (ValidationError, RuleRefused) as error:
        messages.error(request, " ".join(getattr(error, "messages", None) or [str(error)]))
    else:
        messages.success(request, f"Alert about {alert.patient.first_name} acknowledged.")
    return redirect(back)
