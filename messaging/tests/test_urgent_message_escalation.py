"""Unacknowledged urgent care-team messages escalate like alerts (issue 12, point 9): a reminder to each
recipient who has not acknowledged after an hour, then the coordinators after 4 hours, through the reminders
outbox (rows planned when the message is sent, and by the idempotent backstop)."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from messaging.models import Message
from messaging.reminders import outbox
from messaging.reminders.models import Reminder

pytestmark = pytest.mark.django_db
Kind = Reminder.Kind
Status = Reminder.Status


def send_urgent(api, therapist, patient, callbacks):
    with callbacks(execute=True):
        answer = api.as_user(therapist).post(
            "/api/v1/messages/",
            {"patient": str(patient.pk), "body": "BP 168/102 before the dose. Call me?", "urgent": True},
            format="json",
        )
    assert answer.status_code == 201, answer.content
    return Message.objects.get(pk=answer.json()["id"])


def deliver_due(callbacks):
    with callbacks(execute=True):
        return outbox.sweep()


def email(kind, user):
    return Reminder.objects.get(kind=kind, recipient=user, channel=Reminder.Channel.EMAIL)


@pytest.mark.celery_eager
def test_an_unacknowledged_urgent_message_reminds_then_escalates(
    api, therapist_a, prescriber, coordinator, patient_a, django_capture_on_commit_callbacks
):
    sent = timezone.now()
    message = send_urgent(api, therapist_a, patient_a, django_capture_on_commit_callbacks)
    planned = Reminder.objects.count()
    assert planned == 4  # the prescriber's reminder and the coordinator's escalation, by e-mail and in the app
    outbox.plan()
    outbox.plan()
    assert Reminder.objects.filter(object_id=str(message.pk)).count() == planned  # planning is idempotent

    with time_machine.travel(sent + timedelta(minutes=59)):
        deliver_due(django_capture_on_commit_callbacks)
    assert email(Kind.URGENT_MESSAGE_UNACKNOWLEDGED, prescriber).status == Status.PENDING

    with time_machine.travel(sent + timedelta(minutes=61)):
        deliver_due(django_capture_on_commit_callbacks)
    assert email(Kind.URGENT_MESSAGE_UNACKNOWLEDGED, prescriber).status == Status.SENT
    [reminder] = [m for m in mail.outbox if prescriber.email in m.to]
    assert "urgent care-team message unacknowledged after 1 hour" in reminder.body
    assert f"/patients/{patient_a.pk}/messages/#message-{message.pk}" in reminder.body
    assert email(Kind.URGENT_MESSAGE_ESCALATED, coordinator).status == Status.PENDING

    with time_machine.travel(sent + timedelta(hours=4, minutes=1)):
        deliver_due(django_capture_on_commit_callbacks)
    assert email(Kind.URGENT_MESSAGE_ESCALATED, coordinator).status == Status.SENT
    [escalation] = [m for m in mail.outbox if coordinator.email in m.to]
    assert "4 hours (coordinator)" in escalation.body and f"/patients/{patient_a.pk}/" in escalation.body
    assert "168/102" not in escalation.body and patient_a.last_name not in escalation.body


@pytest.mark.celery_eager
def test_an_acknowledged_urgent_message_neither_reminds_nor_escalates(
    api, client, therapist_a, prescriber, coordinator, patient_a, django_capture_on_commit_callbacks
):
    sent = timezone.now()
    client.force_login(therapist_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/patients/{patient_a.pk}/messages/", {"body": "Please call Avery today.", "urgent": "on"})
    message = Message.objects.get(urgent=True)
    assert Reminder.objects.filter(object_id=str(message.pk)).count() == 4  # planned from the portal too

    client.force_login(prescriber)
    assert client.post(f"/messages/{message.pk}/acknowledge/").status_code == 302

    with time_machine.travel(sent + timedelta(hours=5)):
        deliver_due(django_capture_on_commit_callbacks)
    assert email(Kind.URGENT_MESSAGE_UNACKNOWLEDGED, prescriber).status == Status.SKIPPED
    assert email(Kind.URGENT_MESSAGE_ESCALATED, coordinator).last_error == "Everyone it went to acknowledged it."
    assert mail.outbox == []


def test_a_plain_message_plans_nothing(api, therapist_a, patient_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api.as_user(therapist_a).post(
            "/api/v1/messages/", {"patient": str(patient_a.pk), "body": "Session went well."}, format="json"
        )
    outbox.plan()
    assert not Reminder.objects.filter(kind__startswith="urgent_message").exists()
