"""Safety alerts: each goes to the therapist and the prescriber on the team, stays open for each role until
the clinician in that role acknowledges it with a note, and records who acknowledged when and in which role.
Handover on a change of clinician: test_alert_handover.py."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from kapcare.audit.models import AuditEvent
from kapcare.rules import RuleRefused
from patients import selectors
from patients import services as patient_services
from patients.models import SafetyAlert, SafetyAlertAcknowledgement
from tests import course_states
from tests.factories import INTAKE_ANSWERS
from tests.fixtures import refer
from tests.test_query_counts import DASHBOARD_QUERIES

pytestmark = pytest.mark.django_db


def raise_alert(patient, source=None):
    return patient_services.safety_alert_raise(
        patient=patient, kind=SafetyAlert.Kind.PHQ9_ITEM9, reason="PHQ-9 item 9 answered 1.", source=source or patient
    )


def test_an_alert_goes_to_the_therapist_and_the_prescriber(patient_a, therapist_a, prescriber):
    alert = raise_alert(patient_a)

    assert {(r.clinician, r.role) for r in alert.recipients.all()} == {
        (therapist_a, "therapist"),
        (prescriber, "prescriber"),
    }
    assert AuditEvent.objects.filter(object_type="patients.safetyalert", object_id=str(alert.pk)).count() == 1


def test_raising_twice_for_the_same_source_gives_one_alert(patient_a):
    assert raise_alert(patient_a) == raise_alert(patient_a)
    assert SafetyAlert.objects.count() == 1


def test_it_stays_open_for_each_clinician_until_each_acknowledges(patient_a, therapist_a, prescriber):
    alert = raise_alert(patient_a)
    assert [a.pk for a in selectors.open_safety_alerts_for(therapist_a)] == [alert.pk]
    assert [a.pk for a in selectors.open_safety_alerts_for(prescriber)] == [alert.pk]

    patient_services.safety_alert_acknowledge(actor=therapist_a, alert=alert, note="Called her; safety plan in place.")

    assert selectors.open_safety_alerts_for(therapist_a) == []
    assert [a.pk for a in selectors.open_safety_alerts_for(prescriber)] == [alert.pk]

    patient_services.safety_alert_acknowledge(actor=prescriber, alert=alert, note="Reviewed; dose held.")

    assert selectors.open_safety_alerts_for(prescriber) == []
    acks = {a.clinician: a for a in SafetyAlertAcknowledgement.objects.filter(alert=alert)}
    assert acks[therapist_a].note == "Called her; safety plan in place."
    assert acks[prescriber].acknowledged_at is not None


def test_a_second_acknowledgement_is_refused_clearly(patient_a, therapist_a):
    alert = raise_alert(patient_a)
    patient_services.safety_alert_acknowledge(actor=therapist_a, alert=alert, note="Called.")

    with pytest.raises(RuleRefused, match="already acknowledged"):
        patient_services.safety_alert_acknowledge(actor=therapist_a, alert=alert, note="Again.")
    assert SafetyAlertAcknowledgement.objects.count() == 1


def test_an_acknowledgement_needs_a_note(patient_a, therapist_a):
    alert = raise_alert(patient_a)
    with pytest.raises(ValidationError):
        patient_services.safety_alert_acknowledge(actor=therapist_a, alert=alert, note="   ")


def test_an_alert_is_sent_to_the_clinicians_on_the_team_when_raised(patient_a2, therapist_a2, prescriber, coordinator):
    alert = raise_alert(patient_a2)  # patient_a2 has no prescriber yet
    assert [r.clinician for r in alert.recipients.all()] == [therapist_a2]
    with pytest.raises(PermissionDenied):
        patient_services.safety_alert_acknowledge(actor=coordinator, alert=alert, note="Seen.")


def test_a_rolled_back_transaction_raises_no_alert(patient_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        raise_alert(patient_a)
        raise RuntimeError("the rule's own write failed")
    assert SafetyAlert.objects.count() == 0
    assert callbacks == []


@pytest.mark.celery_eager
def test_messaging_is_woken_after_commit(patient_a, therapist_a, prescriber, django_capture_on_commit_callbacks):
    from messaging.reminders.models import Reminder

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        alert = raise_alert(patient_a)
    names = [getattr(getattr(callback, "func", callback), "__name__", "") for callback in callbacks]
    assert names.count("_enqueue_safety_alert_notification") == 1
    assert not Reminder.objects.exists()  # nothing is planned before the transaction commits

    for callback in callbacks:
        callback()

    told = Reminder.objects.filter(kind=Reminder.Kind.SAFETY_ALERT_RAISED, object_id=str(alert.pk))
    assert {reminder.recipient for reminder in told} == {therapist_a, prescriber}


def test_intake_with_suicidal_intent_raises_an_alert(patient_a, therapist_a, prescriber):
    data = {**INTAKE_ANSWERS, "suicidal_thoughts": True, "suicidal_intent_or_plan": True}
    course_states.sign_consents(patient_a)
    from assessments import services as assessment_services

    intake = assessment_services.intake_submit(actor=patient_a.user, patient=patient_a, data=data, medications=[])

    alert = SafetyAlert.objects.get()
    assert alert.kind == SafetyAlert.Kind.SUICIDAL_INTENT_ON_INTAKE
    assert alert.severity == SafetyAlert.Severity.URGENT
    assert (alert.source_type, alert.source_id) == ("assessments.intake", str(intake.pk))
    assert {r.clinician for r in alert.recipients.all()} == {therapist_a, prescriber}


def test_intake_without_suicidal_intent_raises_none(patient_a):
    course_states.ready_for_evaluation(patient_a)
    assert SafetyAlert.objects.count() == 0


# API ---------------------------------------------------------------------------------------------


def test_api_lists_open_for_me_first_and_acknowledges(api, patient_a, patient_b, therapist_a, prescriber):
    first = raise_alert(patient_a)
    second = raise_alert(patient_b)
    patient_services.safety_alert_acknowledge(actor=prescriber, alert=second, note="Done.")
    client = api.as_user(prescriber)

    listed = client.get("/api/v1/alerts/").json()["results"]
    assert [(a["id"], a["open_for_me"]) for a in listed] == [(str(first.pk), True), (str(second.pk), False)]
    assert [a["id"] for a in client.get("/api/v1/alerts/?open=true").json()["results"]] == [str(first.pk)]
    assert client.get(f"/api/v1/alerts/?patient={patient_b.pk}").json()["count"] == 1

    response = client.post(f"/api/v1/alerts/{first.pk}/acknowledge/", {"note": "Phoned; safe."}, format="json")
    assert response.status_code == 200
    body = response.json()
    mine = next(r for r in body["recipients"] if r["clinician"] == str(prescriber.pk))
    assert mine["note"] == "Phoned; safe." and mine["acknowledged_at"]
    assert body["open_for_me"] is False and body["fully_acknowledged"] is False

    again = client.post(f"/api/v1/alerts/{first.pk}/acknowledge/", {"note": "Again"}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "alert_already_acknowledged"


@pytest.mark.parametrize("body", [{}, {"note": ""}, {"note": 5, "extra": 1}, {"note": "x" * 3000}, []])
def test_api_acknowledge_refuses_bad_input(api, patient_a, therapist_a, body):
    alert = raise_alert(patient_a)
    response = api.as_user(therapist_a).post(f"/api/v1/alerts/{alert.pk}/acknowledge/", body, format="json")
    assert response.status_code == 400
    assert SafetyAlertAcknowledgement.objects.count() == 0


def test_api_refuses_coordinator_patient_and_outsider(api, patient_a, coordinator, therapist_b, patient):
    alert = raise_alert(patient_a)
    path = f"/api/v1/alerts/{alert.pk}/acknowledge/"

    coordinator_answer = api.as_user(coordinator).post(path, {"note": "Seen"}, format="json")
    assert coordinator_answer.status_code == 403
    assert "therapist and the prescriber" in coordinator_answer.json()["detail"]
    assert api.as_user(therapist_b).post(path, {"note": "Seen"}, format="json").status_code == 404
    assert api.as_user(patient).get("/api/v1/alerts/").status_code == 403
    assert api.as_user(patient).get(f"/api/v1/alerts/{alert.pk}/").status_code == 403
    assert api.as_user(therapist_a_of(patient_a)).get("/api/v1/alerts/?patient=not-a-uuid").status_code == 400
    assert SafetyAlertAcknowledgement.objects.count() == 0


def therapist_a_of(patient):
    return patient.referred_by


# Portal ------------------------------------------------------------------------------------------


def test_dashboard_acknowledge_form(client, patient_a, therapist_a, prescriber):
    alert = raise_alert(patient_a)
    client.force_login(therapist_a)
    page = client.get("/").content.decode()
    assert "Open safety alerts (1)" in page and alert.reason in page

    response = client.post(f"/alerts/{alert.pk}/acknowledge/", {"note": "Called.", "next": "/"})

    assert response.status_code == 302 and response["Location"] == "/"
    assert "Open safety alerts (0)" in client.get("/").content.decode()
    client.force_login(prescriber)
    assert "Open safety alerts (1)" in client.get("/").content.decode()
    chart = client.get(f"/patients/{patient_a.pk}/chart/safety/").content.decode()
    assert "acknowledged by" in chart and "Called." in chart and "waiting for the patient's prescriber" in chart


def test_portal_acknowledge_refuses_outsiders_and_bad_next(client, patient_a, therapist_b, therapist_a):
    alert = raise_alert(patient_a)
    client.force_login(therapist_b)
    assert client.post(f"/alerts/{alert.pk}/acknowledge/", {"note": "x"}).status_code == 404
    client.force_login(therapist_a)
    response = client.post(f"/alerts/{alert.pk}/acknowledge/", {"note": "x", "next": "https://evil.test/"})
    assert response["Location"] == "/"


def dashboard_queries(client, path="/"):
    client.get(path)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("count", [1, 20])
def test_open_alerts_cost_a_fixed_number_of_queries(client, therapist_a, prescriber, coordinator, count):
    for n in range(count):
        patient = refer(therapist_a, f"Pat{n}", f"Alert{n:03d}", f"alert{n}@example.test")
        raise_alert(patient)
    client.force_login(therapist_a)
    # The therapist's dashboard budget with no alert (tests/test_query_counts.py) + one audit INSERT.
    assert dashboard_queries(client) == DASHBOARD_QUERIES["therapist_a"]
    assert f"Open safety alerts ({count})" in client.get("/").content.decode()


# Alerts raised by questionnaires (issue 6) -----------------------------------------------------------------


def test_a_questionnaire_alert_closes_the_loop_for_each_clinician(
    client, api, patient, patient_a, therapist_a, prescriber
):
    """The patient answers item 9 = 1 in the portal and sees crisis resources; each clinician sees the alert on
    their dashboard until they acknowledge it with the action they took; the chart and the API record who and
    when, and the patient is never shown the alert itself."""
    client.force_login(patient)
    answers = {f"item_{n}": 0 for n in range(1, 9)} | {"item_9": 1, "difficulty": 0, "shown": "1,2,3,4,5,6,7,8,9"}
    done = client.post("/questionnaires/phq9/", answers)
    crisis = client.get(done.url).content.decode()
    assert "Call 988" in crisis and "Text 988" in crisis and "Your care team has been told." in crisis
    alert = SafetyAlert.objects.get(kind=SafetyAlert.Kind.PHQ9_ITEM9)
    assert api.as_user(patient).get("/api/v1/alerts/").status_code == 403

    for clinician in (therapist_a, prescriber):
        client.force_login(clinician)
        assert "Open safety alerts (1)" in client.get("/").content.decode()

    client.force_login(therapist_a)
    client.post(f"/alerts/{alert.pk}/acknowledge/", {"note": "Phoned Avery; safety plan reviewed.", "next": "/"})
    assert "Open safety alerts (0)" in client.get("/").content.decode()
    client.force_login(prescriber)
    assert "Open safety alerts (1)" in client.get("/").content.decode()  # still open for the prescriber
    body = api.as_user(prescriber).get(f"/api/v1/alerts/{alert.pk}/").json()
    assert body["open_for_me"] is True and body["fully_acknowledged"] is False
    acknowledged = {row["role"]: row for row in body["recipients"]}
    assert acknowledged["therapist"]["note"] == "Phoned Avery; safety plan reviewed."
    assert acknowledged["therapist"]["acknowledged_at"] and acknowledged["prescriber"]["acknowledged_at"] is None

    client.post(f"/alerts/{alert.pk}/acknowledge/", {"note": "Reviewed; next dose held.", "next": "/"})

    assert "Open safety alerts (0)" in client.get("/").content.decode()
    assert api.as_user(prescriber).get(f"/api/v1/alerts/{alert.pk}/").json()["fully_acknowledged"] is True
    chart = client.get(f"/patients/{patient_a.pk}/chart/safety/").content.decode()
    assert "Phoned Avery; safety plan reviewed." in chart and "Reviewed; next dose held." in chart
    assert "waiting for the patient's" not in chart
    assert (
        AuditEvent.objects.filter(
            object_type="patients.safetyalert", object_id=str(alert.pk), action=AuditEvent.Action.UPDATE
        ).count()
        == 2
    )


@pytest.mark.parametrize(("item9", "alerts"), [(0, 0), (1, 1), (3, 1)])
def test_phq9_item_9_alerts_from_1_upwards(patient, patient_a, item9, alerts):
    from assessments.questionnaires.services import questionnaire_submit

    response = questionnaire_submit(actor=patient, patient=patient_a, instrument="phq9", answers=[0] * 8 + [item9])

    assert SafetyAlert.objects.filter(kind=SafetyAlert.Kind.PHQ9_ITEM9).count() == alerts
    assert len(response.raised_alerts) == alerts
