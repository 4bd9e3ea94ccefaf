"""Side effects: reported by the therapist on the team or the patient; a severe one alerts both clinicians."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from patients.models import SafetyAlert
from tests.fixtures import refer
from tests.test_query_counts import DASHBOARD_QUERIES
from treatment.adverse_events import services as adverse_event_services
from treatment.models import AdverseEvent, TreatmentCourse

pytestmark = pytest.mark.django_db


def report(actor, patient, **changes):
    fields = {"kind": "nausea", "severity": "mild", **changes}
    return adverse_event_services.adverse_event_report(actor=actor, patient=patient, **fields)


def test_a_mild_event_raises_no_alert(patient_a, therapist_a):
    event = report(therapist_a, patient_a, onset_minutes=20, action_taken="medication_given", action_details="Zofran")
    assert event.course.patient == patient_a
    assert SafetyAlert.objects.count() == 0


def test_a_severe_event_raises_one_alert_to_both_clinicians(patient_a, therapist_a, prescriber):
    event = report(
        therapist_a,
        patient_a,
        kind="blood_pressure_rise",
        severity="severe",
        onset_minutes=40,
        action_taken="medication_given",
        description="BP 190/110, headache; private detail",
    )

    alert = SafetyAlert.objects.get()
    assert alert.kind == SafetyAlert.Kind.SEVERE_ADVERSE_EVENT
    assert (alert.source_type, alert.source_id) == ("treatment.adverseevent", str(event.pk))
    assert {r.clinician for r in alert.recipients.all()} == {therapist_a, prescriber}
    assert "private detail" not in alert.reason  # the free text stays on the report
    assert "40 min" in alert.reason


def test_the_patient_reports_their_own(patient_a, patient):
    event = report(patient, patient_a, kind="other", description="Felt cold for an hour", severity="moderate")
    assert event.reported_by == patient


def test_the_prescriber_and_coordinator_may_not_report(patient_a, prescriber, coordinator):
    for actor in (prescriber, coordinator):
        with pytest.raises(PermissionDenied):
            report(actor, patient_a)


@pytest.mark.parametrize(
    "changes",
    [{"kind": "other"}, {"action_taken": "other"}, {"severity": "fatal"}, {"onset_minutes": 10**9}],
)
def test_incomplete_reports_are_refused(patient_a, therapist_a, changes):
    with pytest.raises(ValidationError):
        report(therapist_a, patient_a, **changes)
    assert AdverseEvent.objects.count() == 0


def test_api_report_and_list(api, patient_a, therapist_a, prescriber, patient):
    body = {"patient": str(patient_a.pk), "kind": "dizziness", "severity": "severe", "onset_minutes": 15}
    response = api.as_user(patient).post("/api/v1/adverse-events/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["reporter_role"] == "patient"
    assert SafetyAlert.objects.count() == 1
    listed = api.as_user(prescriber).get(f"/api/v1/adverse-events/?patient={patient_a.pk}").json()
    assert listed["count"] == 1


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "nausea"},
        {"kind": "nausea", "severity": "mild", "onset_minutes": -5},
        {"kind": "nausea", "severity": "mild", "session": "not-a-uuid"},
        {"kind": "nausea", "severity": "mild", "session": "00000000-0000-0000-0000-000000000000"},
        {"kind": "sneezing", "severity": "mild"},
        {"kind": "nausea", "severity": "mild", "reported_by": "someone"},
    ],
)
def test_api_refuses_bad_input(api, patient_a, therapist_a, body):
    response = api.as_user(therapist_a).post(
        "/api/v1/adverse-events/", {"patient": str(patient_a.pk), **body}, format="json"
    )
    assert response.status_code == 400, response.content
    assert AdverseEvent.objects.count() == 0


def test_portal_forms(client, patient_a, therapist_a, patient, prescriber):
    client.force_login(therapist_a)
    response = client.post(
        f"/patients/{patient_a.pk}/side-effects/new/",
        {"kind": "vomiting", "severity": "severe", "action_taken": "medication_given", "action_details": "Zofran"},
    )
    assert response.status_code == 302
    client.force_login(patient)
    assert client.get("/side-effects/new/").status_code == 200
    response = client.post("/side-effects/new/", {"kind": "nausea", "severity": "mild", "action_taken": "none"})
    assert response.status_code == 302
    assert AdverseEvent.objects.count() == 2
    client.force_login(prescriber)
    page = client.get("/").content.decode()
    assert "Recent side effects" in page and "Vomiting".lower() in page.lower()
    assert client.get(f"/patients/{patient_a.pk}/side-effects/new/").status_code == 403


@pytest.mark.parametrize("count", [1, 20])
def test_recent_side_effects_cost_a_fixed_number_of_queries(client, therapist_a, prescriber, coordinator, count):
    for n in range(count):
        patient = refer(
            therapist_a,
            f"Pat{n}",
            f"Side{n:03d}",
            f"side{n}@example.test",
            prescriber=prescriber,
            coordinator=coordinator,
        )
        report(therapist_a, patient)
    client.force_login(prescriber)
    client.get("/")
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/")
    assert response.status_code == 200
    # The prescriber's dashboard budget (tests/test_query_counts.py): the rows share the page's audit INSERT.
    assert len(captured.captured_queries) == DASHBOARD_QUERIES["prescriber"]
    page = response.content.decode()
    # The newest ten, and how many there are (kept in kapcare.caseload_cache, so no query of its own here).
    assert page.count("reported by") == min(count, 10)
    assert f"Recent side effects (last 14 days: {count})" in page
    assert ("The newest 10 of 20" in page) == (count > 10)


def test_a_side_effect_after_discharge_belongs_to_the_course_that_ended(therapist_a, patient_a):
    ended = TreatmentCourse.objects.create(patient=patient_a, started_at=timezone.now(), ended_at=timezone.now())

    event = adverse_event_services.adverse_event_report(
        actor=therapist_a, patient=patient_a, kind="nausea", severity="mild", description="Nausea the next day."
    )

    assert event.course == ended
    assert TreatmentCourse.objects.filter(patient=patient_a).count() == 1
