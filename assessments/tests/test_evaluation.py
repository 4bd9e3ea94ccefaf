"""The prescriber's evaluation: required fields and flag reviews before signing, the lock (API, admin,
ORM, raw SQL), addenda, who may sign, the stage it moves the course to, and the evaluation queue."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test.utils import CaptureQueriesContext

from assessments import selectors as assessment_selectors
from assessments import services as assessment_services
from assessments.models import Evaluation, EvaluationFlagReview, ScreeningFlag
from kapcare.accounts.models import User
from patients.models import Stage
from tests.course_states import EVALUATION, ready_for_evaluation, review_all_flags, signed_evaluation
from tests.factories import UserFactory, enrol_totp
from tests.fixtures import refer

URL = "/api/v1/evaluations/"


def post(api, user, body):
    return api.as_user(user).post(URL, body, format="json")


def full_body(patient, **changes):
    body = {key: str(value) if key == "weight_kg" else value for key, value in EVALUATION.items()}
    return {"patient": str(patient.pk), **body, "flag_reviews": review_all_flags(patient), **changes}


@pytest.fixture
def foreign_prescriber(medical_group):
    user = UserFactory(role=User.Role.PRESCRIBER, organization=medical_group, email="other.prescriber@example.test")
    enrol_totp(user)
    return user


def test_sign_is_refused_naming_every_missing_field(api, prescriber, patient_a):
    ready_for_evaluation(patient_a)

    response = post(api, prescriber, {"patient": str(patient_a.pk), "decision": "eligible", "sign": True})

    assert response.status_code == 400
    missing = response.json()
    for field in ["bp_systolic", "pulse", "weight_kg", "psychiatric_assessment", "diagnosis", "rationale"]:
        assert field in missing, field
    assert "Required before signing" in missing["diagnosis"][0]
    kept = Evaluation.objects.get(patient=patient_a)
    assert (kept.status, kept.decision) == ("draft", "eligible"), "a refused signature keeps the draft"


def test_every_screening_flag_must_be_reviewed_and_dismissal_needs_a_reason(api, prescriber, patient_a):
    ready_for_evaluation(patient_a, flagged=True)
    flags = list(ScreeningFlag.objects.filter(intake__patient=patient_a))
    assert len(flags) >= 2

    unreviewed = post(api, prescriber, full_body(patient_a, flag_reviews=[], sign=True))
    assert unreviewed.status_code == 400
    assert "flag_reviews" in unreviewed.json()
    assert flags[0].reason in unreviewed.json()["flag_reviews"][0]

    no_reason = [{"flag": flag.pk, "outcome": "dismissed", "reason": ""} for flag in flags]
    assert post(api, prescriber, full_body(patient_a, flag_reviews=no_reason)).status_code == 400

    reviews = [{"flag": flag.pk, "outcome": "dismissed", "reason": "Controlled on recheck."} for flag in flags]
    signed = post(api, prescriber, full_body(patient_a, flag_reviews=reviews, sign=True))
    assert signed.status_code == 201, signed.content
    assert {r["flag"] for r in signed.json()["flag_reviews"]} == {flag.pk for flag in flags}


def test_signing_eligible_moves_the_patient_to_preparation(api, prescriber, patient_a):
    ready_for_evaluation(patient_a)
    assert patient_a.stage == Stage.EVALUATION

    response = post(api, prescriber, full_body(patient_a, sign=True))

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "signed"
    assert len(body["content_hash"]) == 64
    patient_a.refresh_from_db()
    assert patient_a.stage == Stage.PREPARATION
    assert api.as_user(prescriber).get(f"/api/v1/patients/{patient_a.pk}/").json()["status"] == "preparation"


@pytest.mark.parametrize(("decision", "stage"), [("ineligible", Stage.INELIGIBLE), ("deferred", Stage.EVALUATION)])
def test_other_decisions(prescriber, patient_a, decision, stage):
    ready_for_evaluation(patient_a)
    signed_evaluation(prescriber, patient_a, decision=decision)
    assert patient_a.stage == stage


def test_draft_then_sign_through_its_own_route(api, prescriber, patient_a):
    ready_for_evaluation(patient_a)
    draft = post(api, prescriber, {"patient": str(patient_a.pk), "decision": "eligible"}).json()
    assert draft["status"] == "draft"
    client = api.as_user(prescriber)
    changes = {k: v for k, v in full_body(patient_a).items() if k != "patient"}
    assert client.patch(f"{URL}{draft['id']}/", changes, format="json").status_code == 200

    response = client.post(f"{URL}{draft['id']}/sign/")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "signed"


def test_bad_input_is_a_field_error(api, prescriber, patient_a):
    ready_for_evaluation(patient_a)
    for changes in [{"icd10_code": "depression"}, {"decision": "maybe"}, {"bp_systolic": 900}, {"pulse": "fast"}]:
        response = post(api, prescriber, {"patient": str(patient_a.pk), **changes})
        assert response.status_code == 400, changes
        assert next(iter(changes)) in response.json()
    assert post(api, prescriber, {"patient": str(patient_a.pk), "surprise": 1}).status_code == 400
    assert post(api, prescriber, {"patient": "nope"}).status_code == 400
    assert (
        post(
            api, prescriber, {"patient": str(patient_a.pk), "flag_reviews": [{"flag": 999999, "outcome": "confirmed"}]}
        ).status_code
        == 400
    )


def test_signed_evaluation_cannot_change_through_the_api(api, prescriber, patient_a):
    ready_for_evaluation(patient_a)
    evaluation = signed_evaluation(prescriber, patient_a)
    client = api.as_user(prescriber)

    patched = client.patch(f"{URL}{evaluation.pk}/", {"rationale": "Changed my mind."}, format="json")
    resigned = client.post(f"{URL}{evaluation.pk}/sign/")

    assert patched.status_code == 409
    assert patched.json()["code"] == "evaluation_signed"
    assert "addendum" in patched.json()["detail"]
    assert resigned.status_code == 409
    evaluation.refresh_from_db()
    assert evaluation.rationale == EVALUATION["rationale"]


def test_signed_evaluation_cannot_change_through_the_orm_or_raw_sql(prescriber, patient_a):
    ready_for_evaluation(patient_a, flagged=True)
    evaluation = signed_evaluation(prescriber, patient_a)

    evaluation.rationale = "Edited"
    with pytest.raises(ValidationError):
        evaluation.save()
    with pytest.raises(ValidationError):
        evaluation.delete()
    for sql in [
        "UPDATE assessments_evaluation SET rationale = 'Edited' WHERE id = %s",
        "UPDATE assessments_evaluation SET status = 'draft' WHERE id = %s",
        "DELETE FROM assessments_evaluation WHERE id = %s",
        "UPDATE assessments_evaluationflagreview SET outcome = 'dismissed', reason = 'x' WHERE evaluation_id = %s",
        "DELETE FROM assessments_evaluationflagreview WHERE evaluation_id = %s",
    ]:
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [evaluation.pk])
    flag = ScreeningFlag.objects.filter(intake__patient=patient_a).first()
    with pytest.raises(DatabaseError), transaction.atomic():
        EvaluationFlagReview.objects.filter(evaluation=evaluation).delete()
        EvaluationFlagReview.objects.create(evaluation=evaluation, flag=flag, outcome="confirmed")
    assert Evaluation.objects.get(pk=evaluation.pk).rationale == EVALUATION["rationale"]


def test_signed_evaluation_cannot_change_through_the_admin(client, prescriber, patient_a):
    ready_for_evaluation(patient_a)
    evaluation = signed_evaluation(prescriber, patient_a)
    superuser = UserFactory(role=User.Role.ADMIN, is_staff=True, is_superuser=True, email="root@example.test")
    enrol_totp(superuser)
    client.force_login(superuser)
    url = f"/admin/assessments/evaluation/{evaluation.pk}/change/"

    page = client.get(url)
    client.post(url, {"rationale": "Edited in the admin", "status": "draft"})
    client.post(f"/admin/assessments/evaluation/{evaluation.pk}/delete/", {"post": "yes"})

    assert page.status_code == 200
    assert EVALUATION["psychiatric_assessment"] not in page.content.decode(), "the admin shows no clinical content"
    evaluation.refresh_from_db()
    assert evaluation.status == "signed"
    assert evaluation.rationale == EVALUATION["rationale"]


def test_addenda(api, prescriber, therapist_a, patient_a):
    ready_for_evaluation(patient_a)
    evaluation = signed_evaluation(prescriber, patient_a)
    client = api.as_user(prescriber)

    response = client.post(f"{URL}{evaluation.pk}/addenda/", {"text": "BP rechecked: 122/78."}, format="json")

    assert response.status_code == 201, response.content
    assert len(response.json()["content_hash"]) == 64
    listed = api.as_user(therapist_a).get(f"{URL}{evaluation.pk}/addenda/")
    assert [a["text"] for a in listed.json()] == ["BP rechecked: 122/78."]
    assert (
        api.as_user(therapist_a).post(f"{URL}{evaluation.pk}/addenda/", {"text": "x"}, format="json").status_code == 403
    )
    client = api.as_user(prescriber)
    assert client.post(f"{URL}{evaluation.pk}/addenda/", {"text": ""}, format="json").status_code == 400
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE assessments_evaluationaddendum SET text = 'x' WHERE evaluation_id = %s", [evaluation.pk])


def test_only_the_teams_prescriber_signs(api, client, prescriber, therapist_a, foreign_prescriber, patient_a):
    ready_for_evaluation(patient_a)
    draft = assessment_services.evaluation_save_draft(actor=prescriber, patient=patient_a, data=EVALUATION)

    assert post(api, therapist_a, full_body(patient_a)).status_code == 403
    assert api.as_user(therapist_a).post(f"{URL}{draft.pk}/sign/").status_code == 403
    assert post(api, foreign_prescriber, full_body(patient_a)).status_code == 404
    assert api.as_user(foreign_prescriber).post(f"{URL}{draft.pk}/sign/").status_code == 404
    client.force_login(therapist_a)
    assert client.post(f"/patients/{patient_a.pk}/evaluation/", {"action": "sign"}).status_code == 403
    client.force_login(foreign_prescriber)
    assert client.get(f"/patients/{patient_a.pk}/evaluation/").status_code == 404
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_portal_evaluation_form_with_flags(client, prescriber, patient_a):
    ready_for_evaluation(patient_a, flagged=True)
    flags = list(ScreeningFlag.objects.filter(intake__patient=patient_a))
    client.force_login(prescriber)
    url = f"/patients/{patient_a.pk}/evaluation/"
    assert flags[0].reason in client.get(url).content.decode()
    form = dict(EVALUATION)
    form.update({f"flag_{flag.pk}_outcome": "dismissed" for flag in flags})

    refused = client.post(url, {**form, "action": "sign"})  # dismissed without reasons
    assert refused.status_code == 200
    assert "say why this flag is dismissed" in refused.content.decode()

    form.update({f"flag_{flag.pk}_reason": "Rechecked in clinic." for flag in flags})
    signed = client.post(url, {**form, "action": "sign"})
    assert signed.status_code == 302
    patient_a.refresh_from_db()
    assert patient_a.stage == Stage.PREPARATION
    assert "Evaluation signed: eligible" in client.get(f"/patients/{patient_a.pk}/chart/course/").content.decode()


def _queue_patients(count, therapist, prescriber, coordinator):
    for n in range(count):
        patient = refer(
            therapist,
            f"Q{n}",
            f"Queue{n:03d}",
            f"queue{n}@example.test",
            prescriber=prescriber,
            coordinator=coordinator,
            account=True,
        )
        ready_for_evaluation(patient, flagged=n % 2 == 0)


@pytest.mark.parametrize("size", [1, 20])
def test_evaluation_queue_costs_two_queries_whatever_its_size(client, therapist_a, prescriber, coordinator, size):
    _queue_patients(size, therapist_a, prescriber, coordinator)

    with CaptureQueriesContext(connection) as captured:
        queue = assessment_selectors.evaluation_queue(prescriber)
        assert sum(len(entry.flags) for entry in queue) > 0
        [entry.patient.referral.clinical_summary for entry in queue]

    assert len(queue) == size
    assert len(captured.captured_queries) == 2
    assert assessment_selectors.evaluation_queue(therapist_a) == []


def test_evaluation_queue_on_the_dashboard(client, therapist_a, prescriber, coordinator):
    _queue_patients(2, therapist_a, prescriber, coordinator)
    client.force_login(prescriber)

    page = client.get("/").content.decode()

    assert "Awaiting your evaluation (2)" in page
    client.force_login(therapist_a)
    assert "Awaiting your evaluation" not in client.get("/").content.decode()
