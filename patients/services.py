"""Writes to patients and their care teams. Keyword-only, actor first, atomic, audited."""

from datetime import date

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record

from .models import CareTeamMember, Patient
from .time_zones import STATE_TIME_ZONES

EDITABLE_FIELDS = ("first_name", "last_name", "date_of_birth", "email", "phone", "state", "time_zone")


def _check_email_free(email, *, except_patient=None):
    patients = Patient.objects.filter(email__iexact=email)
    if except_patient is not None:
        patients = patients.exclude(pk=except_patient.pk)
    if patients.exists():
        raise ValidationError({"email": "A patient with this e-mail address is already registered with KAPCare."})
    users = get_user_model().objects.filter(email__iexact=email)
    if except_patient is not None and except_patient.user_id:
        users = users.exclude(pk=except_patient.user_id)
    if users.exists():
        raise ValidationError({"email": "This e-mail address belongs to another KAPCare account."})


@transaction.atomic
def patient_refer(
    *,
    actor,
    first_name: str,
    last_name: str,
    email: str,
    date_of_birth: date,
    state: str,
    phone: str = "",
    time_zone: str = "",
) -> Patient:
    """A therapist refers their client: the patient record exists and the therapist joins the care team."""
    access.require(actor, Permission.REFER_PATIENT, object_type="patients.patient")
    practice = actor.organization
    if practice is None or practice.medical_group_id is None:
        raise ValidationError("Your practice is not linked to a medical group yet. Ask a KAPCare administrator.")
    _check_email_free(email)
    patient = Patient(
        first_name=first_name,
        last_name=last_name,
        email=email.lower(),
        date_of_birth=date_of_birth,
        state=state,
        phone=phone,
        time_zone=time_zone or STATE_TIME_ZONES.get(state, "America/New_York"),
        medical_group_id=practice.medical_group_id,
        referred_by=actor,
    )
    patient.full_clean()
    patient.save()
    CareTeamMember.objects.create(patient=patient, clinician=actor, role=CareTeamMember.Role.THERAPIST)
    audit_record(actor, AuditEvent.Action.CREATE, patient)
    return patient


@transaction.atomic
def patient_update(*, actor, patient: Patient, **changes) -> Patient:
    """Change a patient's details. Only the fields in EDITABLE_FIELDS can change."""
    access.require(actor, Permission.CHANGE_PATIENT, patient)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    if "email" in changes:
        changes["email"] = changes["email"].lower()
        _check_email_free(changes["email"], except_patient=patient)
    for field, value in changes.items():
        setattr(patient, field, value)
    patient.full_clean()
    patient.save(update_fields=[*changes, "updated_at"])
    audit_record(actor, AuditEvent.Action.UPDATE, patient)
    return patient


@transaction.atomic
def care_team_add(*, actor, patient: Patient, clinician, role: str) -> CareTeamMember:
    """Put a clinician on a patient's care team (used by referral and, later, prescriber assignment)."""
    access.require(actor, Permission.CHANGE_PATIENT, patient)
    if clinician.role != role:
        raise ValidationError(f"{clinician} is not a {role}.")
    member = CareTeamMember.objects.create(patient=patient, clinician=clinician, role=role)
    audit_record(actor, AuditEvent.Action.CREATE, member)
    return member
