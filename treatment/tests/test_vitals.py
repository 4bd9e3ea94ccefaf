"""Vitals in a dosing session: the medical group's thresholds decide go / hold at their edges, a hold keeps the
dose from being marked taken, and every out-of-range reading raises a safety alert to the clinicians."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from patients import services as patient_services
from patients.models import SafetyAlert, SafetyAlertRecipient
from tests.course_states import confirm_checklist, ready_to_dose
from treatment.course import gates
from treatment.models import CarePolicy, DosingRecord, VitalsReading
from treatment.sessions import services as session_services

IN_RANGE = {"systolic": 124, "diastolic": 78, "pulse": 72, "spo2": 98}


@pytest.fixture
def booked(therapist_a, prescriber, patient_a):
    """A dosing session that started ten minutes ago (booked then), every dosing gate holding."""
    ready_to_dose(therapist_a, prescriber, patient_a)
    start = timezone.now() - timedelta(minutes=10)
    with time_machine.travel(start, tick=False):
        session = session_services.session_schedule(
            actor=therapist_a, patient=patient_a, kind="dosing", scheduled_at=start
        )
    return confirm_checklist(therapist_a, session)


def post_vitals(api, user, session, phase="pre_dose", **values):
    body = {"phase": phase, "taken_by": "patient", **IN_RANGE, **values}
    return api.as_user(user).post(f"/api/v1/sessions/{session.pk}/vitals/", body, format="json")


def post_dose(api, user, session, mg="100.0"):
    return api.as_user(user).post(f"/api/v1/sessions/{session.pk}/dose/", {"dose_mg": mg}, format="json")


# At the edge a value equal to the threshold is in range; one step past it holds.
EDGES = [
    ({"systolic": 140}, True),
    ({"systolic": 141}, False),
    ({"diastolic": 90}, True),
    ({"diastolic": 91}, False),
    ({"pulse": 50}, True),
    ({"pulse": 49}, False),
    ({"pulse": 110}, True),
    ({"pulse": 111}, False),
    ({"spo2": 94}, True),
    ({"spo2": 93}, False),
    ({"spo2": None}, True),
]


@pytest.mark.parametrize(("values", "go"), EDGES, ids=[f"{v}-{'go' if g else 'hold'}" for v, g in EDGES])
def test_thresholds_at_their_edges_decide_go_or_hold(api, therapist_a, booked, values, go):
    recorded = post_vitals(api, therapist_a, booked, **values)
    assert recorded.status_code == 201, recorded.content
    assert recorded.json()["in_range"] is go

    record = api.as_user(therapist_a).get(f"/api/v1/sessions/{booked.pk}/dosing-record/").json()
    assert record["go"] is go
    dose = post_dose(api, therapist_a, booked)

    if go:
        assert record["hold"] is None
        assert dose.status_code == 200, dose.content
        assert dose.json()["record"]["dose_mg"] == "100.0"
    else:
        assert record["hold"]["code"] == gates.PRE_DOSE_VITALS
        assert dose.status_code == 409
        assert dose.json()["code"] == gates.PRE_DOSE_VITALS
        assert "hold" in dose.json()["detail"]
        assert not DosingRecord.objects.filter(session=booked, dose_taken_at__isnull=False).exists()


def test_the_rule_names_every_value_out_of_range():
    policy = CarePolicy()
    found = gates.vitals_out_of_range(policy, systolic=150, diastolic=95, pulse=120, spo2=90)

    assert found == ["systolic 150 above 140", "diastolic 95 above 90", "pulse 120 above 110", "SpO2 90% below 94%"]
    assert gates.vitals_out_of_range(policy, systolic=140, diastolic=90, pulse=50, spo2=94) == []


def test_an_out_of_range_reading_raises_an_alert_to_both_clinicians(api, therapist_a, prescriber, patient_a, booked):
    response = post_vitals(api, therapist_a, booked, systolic=162)

    reading = VitalsReading.objects.get(pk=response.json()["id"])
    alert = SafetyAlert.objects.get(kind=SafetyAlert.Kind.VITALS_OUT_OF_RANGE, source_id=str(reading.pk))
    assert alert.patient == patient_a
    assert "systolic 162 above 140" in alert.reason
    assert set(SafetyAlertRecipient.objects.filter(alert=alert).values_list("clinician", flat=True)) == {
        therapist_a.pk,
        prescriber.pk,
    }
    dashboard = api.as_user(prescriber).get("/api/v1/alerts/").json()
    assert any(item["kind"] == "vitals_out_of_range" for item in dashboard["results"])


def test_an_in_range_reading_raises_no_alert(api, therapist_a, booked):
    post_vitals(api, therapist_a, booked)

    assert not SafetyAlert.objects.filter(kind=SafetyAlert.Kind.VITALS_OUT_OF_RANGE).exists()


def test_every_out_of_range_reading_alerts_even_after_the_dose(api, therapist_a, booked):
    post_vitals(api, therapist_a, booked)
    post_dose(api, therapist_a, booked)

    post_vitals(api, therapist_a, booked, phase="peak", systolic=158)
    post_vitals(api, therapist_a, booked, phase="peak", pulse=45)

    assert SafetyAlert.objects.filter(kind=SafetyAlert.Kind.VITALS_OUT_OF_RANGE).count() == 2


def test_a_hold_is_lifted_by_a_later_reading_in_range(api, therapist_a, prescriber, booked):
    post_vitals(api, therapist_a, booked, systolic=150)
    assert post_dose(api, therapist_a, booked).status_code == 409

    post_vitals(api, therapist_a, booked, systolic=132)

    # The out-of-range reading raised a high alert: it holds the dose until the prescriber has acknowledged it.
    held = post_dose(api, therapist_a, booked)
    assert held.status_code == 409
    assert held.json()["code"] == gates.RISK_HOLD
    acknowledge_as_prescriber(prescriber)
    assert post_dose(api, therapist_a, booked).status_code == 200
    assert VitalsReading.objects.filter(session=booked).count() == 2  # the held reading is kept


def test_no_pre_dose_vitals_is_a_hold(api, therapist_a, booked):
    dose = post_dose(api, therapist_a, booked)

    assert dose.status_code == 409
    assert dose.json()["code"] == gates.PRE_DOSE_VITALS
    assert "no pre-dose vitals" in dose.json()["detail"]


def test_the_medical_groups_own_thresholds_apply(api, therapist_a, booked, medical_group):
    CarePolicy.objects.create(medical_group=medical_group, systolic_max=130, pulse_max=100)

    assert post_vitals(api, therapist_a, booked, systolic=131).json()["in_range"] is False
    assert post_vitals(api, therapist_a, booked, systolic=130, pulse=101).json()["in_range"] is False
    assert post_vitals(api, therapist_a, booked, systolic=130, pulse=100).json()["in_range"] is True


def test_the_verdict_is_kept_when_the_policy_changes_later(api, therapist_a, booked, medical_group):
    reading = post_vitals(api, therapist_a, booked, systolic=138).json()
    CarePolicy.objects.create(medical_group=medical_group, systolic_max=130)

    assert VitalsReading.objects.get(pk=reading["id"]).in_range is True


def test_impossible_values_are_field_errors(api, therapist_a, booked):
    for values in ({"systolic": 20}, {"pulse": "fast"}, {"spo2": 101}, {"phase": "later"}, {"taken_by": "x"}):
        response = post_vitals(api, therapist_a, booked, **values)
        assert response.status_code == 400, values
        assert set(values) <= set(response.json())
    future = (timezone.now() + timedelta(hours=1)).isoformat()
    assert "taken_at" in post_vitals(api, therapist_a, booked, taken_at=future).json()
    assert not VitalsReading.objects.exists()


def acknowledge_as_prescriber(prescriber):
    for alert in SafetyAlert.objects.holding_dose():
        patient_services.safety_alert_acknowledge(actor=prescriber, alert=alert, note="Reviewed; retake was fine.")


def test_the_session_page_states_go_or_hold_plainly(client, therapist_a, prescriber, patient_a, booked):
    client.force_login(therapist_a)
    url = f"/patients/{patient_a.pk}/sessions/{booked.pk}/"
    form = {"action": "vitals", "vitals-phase": "pre_dose", "vitals-taken_by": "patient"}

    held = client.post(url, {**form, "vitals-systolic": 152, "vitals-diastolic": 80, "vitals-pulse": 70})
    assert held.status_code == 302
    page = client.get(url).content.decode()
    assert "HOLD" in page
    assert "systolic 152 above 140" in page
    refused = client.post(url, {"action": "dose", "dose-dose_mg": "100"})
    assert refused.status_code == 409
    assert "pre-dose vitals in range" in refused.content.decode().replace("&ldquo;", "“")

    client.post(url, {**form, "vitals-systolic": 128, "vitals-diastolic": 80, "vitals-pulse": 70})
    page = client.get(url).content.decode().replace("&ldquo;", "“")
    assert "no open risk alert" in page  # the alert the reading raised holds the dose
    acknowledge_as_prescriber(prescriber)
    page = client.get(url).content.decode()
    assert "GO: every gate holds" in page
    assert client.post(url, {"action": "dose", "dose-dose_mg": "100"}).status_code == 302
    assert DosingRecord.objects.get(session=booked).dose_mg == 100
