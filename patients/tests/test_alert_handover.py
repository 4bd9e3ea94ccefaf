"""Alerts belong to roles on the care team, not to people (issue 12, point 3).

An open alert waits for "the patient's prescriber" and "the patient's therapist" as they are now. A change of
clinician hands it over, with its notice and 1-hour reminder, to the new one; the old one no longer reaches it;
the acknowledgement keeps who did what in which role; the 4-hour escalation reaches a coordinator who can open
and acknowledge it, without standing in for the clinicians. Walked through the API and the portal."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from kapcare.accounts.models import User
from messaging.reminders import outbox
from messaging.reminders.models import Reminder
from patients import services as patient_services
from patients.models import AlertRole, SafetyAlert, SafetyAlertAcknowledgement, SafetyAlertRecipient
from tests.fixtures import _staff

pytestmark = pytest.mark.django_db
Kind = Reminder.Kind
Status = Reminder.Status


@pytest.fixture
def new_prescriber(medical_group):
    return _staff(User.Role.PRESCRIBER, medical_group, "new.prescriber@example.test")


def raise_alert(patient, callbacks):
    with callbacks(execute=True):
        return patient_services.safety_alert_raise(
            patient=patient,
            kind=SafetyAlert.Kind.PHQ9_ITEM9,
            reason="PHQ-9 item 9 answered 1.",
            source=patient,
            severity=SafetyAlert.Severity.URGENT,
        )


def deliver_due(callbacks):
    with callbacks(execute=True):
        return outbox.sweep()


def reminder(kind, user, channel=Reminder.Channel.EMAIL):
    return Reminder.objects.get(kind=kind, recipient=user, channel=channel)


def emailed(user):
    return [m for m in mail.outbox if user.email in m.to]


@pytest.mark.celery_eager
def test_a_new_prescriber_takes_over_the_open_alert_its_reminder_and_its_escalation(
    api,
    client,
    patient_a,
    therapist_a,
    prescriber,
    new_prescriber,
    coordinator,
    django_capture_on_commit_callbacks,
):
    raised = timezone.now()
    alert = raise_alert(patient_a, django_capture_on_commit_callbacks)
    path = f"/api/v1/alerts/{alert.pk}/"

    # The coordinator assigns a new prescriber in the portal.
    client.force_login(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"/patients/{patient_a.pk}/prescriber/", {"prescriber": new_prescriber.pk})
    assert answer.status_code == 302
    handed_over_at = SafetyAlertRecipient.objects.get(alert=alert, clinician=new_prescriber).sent_at

    # The old prescriber is off the team: the alert is out of reach. The new one has it, open for them.
    assert api.as_user(prescriber).get(path).status_code == 404
    body = api.as_user(new_prescriber).get(path).json()
    assert body["open_for_me"] is True and body["waiting_for"] == ["therapist", "prescriber"]
    handover = {(r["clinician"], r["role"], r["via"]) for r in body["recipients"]}
    assert (str(new_prescriber.pk), "prescriber", "handover") in handover
    # The new prescriber is told at once (e-mail and in the app), and reminded an hour after being told.
    told = reminder(Kind.SAFETY_ALERT_RAISED, new_prescriber)
    assert told.status == Status.SENT and emailed(new_prescriber)
    later = reminder(Kind.SAFETY_ALERT_UNACKNOWLEDGED, new_prescriber)
    assert later.due_at == handed_over_at + timedelta(hours=1)
    client.force_login(new_prescriber)
    assert "Open safety alerts (1)" in client.get("/").content.decode()

    # After an hour and a half: the old prescriber's reminder is skipped, the new one's is sent.
    with time_machine.travel(raised + timedelta(minutes=90)):
        deliver_due(django_capture_on_commit_callbacks)
    old = reminder(Kind.SAFETY_ALERT_UNACKNOWLEDGED, prescriber)
    assert old.status == Status.SKIPPED and "no longer on the patient's care team" in old.last_error
    assert reminder(Kind.SAFETY_ALERT_UNACKNOWLEDGED, new_prescriber).status == Status.SENT
    assert reminder(Kind.SAFETY_ALERT_UNACKNOWLEDGED, therapist_a).status == Status.SENT

    # The new prescriber acknowledges on the alert page, in the prescriber's role.
    page = client.get(f"/alerts/{alert.pk}/")
    assert page.status_code == 200 and "Acknowledge as the prescriber" in page.content.decode()
    client.post(f"/alerts/{alert.pk}/acknowledge/", {"note": "Called the patient; safety plan reviewed."})
    acknowledgement = SafetyAlertAcknowledgement.objects.get(alert=alert)
    assert (acknowledgement.clinician, acknowledgement.role) == (new_prescriber, AlertRole.PRESCRIBER)
    assert list(SafetyAlert.objects.filter(pk=alert.pk).open_for_role(AlertRole.PRESCRIBER)) == []

    # Before the escalation a coordinator does not open the alert (403, the rule named).
    refused = api.as_user(coordinator).get(path)
    assert refused.status_code == 403 and "escalated" in refused.json()["detail"]
    client.force_login(coordinator)
    assert client.get(f"/alerts/{alert.pk}/").status_code == 403

    # Four hours after it was raised the therapist still has not acknowledged: the coordinator is sent it.
    with time_machine.travel(raised + timedelta(hours=4, minutes=1)):
        deliver_due(django_capture_on_commit_callbacks)
    escalation = reminder(Kind.SAFETY_ALERT_ESCALATED, coordinator)
    assert escalation.status == Status.SENT and f"/alerts/{alert.pk}/" in emailed(coordinator)[-1].body
    # They open what they were sent, in the API and on the page the link leads to, and acknowledge it.
    seen = api.as_user(coordinator).get(path)
    assert seen.status_code == 200 and seen.json()["open_for_me"] is True
    assert api.as_user(coordinator).get("/api/v1/alerts/").json()["count"] == 1
    page = client.get(f"/alerts/{alert.pk}/").content.decode()
    assert "Acknowledge as the coordinator" in page
    assert "Open safety alerts (1)" in client.get("/").content.decode()
    acknowledged = api.as_user(coordinator).post(
        f"{path}acknowledge/", {"note": "Reached the therapist by phone; she is calling the patient."}, format="json"
    )
    assert acknowledged.status_code == 200
    # The coordinator's action is on record, but the alert still waits for the therapist.
    assert acknowledged.json()["waiting_for"] == ["therapist"]
    assert acknowledged.json()["fully_acknowledged"] is False
    roles = {(a["name"], a["role"]) for a in acknowledged.json()["acknowledgements"]}
    assert roles == {(new_prescriber.get_full_name(), "prescriber"), (coordinator.get_full_name(), "coordinator")}

    done = api.as_user(therapist_a).post(f"{path}acknowledge/", {"note": "Saw her today; safe."}, format="json")
    assert done.status_code == 200 and done.json()["fully_acknowledged"] is True


@pytest.mark.celery_eager
def test_a_new_therapist_takes_over_the_open_alert(
    api, client, patient_a, therapist_a, therapist_a2, prescriber, coordinator, django_capture_on_commit_callbacks
):
    alert = raise_alert(patient_a, django_capture_on_commit_callbacks)
    path = f"/api/v1/alerts/{alert.pk}/"
    api.as_user(prescriber).post(f"{path}acknowledge/", {"note": "Dose held; called her."}, format="json")

    client.force_login(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/patients/{patient_a.pk}/therapist/", {"therapist": therapist_a2.pk}).status_code == 302

    assert api.as_user(therapist_a).get(path).status_code == 404
    assert reminder(Kind.SAFETY_ALERT_RAISED, therapist_a2).status == Status.SENT
    body = api.as_user(therapist_a2).get(path).json()
    assert body["open_for_me"] is True and body["waiting_for"] == ["therapist"]
    answer = api.as_user(therapist_a2).post(f"{path}acknowledge/", {"note": "Met her; plan in place."}, format="json")
    assert answer.status_code == 200 and answer.json()["fully_acknowledged"] is True
    assert SafetyAlertAcknowledgement.objects.get(clinician=therapist_a2).role == AlertRole.THERAPIST


def test_an_alert_acknowledged_in_a_role_is_not_handed_over_in_it(
    api, patient_a, prescriber, new_prescriber, coordinator, django_capture_on_commit_callbacks
):
    alert = raise_alert(patient_a, django_capture_on_commit_callbacks)
    patient_services.safety_alert_acknowledge(actor=prescriber, alert=alert, note="Reviewed; dose held.")
    with django_capture_on_commit_callbacks(execute=True):
        patient_services.prescriber_assign(actor=coordinator, patient=patient_a, prescriber=new_prescriber)

    assert not SafetyAlertRecipient.objects.filter(alert=alert, clinician=new_prescriber).exists()
    assert not Reminder.objects.filter(recipient=new_prescriber).exists()
    body = api.as_user(new_prescriber).get(f"/api/v1/alerts/{alert.pk}/").json()
    assert body["open_for_me"] is False and body["waiting_for"] == ["therapist"]
    again = api.as_user(new_prescriber).post(
        f"/api/v1/alerts/{alert.pk}/acknowledge/", {"note": "Seen too."}, format="json"
    )
    assert again.status_code == 409 and "acknowledged as the prescriber by" in again.json()["detail"]


def test_the_therapist_assignment_is_the_coordinators(client, patient_a, therapist_a, therapist_b, coordinator):
    client.force_login(therapist_a)
    assert client.post(f"/patients/{patient_a.pk}/therapist/", {"therapist": therapist_b.pk}).status_code == 403
    with pytest.raises(ValidationError, match="not a therapist of a practice"):
        patient_services.therapist_assign(actor=coordinator, patient=patient_a, therapist=coordinator)
