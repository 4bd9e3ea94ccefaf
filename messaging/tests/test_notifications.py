"""In-app notifications (issue 7, point 3): a row per recipient, a badge in the base layout that costs one COUNT,
a list page, htmx polling that does not keep an idle session alive, and the reads the e-mail outbox uses."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kapcare.middleware import LAST_ACTIVITY
from messaging import selectors, services
from messaging.models import Message, Notification
from patients.models import CareTeamMember

BADGE = "/notifications/badge/"
BACKGROUND = {"HTTP_X_KAPCARE_BACKGROUND": "1"}


def test_a_new_message_lights_the_badge_on_every_page(client, therapist_a, prescriber, patient_a):
    client.force_login(prescriber)
    assert 'data-testid="unread-count"' not in client.get("/").content.decode()

    services.message_send(actor=therapist_a, patient=patient_a, body="Hello")

    page = client.get("/notifications/").content.decode()
    assert '<span class="count" data-testid="unread-count">1' in page
    assert f"New message from {therapist_a.get_full_name()}" in page
    assert f"about {patient_a.full_name}" in page
    assert f'href="/patients/{patient_a.pk}/messages/#message-' in page
    assert 'hx-trigger="every 30s"' in page
    assert '"X-KAPCare-Background": "1"' in page


def test_the_badge_costs_one_count_query_and_none_until_a_notification_changes(
    client, therapist_a, prescriber, patient_a
):
    client.force_login(prescriber)

    def badge_queries():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(BADGE, **BACKGROUND)
        assert response.status_code == 200
        return [q["sql"] for q in captured.captured_queries if "messaging_notification" in q["sql"]]

    assert len(badge_queries()) == 1  # counted once
    assert badge_queries() == []  # then kept (kapcare.caseload_cache)
    for n in range(20):
        services.message_send(actor=therapist_a, patient=patient_a, body=f"Note {n}")
    counted = badge_queries()  # the messages' notifications changed the prescriber's count: one COUNT, however many
    assert len(counted) == 1 and counted[0].startswith("SELECT COUNT(*)")
    assert badge_queries() == []
    assert ">20<" in client.get(BADGE, **BACKGROUND).content.decode()


def test_polling_does_not_keep_an_idle_session_alive(client, therapist_a, prescriber, patient_a):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client.force_login(prescriber)  # starts the session's idle clock (kapcare.accounts.signals)
        started = client.session[LAST_ACTIVITY]
        clock.shift(timedelta(minutes=5))
        assert client.get(BADGE, **BACKGROUND).status_code == 200
        assert client.session[LAST_ACTIVITY] == started  # a background request is not activity

        clock.shift(settings.KAPCARE_IDLE_TIMEOUT_STAFF)
        response = client.get(BADGE, **BACKGROUND)

    assert response.status_code == 401
    assert response.json()["code"] == "session_expired"


def test_the_list_and_mark_all_read(client, therapist_a, prescriber, patient_a):
    services.message_send(actor=therapist_a, patient=patient_a, body="One")
    services.message_send(actor=therapist_a, patient=patient_a, body="Two", urgent=True)
    client.force_login(prescriber)
    page = client.get("/notifications/").content.decode()
    assert "2 unread" in page
    assert f"Urgent message from {therapist_a.get_full_name()}: please acknowledge" in page

    client.post("/notifications/")

    assert selectors.unread_for(prescriber) == 0
    assert "0 unread" in client.get("/notifications/").content.decode()


def test_opening_the_thread_clears_its_notifications(client, therapist_a, prescriber, patient_a, patient_b):
    services.message_send(actor=therapist_a, patient=patient_a, body="About Avery")
    services.message_send(actor=patient_b.referred_by, patient=patient_b, body="About Casey")
    client.force_login(prescriber)

    client.get(f"/patients/{patient_a.pk}/messages/")

    assert list(
        Notification.objects.filter(recipient=prescriber, read_at__isnull=True).values_list("patient", flat=True)
    ) == [patient_b.pk]


def test_notifications_about_a_patient_no_longer_visible_disappear(client, therapist_a, prescriber, patient_a):
    services.message_send(actor=therapist_a, patient=patient_a, body="Hello")
    CareTeamMember.objects.filter(patient=patient_a, clinician=prescriber).update(active_to=timezone.now())
    client.force_login(prescriber)

    assert selectors.unread_for(prescriber) == 0
    assert patient_a.last_name not in client.get("/notifications/").content.decode()


def test_the_api_lists_only_the_callers_own_and_marks_one_read(api, therapist_a, prescriber, patient, patient_a):
    services.message_send(actor=therapist_a, patient=patient_a, body="For the prescriber")
    mine = Notification.objects.get(recipient=prescriber)

    listed = api.as_user(prescriber).get("/api/v1/notifications/", {"unread": "true"}).json()
    assert [item["id"] for item in listed["results"]] == [str(mine.pk)]
    assert api.as_user(therapist_a).get("/api/v1/notifications/").json()["count"] == 0
    assert api.as_user(therapist_a).post(f"/api/v1/notifications/{mine.pk}/read/").status_code == 404
    assert api.as_user(patient).post(f"/api/v1/notifications/{mine.pk}/read/").status_code == 404

    response = api.as_user(prescriber).post(f"/api/v1/notifications/{mine.pk}/read/")

    assert response.status_code == 200
    assert response.json()["read_at"] is not None
    assert selectors.unread_for(prescriber) == 0


def test_notification_create_for_other_apps(prescriber, coordinator, patient_a):
    services.notification_create(
        recipients=[prescriber, coordinator], kind="safety_alert", title="A safety alert needs you", patient=patient_a
    )

    assert selectors.unread_for(prescriber) == 1
    assert selectors.unread_for(coordinator) == 1
    with pytest.raises(Exception, match="200 characters"):
        services.notification_create(recipients=[prescriber], kind="x", title="x" * 201)


def test_the_outbox_reads_whom_to_email_without_patient_data(therapist_a, prescriber, patient, patient_a):
    old = services.message_send(actor=therapist_a, patient=patient_a, body="Old")
    Message.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=2))
    services.message_send(actor=therapist_a, patient=patient_a, body="Reply to Avery", thread_kind="patient")

    assert set(selectors.users_with_unread_messages()) == {prescriber, patient}
    assert list(selectors.users_with_unread_messages(older_than=timedelta(hours=1))) == [prescriber]
    receipts = list(selectors.unread_messages_for(prescriber))
    assert [r.message.body for r in receipts] == ["Old"]


def test_a_signed_out_tab_stops_polling(client):
    response = client.get(BADGE, **BACKGROUND)

    assert response.status_code == 286  # htmx's "stop polling"
    assert response.content == b""
