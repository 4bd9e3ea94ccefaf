"""The dose plan: mg/kg from the intake weight, signing (only the team's prescriber, only after an eligible
evaluation), versions superseding each other with history kept, the lock, and the dose ledger."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from kapcare.accounts.models import User
from tests.course_states import (
    DOSE_PLAN,
    completed_session,
    ready_for_evaluation,
    ready_to_dose,
    signed_dose_plan,
    signed_evaluation,
)
from tests.factories import UserFactory, enrol_totp
from treatment.models import DosePlan

URL = "/api/v1/dose-plans/"


def body(patient, **changes):
    data = {key: str(value) if hasattr(value, "quantize") else value for key, value in DOSE_PLAN.items()}
    return {"patient": str(patient.pk), **data, **changes}


@pytest.fixture
def eligible(prescriber, patient_a):
    ready_for_evaluation(patient_a)
    signed_evaluation(prescriber, patient_a)
    return patient_a


def test_mg_per_kg_is_computed_from_the_intake_weight(api, prescriber, eligible):
    response = api.as_user(prescriber).post(URL, body(eligible), format="json")

    assert response.status_code == 201, response.content
    plan = response.json()
    assert plan["status"] == "draft"
    assert plan["weight_kg"] == "80.0"
    assert plan["mg_per_kg"] == "2.50"  # 200 mg / 80 kg
    assert plan["first_dose_mg"] == "100.0"  # starts at half


def test_sign_needs_the_required_fields_and_an_eligible_evaluation(api, prescriber, patient_a):
    ready_for_evaluation(patient_a)
    client = api.as_user(prescriber)
    draft = client.post(URL, {"patient": str(patient_a.pk), "route": "troche"}, format="json").json()

    missing = client.post(f"{URL}{draft['id']}/sign/")
    assert missing.status_code == 400
    assert {"full_dose_mg", "doses_authorized", "tablet_strength_mg"} <= set(missing.json())

    client.patch(f"{URL}{draft['id']}/", {k: v for k, v in body(patient_a).items() if k != "patient"}, format="json")
    no_evaluation = client.post(f"{URL}{draft['id']}/sign/")
    assert no_evaluation.status_code == 409
    assert no_evaluation.json()["code"] == "evaluation_eligible_signed"


def test_new_version_supersedes_and_history_is_kept(api, prescriber, therapist_a, eligible):
    first = signed_dose_plan(prescriber, eligible)
    second = signed_dose_plan(prescriber, eligible, full_dose_mg=250)  # more doses need a follow-up

    first.refresh_from_db()
    assert (first.version, first.status) == (1, "superseded")
    assert (second.version, second.status) == (2, "signed")
    listed = api.as_user(therapist_a).get(f"{URL}?patient={eligible.pk}").json()["results"]
    assert [(p["version"], p["status"]) for p in listed] == [(2, "signed"), (1, "superseded")]
    assert listed[0]["ledger"] == {"authorized": 3, "used": 0, "booked": 0, "remaining": 3}


def test_ledger_counts_completed_dosing_sessions(api, therapist_a, prescriber, patient_a):
    ready_to_dose(therapist_a, prescriber, patient_a, doses_authorized=3)
    completed_session(therapist_a, patient_a, "dosing", at=timezone.now() - timedelta(days=6))
    completed_session(therapist_a, patient_a, "integration", at=timezone.now() - timedelta(days=5))
    completed_session(therapist_a, patient_a, "dosing", at=timezone.now() - timedelta(days=2))

    plan = api.as_user(prescriber).get(f"{URL}?patient={patient_a.pk}").json()["results"][0]
    course = api.as_user(therapist_a).get(f"/api/v1/courses/?patient={patient_a.pk}").json()["results"][0]

    assert plan["ledger"] == {"authorized": 3, "used": 2, "booked": 0, "remaining": 1}
    assert course["ledger"] == plan["ledger"]
    assert course["stage"] == "dosing"
    with pytest.raises(ValidationError):  # a new version cannot authorize fewer than were used
        signed_dose_plan(prescriber, patient_a, doses_authorized=1)


def test_signed_plan_cannot_change_through_the_api(api, prescriber, eligible):
    plan = signed_dose_plan(prescriber, eligible)

    response = api.as_user(prescriber).patch(f"{URL}{plan.pk}/", {"full_dose_mg": "400.0"}, format="json")
    resign = api.as_user(prescriber).post(f"{URL}{plan.pk}/sign/")

    assert response.status_code == 409
    assert response.json()["code"] == "dose_plan_signed"
    assert resign.status_code == 409
    plan.refresh_from_db()
    assert plan.full_dose_mg == DOSE_PLAN["full_dose_mg"]


def test_signed_and_superseded_plans_cannot_change_through_the_orm_or_raw_sql(prescriber, eligible):
    old = signed_dose_plan(prescriber, eligible)
    current = signed_dose_plan(prescriber, eligible, doses_authorized=2)
    old.refresh_from_db()

    current.full_dose_mg = 400
    with pytest.raises(ValidationError):
        current.save()
    with pytest.raises(ValidationError):
        old.delete()
    for sql in [
        "UPDATE treatment_doseplan SET full_dose_mg = 400 WHERE id = %s",
        "UPDATE treatment_doseplan SET status = 'draft' WHERE id = %s",
        "UPDATE treatment_doseplan SET status = 'signed' WHERE id = %s",
        "DELETE FROM treatment_doseplan WHERE id = %s",
    ]:
        for plan in (old, current):
            with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, [plan.pk])
    assert DosePlan.objects.get(pk=current.pk).full_dose_mg == DOSE_PLAN["full_dose_mg"]


def test_signed_plan_cannot_change_through_the_admin(client, prescriber, eligible):
    plan = signed_dose_plan(prescriber, eligible)
    superuser = UserFactory(role=User.Role.ADMIN, is_staff=True, is_superuser=True, email="root@example.test")
    enrol_totp(superuser)
    client.force_login(superuser)

    page = client.get(f"/admin/treatment/doseplan/{plan.pk}/change/")
    client.post(f"/admin/treatment/doseplan/{plan.pk}/change/", {"full_dose_mg": "400", "status": "draft"})
    client.post(f"/admin/treatment/doseplan/{plan.pk}/delete/", {"post": "yes"})

    assert page.status_code == 200
    assert DOSE_PLAN["instructions_patient"] not in page.content.decode()
    plan.refresh_from_db()
    assert (plan.status, plan.full_dose_mg) == ("signed", DOSE_PLAN["full_dose_mg"])


def test_only_the_teams_prescriber_writes_and_signs(api, client, prescriber, therapist_a, medical_group, eligible):
    foreign = UserFactory(role=User.Role.PRESCRIBER, organization=medical_group, email="other.prescriber@example.test")
    enrol_totp(foreign)
    draft = api.as_user(prescriber).post(URL, body(eligible), format="json").json()

    assert api.as_user(therapist_a).post(URL, body(eligible), format="json").status_code == 403
    assert api.as_user(therapist_a).post(f"{URL}{draft['id']}/sign/").status_code == 403
    assert api.as_user(foreign).post(URL, body(eligible), format="json").status_code == 404
    assert api.as_user(foreign).post(f"{URL}{draft['id']}/sign/").status_code == 404
    client.force_login(therapist_a)
    assert client.post(f"/patients/{eligible.pk}/dose-plan/", {"action": "sign"}).status_code == 403
    assert DosePlan.objects.get(pk=draft["id"]).status == "draft"


def test_portal_dose_plan_shows_mg_per_kg_and_signs(client, prescriber, therapist_a, eligible):
    client.force_login(prescriber)
    url = f"/patients/{eligible.pk}/dose-plan/"
    form = {k: ("" if v is None else v) for k, v in DOSE_PLAN.items()}
    form.update(boosters_allowed="on", medication="ketamine")

    assert client.post(url, {**form, "action": "save"}).status_code == 302
    assert "2.50 mg/kg" in client.get(url).content.decode()
    assert client.post(url, {**form, "action": "sign"}).status_code == 302

    client.force_login(therapist_a)
    chart = client.get(f"/patients/{eligible.pk}/chart/course/").content.decode()
    assert "Current dose plan (version 1, read-only)" in chart
    assert "Dose plan version 1 signed" in chart
    assert "2.50 mg/kg" in chart
    assert client.get(url).status_code == 200  # read-only for the therapist: no form
    assert 'name="action" value="sign"' not in client.get(url).content.decode()
