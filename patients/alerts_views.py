"""The safety alert's page: what raised it, who still has to acknowledge it, and the acknowledgement form
(reached from the alert's e-mails and notifications, the dashboards and the chart). Thin: look up through
access, validate, call one service. The API is patients/alerts_api.py."""

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
from kapcare.rules import RuleRefused
from patients.access import require_safety_alert, safety_alert_role

from . import selectors, services
from .forms import AcknowledgeAlertForm
from .models import SafetyAlert


def _alert(request, alert_id, action):
    alerts = selectors.visible_safety_alerts(request.user)
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
    return render(request, "patients/alerts/alert_page.html", context)


@login_required
@require_POST
def alert_acknowledge(request, alert_id):
    """Acknowledge an alert with the action taken, from the alert page, a dashboard or the chart; back to where
    it was."""
    user = request.user
    alert = _alert(request, alert_id, AuditEvent.Action.UPDATE)
    back = request.POST.get("next") or reverse("patients:alert-page", args=[alert.pk])
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=False):
        back = "/"
    form = AcknowledgeAlertForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write the action you took before acknowledging the alert.")
        return redirect(back)
    try:
        services.safety_alert_acknowledge(actor=user, alert=alert, note=form.cleaned_data["note"])
    except (ValidationError, RuleRefused) as error:
        messages.error(request, " ".join(getattr(error, "messages", None) or [str(error)]))
    else:
        messages.success(request, f"Alert about {alert.patient.first_name} acknowledged.")
    return redirect(back)
