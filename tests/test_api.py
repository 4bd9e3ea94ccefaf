"""The API's outer rules (CONTRACT.md): referral, validation, errors, tokens."""

from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from patients.models import CareTeamMember, Patient

REFERRAL = {
    "first_name": "Emery",
    "last_name": "Elm",
    "email": "Emery.Elm@Example.test",
    "date_of_birth": "1990-02-03",
    "state": "CA",
}


def test_a_referral_creates_the_patient_with_the_therapist_on_the_care_team(api, therapist_a, medical_group):
    response = api.as_user(therapist_a).post("/api/v1/patients/", REFERRAL, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "referred"
    assert body["email"] == "emery.elm@example.test"
    assert body["time_zone"] == "America/Los_Angeles"
    patient = Patient.objects.get(pk=body["id"])
    assert patient.medical_group == medical_group
    assert list(CareTeamMember.objects.filter(patient=patient).values_list("clinician", "role")) == [
        (therapist_a.pk, "therapist")
    ]
    assert api.get(f"/api/v1/patients/{patient.pk}/").status_code == 200


def test_a_referral_of_a_known_address_is_answered_as_a_new_one_and_makes_no_second_record(
    api, therapist_a, therapist_b, patient_a
):
    """Issue 13, finding 4: the answer never tells whether an address is a patient's (the attack's requests)."""
    new = api.as_user(therapist_b).post("/api/v1/patients/", REFERRAL, format="json")
    known = api.as_user(therapist_b).post(
        "/api/v1/patients/", {**REFERRAL, "email": patient_a.email.upper()}, format="json"
    )

    assert known.status_code == new.status_code == 201
    assert set(known.json()) == set(new.json())
    assert {k: v for k, v in known.json().items() if k not in ("id", "email")} == {
        k: v for k, v in new.json().items() if k not in ("id", "email")
    }
    assert Patient.objects.filter(email__iexact=patient_a.email).count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"first_name": ""}, "first_name"),
        ({"email": "not-an-address"}, "email"),
        ({"date_of_birth": "03/02/1990"}, "date_of_birth"),
        ({"date_of_birth": (date.today() - timedelta(days=365 * 16)).isoformat()}, "date_of_birth"),
        ({"date_of_birth": "1890-01-01"}, "date_of_birth"),
        ({"state": "ZZ"}, "state"),
        ({"state": 7}, "state"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
    ],
)
def test_bad_referral_input_is_a_400_naming_the_field_and_changes_nothing(api, therapist_a, change, field):
    count = Patient.objects.count()

    response = api.as_user(therapist_a).post("/api/v1/patients/", {**REFERRAL, **change}, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert Patient.objects.count() == count


@pytest.mark.parametrize("missing", ["first_name", "last_name", "email", "date_of_birth", "state"])
def test_every_referral_field_is_required(api, therapist_a, missing):
    body = {k: v for k, v in REFERRAL.items() if k != missing}

    response = api.as_user(therapist_a).post("/api/v1/patients/", body, format="json")

    assert response.status_code == 400
    assert missing in response.json()


@pytest.mark.parametrize("payload", ["[]", "null", '"text"', "{", "42"])
def test_malformed_json_is_a_400(api, therapist_a, payload):
    response = api.as_user(therapist_a).post("/api/v1/patients/", payload, content_type="application/json")

    assert response.status_code == 400
    assert response.json()


def test_a_patch_changes_only_what_it_names(api, prescriber, patient_a):
    response = api.as_user(prescriber).patch(
        f"/api/v1/patients/{patient_a.pk}/", {"phone": "+1 503 555 0101"}, format="json"
    )

    assert response.status_code == 200
    patient_a.refresh_from_db()
    assert patient_a.phone == "+1 503 555 0101"
    assert patient_a.first_name == "Avery"


@pytest.mark.parametrize("field", ["status", "id", "medical_group", "user"])
def test_a_patch_of_a_field_that_cannot_be_set_is_refused(api, prescriber, patient_a, field):
    response = api.as_user(prescriber).patch(f"/api/v1/patients/{patient_a.pk}/", {field: "dosing"}, format="json")

    assert response.status_code == 400
    assert field in response.json()
    patient_a.refresh_from_db()
    assert patient_a.stage == "referred", "the stage comes from signed records, never from a PATCH"


def test_staff_cannot_redirect_a_joined_patients_email(api, coordinator, patient_a):
    response = api.as_user(coordinator).patch(
        f"/api/v1/patients/{patient_a.pk}/", {"email": "someone.else@example.test"}, format="json"
    )

    assert response.status_code == 400
    assert "joined the portal" in response.json()["email"][0]
    patient_a.refresh_from_db()
    assert patient_a.email == "avery@example.test"


def test_changing_a_not_yet_joined_patients_email_switches_off_sent_links(api, therapist_a2, patient_a2):
    from patients.services import invitation_send

    invitation = invitation_send(actor=therapist_a2, patient=patient_a2)

    response = api.as_user(therapist_a2).patch(
        f"/api/v1/patients/{patient_a2.pk}/", {"email": "blair.new@example.test"}, format="json"
    )

    assert response.status_code == 200
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


def test_moving_a_patient_to_a_state_where_the_prescriber_is_not_licensed_is_refused(api, therapist_a, patient_a):
    response = api.as_user(therapist_a).patch(f"/api/v1/patients/{patient_a.pk}/", {"state": "NY"}, format="json")

    assert response.status_code == 400
    assert "not licensed there" in response.json()["state"][0]


def test_a_patch_may_not_take_another_patients_email(api, prescriber, patient_a, patient_b):
    response = api.as_user(prescriber).patch(
        f"/api/v1/patients/{patient_a.pk}/", {"email": patient_b.email}, format="json"
    )

    assert response.status_code == 400
    assert "email" in response.json()


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "1", "00000000-0000-0000-0000-000000000000"])
def test_unknown_or_malformed_ids_are_a_json_404(api, therapist_a, bad_id):
    response = api.as_user(therapist_a).get(f"/api/v1/patients/{bad_id}/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_an_unknown_api_path_is_a_json_404(api, therapist_a):
    response = api.as_user(therapist_a).get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("query", ["page=999", "page=abc", "page_size=0", "page_size=-5"])
def test_bad_paging_never_fails_the_server(api, therapist_a, patient_a, query):
    response = api.as_user(therapist_a).get(f"/api/v1/patients/?{query}")

    assert response.status_code in (200, 404)
    assert response.json()


def test_not_signed_in_is_a_401_with_a_token_challenge(db):
    response = APIClient().get("/api/v1/patients/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["code"] == "not_authenticated"


def test_a_403_names_the_reason(api, prescriber):
    response = api.as_user(prescriber).post("/api/v1/patients/", REFERRAL, format="json")

    assert response.status_code == 403
    assert response.json()["detail"] == "Only a therapist can refer a patient."


def issue_token(email, capsys):
    call_command("issue_api_token", email)
    return capsys.readouterr().out.strip().splitlines()[-1]


def test_issue_api_token_prints_a_token_that_works_and_is_stored_hashed(therapist_a, patient_a, capsys):
    token = issue_token(therapist_a.email, capsys)
    client = APIClient(HTTP_AUTHORIZATION=f"Token {token}")

    response = client.get("/api/v1/patients/")

    assert response.status_code == 200
    assert [p["id"] for p in response.json()["results"]] == [str(patient_a.pk)]
    stored = AuthToken.objects.get(user=therapist_a)
    assert token not in (stored.digest, stored.token_key)
    assert stored.expiry > timezone.now() + timedelta(days=29)


def test_an_expired_token_is_refused(therapist_a, capsys):
    token = issue_token(therapist_a.email, capsys)
    AuthToken.objects.filter(user=therapist_a).update(expiry=timezone.now() - timedelta(seconds=1))

    response = APIClient(HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/patients/")

    assert response.status_code == 401


def test_a_revoked_token_is_refused(therapist_a, capsys):
    token = issue_token(therapist_a.email, capsys)
    AuthToken.objects.filter(user=therapist_a).delete()

    response = APIClient(HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/patients/")

    assert response.status_code == 401


def test_a_token_for_an_unknown_user_is_not_issued(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No active user"):
        call_command("issue_api_token", "nobody@example.test")


def test_the_schema_and_docs_are_served(client, db):
    schema = client.get("/api/schema/")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    assert b"/api/v1/patients/" in schema.content
    assert docs.status_code == 200
    assert b"<script" in docs.content and b"swagger" in docs.content.lower()


def test_a_token_does_not_bypass_the_second_factor(db, capsys):
    from .factories import UserFactory

    unenrolled = UserFactory(role="therapist", email="no.mfa@example.test")
    token = issue_token(unenrolled.email, capsys)

    response = APIClient(HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/patients/")

    assert response.status_code == 403
    assert response.json()["code"] == "mfa_required"


def test_the_schema_generates_without_warnings(db):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


def test_two_clinicians_editing_one_record_one_wins_the_other_is_told(api, therapist_a, prescriber, patient_a):
    from rest_framework.test import APIClient

    therapist, doctor = APIClient(), APIClient()
    therapist.force_login(therapist_a)
    doctor.force_login(prescriber)
    path = f"/api/v1/patients/{patient_a.pk}/"
    version = therapist.get(path)["ETag"]
    assert doctor.get(path)["ETag"] == version

    first = therapist.patch(path, {"phone": "+1 415 555 0001"}, format="json", HTTP_IF_MATCH=version)
    second = doctor.patch(path, {"phone": "+1 415 555 0002"}, format="json", HTTP_IF_MATCH=version)

    assert first.status_code == 200
    assert second.status_code == 412
    assert second.json()["code"] == "stale_record"
    patient_a.refresh_from_db()
    assert patient_a.phone == "+1 415 555 0001"
