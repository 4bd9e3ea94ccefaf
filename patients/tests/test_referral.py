"""The front door: a therapist refers, a prescriber is assigned, the patient is invited and joins."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from kapcare.accounts.models import User
from patients.models import CareTeamMember, Invitation, Patient, Referral, Stage
from tests.factories import ClinicianProfileFactory, UserFactory, enrol_totp

REFERRAL = {
    "first_name": "Rowan",
    "last_name": "Redwood",
    "email": "rowan@example.test",
    "date_of_birth": "1987-07-07",
    "state": "CA",
    "referral_reasons": ["trd", "trauma"],
    "reason_for_referral": "Three failed SSRI trials.",
    "current_diagnoses": "MDD, recurrent, severe",
    "current_treatment": "Weekly psychotherapy",
    "current_medications": "Sertraline 100 mg",
    "clinical_summary": "Engaged, stable housing, good support.",
}
PASSWORD = "a long new password 2026"


def refer_by_api(api, therapist, django_capture_on_commit_callbacks, **changes):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.as_user(therapist).post("/api/v1/patients/", {**REFERRAL, **changes}, format="json")
    return response


def invitation_link():
    [message] = mail.outbox
    return re.search(r"https?://\S+/invitations/\S+/", message.body).group(0)


def test_referral_creates_patient_referral_team_and_one_invitation(
    api, therapist_a, prescriber, django_capture_on_commit_callbacks
):
    response = refer_by_api(api, therapist_a, django_capture_on_commit_callbacks)

    assert response.status_code == 201
    patient = Patient.objects.get(pk=response.json()["id"])
    referral = Referral.objects.get(patient=patient)
    assert referral.reasons == ["trd", "trauma"]
    assert referral.clinical_summary == "Engaged, stable housing, good support."
    team = set(CareTeamMember.objects.active().filter(patient=patient).values_list("clinician", "role"))
    assert team == {(therapist_a.pk, "therapist"), (prescriber.pk, "prescriber")}
    assert Invitation.objects.filter(patient=patient).count() == 1
    assert response.json()["referral"]["current_diagnoses"] == "MDD, recurrent, severe"


@pytest.mark.celery_eager
def test_the_invitation_email_carries_a_first_name_and_a_link_only(
    api, therapist_a, django_capture_on_commit_callbacks
):
    refer_by_api(api, therapist_a, django_capture_on_commit_callbacks)

    [message] = mail.outbox
    assert message.to == ["rowan@example.test"]
    text = message.subject + message.body
    assert "Rowan" in text
    for private in ("Redwood", "1987", "SSRI", "Sertraline", "MDD"):
        assert private not in text


def test_no_prescriber_is_assigned_without_a_current_licence_in_the_state(
    api, therapist_a, prescriber, django_capture_on_commit_callbacks
):
    oregon = refer_by_api(api, therapist_a, django_capture_on_commit_callbacks, email="or@example.test", state="OR")
    prescriber.licences.update(expires_on=timezone.localdate() - timedelta(days=1))
    expired = refer_by_api(api, therapist_a, django_capture_on_commit_callbacks, email="ca@example.test")

    for response in (oregon, expired):
        roles = CareTeamMember.objects.filter(patient_id=response.json()["id"]).values_list("role", flat=True)
        assert list(roles) == ["therapist"]


def test_the_coordinator_assigns_only_a_prescriber_licensed_in_the_patients_state(
    client, coordinator, prescriber, patient_a2, medical_group
):
    licensed_in_oregon = UserFactory(role=User.Role.PRESCRIBER, organization=medical_group, email="or.md@example.test")
    ClinicianProfileFactory(user=licensed_in_oregon, licence_state="OR")
    enrol_totp(licensed_in_oregon)
    client.force_login(coordinator)

    refused = client.post(f"/patients/{patient_a2.pk}/prescriber/", {"prescriber": prescriber.pk}, follow=True)
    assert "not licensed in Oregon" in refused.content.decode()
    assert not CareTeamMember.objects.filter(patient=patient_a2, role="prescriber").exists()

    client.post(f"/patients/{patient_a2.pk}/prescriber/", {"prescriber": licensed_in_oregon.pk})
    assert CareTeamMember.objects.active().get(patient=patient_a2, role="prescriber").clinician == licensed_in_oregon


def test_reassigning_the_prescriber_ends_the_previous_membership(
    client, coordinator, prescriber, patient_a, medical_group
):
    second = UserFactory(role=User.Role.PRESCRIBER, organization=medical_group, email="second.md@example.test")
    ClinicianProfileFactory(user=second, licence_state="CA")
    client.force_login(coordinator)

    client.post(f"/patients/{patient_a.pk}/prescriber/", {"prescriber": second.pk})

    active = CareTeamMember.objects.active().filter(patient=patient_a, role="prescriber")
    assert [m.clinician for m in active] == [second]
    assert CareTeamMember.objects.get(patient=patient_a, clinician=prescriber).active_to is not None


def test_only_a_coordinator_assigns_prescribers(client, therapist_a, prescriber, patient_a):
    client.force_login(therapist_a)

    response = client.post(f"/patients/{patient_a.pk}/prescriber/", {"prescriber": prescriber.pk})

    assert response.status_code == 403


@pytest.mark.celery_eager
def test_following_the_invitation_sets_a_password_and_lands_in_the_portal(
    api, client, therapist_a, django_capture_on_commit_callbacks
):
    refer_by_api(api, therapist_a, django_capture_on_commit_callbacks)
    link = invitation_link()

    opened = client.get(link)
    assert opened["Location"] == "/invitations/accept/", "the token must leave the address bar"
    form = client.get("/invitations/accept/")
    assert "Welcome, Rowan" in form.content.decode()
    done = client.post(
        "/invitations/accept/",
        {"password1": PASSWORD, "password2": PASSWORD, "date_of_birth": "1987-07-07"},
        follow=True,
    )

    assert done.redirect_chain[-1][0] == "/"
    assert "Welcome, Rowan" in done.content.decode()
    patient = Patient.objects.get(email="rowan@example.test")
    assert patient.user.check_password(PASSWORD)
    assert patient.stage == Stage.INTAKE


@pytest.mark.celery_eager
def test_an_invitation_works_once(api, client, therapist_a, django_capture_on_commit_callbacks):
    refer_by_api(api, therapist_a, django_capture_on_commit_callbacks)
    link = invitation_link()
    client.get(link)
    client.post("/invitations/accept/", {"password1": PASSWORD, "password2": PASSWORD, "date_of_birth": "1987-07-07"})
    client.logout()

    client.get(link)
    again = client.get("/invitations/accept/")

    assert again.status_code == 410
    assert "already been used" in again.content.decode()


@pytest.mark.celery_eager
def test_an_expired_invitation_explains_itself_and_sends_a_new_link(
    api, client, therapist_a, django_capture_on_commit_callbacks
):
    refer_by_api(api, therapist_a, django_capture_on_commit_callbacks)
    link = invitation_link()
    mail.outbox.clear()

    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        client.get(link)
        expired = client.get("/invitations/accept/")
        assert expired.status_code == 410
        assert "expired" in expired.content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            client.post("/invitations/new/")

    assert len(mail.outbox) == 1
    new_link = invitation_link()
    assert new_link != link
    client.get(new_link)
    assert client.get("/invitations/accept/").status_code == 200


@pytest.mark.celery_eager
def test_at_six_days_the_invitation_still_works(api, client, therapist_a, django_capture_on_commit_callbacks):
    refer_by_api(api, therapist_a, django_capture_on_commit_callbacks)
    link = invitation_link()

    with time_machine.travel(timezone.now() + timedelta(days=6, hours=23)):
        client.get(link)
        assert client.get("/invitations/accept/").status_code == 200


@pytest.mark.celery_eager
def test_resending_switches_off_the_earlier_link(api, client, therapist_a, django_capture_on_commit_callbacks):
    refer_by_api(api, therapist_a, django_capture_on_commit_callbacks)
    first_link = invitation_link()
    patient = Patient.objects.get(email="rowan@example.test")
    mail.outbox.clear()
    api.logout()
    client.force_login(therapist_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/patients/{patient.pk}/invitation/")
    client.logout()

    client.get(first_link)
    replaced = client.get("/invitations/accept/")

    assert replaced.status_code == 410
    assert "newer invitation" in replaced.content.decode()
    assert len(mail.outbox) == 1


@pytest.mark.celery_eager
def test_a_weak_password_is_refused_and_no_account_is_made(
    api, client, therapist_a, django_capture_on_commit_callbacks
):
    refer_by_api(api, therapist_a, django_capture_on_commit_callbacks)
    client.get(invitation_link())

    response = client.post(
        "/invitations/accept/", {"password1": "password", "password2": "password", "date_of_birth": "1987-07-07"}
    )

    assert response.status_code == 200
    assert "too common" in response.content.decode() or "too short" in response.content.decode()
    assert not User.objects.filter(email="rowan@example.test").exists()


def test_an_unknown_link_is_explained(client, db):
    client.get("/invitations/not-a-real-token/")

    response = client.get("/invitations/accept/")

    assert response.status_code == 410
    assert "could not find this invitation" in response.content.decode()


@pytest.mark.celery_eager
def test_the_therapist_refers_through_the_portal(client, therapist_a, django_capture_on_commit_callbacks):
    client.force_login(therapist_a)
    form = {**REFERRAL, "referral_reasons": ["depression"]}
    del form["current_treatment"]

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/refer/", form, follow=True)

    patient = Patient.objects.get(email="rowan@example.test")
    assert response.redirect_chain[-1][0] == f"/patients/{patient.pk}/"
    page = response.content.decode()
    assert "an invitation to the portal is on its way" in page
    documents = client.get(f"/patients/{patient.pk}/chart/documents/").content.decode()
    assert "Three failed SSRI trials." in documents
    assert len(mail.outbox) == 1


def test_the_portal_referral_form_names_each_problem(client, therapist_a, patient_a):
    client.force_login(therapist_a)

    response = client.post("/refer/", {**REFERRAL, "email": patient_a.email, "referral_reasons": [], "state": ""})

    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('role="alert"') >= 2
    assert Patient.objects.count() == 1


@pytest.mark.parametrize("role", ["prescriber", "coordinator", "patient"])
def test_only_therapists_open_the_referral_form(client, cast, role):
    client.force_login(cast[role])

    assert client.get("/refer/").status_code == 403


def test_the_coordinator_sees_the_stage_but_not_the_referrals_clinical_detail(
    api, client, therapist_a, coordinator, django_capture_on_commit_callbacks
):
    patient_id = refer_by_api(api, therapist_a, django_capture_on_commit_callbacks).json()["id"]

    detail = api.as_user(coordinator).get(f"/api/v1/patients/{patient_id}/").json()
    client.force_login(coordinator)
    chart = client.get(f"/patients/{patient_id}/").content.decode()

    assert detail["referral"] is None
    assert detail["status"] == "referred"
    assert "Sertraline" not in chart and "Referred" in chart


def test_the_patient_keeps_their_profile(client, patient, patient_a):
    client.force_login(patient)

    response = client.post(
        "/profile/",
        {
            "phone": "+1 415 555 0142",
            "time_zone": "America/Los_Angeles",
            "emergency_contact_name": "Sky Alder",
            "emergency_contact_phone": "+1 415 555 0143",
            "emergency_contact_relationship": "Sister",
            "chaperone_name": "Sky Alder",
            "chaperone_phone": "+1 415 555 0143",
            "chaperone_email": "",
        },
    )

    assert response.status_code == 302
    patient_a.refresh_from_db()
    assert (patient_a.emergency_contact_name, patient_a.chaperone_phone) == ("Sky Alder", "+1 415 555 0143")


def test_a_bad_time_zone_in_the_profile_is_refused(client, patient, patient_a):
    client.force_login(patient)

    response = client.post("/profile/", {"phone": "1", "time_zone": "Nowhere/Else"})

    assert response.status_code == 200
    assert "not a known time zone" in response.content.decode()
