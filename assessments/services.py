"""Writes to the intake. Keyword-only, actor first, atomic, audited.

The caller has already found the patient through kapcare.access (an outsider got 404 there);
these services check what the actor's role may do, and the intake's own rules (a submitted
intake never changes).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from patients import services as patient_services

from . import screening
from .models import MEDICAL_CONDITIONS, Intake, IntakeMedication, ScreeningFlag, ScreeningRule

# Every answer the patient gives: what a draft may set.
ANSWER_FIELDS = tuple(
    field.name
    for field in Intake._meta.concrete_fields
    if field.name not in {"id", "patient", "status", "submitted_at", "submitted_by", "created_at", "updated_at"}
)
MEDICATION_FIELDS = ("name", "dose", "frequency", *IntakeMedication.CLASS_FLAGS)
MAX_MEDICATIONS = 40


class IntakeLocked(Exception):
    """The intake was submitted: its answers never change."""

    code = "intake_locked"

    def __init__(self, intake):
        at = timezone.localtime(intake.submitted_at) if intake.submitted_at else None
        submitted = f"{at:%b} {at.day}, {at.year}" if at else ""
        super().__init__(
            f"This intake was submitted{' on ' + submitted if submitted else ''} and is locked: submitted answers "
            "never change, because the prescriber's evaluation rests on them. Tell your care team what to correct."
        )


def current_intake(patient, *, for_update=False):
    """The patient's latest intake, or None."""
    intakes = Intake.objects.filter(patient=patient).latest_first()
    if for_update:
        intakes = intakes.select_for_update()
    return intakes.first()


def _check_fields(data):
    unknown = set(data) - set(ANSWER_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This is not a question on the intake."))


def _medication_rows(intake, medications):
    if len(medications) > MAX_MEDICATIONS:
        raise ValidationError({"medications": f"List at most {MAX_MEDICATIONS} medicines."})
    rows = []
    for position, item in enumerate(medications):
        unknown = set(item) - set(MEDICATION_FIELDS)
        if unknown:
            raise ValidationError({"medications": f"Unknown medicine fields: {', '.join(sorted(unknown))}."})
        row = IntakeMedication(intake=intake, position=position, **item)
        for flag in screening.classes_from_name(row.name):
            setattr(row, flag, True)
        try:
            row.full_clean(exclude=["intake"])
        except ValidationError as error:
            messages = [f"{field}: {' '.join(errors)}" for field, errors in error.message_dict.items()]
            raise ValidationError({"medications": f"Medicine {position + 1}: {' '.join(messages)}"}) from error
        rows.append(row)
    return rows


def _lock_draft(patient, intake):
    """The draft to write to, locked for this transaction. Refuses a submitted intake (IntakeLocked)."""
    if intake is None:
        intake = current_intake(patient, for_update=True)
    else:
        if intake.patient_id != patient.pk:
            raise ValidationError("This intake belongs to another patient.")
        intake = Intake.objects.select_for_update().get(pk=intake.pk)
    if intake is not None and intake.is_locked:
        raise IntakeLocked(intake)
    return intake


def _write(*, actor, patient, intake, data, medications):
    data = dict(data or {})
    _check_fields(data)
    creating = intake is None
    if creating:
        intake = Intake(patient=patient)
    for field, value in data.items():
        setattr(intake, field, "" if value is None and _is_text(field) else value)
    intake.full_clean(exclude=["patient", "submitted_by"], validate_constraints=False)
    intake.save()
    if medications is not None:
        rows = _medication_rows(intake, medications)
        intake.medications.all().delete()
        IntakeMedication.objects.bulk_create(rows)
    audit_record(actor, AuditEvent.Action.CREATE if creating else AuditEvent.Action.UPDATE, intake)
    return intake


def _is_text(field):
    return Intake._meta.get_field(field).get_internal_type() in {"CharField", "TextField"}


def intake_save_draft(*, actor, patient, data: dict, medications: list[dict] | None = None, intake=None) -> Intake:
    """Save answers so far (none are required yet). Creates the draft on first save.

    `data` maps answer fields to values; `medications`, when given, replaces the medicine list
    (each item: name, dose, frequency and class flags; flags implied by the name are ticked).
    Raises IntakeLocked once the intake is submitted."""
    # Checked before the transaction opens, so the audit row of a refusal is not rolled back with it.
    access.require(actor, Permission.EDIT_INTAKE, patient)
    return _save_draft(actor=actor, patient=patient, data=data, medications=medications, intake=intake)


@transaction.atomic
def _save_draft(*, actor, patient, data, medications, intake):
    intake = _lock_draft(patient, intake)
    return _write(actor=actor, patient=patient, intake=intake, data=data, medications=medications)


def screening_settings():
    return {
        rule.code: screening.Setting(rule.severity, rule.enabled, rule.limit, rule.second_limit)
        for rule in ScreeningRule.objects.all()
    }


def intake_submit(
    *, actor, patient, data: dict | None = None, medications: list[dict] | None = None, intake=None
) -> Intake:
    """Save any last answers, check the intake is complete, screen it, lock it, and move the patient on.

    Raises ValidationError with a message per missing field (nothing is saved then), or IntakeLocked."""
    access.require(actor, Permission.EDIT_INTAKE, patient)
    return _submit(actor=actor, patient=patient, data=data, medications=medications, intake=intake)


@transaction.atomic
def _submit(*, actor, patient, data, medications, intake):
    intake = _lock_draft(patient, intake)
    if intake is None or data or medications is not None:
        intake = _write(actor=actor, patient=patient, intake=intake, data=data, medications=medications)
    medicines = list(intake.medications.all())
    missing = screening.missing_answers(intake, MEDICAL_CONDITIONS, medicines)
    if missing:
        raise ValidationError(missing)
    findings = screening.screen(intake, medicines, screening_settings(), today=timezone.localdate())
    ScreeningFlag.objects.bulk_create(
        ScreeningFlag(intake=intake, code=finding.code, severity=finding.severity, reason=finding.reason)
        for finding in findings
    )
    intake.status = Intake.Status.SUBMITTED
    intake.submitted_at = timezone.now()
    intake.submitted_by = actor
    intake.save(update_fields=["status", "submitted_at", "submitted_by", "updated_at"])
    audit_record(actor, AuditEvent.Action.UPDATE, intake)
    patient_services.patient_mark_intake_submitted(actor=actor, patient=patient)
    return intake
