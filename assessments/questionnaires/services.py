"""Writes of questionnaire responses. Keyword-only, actor first, atomic, audited.

The caller has already found the patient through kapcare.access (an outsider got 404 there). The rules
that raise safety alerts come from the instrument's data (assessments/instruments.json), not from code
per instrument."""

from django.core.exceptions import PermissionDenied, ValidationError

from assessments import instruments as instrument_data
from assessments.models import QuestionnaireResponse
from kapcare.access import Permission
from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from kapcare.services import service
from patients import services as patient_services
from patients.due_work import keeps_due_work
from patients.models import Patient


@service(Permission.SUBMIT_QUESTIONNAIRE, on="patient")
@keeps_due_work
def questionnaire_submit(
    *, actor, patient, instrument: str, answers: list, difficulty: int | None = None, difficulty_required=False
) -> QuestionnaireResponse:
    """Check, score and store the patient's answers, and raise the instrument's safety alerts.

    `answers` has one value per item, null for an item its skip logic skipped; `difficulty` is the unscored
    difficulty question where the instrument has one (the portal form requires it, the API does not). The
    patient answers for themself; a clinician on the care team may enter the answers on their behalf.
    Raises ValidationError naming the instrument or each wrong item (nothing is stored then). The alerts
    raised are on the returned response as `raised_alerts`."""
    definition = instrument_data.get(instrument)
    if definition is None:
        known = ", ".join(instrument_data.instruments())
        raise ValidationError({"instrument": [f"Unknown instrument {instrument!r}: use one of {known}."]})
    if definition.clinician_rated and actor.role != User.Role.PRESCRIBER:
        raise PermissionDenied(f"The {definition.short_name} is rated by the prescriber on the care team.")
    errors = {}
    if answer_errors := definition.errors(answers):
        errors["answers"] = answer_errors
    if difficulty_errors := definition.functional_errors(difficulty, required=difficulty_required):
        errors["difficulty"] = difficulty_errors
    if errors:
        raise ValidationError(errors)
    answers = list(answers)
    # One response at a time per patient, so "the previous response" of a rise rule is well defined.
    Patient.objects.select_for_update().filter(pk=patient.pk).first()
    previous = (
        QuestionnaireResponse.objects.filter(patient=patient, instrument=definition.code)
        .order_by("-submitted_at", "-id")
        .first()
    )
    total = definition.score(answers)
    response = QuestionnaireResponse.objects.create(
        patient=patient,
        instrument=definition.code,
        answers=answers,
        difficulty=difficulty,
        total_score=total,
        severity=definition.severity(total),
        entered_by=actor,
        on_behalf=actor.role != User.Role.PATIENT,
    )
    audit_record(actor, AuditEvent.Action.CREATE, response)
    response.raised_alerts = []
    for rule in definition.alert_rules:
        if _fires(rule, definition, answers, total, previous):
            alert = patient_services.safety_alert_raise(
                patient=patient,
                kind=rule.kind,
                reason=rule.reason,
                source=response,
                severity=rule.severity,
                actor=actor,
            )
            if alert not in response.raised_alerts:
                response.raised_alerts.append(alert)
    return response


def _fires(rule, definition, answers, total, previous):
    if rule.type == "item_above":
        value = definition.answer(answers, rule.item)
        return value is not None and value > rule.above
    if rule.type == "total_rise":
        return previous is not None and total - previous.total_score >= rule.by
    if rule.type == "total_at_least":
        return total >= rule.at_least
    if rule.type == "severity_in":
        return definition.severity(total) in rule.severities
    raise ValueError(f"Unknown alert rule type {rule.type!r} in instruments.json.")
