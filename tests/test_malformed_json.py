"""Issue 13, finding 5: deeply nested JSON (`[` x 3000) was a 500 (RecursionError in the JSON parser) on
every POST and PATCH, for any signed-in role. Now: a 400 (or 413 for a body too large) in the error shape of
CONTRACT.md, and nothing changes."""

import json

import pytest

from kapcare.audit.models import AuditEvent
from patients.models import Patient

NESTED = "[" * 3000
TOO_DEEP = '{"first_name": ' + "[" * 40 + '"x"' + "]" * 40 + "}"  # valid JSON, 41 levels


def assert_refused_before_or_at_the_body(response):
    """The body is read after the role's check: a role that may not post here gets its 403/404 first."""
    if response.status_code in (403, 404):
        assert set(response.json()) == {"detail", "code"}
    else:
        assert_error_shape(response, 400, "parse_error")


def assert_error_shape(response, status, code):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"detail", "code"}
    assert body["code"] == code


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["therapist_a", "prescriber", "coordinator", "patient", "admin"])
def test_deeply_nested_json_is_a_400_on_every_post_and_patch(api, cast, patient_a, role):
    client = api.as_user(cast[role])
    patients = Patient.objects.count()
    requests = [
        ("post", "/api/v1/patients/"),
        ("patch", f"/api/v1/patients/{patient_a.pk}/"),
        ("post", "/api/v1/messages/"),
        ("post", "/api/v1/assessments/"),
        ("post", "/api/v1/sessions/"),
        ("post", "/api/v1/evaluations/"),
    ]
    for method, path in requests:
        for body in (NESTED, TOO_DEEP):
            response = getattr(client, method)(path, data=body, content_type="application/json")
            assert_refused_before_or_at_the_body(response)
    patient_a.refresh_from_db()
    assert patient_a.first_name == "Avery"
    assert Patient.objects.count() == patients


@pytest.mark.django_db
def test_a_body_larger_than_the_limit_is_refused(api, therapist_a, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    before = AuditEvent.objects.count()
    body = json.dumps({"first_name": "x" * 20_000})
    response = api.as_user(therapist_a).post("/api/v1/patients/", data=body, content_type="application/json")
    assert_error_shape(response, 413, "request_too_large")
    assert not Patient.objects.filter(first_name__startswith="xxx").exists()
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db
def test_reasonable_nesting_and_broken_json_still_answer_as_before(api, therapist_a, patient_a):
    client = api.as_user(therapist_a)
    response = client.post("/api/v1/patients/", data='{"first_name": ', content_type="application/json")
    assert_error_shape(response, 400, "parse_error")
    response = client.post("/api/v1/patients/", data=b'{"a": "\xff"}', content_type="application/json")
    assert_error_shape(response, 400, "parse_error")
    response = client.patch(f"/api/v1/patients/{patient_a.pk}/", data={"phone": "+1 415 555 0100"}, format="json")
    assert response.status_code == 200
