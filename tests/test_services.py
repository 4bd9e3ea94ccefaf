"""kapcare.services.service: access is checked before the transaction, the body runs atomically, and
`.unchecked` is the same body without the check, for a caller that already decided access."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from kapcare.audit.models import AuditEvent
from treatment.course import services
from treatment.models import DosePlan


def denied_rows(user):
    return AuditEvent.objects.filter(actor=user, outcome=AuditEvent.Outcome.DENIED)


def test_a_refusal_is_checked_before_the_transaction_so_its_audit_row_stays(therapist_a, patient_a):
    with pytest.raises(PermissionDenied, match="Only the prescriber"):
        services.dose_plan_save_draft(actor=therapist_a, patient=patient_a, data={"total_doses": 6})
    assert denied_rows(therapist_a).filter(patient_id=patient_a.pk).count() == 1
    assert not DosePlan.objects.filter(patient=patient_a).exists()


def test_the_body_runs_atomically_so_bad_input_changes_nothing(prescriber, patient_a):
    with pytest.raises(ValidationError):
        services.dose_plan_save_draft(actor=prescriber, patient=patient_a, data={"no_such_field": 1})
    assert not DosePlan.objects.filter(patient=patient_a).exists()
    assert not denied_rows(prescriber).exists()


def test_unchecked_runs_the_same_body_without_the_check(therapist_a, patient_a):
    with transaction.atomic():
        plan = services.dose_plan_save_draft.unchecked(actor=therapist_a, patient=patient_a, data={})
    assert plan.patient == patient_a and plan.is_draft
    assert not denied_rows(therapist_a).exists()


def test_a_service_takes_keywords_only_and_names_a_wrong_one(prescriber, patient_a):
    with pytest.raises(TypeError):
        services.dose_plan_save_draft(actor=prescriber, patient=patient_a, data={}, colour="blue")
    assert not DosePlan.objects.filter(patient=patient_a).exists()
