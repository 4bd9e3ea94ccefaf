"""Supervision of prescribers (issue 18 points 1-2): the policy picks signed records at its edges, the supervisor
reviews through a grant limited to the picked record, and a "disagree" waits for the prescriber's acknowledgement."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from network.supervision import services
from network.supervision.models import SupervisionCase, SupervisionPolicy
from patients import services as patient_services
from tests.course_states import ready_for_evaluation, signed_dose_plan, signed_evaluation
from tests.factories import UserFactory, enrol_totp
from tests.fixtures import refer

Reason = SupervisionCase.Reason
pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor(medical_group):
    user = UserFactory(role=User.Role.PRESCRIBER, organization=medical_group, email="supervisor@example.test")
    enrol_totp(user)
    return user


@pytest.fixture
def supervised(coordinator, prescriber, supervisor):
    services.supervisor_assign(actor=coordinator, prescriber=prescriber, supervisor=supervisor)
    return prescriber


def policy(medical_group, **values):
    return SupervisionPolicy.objects.create(medical_group=medical_group, **values)


def evaluated(therapist, prescriber, coordinator, n):
    """n patients, each with a signed evaluation, signed one after the other."""
    patients = []
    for i in range(n):
        patient = refer(therapist, "Pat", f"Number{i}", f"pat{i}@example.test", account=True)
        patient_services.prescriber_assign(actor=coordinator, patient=patient, prescriber=prescriber)
        ready_for_evaluation(patient)
        with time_machine.travel(timezone.now() + timedelta(minutes=i)):
            signed_evaluation(prescriber, patient)
        patients.append(patient)
    return patients


def case_of(patient, kind=SupervisionCase.Kind.EVALUATION):
    return SupervisionCase.objects.get(patient=patient, kind=kind)


def test_the_first_n_patients_are_picked_and_the_next_is_not(
    medical_group, therapist_a, coordinator, supervised, supervisor
):
    policy(medical_group, first_patients=2, sample_percent=0)
    patients = evaluated(therapist_a, supervised, coordinator, 3)

    assert services.supervision_reconcile() == 3
    assert [case_of(p).reason for p in patients] == [Reason.FIRST_PATIENTS, Reason.FIRST_PATIENTS, Reason.NOT_PICKED]
    assert case_of(patients[0]).supervisor == supervisor
    assert case_of(patients[2]).supervisor is None
    assert services.supervision_reconcile() == 0  # each record considered once


def test_with_every_evaluation_sampled_the_patient_after_the_first_n_is_picked_as_sampled(
    medical_group, therapist_a, coordinator, supervised
):
    policy(medical_group, first_patients=1, sample_percent=100)
    patients = evaluated(therapist_a, supervised, coordinator, 2)
    services.supervision_reconcile()

    assert [case_of(p).reason for p in patients] == [Reason.FIRST_PATIENTS, Reason.SAMPLED]


def test_sampling_is_reproducible_and_follows_the_percentage_and_the_seed(medical_group):
    ids = [uuid.UUID(int=i * 7919) for i in range(1, 401)]
    thirty = SupervisionPolicy(medical_group=medical_group, sample_percent=30, sample_seed="2026")

    first = [services.is_sampled(thirty, i) for i in ids]
    assert first == [services.is_sampled(thirty, i) for i in ids]
    assert 80 <= sum(first) <= 160
    reseeded = SupervisionPolicy(medical_group=medical_group, sample_percent=30, sample_seed="other")
    assert [services.is_sampled(reseeded, i) for i in ids] != first
    assert not any(services.is_sampled(SupervisionPolicy(sample_percent=0), i) for i in ids)
    assert all(services.is_sampled(SupervisionPolicy(sample_percent=100), i) for i in ids)


def test_a_prescriber_without_a_supervisor_has_nothing_picked_until_one_is_assigned(
    medical_group, therapist_a, coordinator, prescriber, supervisor
):
    policy(medical_group, first_patients=5)
    (patient,) = evaluated(therapist_a, prescriber, coordinator, 1)
    assert services.supervision_reconcile() == 0

    services.supervisor_assign(actor=coordinator, prescriber=prescriber, supervisor=supervisor)
    assert services.supervision_reconcile() == 1
    assert case_of(patient).reason == Reason.FIRST_PATIENTS


def test_dose_plans_are_picked_above_the_mg_per_kg_threshold_not_at_it(
    medical_group, therapist_a, coordinator, supervised
):
    policy(medical_group, first_patients=0, sample_percent=0, mg_per_kg_threshold=Decimal("2.50"))
    (patient,) = evaluated(therapist_a, supervised, coordinator, 1)  # weighs 80 kg
    at_threshold = signed_dose_plan(supervised, patient, full_dose_mg=Decimal("200.0"))
    above = signed_dose_plan(supervised, patient, full_dose_mg=Decimal("201.0"))
    services.supervision_reconcile()

    kind = SupervisionCase.Kind.DOSE_PLAN
    assert SupervisionCase.objects.get(kind=kind, record_id=at_threshold.pk).reason == Reason.NOT_PICKED
    assert SupervisionCase.objects.get(kind=kind, record_id=above.pk).reason == Reason.MG_PER_KG


def test_a_dose_increase_is_picked_above_the_percentage_not_at_it(medical_group, therapist_a, coordinator, supervised):
    policy(medical_group, first_patients=0, sample_percent=0, mg_per_kg_threshold=9, dose_increase_percent=25)
    (patient,) = evaluated(therapist_a, supervised, coordinator, 1)
    plans = [signed_dose_plan(supervised, patient, full_dose_mg=Decimal(mg)) for mg in ("100", "125", "157")]
    services.supervision_reconcile()

    reasons = [SupervisionCase.objects.get(record_id=plan.pk).reason for plan in plans]
    assert reasons == [Reason.NOT_PICKED, Reason.NOT_PICKED, Reason.DOSE_INCREASE]


@pytest.fixture
def picked(medical_group, therapist_a, coordinator, supervised):
    policy(medical_group, first_patients=1, review_days=7)
    (patient,) = evaluated(therapist_a, supervised, coordinator, 1)
    services.supervision_reconcile()
    return case_of(patient)


def test_the_supervisor_reads_the_picked_record_and_the_access_history_says_supervision(
    client, picked, supervisor, supervised
):
    client.force_login(supervisor)
    page = client.get(reverse("network:supervision-case", args=[picked.pk]))

    assert page.status_code == 200
    assert b"Recurrent MDD" in page.content
    read = AuditEvent.objects.get(actor=supervisor, patient=picked.patient, object_type="assessments.evaluation")
    assert read.detail == {"via": "supervision", "case": str(picked.pk)}

    client.force_login(supervised)
    history = client.get(reverse("records:patient-access-history", args=[picked.patient_id]))
    assert b"(supervision read)" in history.content


def test_a_supervisor_reaches_no_patient_and_no_case_outside_their_grants(
    client, api, picked, supervisor, medical_group, patient_a
):
    client.force_login(supervisor)
    assert client.get(f"/api/v1/patients/{picked.patient_id}/").status_code == 404
    assert client.get(f"/api/v1/patients/{patient_a.pk}/").status_code == 404

    other = UserFactory(role=User.Role.PRESCRIBER, organization=medical_group, email="other.sup@example.test")
    enrol_totp(other)
    client.force_login(other)
    assert client.get(reverse("network:supervision-case", args=[picked.pk])).status_code == 404
    assert api.as_user(other).get(f"/api/v1/network/supervision/cases/{picked.pk}/").status_code == 404
    assert not AuditEvent.objects.filter(actor=other, object_type="assessments.evaluation").exists()


def test_a_disagree_needs_a_comment_and_the_prescribers_acknowledgement(client, picked, supervisor, supervised):
    url = reverse("network:supervision-case", args=[picked.pk])
    client.force_login(supervisor)
    assert client.post(url, {"verdict": "disagree", "comment": " "}).status_code == 400
    assert client.post(url, {"verdict": "disagree", "comment": "The BP was high: recheck."}).status_code == 302
    assert client.post(url, {"verdict": "agree"}).status_code == 400  # reviewed once
    assert client.post(url, {"action": "acknowledge"}).status_code == 403  # not the supervisor's to acknowledge

    client.force_login(supervised)
    assert b"needs your acknowledgement" in client.get(reverse("network:supervision")).content
    assert client.post(url, {"verdict": "agree"}).status_code == 403  # the prescriber cannot review their own work
    assert client.post(url, {"action": "acknowledge"}).status_code == 302
    picked.refresh_from_db()
    assert (picked.verdict, picked.comment) == ("disagree", "The BP was high: recheck.")
    assert picked.acknowledged_at is not None
    assert b"needs your acknowledgement" not in client.get(reverse("network:supervision")).content


def test_the_api_reviews_and_acknowledges(api, picked, supervisor, supervised):
    base = f"/api/v1/network/supervision/cases/{picked.pk}/"
    assert api.as_user(supervised).post(f"{base}acknowledge/").status_code == 400  # not reviewed yet
    as_supervisor = api.as_user(supervisor)
    assert [c["id"] for c in as_supervisor.get("/api/v1/network/supervision/cases/").json()["results"]] == [
        str(picked.pk)
    ]
    assert as_supervisor.post(f"{base}review/", {"verdict": "maybe"}, format="json").status_code == 400
    review = {"verdict": "discuss", "comment": "Talk on Tuesday."}
    reviewed = as_supervisor.post(f"{base}review/", review, format="json")
    assert reviewed.status_code == 200
    assert reviewed.json()["verdict"] == "discuss"
    assert api.as_user(supervised).post(f"{base}acknowledge/").json()["acknowledged_at"] is not None


def test_overdue_reviews_are_listed_for_the_coordinator(client, picked, coordinator, patient_a):
    client.force_login(coordinator)
    assert b"Overdue reviews" not in client.get(reverse("network:supervision")).content
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        client.force_login(coordinator)
        assert b"Overdue reviews" in client.get(reverse("network:supervision")).content


def test_a_supervisor_is_never_supervised_by_their_own_supervisee(coordinator, supervised, supervisor):
    with pytest.raises(ValidationError, match="own supervisee"):
        services.supervisor_assign(actor=coordinator, prescriber=supervisor, supervisor=supervised)
    with pytest.raises(ValidationError, match="themself"):
        services.supervisor_assign(actor=coordinator, prescriber=supervised, supervisor=supervised)


def test_only_a_coordinator_assigns_supervisors(supervised, supervisor):
    with pytest.raises(PermissionDenied):
        services.supervisor_assign(actor=supervised, prescriber=supervisor, supervisor=supervised)
