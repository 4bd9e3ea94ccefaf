"""Credentials that govern practice (issue 17, point 2): until approved by the network and trained, a therapist
cannot refer and a prescriber cannot be assigned or sign; licences are a list, and the one for the patient's state
counts (verified, the expiry day included); a referral no prescriber can take waits in the coordinator's
assignment queue and the therapist is told; a lapsed credential flags the clinician's patients for handover."""

from datetime import timedelta

import pytest
from django.utils import timezone

from kapcare.accounts.models import KAPTraining, Licence
from patients import services as patient_services
from patients.models import AssignmentNeed, CareTeamMember, Patient
from patients.tests.test_referral import REFERRAL

from .course_states import EVALUATION, ready_for_evaluation
from .factories import ClinicianProfileFactory, UserFactory, enrol_totp

CLIENT = {"first_name": "Quinn", "last_name": "Quarry", "email": "quinn@example.test", "date_of_birth": "1990-02-02"}


def refer(api, therapist, committed, state="CA", email="quinn@example.test"):
    with committed(execute=True):
        return api.as_user(therapist).post(
            "/api/v1/patients/", {**CLIENT, "email": email, "state": state}, format="json"
        )


def unapprove(clinician):
    clinician.clinician_profile.approved_at = None
    clinician.clinician_profile.save()


@pytest.mark.parametrize("missing", ["approval", "training"])
def test_an_unapproved_or_untrained_therapist_cannot_refer(
    api, client, therapist_a, prescriber, django_capture_on_commit_callbacks, missing
):
    if missing == "approval":
        unapprove(therapist_a)
        named = "not yet approved by the network"
    else:
        therapist_a.kap_trainings.all().delete()
        named = "no KAP training recorded"

    refused = refer(api, therapist_a, django_capture_on_commit_callbacks)
    assert refused.status_code == 409
    assert refused.json()["code"] == "referrer_standing"
    assert named in refused.json()["detail"]
    client.force_login(therapist_a)
    page = client.post("/refer/", {**REFERRAL, **CLIENT, "state": "CA", "referral_reasons": ["depression"]})
    assert page.status_code == 409
    assert named in page.content.decode()
    assert not Patient.objects.filter(email__in=["quinn@example.test", REFERRAL["email"]]).exists()


@pytest.mark.parametrize("lapse", ["unapproved", "unverified", "expired", "untrained"])
def test_an_unverified_or_expired_prescriber_is_not_assigned_and_cannot_sign(
    api, client, therapist_a, prescriber, coordinator, patient_a, django_capture_on_commit_callbacks, lapse
):
    if lapse == "unapproved":
        unapprove(prescriber)
        named = "not yet approved by the network"
    elif lapse == "unverified":
        prescriber.licences.update(verified_at=None)
        named = "is not verified yet"
    elif lapse == "expired":
        prescriber.dea_registrations.update(expires_on=timezone.localdate() - timedelta(days=1))
        named = "the DEA registration for California expired on"
    else:
        prescriber.kap_trainings.all().delete()
        named = "no KAP training recorded"

    referred = refer(api, therapist_a, django_capture_on_commit_callbacks)
    assert referred.status_code == 201
    patient = Patient.objects.get(pk=referred.json()["id"])
    assert not patient.care_team.filter(role="prescriber").exists(), "not assigned automatically"
    assert referred.json()["prescriber_notice"] and "assignment queue" in referred.json()["prescriber_notice"]
    client.force_login(coordinator)
    page = client.post(f"/patients/{patient.pk}/prescriber/", {"prescriber": prescriber.pk}, follow=True)
    assert named in page.content.decode()
    assert not patient.care_team.filter(role="prescriber").exists(), "not assigned by the coordinator either"

    ready_for_evaluation(patient_a)  # patient_a's prescriber is this one, assigned before the lapse
    body = {"patient": str(patient_a.pk), **EVALUATION, "weight_kg": "80.0", "sign": True}
    refused = api.as_user(prescriber).post("/api/v1/evaluations/", body, format="json")
    assert refused.status_code == 409
    assert refused.json()["code"] == "signer_credentials"
    assert named in refused.json()["detail"]


@pytest.mark.parametrize(("expires_in_days", "counts"), [(0, True), (-1, False)])
def test_a_licence_counts_through_its_expiry_day(
    api, therapist_a, prescriber, django_capture_on_commit_callbacks, expires_in_days, counts
):
    expires = timezone.localdate() + timedelta(days=expires_in_days)
    therapist_a.licences.filter(state="CA").update(expires_on=expires)
    prescriber.licences.update(expires_on=expires)

    response = refer(api, therapist_a, django_capture_on_commit_callbacks)

    if counts:
        assert response.status_code == 201
        team = Patient.objects.get(pk=response.json()["id"]).care_team.values_list("role", flat=True)
        assert set(team) == {"therapist", "prescriber"}
    else:
        assert response.status_code == 409
        assert response.json()["code"] == "referrer_licence"


def test_each_licence_counts_for_its_own_state_only(api, therapist_a, prescriber, django_capture_on_commit_callbacks):
    """The therapist holds CA and OR; the prescriber CA only. An Oregon client is referred (the therapist's OR
    licence), and waits for a prescriber; a Washington client is refused."""
    oregon = refer(api, therapist_a, django_capture_on_commit_callbacks, state="OR")
    assert oregon.status_code == 201
    assert "Oregon" in oregon.json()["prescriber_notice"]
    patient = Patient.objects.get(pk=oregon.json()["id"])
    need = AssignmentNeed.objects.open().get(patient=patient)
    assert (need.role, need.reason) == ("prescriber", "no_prescriber")

    washington = refer(api, therapist_a, django_capture_on_commit_callbacks, state="WA", email="wa@example.test")
    assert washington.status_code == 409
    assert "no licence in Washington on file" in washington.json()["detail"]


def test_a_known_address_gets_the_same_notice(api, therapist_a, therapist_a2, django_capture_on_commit_callbacks):
    first = refer(api, therapist_a, django_capture_on_commit_callbacks, state="OR")
    again = refer(api, therapist_a2, django_capture_on_commit_callbacks, state="OR")
    assert first.status_code == again.status_code == 201
    assert first.json()["prescriber_notice"] == again.json()["prescriber_notice"]


def test_the_queue_row_closes_when_a_cleared_prescriber_is_assigned(
    api, client, therapist_a, coordinator, medical_group, django_capture_on_commit_callbacks
):
    patient = Patient.objects.get(
        pk=refer(api, therapist_a, django_capture_on_commit_callbacks, state="OR").json()["id"]
    )
    client.force_login(coordinator)
    dashboard = client.get("/").content.decode()
    assert 'id="assignment-queue-panel"' in dashboard and "Quinn Quarry" in dashboard
    oregon_md = UserFactory(role="prescriber", organization=medical_group, email="or.md@example.test")
    ClinicianProfileFactory(user=oregon_md, licence_state="OR")
    enrol_totp(oregon_md)

    client.post(f"/patients/{patient.pk}/prescriber/", {"prescriber": oregon_md.pk})

    assert patient.care_team.filter(clinician=oregon_md, role="prescriber").exists()
    need = AssignmentNeed.objects.get(patient=patient)
    assert need.resolved_at is not None and need.resolved_by == coordinator
    assert 'id="assignment-queue-panel"' not in client.get("/").content.decode()


def test_a_lapsed_licence_flags_the_patients_for_handover_once(client, prescriber, coordinator, patient_a):
    prescriber.licences.update(expires_on=timezone.localdate() - timedelta(days=1))

    assert patient_services.assignment_needs_flag_lapsed() == 1
    assert patient_services.assignment_needs_flag_lapsed() == 0, "flagged once"

    need = AssignmentNeed.objects.open().get(patient=patient_a)
    assert (need.reason, need.role, need.clinician) == ("handover", "prescriber", prescriber)
    assert "expired on" in need.detail
    assert CareTeamMember.objects.active().filter(patient=patient_a, clinician=prescriber).exists(), "not dropped"
    client.force_login(coordinator)
    dashboard = client.get("/").content.decode()
    assert "Alder" in dashboard and "lapsed: hand over" in dashboard
    assert 'id="expiring-credentials-panel"' in dashboard and "expired" in dashboard


def test_expiring_credentials_show_to_coordinators_only(client, prescriber, coordinator, therapist_a):
    prescriber.licences.update(expires_on=timezone.localdate() + timedelta(days=20))
    client.force_login(coordinator)
    dashboard = client.get("/").content.decode()
    assert 'id="expiring-credentials-panel"' in dashboard and "in 20 days" in dashboard
    client.force_login(therapist_a)
    assert 'id="expiring-credentials-panel"' not in client.get("/").content.decode()


def test_moving_the_patient_needs_a_verified_licence_in_the_new_state(api, coordinator, prescriber, patient_a):
    Licence.objects.create(clinician=prescriber, state="OR", number="OR-9", expires_on=timezone.localdate())
    refused = api.as_user(coordinator).patch(f"/api/v1/patients/{patient_a.pk}/", {"state": "OR"}, format="json")
    assert refused.status_code == 400, "an unverified licence does not count"
    patient_a.refresh_from_db()
    assert patient_a.state == "CA"


def test_training_recorded_later_opens_referral(api, therapist_a, django_capture_on_commit_callbacks):
    therapist_a.kap_trainings.all().delete()
    assert refer(api, therapist_a, django_capture_on_commit_callbacks).status_code == 409
    KAPTraining.objects.create(clinician=therapist_a, completed_on=timezone.localdate(), provider="P", title="KAP")
    assert refer(api, therapist_a, django_capture_on_commit_callbacks).status_code == 201
