"""Writes of side-effect and adverse-event reports. Keyword-only, actor first, atomic, audited.

Kept apart from treatment/course/services.py (the course's gates and signed records) so each can change without
the other. A severe report, or one whose action was an emergency (emergency services called, session
stopped) at any grade, raises a safety alert to both clinicians (patients.services.safety_alert_raise),
in the same transaction: no alert without its report, no report without its alert."""

from django.core.exceptions import ValidationError

from kapcare import caseload_cache
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from kapcare.services import service
from patients import services as patient_services
from patients.models import SafetyAlert
from treatment.adverse_events.models import AdverseEvent
from treatment.course import services as course_services
from treatment.course.models import TreatmentCourse
from treatment.sessions.models import TherapySession

REPORT_FIELDS = ("kind", "description", "severity", "onset_minutes", "action_taken", "action_details", "who_was_told")
TEXT_LIMITS = {"description": 2000, "action_details": 1000}


@service(Permission.REPORT_ADVERSE_EVENT, on="patient")
def adverse_event_report(
    *, actor, patient, kind: str, severity: str, session: TherapySession | None = None, **details
) -> AdverseEvent:
    """Record a side effect reported by the therapist on the care team or by the patient themself.
    `patient` (and `session`, when given) come from kapcare.access. `details`: description,
    onset_minutes, action_taken, action_details, who_was_told. A severe one raises a safety alert."""
    unknown = set(details) - set(REPORT_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Not a detail of a side-effect report."))
    if session is not None and session.patient_id != patient.pk:
        raise ValidationError({"session": "This session is not one of this patient's."})
    fields = {key: value for key, value in details.items() if value is not None}
    for field, limit in TEXT_LIMITS.items():
        fields[field] = (fields.get(field) or "").strip()
        if len(fields[field]) > limit:
            raise ValidationError({field: f"Keep this under {limit} characters."})
    fields["who_was_told"] = (fields.get("who_was_told") or "").strip()
    # A late effect after discharge belongs to the course that just ended, not to a new empty one.
    course = (
        session.course
        if session is not None
        else TreatmentCourse.objects.filter(patient=patient).order_by("-started_at").first()
        or course_services.course_current(actor=actor, patient=patient)
    )
    event = AdverseEvent(
        course=course,
        patient=patient,
        session=session,
        reported_by=actor,
        kind=kind,
        severity=severity,
        **fields,
    )
    event.full_clean(exclude=["course", "patient", "session", "reported_by"])
    event.save()
    caseload_cache.changed()  # the prescriber's count of recent side effects
    audit_record(actor, AuditEvent.Action.CREATE, event)
    adverse_event_alert(actor=actor, event=event)
    return event


# Side effects that are emergencies, whatever their grade: each raises an alert to both clinicians.
EMERGENCY_ACTIONS = (AdverseEvent.Action.EMERGENCY_SERVICES, AdverseEvent.Action.SESSION_STOPPED)


def alert_rule(event):
    """(kind, severity) of the alert this report raises, or None: an emergency action (emergency services
    called, session stopped) at any grade, else a severe side effect."""
    urgent = event.action_taken == AdverseEvent.Action.EMERGENCY_SERVICES
    severity = SafetyAlert.Severity.URGENT if urgent else SafetyAlert.Severity.HIGH
    if event.action_taken in EMERGENCY_ACTIONS:
        return SafetyAlert.Kind.ADVERSE_EVENT_EMERGENCY, severity
    if event.severity == AdverseEvent.Severity.SEVERE:
        return SafetyAlert.Kind.SEVERE_ADVERSE_EVENT, severity
    return None


def adverse_event_alert(*, actor, event):
    """Raise the report's alert when its rule says so (once per report, however often it is asked)."""
    rule = alert_rule(event)
    if rule is None:
        return None
    kind, severity = rule
    return patient_services.safety_alert_raise(
        patient=event.patient, kind=kind, reason=_alert_reason(event), source=event, severity=severity, actor=actor
    )


def _alert_reason(event):
    """The alert says what and who, from the report's choices; the free-text description stays on the report."""
    reporter = "the patient" if event.reported_by.is_patient else "the therapist"
    reason = f"{event.get_severity_display()} {event.get_kind_display().lower()} reported by {reporter}"
    if event.onset_minutes is not None:
        reason += f", {event.onset_minutes} min after the dose"
    return f"{reason}; action taken: {event.get_action_taken_display().lower()}."
