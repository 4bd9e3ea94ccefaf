"""The integration session's structured summary: written by the therapist on the team, read by the clinicians
(the prescriber especially), frozen once the session's note is signed, refused on other kinds of session, and
shared to the care-team thread from the session page in one action."""

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from kapcare.audit.models import AuditEvent
from kapcare.rules import RuleRefused
from messaging.models import Message
from tests.note_states import integration_session, past_session
from treatment.models import IntegrationSummary, IntegrationSummaryAddendum, SessionNote, TherapySession
from treatment.notes import selectors as note_selectors
from treatment.notes import services as note_services

URL = "/api/v1/integration-summaries/"
SUMMARY = {
    "themes": "Grief for the father; self-compassion.",
    "insights": "Sees the depression as protective rather than a failing.",
    "changes": "Walking daily; calling the sister weekly.",
    "concerns_for_prescriber": "Mild headache the evening after the dose; sleep still broken.",
}


@pytest.fixture
def session(therapist_a, prescriber, patient_a):
    return integration_session(therapist_a, prescriber, patient_a)


def test_the_therapist_writes_it_and_the_prescriber_reads_it(api, therapist_a, prescriber, session):
    created = api.as_user(therapist_a).post(URL, {"session": str(session.pk), **SUMMARY}, format="json")

    assert created.status_code == 201, created.content
    read = api.as_user(prescriber).get(f"{URL}{created.json()['id']}/")
    assert read.status_code == 200
    assert read.json()["concerns_for_prescriber"] == SUMMARY["concerns_for_prescriber"]
    again = api.as_user(therapist_a).post(
        URL, {"session": str(session.pk), "themes": "Grief; forgiveness."}, format="json"
    )
    assert again.status_code == 200
    assert IntegrationSummary.objects.get(session=session).themes == "Grief; forgiveness."
    assert AuditEvent.objects.filter(
        object_type="treatment.integrationsummary", actor=prescriber, action="read"
    ).exists()


def test_who_may_read_and_write(api, therapist_a, prescriber, coordinator, patient, session):
    summary = note_services.integration_summary_save(actor=therapist_a, session=session, data=SUMMARY)
    body = {"session": str(session.pk), **SUMMARY}

    assert api.as_user(coordinator).get(f"{URL}{summary.pk}/").status_code == 403
    assert api.as_user(patient).get(f"{URL}{summary.pk}/").status_code == 403
    assert api.as_user(prescriber).post(URL, body, format="json").status_code == 403
    assert api.as_user(coordinator).patch(f"{URL}{summary.pk}/", {"themes": "x"}, format="json").status_code == 403
    assert note_selectors.integration_summary_for(coordinator, session) is None
    assert note_selectors.integration_summary_for(prescriber, session) == summary


def test_an_empty_summary_is_refused(api, therapist_a, session):
    response = api.as_user(therapist_a).post(URL, {"session": str(session.pk), "themes": " "}, format="json")

    assert response.status_code == 400
    assert "themes" in response.json()


def test_only_an_integration_session_has_one(api, therapist_a, patient_a):
    preparation = past_session(therapist_a, patient_a, TherapySession.Kind.PREPARATION)

    response = api.as_user(therapist_a).post(URL, {"session": str(preparation.pk), **SUMMARY}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "not_an_integration_session"
    assert not IntegrationSummary.objects.exists()


def test_signing_the_note_freezes_the_summary(api, therapist_a, session):
    summary = note_services.integration_summary_save(actor=therapist_a, session=session, data=SUMMARY)
    note_services.note_save_draft(actor=therapist_a, session=session, body="Integration went well.")
    note = note_services.note_sign(actor=therapist_a, session=session)

    response = api.as_user(therapist_a).patch(f"{URL}{summary.pk}/", {"themes": "Changed"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "session_note_signed"
    with pytest.raises(RuleRefused):
        note_services.integration_summary_save(actor=therapist_a, session=session, data={"themes": "Changed"})
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE treatment_integrationsummary SET themes = 'x' WHERE id = %s", [summary.pk])
    assert IntegrationSummary.objects.get(pk=summary.pk).themes == SUMMARY["themes"]
    assert len(note.content_hash) == 64


def test_the_session_page_form_saves_it_and_shares_it_to_the_team(client, therapist_a, prescriber, session):
    page = f"/patients/{session.patient_id}/sessions/{session.pk}/notes/"
    client.force_login(therapist_a)
    form = {f"summary-{name}": value for name, value in SUMMARY.items()}

    response = client.post(f"{page}integration-summary/", {**form, "next": page}, follow=True)

    text = response.content.decode()
    assert "Integration summary saved." in text
    assert "Share to the care-team thread" in text
    summary = IntegrationSummary.objects.get(session=session)
    assert summary.changes == SUMMARY["changes"]

    client.post(f"/patients/{session.patient_id}/messages/share/integration-summary/{summary.pk}/")

    assert Message.objects.filter(source_id=str(summary.pk)).exists()
    client.force_login(prescriber)
    assert SUMMARY["concerns_for_prescriber"] in client.get(page).content.decode()


def test_signing_the_note_signs_a_draft_summary_with_it(therapist_a, session):
    summary = note_services.integration_summary_save(actor=therapist_a, session=session, data=SUMMARY)
    note_services.note_save_draft(actor=therapist_a, session=session, body="Integration went well.")

    note = note_services.note_sign(actor=therapist_a, session=session)

    signed = IntegrationSummary.objects.get(pk=summary.pk)
    assert (signed.status, signed.signed_by, signed.signed_at) == ("signed", therapist_a, note.signed_at)
    assert signed.content_hash == signed.compute_hash()


def test_the_note_waits_for_a_summary_that_cannot_be_signed_yet(api, therapist_a, session):
    summary = note_services.integration_summary_save(actor=therapist_a, session=session, data={"themes": "Grief."})
    note_services.note_save_draft(actor=therapist_a, session=session, body="Integration went well.")
    note = SessionNote.objects.get(session=session)

    response = api.as_user(therapist_a).post(f"/api/v1/session-notes/{note.pk}/sign/")

    assert response.status_code == 400, response.content
    assert "concerns for the prescriber" in str(response.json()["integration_summary"])
    assert SessionNote.objects.get(pk=note.pk).status == "draft"
    assert IntegrationSummary.objects.get(pk=summary.pk).status == "draft"


def test_a_signed_summary_is_corrected_by_an_addendum_on_the_page(client, api, therapist_a, prescriber, session):
    page = f"/patients/{session.patient_id}/sessions/{session.pk}/notes/"
    client.force_login(therapist_a)
    form = {f"summary-{name}": value for name, value in SUMMARY.items()}

    signed = client.post(f"{page}integration-summary/", {**form, "action": "sign", "next": page}, follow=True)

    assert "Integration summary signed and locked." in signed.content.decode()
    summary = IntegrationSummary.objects.get(session=session)
    assert summary.status == "signed"
    edited = api.as_user(therapist_a).patch(f"{URL}{summary.pk}/", {"themes": "Changed"}, format="json")
    assert edited.status_code == 409 and edited.json()["code"] == "integration_summary_signed"

    added = client.post(
        f"{page}integration-summary/addenda/",
        {"summary-addendum-body": "Sleep better since.", "next": page},
        follow=True,
    )

    assert "Addendum signed." in added.content.decode()
    addendum = IntegrationSummaryAddendum.objects.get(summary=summary)
    client.force_login(prescriber)
    assert "Sleep better since." in client.get(page).content.decode()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE treatment_integrationsummaryaddendum SET body = 'x' WHERE id = %s", [addendum.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM treatment_integrationsummaryaddendum WHERE id = %s", [addendum.pk])
    assert IntegrationSummary.objects.get(pk=summary.pk).themes == SUMMARY["themes"]


def test_an_addendum_by_another_therapist_is_a_404_and_by_the_prescriber_a_403(
    client, therapist_a, therapist_b, prescriber, session
):
    summary = note_services.integration_summary_save(actor=therapist_a, session=session, data=SUMMARY)
    note_services.integration_summary_sign(actor=therapist_a, summary=summary)
    page = f"/patients/{session.patient_id}/sessions/{session.pk}/notes/"
    form = {"summary-addendum-body": "x", "next": page}

    client.force_login(therapist_b)
    assert client.post(f"{page}integration-summary/addenda/", form).status_code == 404
    client.force_login(prescriber)
    assert client.post(f"{page}integration-summary/addenda/", form).status_code == 403
    assert not IntegrationSummaryAddendum.objects.exists()


def test_writing_and_signing_in_one_request_keeps_the_draft_when_refused(api, therapist_a, session):
    body = {"session": str(session.pk), "themes": "Grief.", "sign": True}

    refused = api.as_user(therapist_a).post(URL, body, format="json")

    assert refused.status_code == 400, refused.content
    assert "concerns_for_prescriber" in refused.json()
    assert IntegrationSummary.objects.get(session=session).status == "draft"
    signed = api.as_user(therapist_a).post(URL, {**body, "concerns_for_prescriber": "None."}, format="json")
    assert signed.status_code == 200, signed.content
    assert (signed.json()["status"], signed.json()["signed_by"]) == ("signed", str(therapist_a))
