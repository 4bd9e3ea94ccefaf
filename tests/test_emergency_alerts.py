"""Every emergency raises an alert to both current clinicians, each with its own rule code (issue 12, point 4).
Each rule at its edge: the value just below raises nothing, the value at the edge raises one alert, and asking
again (a retry, a second report of the same kind) does not alert twice. Through the API and the portal."""

import pytest

from assessments import services as assessment_services
from assessments.tests.test_intake import form_data
from patients.models import SafetyAlert
from treatment.adverse_events import services as adverse_event_services
from treatment.tests.test_dosing_record import REMOTE, book, dosed, url

from . import course_states
from .factories import INTAKE_ANSWERS

pytestmark = pytest.mark.django_db
Kind = SafetyAlert.Kind


def alerts(kind):
    return list(SafetyAlert.objects.filter(kind=kind))


def told(alert):
    return {(r.clinician, r.role) for r in alert.recipients.all()}


# A chaperone or therapist check-in with patient_ok = false ------------------------------------------------


@pytest.fixture
def remote_session(therapist_a, prescriber, patient_a):
    course_states.ready_to_dose(therapist_a, prescriber, patient_a)
    session = book(therapist_a, patient_a, **REMOTE)
    dosed(therapist_a, session)
    return session


def test_a_check_in_not_ok_alerts_both_clinicians_once_per_session(
    api, therapist_a, prescriber, patient_a, remote_session
):
    client = api.as_user(therapist_a)
    ok = client.post(url(remote_session, "check-ins"), {"patient_ok": True, "remark": "Resting."}, format="json")
    assert ok.status_code == 201 and SafetyAlert.objects.count() == 0

    not_ok = client.post(url(remote_session, "check-ins"), {"patient_ok": False, "remark": "Agitated."}, format="json")

    assert not_ok.status_code == 201
    [alert] = alerts(Kind.CHECK_IN_NOT_OK)
    assert alert.severity == SafetyAlert.Severity.URGENT
    assert told(alert) == {(therapist_a, "therapist"), (prescriber, "prescriber")}
    assert "Agitated" not in alert.reason  # the remark stays on the record
    again = client.post(url(remote_session, "check-ins"), {"patient_ok": False}, format="json")
    assert again.status_code == 201 and len(alerts(Kind.CHECK_IN_NOT_OK)) == 1


def test_a_check_in_not_ok_in_the_portal_alerts_too(client, therapist_a, patient_a, remote_session):
    client.force_login(therapist_a)
    page = f"/patients/{patient_a.pk}/sessions/{remote_session.pk}/"
    client.post(page, {"action": "check_in", "check_in-patient_ok": "on", "check_in-remark": "Fine."})
    assert SafetyAlert.objects.count() == 0

    client.post(page, {"action": "check_in", "check_in-remark": "Not responding to voice."})  # box unticked

    assert len(alerts(Kind.CHECK_IN_NOT_OK)) == 1


# Side effects: an emergency action at any grade, and every severe one -------------------------------------


def report(actor, patient, **changes):
    fields = {"kind": "dizziness", "severity": "moderate", "action_taken": "medication_given", **changes}
    return adverse_event_services.adverse_event_report(actor=actor, patient=patient, **fields)


@pytest.mark.parametrize(
    ("changes", "kind", "severity"),
    [
        ({}, None, None),  # moderate, medication given: just below the edge
        ({"action_taken": "emergency_services"}, Kind.ADVERSE_EVENT_EMERGENCY, "urgent"),
        ({"severity": "mild", "action_taken": "emergency_services"}, Kind.ADVERSE_EVENT_EMERGENCY, "urgent"),
        ({"action_taken": "session_stopped"}, Kind.ADVERSE_EVENT_EMERGENCY, "high"),
        ({"severity": "severe"}, Kind.SEVERE_ADVERSE_EVENT, "high"),
        ({"severity": "severe", "action_taken": "emergency_services"}, Kind.ADVERSE_EVENT_EMERGENCY, "urgent"),
    ],
)
def test_side_effect_rules_at_their_edge(therapist_a, prescriber, patient_a, changes, kind, severity):
    event = report(therapist_a, patient_a, **changes)

    if kind is None:
        assert SafetyAlert.objects.count() == 0
        return
    [alert] = SafetyAlert.objects.all()
    assert (alert.kind, alert.severity) == (kind, severity)
    assert told(alert) == {(therapist_a, "therapist"), (prescriber, "prescriber")}
    # Asking the rule again (a retried call) gives the same alert.
    assert adverse_event_services.adverse_event_alert(actor=therapist_a, event=event) == alert
    assert SafetyAlert.objects.count() == 1


def test_a_moderate_side_effect_with_emergency_services_alerts_through_the_api_and_the_portal(
    api, client, therapist_a, patient, patient_a
):
    body = {"patient": str(patient_a.pk), "kind": "dizziness", "severity": "moderate", "action_taken": "none"}
    assert api.as_user(patient).post("/api/v1/adverse-events/", body, format="json").status_code == 201
    assert SafetyAlert.objects.count() == 0

    body["action_taken"] = "emergency_services"
    assert api.as_user(patient).post("/api/v1/adverse-events/", body, format="json").status_code == 201
    assert len(alerts(Kind.ADVERSE_EVENT_EMERGENCY)) == 1

    client.force_login(therapist_a)
    form = {"kind": "nausea", "severity": "moderate", "action_taken": "session_stopped", "onset_minutes": "30"}
    answer = client.post(f"/patients/{patient_a.pk}/side-effects/new/", form, follow=True)
    assert "have been alerted" in answer.content.decode()
    assert len(alerts(Kind.ADVERSE_EVENT_EMERGENCY)) == 2


# The intake: "thoughts of ending your life now" = yes --------------------------------------------------


def submit_intake(patient, **answers):
    course_states.sign_consents(patient)
    data = {**INTAKE_ANSWERS, **answers}
    return assessment_services.intake_submit(actor=patient.user, patient=patient, data=data, medications=[])


def test_intake_without_current_suicidal_thoughts_raises_nothing(patient_a):
    submit_intake(patient_a, suicidal_thoughts=False)
    assert SafetyAlert.objects.count() == 0


def test_intake_with_current_suicidal_thoughts_raises_one_alert(patient_a, therapist_a, prescriber):
    intake = submit_intake(patient_a, suicidal_thoughts=True, suicidal_intent_or_plan=False)

    [alert] = alerts(Kind.SUICIDAL_THOUGHTS_ON_INTAKE)
    assert alert.severity == SafetyAlert.Severity.URGENT
    assert (alert.source_type, alert.source_id) == ("assessments.intake", str(intake.pk))
    assert told(alert) == {(therapist_a, "therapist"), (prescriber, "prescriber")}
    assert assessment_services.intake_suicidal_thoughts_alert(actor=patient_a.user, intake=intake) == alert
    assert SafetyAlert.objects.count() == 1


def test_the_patient_answering_yes_in_the_portal_sees_the_crisis_page(client, patient, patient_a):
    course_states.sign_consents(patient_a)
    client.force_login(patient)
    answers = {**INTAKE_ANSWERS, "suicidal_thoughts": True, "suicidal_intent_or_plan": False}

    page = client.post("/intake/", form_data(answers, action="submit"), follow=True)

    body = page.content.decode()
    assert "Help is available now" in body and "Call 988" in body and "Your care team has been told." in body
    assert len(alerts(Kind.SUICIDAL_THOUGHTS_ON_INTAKE)) == 1


def test_the_patient_answering_no_in_the_portal_gets_the_usual_thanks(client, patient, patient_a):
    course_states.sign_consents(patient_a)
    client.force_login(patient)

    page = client.post("/intake/", form_data(INTAKE_ANSWERS, action="submit"), follow=True)

    assert "Help is available now" not in page.content.decode()
    assert SafetyAlert.objects.count() == 0
