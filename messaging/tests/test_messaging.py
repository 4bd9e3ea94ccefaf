"""The care-team thread and the patient's thread (issue 7, points 1-2): messages with author, time and kind,
structured cards shared from the records they came from, read receipts, unread counts, urgent messages that
each recipient acknowledges, and the patient's own thread that never shows the care-team one."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kapcare.audit.models import AuditEvent
from messaging import selectors, services
from messaging.models import Message, MessageRecipient, Notification, Thread
from patients.models import CareTeamMember
from tests import course_states
from treatment.adverse_events import services as adverse_event_services
from treatment.models import TherapySession
from treatment.notes import services as note_services

MESSAGES = "/api/v1/messages/"


def thread_url(patient, kind="care_team"):
    return f"/patients/{patient.pk}/messages/" + ("" if kind == "care_team" else "patient/")


def post(api, user, patient, body, **extra):
    return api.as_user(user).post(MESSAGES, {"patient": str(patient.pk), "body": body, **extra}, format="json")


def integration_summary(therapist, patient, **fields):
    """An integration session that took place after yesterday's dosing session, with the therapist's summary."""
    course_states.completed_session(
        therapist, patient, TherapySession.Kind.DOSING, at=timezone.now() - timedelta(days=1)
    )
    session = course_states.completed_session(therapist, patient, TherapySession.Kind.INTEGRATION)
    data = {
        "themes": "Grief about her father; feeling less stuck.",
        "insights": "Noticed how much she holds back at work.",
        "changes": "Walking every morning; journaling.",
        "concerns_for_prescriber": "Nausea at the peak; ask about ondansetron.",
        **fields,
    }
    return note_services.integration_summary_save(actor=therapist, session=session, data=data)


@pytest.fixture
def dosing_patient(therapist_a, prescriber, patient_a):
    """Avery, past the evaluation with a signed dose plan and a completed preparation session."""
    course_states.ready_to_dose(therapist_a, prescriber, patient_a)
    return patient_a


# The care-team thread ---------------------------------------------------------------------------------


def test_a_care_team_message_reaches_the_prescriber_unread_and_the_api_shows_it(
    api, therapist_a, prescriber, patient_a
):
    response = post(api, therapist_a, patient_a, "Avery slept badly after the last session.")

    assert response.status_code == 201, response.content
    message = response.json()
    assert message["thread"] == "care_team"
    assert message["kind"] == "text"
    assert message["author_name"] == therapist_a.get_full_name()
    assert [(r["user"], r["read_at"]) for r in message["recipients"]] == [(str(prescriber.pk), None)]
    assert selectors.unread_message_count(prescriber) == 1
    assert selectors.unread_message_count(therapist_a) == 0
    assert selectors.unread_for(prescriber) == 1

    listed = api.as_user(prescriber).get(MESSAGES, {"patient": str(patient_a.pk)}).json()
    assert [item["body"] for item in listed["results"]] == ["Avery slept badly after the last session."]


def test_opening_the_thread_marks_it_read_and_the_author_sees_the_receipt(client, therapist_a, prescriber, patient_a):
    services.message_send(actor=therapist_a, patient=patient_a, body="Can we talk about the next dose?")
    client.force_login(prescriber)

    page = client.get(thread_url(patient_a)).content.decode()

    assert "Can we talk about the next dose?" in page
    assert "New" in page  # unread until this visit
    assert selectors.unread_message_count(prescriber) == 0
    assert selectors.unread_for(prescriber) == 0
    assert MessageRecipient.objects.get(user=prescriber).read_at is not None
    client.force_login(therapist_a)
    assert f"Read by {prescriber.get_full_name()}" in client.get(thread_url(patient_a)).content.decode()


def test_a_message_not_yet_read_says_so_to_its_author(client, therapist_a, prescriber, patient_a):
    services.message_send(actor=therapist_a, patient=patient_a, body="Checking in.")
    client.force_login(therapist_a)

    assert f"Not read yet by {prescriber.get_full_name()}" in client.get(thread_url(patient_a)).content.decode()


def test_a_reply_from_the_prescriber_goes_to_the_therapist(client, therapist_a, prescriber, patient_a):
    client.force_login(prescriber)

    response = client.post(thread_url(patient_a), {"body": "Let us lower the dose to 150 mg."})

    assert response.status_code == 302
    message = Message.objects.get()
    assert response["Location"].endswith(f"#message-{message.pk}")
    assert message.author == prescriber
    assert [r.user for r in message.recipients.all()] == [therapist_a]
    assert Notification.objects.get().recipient == therapist_a


def test_the_thread_is_read_in_a_fixed_number_of_queries_and_audited_in_one_insert(
    client, therapist_a, prescriber, patient_a
):
    client.force_login(prescriber)

    def queries():
        client.get(thread_url(patient_a))
        with CaptureQueriesContext(connection) as captured:
            response = client.get(thread_url(patient_a))
        assert response.status_code == 200
        return captured.captured_queries

    services.message_send(actor=therapist_a, patient=patient_a, body="One.")
    few = queries()
    for n in range(30):
        services.message_send(actor=therapist_a if n % 2 else prescriber, patient=patient_a, body=f"Message {n}")
    many = queries()

    assert len(many) == len(few)
    assert sum(1 for q in many if q["sql"].startswith('INSERT INTO "audit_auditevent"')) == 1
    reads = AuditEvent.objects.filter(actor=prescriber, action=AuditEvent.Action.READ, object_type="messaging.message")
    assert reads.values("request_id").distinct().count() >= 2
    assert reads.filter(patient=patient_a).count() == 2 * 1 + 2 * 31  # one per message shown, on each visit


def test_course_events_are_merged_into_the_care_team_thread(client, therapist_a, prescriber, dosing_patient):
    services.message_send(actor=therapist_a, patient=dosing_patient, body="Preparation went well.")
    client.force_login(prescriber)

    page = client.get(thread_url(dosing_patient)).content.decode()

    assert "Evaluation signed" in page
    assert "Dose plan version 1 signed" in page
    assert "Preparation session completed" in page
    assert Message.objects.count() == 1  # merged at read time, not copied in


def test_urgent_messages_show_who_has_and_has_not_acknowledged(
    api, client, therapist_a, prescriber, patient_a, medical_group
):
    response = post(api, therapist_a, patient_a, "BP 168/102 before the dose. Call me?", urgent=True)
    message_id = response.json()["id"]
    client.force_login(therapist_a)
    assert (
        f"Waiting for {prescriber.get_full_name()} to acknowledge" in client.get(thread_url(patient_a)).content.decode()
    )
    assert Notification.objects.get(recipient=prescriber).kind == Notification.Kind.URGENT_MESSAGE

    acknowledged = api.as_user(prescriber).post(f"{MESSAGES}{message_id}/acknowledge/")

    assert acknowledged.status_code == 200, acknowledged.content
    assert acknowledged.json()["recipients"][0]["acknowledged_at"] is not None
    assert f"Acknowledged by {prescriber.get_full_name()}" in client.get(thread_url(patient_a)).content.decode()
    again = api.as_user(prescriber).post(f"{MESSAGES}{message_id}/acknowledge/")
    assert again.status_code == 409
    assert again.json()["code"] == "already_acknowledged"
    own = api.as_user(therapist_a).post(f"{MESSAGES}{message_id}/acknowledge/")
    assert own.status_code == 403  # it went to the prescriber, not to its author


def test_the_acknowledge_button_in_the_portal(client, therapist_a, prescriber, patient_a):
    message = services.message_send(actor=therapist_a, patient=patient_a, body="Please call Avery today.", urgent=True)
    client.force_login(prescriber)
    assert "Acknowledge</button>" in client.get(thread_url(patient_a)).content.decode()

    response = client.post(f"/messages/{message.pk}/acknowledge/")

    assert response.status_code == 302
    assert MessageRecipient.objects.get(user=prescriber).acknowledged_at is not None
    assert "You acknowledged this" in client.get(thread_url(patient_a)).content.decode()


def test_a_normal_message_cannot_be_acknowledged(api, therapist_a, prescriber, patient_a):
    message = services.message_send(actor=therapist_a, patient=patient_a, body="FYI.")

    response = api.as_user(prescriber).post(f"{MESSAGES}{message.pk}/acknowledge/")

    assert response.status_code == 409
    assert response.json()["code"] == "not_urgent"


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"body": "   "}, "body"),
        ({"body": "x" * (Message.MAX_BODY + 1)}, "body"),
        ({"thread": "everyone"}, "thread"),
        ({"author": "someone"}, "author"),
        ({"urgent": "very"}, "urgent"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api, therapist_a, patient_a, extra, field):
    body = {"patient": str(patient_a.pk), "body": "Hello", **extra}

    response = api.as_user(therapist_a).post(MESSAGES, body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Message.objects.exists()


def test_urgent_is_for_the_care_team_thread_only(api, patient, patient_a):
    response = post(api, patient, patient_a, "Help", thread="patient", urgent=True)

    assert response.status_code == 400
    assert "urgent" in response.json()


def test_coordinators_read_no_thread(api, client, coordinator, therapist_a, patient_a):
    services.message_send(actor=therapist_a, patient=patient_a, body="Clinical detail.")

    assert api.as_user(coordinator).get(MESSAGES).status_code == 403
    assert api.as_user(coordinator).get(MESSAGES, {"patient": str(patient_a.pk)}).status_code == 403
    client.force_login(coordinator)
    assert client.get(thread_url(patient_a)).status_code == 403
    assert client.get(thread_url(patient_a, "patient")).status_code == 403


def test_a_clinician_who_left_the_team_no_longer_reads_the_thread(api, therapist_a, prescriber, patient_a):
    services.message_send(actor=therapist_a, patient=patient_a, body="Before you go.")
    CareTeamMember.objects.filter(patient=patient_a, clinician=prescriber).update(
        active_to=timezone.now() - timedelta(minutes=1)
    )

    response = api.as_user(prescriber).get(MESSAGES, {"patient": str(patient_a.pk)})

    assert response.status_code == 404
    assert selectors.unread_message_count(prescriber) == 0
    assert selectors.unread_for(prescriber) == 0


# Sharing records to the team ---------------------------------------------------------------------------


def test_the_therapist_shares_an_integration_summary_as_a_card(client, therapist_a, prescriber, dosing_patient):
    summary = integration_summary(therapist_a, dosing_patient)
    client.force_login(therapist_a)
    assert "Integration summary" in client.get(thread_url(dosing_patient)).content.decode()

    response = client.post(
        f"/patients/{dosing_patient.pk}/messages/share/integration-summary/{summary.pk}/", {"note": "FYI Maya"}
    )

    assert response.status_code == 302
    message = Message.objects.get()
    assert message.kind == Message.Kind.INTEGRATION_SUMMARY
    assert (message.source_type, message.source_id) == ("treatment.integrationsummary", str(summary.pk))
    assert ["For the prescriber", "Nausea at the peak; ask about ondansetron."] in message.card["rows"]
    client.force_login(prescriber)
    page = client.get(thread_url(dosing_patient)).content.decode()
    assert "share-card kind-integration_summary" in page
    assert "Nausea at the peak; ask about ondansetron." in page
    assert f'href="/patients/{dosing_patient.pk}/sessions/{summary.session_id}/notes/"' in page  # the record


def test_a_side_effect_report_is_shared_once(client, therapist_a, prescriber, patient_a):
    event = adverse_event_services.adverse_event_report(
        actor=therapist_a, patient=patient_a, kind="nausea", severity="moderate", onset_minutes=25
    )
    client.force_login(therapist_a)
    url = f"/patients/{patient_a.pk}/messages/share/side-effect/{event.pk}/"

    client.post(url)
    second = client.post(url, follow=True)

    assert Message.objects.filter(kind=Message.Kind.SIDE_EFFECT_REPORT).count() == 1
    assert "already shared" in second.content.decode()
    card = Message.objects.get().card
    assert card["title"] == "Side-effect report: nausea"
    assert ["Onset", "25 min after the dose"] in card["rows"]


def test_a_signed_dose_plan_is_shared_as_a_dose_change(client, therapist_a, prescriber, dosing_patient):
    plan = dosing_patient.dose_plans.get()
    client.force_login(prescriber)

    client.post(f"/patients/{dosing_patient.pk}/messages/share/dose-plan/{plan.pk}/")

    message = Message.objects.get()
    assert message.kind == Message.Kind.DOSE_CHANGE
    assert message.recipients.get().user == therapist_a


def test_a_record_of_another_patient_cannot_be_shared(client, therapist_a, therapist_b, patient_a, patient_b):
    event = adverse_event_services.adverse_event_report(
        actor=therapist_b, patient=patient_b, kind="nausea", severity="mild"
    )
    client.force_login(therapist_a)

    response = client.post(f"/patients/{patient_a.pk}/messages/share/side-effect/{event.pk}/")

    assert response.status_code == 404
    assert not Message.objects.exists()


# The patient's thread -------------------------------------------------------------------------------------


def test_the_patient_writes_to_one_team_member_and_the_clinicians_see_whom_it_is_for(
    client, patient, therapist_a, prescriber, patient_a
):
    client.force_login(patient)
    page = client.get("/messages/").content.decode()
    assert "Message my care team" in page
    assert therapist_a.get_full_name() in page  # in the "For" choices

    client.post(
        "/messages/", {"body": "Is it normal to feel tired two days later?", "for_clinician": str(prescriber.pk)}
    )

    message = Message.objects.get()
    assert message.thread.kind == Thread.Kind.PATIENT
    assert message.for_clinician == prescriber
    assert [r.user for r in message.recipients.all()] == [prescriber]
    client.force_login(therapist_a)
    page = client.get(thread_url(patient_a, "patient")).content.decode()
    assert f"for {prescriber.get_full_name()}" in page
    assert "Is it normal to feel tired two days later?" in page


def test_a_patient_message_for_the_whole_team_goes_to_every_clinician(api, patient, therapist_a, prescriber, patient_a):
    response = post(api, patient, patient_a, "Running late on Thursday.", thread="patient")

    assert response.status_code == 201, response.content
    assert {r.user for r in MessageRecipient.objects.all()} == {therapist_a, prescriber}


def test_a_clinician_reply_reaches_the_patient(api, client, patient, therapist_a, patient_a):
    post(api, therapist_a, patient_a, "Yes, that is common. Rest and drink water.", thread="patient")

    assert selectors.unread_message_count(patient) == 1
    client.force_login(patient)
    assert "1 new" in client.get("/").content.decode()  # the patient's dashboard
    assert "Yes, that is common." in client.get("/messages/").content.decode()
    assert selectors.unread_message_count(patient) == 0


def test_the_patient_never_sees_the_care_team_thread(api, client, patient, therapist_a, patient_a):
    services.message_send(actor=therapist_a, patient=patient_a, body="Between us: watch for mania.")

    assert api.as_user(patient).get(MESSAGES, {"patient": str(patient_a.pk)}).status_code == 403
    own = api.as_user(patient).get(MESSAGES, {"patient": str(patient_a.pk), "thread": "patient"})
    assert own.status_code == 200
    assert own.json()["results"] == []
    message_id = Message.objects.get().pk
    assert api.as_user(patient).get(f"{MESSAGES}{message_id}/").status_code == 403
    client.force_login(patient)
    assert client.get(thread_url(patient_a)).status_code == 403
    assert "watch for mania" not in client.get("/messages/").content.decode()
    assert selectors.unread_for(patient) == 0


def test_a_patient_cannot_address_someone_outside_their_team(api, patient, therapist_b, patient_a):
    response = post(api, patient, patient_a, "Hi", thread="patient", for_clinician=str(therapist_b.pk))

    assert response.status_code == 400
    assert "for_clinician" in response.json()


# Dashboards ---------------------------------------------------------------------------------------------


def test_the_dashboard_shows_unread_messages_per_patient(client, therapist_a, prescriber, patient_a, patient_b):
    services.message_send(actor=therapist_a, patient=patient_a, body="One")
    services.message_send(actor=therapist_a, patient=patient_a, body="Two")
    client.force_login(prescriber)

    page = client.get("/").content.decode()

    assert "2 unread" in page
    assert f'href="/patients/{patient_a.pk}/messages/"' in page
    client.get(thread_url(patient_a))
    assert "unread</span>" not in client.get("/").content.decode()


@pytest.mark.parametrize("role", ["therapist_a", "prescriber", "patient"])
def test_unread_counts_cost_the_same_queries_whatever_the_number_of_messages(client, cast, patient_a, role):
    therapist, prescriber = cast["therapist_a"], cast["prescriber"]
    client.force_login(cast[role])

    def dashboard_queries():
        client.get("/")
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/").status_code == 200
        return len(captured.captured_queries)

    services.message_send(actor=prescriber, patient=patient_a, body="First", thread_kind="patient")
    services.message_send(actor=therapist, patient=patient_a, body="To Maya")
    few = dashboard_queries()
    for n in range(15):
        services.message_send(actor=prescriber, patient=patient_a, body=f"Note {n}", thread_kind="patient")
        services.message_send(actor=therapist if n % 2 else prescriber, patient=patient_a, body=f"Care {n}")

    assert dashboard_queries() == few
    assert re.search(r'class="badge new">\d+ (unread|new)<', client.get("/").content.decode())
