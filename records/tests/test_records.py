"""Records that leave (issue 20): the patient's own copy, releases of information and the FHIR R4 export.

The record built here holds every section, a canary string in a psychotherapy note and one in the care-team
thread; neither may appear in the HTML, the JSON, the PDF's text or the FHIR bundle."""

import io
import json
import re
from collections import Counter
from datetime import timedelta

import pypdf
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from assessments.questionnaires import services as questionnaire_services
from assessments.tests.test_questionnaires import answers_for
from kapcare.audit.models import AuditEvent
from messaging import services as messaging_services
from patients import content
from patients import services as patient_services
from patients.models import CareTeamMember, ConsentDocument, ConsentKind
from records import selectors as record_selectors
from records import services as record_services
from records.models import RecordExport
from tests import course_states
from treatment.adverse_events import services as adverse_event_services
from treatment.models import IntegrationSummary, TherapySession
from treatment.notes import services as note_services
from treatment.tests.test_follow_up import signed_follow_up

PSYCHOTHERAPY_CANARY = "CanaryPsychotherapy7f3a"
CARE_TEAM_CANARY = "CanaryCareTeam91bd"
PROGRESS_NOTE = "Tolerated the first dose well; grief came up."
PATIENT_MESSAGE = "Slept well after the session, thank you."
SUMMARY_THEMES = "Grief, and making room for it."
SECTIONS = (
    "patient",
    "care_team",
    "intake",
    "consents",
    "evaluations",
    "dose_plans",
    "sessions",
    "questionnaires",
    "side_effects",
    "messages",
    "access_history",
)


@pytest.fixture
def record(therapist_a, prescriber, patient_a):
    """Patient A mid-course, through the services: consents, intake, a signed evaluation and dose plan, a
    preparation and a documented dosing session, scores over time, a side effect and messages in both threads."""
    course_states.ready_to_dose(therapist_a, prescriber, patient_a)
    dosing = course_states.completed_session(therapist_a, patient_a, TherapySession.Kind.DOSING)
    note_services.note_save_draft(actor=therapist_a, session=dosing, body=PROGRESS_NOTE)
    note_services.note_sign(actor=therapist_a, session=dosing)
    note_services.psychotherapy_note_save(actor=therapist_a, session=dosing, body=PSYCHOTHERAPY_CANARY)
    integration = course_states.completed_session(therapist_a, patient_a, TherapySession.Kind.INTEGRATION)
    note_services.integration_summary_save(actor=therapist_a, session=integration, data={"themes": SUMMARY_THEMES})
    for code, total in (("phq9", 16), ("gad7", 9), ("phq9", 8), ("pcl5", 30)):
        questionnaire_services.questionnaire_submit(
            actor=patient_a.user, patient=patient_a, instrument=code, answers=answers_for(code, total)
        )
    questionnaire_services.questionnaire_submit(
        actor=patient_a.user, patient=patient_a, instrument="cssrs", answers=[1, 1, 0, 0, 0, 0, None]
    )
    adverse_event_services.adverse_event_report(
        actor=patient_a.user, patient=patient_a, kind="nausea", severity="mild", description="Queasy for an hour."
    )
    messaging_services.message_send(
        actor=patient_a.user, patient=patient_a, body=PATIENT_MESSAGE, thread_kind="patient"
    )
    messaging_services.message_send(actor=therapist_a, patient=patient_a, body=CARE_TEAM_CANARY)
    patient_a.refresh_from_db()
    return patient_a


def request_copy(client, user, patient, capture, data=None):
    """Ask for a copy through the portal and run the export task as the commit would; returns the response."""
    client.force_login(user)
    with capture(execute=True):
        return client.post(f"/patients/{patient.pk}/record/", data or {})


def token_of(response):
    match = re.fullmatch(r"/records/exports/([^/]+)/", response["Location"])
    assert match, response["Location"]
    return match.group(1)


def pdf_text(content):
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)


def assert_no_canary(text, where):
    assert PSYCHOTHERAPY_CANARY not in text, f"a psychotherapy note leaked into the {where}"
    assert CARE_TEAM_CANARY not in text, f"the care-team thread leaked into the {where}"


# The patient's own copy -------------------------------------------------------------------------------------


@pytest.mark.celery_eager
def test_patient_downloads_every_section_and_nothing_private(client, api, record, django_capture_on_commit_callbacks):
    client.force_login(record.user)
    page = client.get("/")
    assert f'href="/patients/{record.pk}/record/"' in page.content.decode()
    assert "Download my record" in client.get(f"/patients/{record.pk}/record/").content.decode()

    response = request_copy(client, record.user, record, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    token = token_of(response)
    export = RecordExport.objects.get(patient=record)
    assert export.purpose == RecordExport.Purpose.PATIENT_ACCESS
    assert export.status == RecordExport.Status.READY
    assert token not in export.token_hash  # stored hashed only
    status_page = client.get(f"/records/exports/{token}/").content.decode()
    assert "download.pdf" in status_page and "download.json" in status_page

    document = json.loads(client.get(f"/records/exports/{token}/download.json").content)
    for section in SECTIONS:
        assert document[section], f"the {section} section is empty"
    assert [r["total_score"] for r in document["questionnaires"] if r["instrument"] == "phq9"] == [16, 8]
    assert [m["body"] for m in document["messages"]] == [PATIENT_MESSAGE]
    assert document["side_effects"][0]["kind"] == "nausea"
    assert {c["kind"] for c in document["consents"]} >= {ConsentKind.RELEASE_OF_INFORMATION}
    assert any(s["note"] and s["note"]["body"] == PROGRESS_NOTE for s in document["sessions"])
    assert not any(e["record"] == "treatment.psychotherapynote" for e in document["access_history"])
    assert_no_canary(json.dumps(document), "JSON")

    print_view = client.get(f"/records/exports/{token}/download.html")
    assert "style-src 'sha256-" in print_view["Content-Security-Policy"]  # its one inline stylesheet, nothing else
    html = print_view.content.decode()
    for section_id in ("intake", "consents", "sessions", "dose-plans", "questionnaires", "side-effects", "messages"):
        assert f'id="{section_id}"' in html
    assert PROGRESS_NOTE in html and PATIENT_MESSAGE in html and SUMMARY_THEMES in html
    assert_no_canary(html, "HTML")

    pdf = client.get(f"/records/exports/{token}/download.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    text = pdf_text(pdf.content)
    assert record.last_name in text and "Access history" in text and "Queasy" in text
    assert_no_canary(text, "PDF")

    bundle = api.as_user(record.user).get(f"/api/v1/patients/{record.pk}/fhir/")
    assert bundle.status_code == 200
    assert_no_canary(bundle.content.decode(), "FHIR bundle")


@pytest.mark.celery_eager
def test_the_export_runs_as_a_task_with_ids_only_and_reports_progress(
    client, record, django_capture_on_commit_callbacks
):
    client.force_login(record.user)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(f"/patients/{record.pk}/record/")
    token = token_of(response)
    export = RecordExport.objects.get(patient=record)
    assert export.status == RecordExport.Status.QUEUED and len(callbacks) == 1
    partial = client.get(f"/records/exports/{token}/status/", HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 2s"' in partial and "Preparing the copy" in partial
    assert client.get(f"/records/exports/{token}/download.pdf").status_code == 409  # not ready yet

    busy = client.post(f"/patients/{record.pk}/record/")  # one at a time: each copy costs a PDF
    assert busy.status_code == 409 and "already being prepared" in busy.content.decode()

    callbacks[0]()  # the task, eager: build_record_export(str(export.pk))

    partial = client.get(f"/records/exports/{token}/status/").content.decode()
    assert "hx-trigger" not in partial and "download.pdf" in partial
    assert record_services.record_export_build(export_id=export.pk) is None  # a second delivery builds nothing
    assert client.get(f"/records/exports/{token}/download.exe").status_code == 404


@pytest.mark.celery_eager
def test_the_link_expires_and_every_download_is_audited(
    client, therapist_a, record, django_capture_on_commit_callbacks
):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        token = token_of(request_copy(client, record.user, record, django_capture_on_commit_callbacks))
    export = RecordExport.objects.get(patient=record)
    downloads = AuditEvent.objects.filter(object_type="records.recordexport", object_id=str(export.pk))
    before = downloads.filter(actor=record.user, action=AuditEvent.Action.READ).count()

    with time_machine.travel(start + timedelta(hours=23), tick=False):
        client.force_login(record.user)  # a fresh sign-in: the idle session timed out meanwhile
        assert client.get(f"/records/exports/{token}/download.pdf").status_code == 200
        assert client.get(f"/records/exports/{token}/download.json").status_code == 200
    assert downloads.filter(actor=record.user, action="read", outcome="allowed").count() == before + 2

    # The link is the requester's alone: another user holding it gets 404, recorded in the patient's history.
    client.force_login(therapist_a)
    assert client.get(f"/records/exports/{token}/download.pdf").status_code == 404
    assert AuditEvent.objects.filter(actor=therapist_a, patient=record, outcome="denied").exists()

    with time_machine.travel(start + timedelta(hours=24, minutes=1), tick=False):
        client.force_login(record.user)
        gone = client.get(f"/records/exports/{token}/download.pdf")
        assert client.get(f"/records/exports/{token}/").status_code == 410
    assert gone.status_code == 410
    assert "This download link has expired" in gone.content.decode()
    assert downloads.filter(actor=record.user, outcome="denied").count() == 1
    export.refresh_from_db()
    assert export.pdf is None and export.json is None and export.html == "" and export.purged_at is not None


def test_expired_exports_are_purged_by_the_hourly_task(record):
    export, _token = record_services.record_export_request(actor=record.user, patient=record)
    assert record_services.record_exports_purge_expired(now=export.expires_at - timedelta(seconds=1)) == 0
    assert record_services.record_exports_purge_expired(now=export.expires_at) == 1


def test_a_patient_cannot_open_another_patients_record_page(client, record, other_patient, coordinator, therapist_b):
    for user, expected in ((other_patient, 404), (therapist_b, 404), (coordinator, 403)):
        client.force_login(user)
        assert client.post(f"/patients/{record.pk}/record/").status_code == expected
    assert not RecordExport.objects.exists()


# Releases of information --------------------------------------------------------------------------------------


RELEASE = {"recipient": "Dr. Rivera, Bayview Psychiatry", "release_purpose": "Continuity of care after a move."}


def sign_release(patient):
    content.seed_current()
    document = ConsentDocument.objects.current().get(kind=ConsentKind.RELEASE_OF_INFORMATION)
    patient_services.consent_sign(actor=patient.user, patient=patient, document=document, typed_name=patient.full_name)


@pytest.mark.celery_eager
def test_a_release_requires_the_signed_release_consent(
    client, therapist_a, patient_a, django_capture_on_commit_callbacks
):
    client.force_login(therapist_a)
    page = client.get(f"/patients/{patient_a.pk}/chart/documents/").content.decode()
    assert f'href="/patients/{patient_a.pk}/record/"' in page and "Release of information" in page

    refused = request_copy(client, therapist_a, patient_a, django_capture_on_commit_callbacks, RELEASE)

    assert refused.status_code == 409
    assert "release-of-information consent" in refused.content.decode()
    assert not RecordExport.objects.exists()

    sign_release(patient_a)
    allowed = request_copy(client, therapist_a, patient_a, django_capture_on_commit_callbacks, RELEASE)

    assert allowed.status_code == 302
    export = RecordExport.objects.get()
    assert export.purpose == RecordExport.Purpose.RELEASE and export.status == RecordExport.Status.READY
    assert (export.recipient, export.release_purpose) == (RELEASE["recipient"], RELEASE["release_purpose"])
    assert export.authorization.document.kind == ConsentKind.RELEASE_OF_INFORMATION
    assert export.json["export"]["recipient"] == RELEASE["recipient"]
    assert AuditEvent.objects.filter(actor=therapist_a, object_id=str(export.pk), action="create").exists()


def test_a_release_names_its_recipient_and_purpose(client, therapist_a, patient_a, django_capture_on_commit_callbacks):
    sign_release(patient_a)
    response = request_copy(client, therapist_a, patient_a, django_capture_on_commit_callbacks, {"recipient": ""})
    assert response.status_code == 400
    assert not RecordExport.objects.exists()


def test_a_release_relies_on_the_current_version_of_the_consent(therapist_a, patient_a):
    sign_release(patient_a)
    old = ConsentDocument.objects.current().get(kind=ConsentKind.RELEASE_OF_INFORMATION)
    ConsentDocument.objects.create(
        kind=old.kind,
        version=old.version + 1,
        title=old.title,
        body=old.body + "\nRevised.",
        published_at=timezone.now(),
    )
    assert record_selectors.release_authorization(patient_a) is None
    with pytest.raises(record_services.RuleRefused) as refused:
        record_services.record_export_request(actor=therapist_a, patient=patient_a, **RELEASE)
    assert refused.value.code == "release_needs_signed_consent"


# FHIR R4 -----------------------------------------------------------------------------------------------------


def fhir_bundle(api, user, patient):
    response = api.as_user(user).get(f"/api/v1/patients/{patient.pk}/fhir/")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    return json.loads(response.content)


def test_every_fhir_resource_validates_and_the_bundle_round_trips(api, therapist_a, record):
    data = fhir_bundle(api, therapist_a, record)

    assert data["resourceType"] == "Bundle" and data["type"] == "collection"
    for entry in data["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)  # raises when invalid
    exported = Counter(entry["resource"]["resourceType"] for entry in data["entry"])
    bundle = Bundle.model_validate(data)
    parsed = Counter(entry.resource.get_resource_type() for entry in bundle.entry)
    again = Bundle.model_validate_json(bundle.model_dump_json())
    assert parsed == exported == Counter(entry.resource.get_resource_type() for entry in again.entry)
    assert exported == {
        "Patient": 1,
        "Practitioner": 2,
        "CareTeam": 1,
        "Condition": 1,
        "Consent": 3,
        "Encounter": 3,  # preparation, dosing, integration
        "Observation": 5 + 2 * 3,  # five scores; two vitals readings of BP, heart rate and SpO2
        "MedicationRequest": 1,
        "AdverseEvent": 1,
        "DocumentReference": 2,  # the signed progress note and the signed evaluation
    }
    assert_no_canary(json.dumps(data), "FHIR bundle")


def observations(data, category):
    return [
        entry["resource"]
        for entry in data["entry"]
        if entry["resource"]["resourceType"] == "Observation"
        and entry["resource"]["category"][0]["coding"][0]["code"] == category
    ]


def loinc(resource):
    return next(c["code"] for c in resource["code"]["coding"] if c["system"] == "http://loinc.org")


def test_scores_and_vital_signs_carry_loinc_codes(api, prescriber, record):
    data = fhir_bundle(api, prescriber, record)

    scores = [(loinc(o), o.get("valueInteger")) for o in observations(data, "survey")]
    assert sorted(scores) == sorted(
        [("44261-6", 16), ("70274-6", 9), ("44261-6", 8), ("101698-9", 30), ("93374-7", None)]
    )
    risk = next(o for o in observations(data, "survey") if loinc(o) == "93374-7")  # the C-SSRS screener
    assert risk["valueCodeableConcept"] == {"text": "low"}
    vitals = observations(data, "vital-signs")
    assert Counter(loinc(o) for o in vitals) == {"85354-9": 2, "8867-4": 2, "59408-5": 2}
    panel = next(o for o in vitals if loinc(o) == "85354-9")
    assert [loinc(c) for c in panel["component"]] == ["8480-6", "8462-4"]
    assert panel["component"][0]["valueQuantity"] == {
        "value": 124,
        "unit": "mmHg",
        "system": "http://unitsofmeasure.org",
        "code": "mm[Hg]",
    }
    assert panel["meta"]["profile"] == ["http://hl7.org/fhir/StructureDefinition/bp"]
    condition = next(e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Condition")
    assert condition["code"]["coding"][0] == {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "F33.1"}


def test_before_an_evaluation_conditions_come_from_the_referral(api, therapist_a, patient_a):
    data = fhir_bundle(api, therapist_a, patient_a)
    conditions = [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Condition"]
    for condition in conditions:
        assert condition["verificationStatus"]["coding"][0]["code"] == "provisional"
    Bundle.model_validate(data)


def test_the_fhir_export_is_scoped_and_audited(api, record, coordinator, therapist_b, other_patient, admin_user):
    for user, expected in ((coordinator, 403), (therapist_b, 404), (other_patient, 404), (admin_user, 404)):
        denied_before = AuditEvent.objects.filter(patient=record, outcome="denied").count()
        response = api.as_user(user).get(f"/api/v1/patients/{record.pk}/fhir/")
        assert response.status_code == expected
        assert record.last_name not in response.content.decode()
        assert AuditEvent.objects.filter(patient=record, outcome="denied").count() == denied_before + 1

    reads_before = AuditEvent.objects.filter(patient=record, actor=record.user, action="read").count()
    fhir_bundle(api, record.user, record)
    assert AuditEvent.objects.filter(patient=record, actor=record.user, action="read").count() == reads_before + 1


@pytest.mark.celery_eager
def test_a_clinician_who_left_the_team_before_the_build_gets_nothing(
    client, therapist_a, patient_a, django_capture_on_commit_callbacks
):
    sign_release(patient_a)
    client.force_login(therapist_a)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        token = token_of(client.post(f"/patients/{patient_a.pk}/record/", RELEASE))
    CareTeamMember.objects.filter(patient=patient_a, clinician=therapist_a).update(active_to=timezone.now())

    callbacks[0]()

    export = RecordExport.objects.get()
    assert export.status == RecordExport.Status.FAILED and export.pdf is None and export.json is None
    assert client.get(f"/records/exports/{token}/download.pdf").status_code == 404


def test_reading_the_record_costs_the_same_queries_whatever_its_length(record, therapist_a):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            record_selectors.record_contents(record)
        return len(captured)

    before = queries()
    course_states.completed_session(therapist_a, record, TherapySession.Kind.PREPARATION)
    for total in (12, 6):
        questionnaire_services.questionnaire_submit(
            actor=record.user, patient=record, instrument="phq9", answers=answers_for("phq9", total)
        )
    messaging_services.message_send(actor=record.user, patient=record, body="Another note.", thread_kind="patient")

    assert queries() == before


def test_a_signed_follow_up_visit_is_an_encounter_and_a_signed_document(api, prescriber, record):
    visit = signed_follow_up(prescriber, record, "continue")
    data = fhir_bundle(api, prescriber, record)

    by_id = {(e["resource"]["resourceType"], e["resource"]["id"]): e["resource"] for e in data["entry"]}
    encounter = by_id[("Encounter", str(visit.pk))]
    assert encounter["type"][0]["text"] == "Prescriber follow-up visit" and encounter["status"] == "finished"
    document = by_id[("DocumentReference", str(visit.pk))]
    assert document["context"]["encounter"] == [{"reference": f"Encounter/{visit.pk}"}]
    Bundle.model_validate(data)


def test_a_signed_integration_summary_goes_into_the_record_with_its_addenda(record, therapist_a):
    summary = IntegrationSummary.objects.get(patient=record)
    summary = note_services.integration_summary_save(
        actor=therapist_a, session=summary.session, data={"themes": SUMMARY_THEMES, "concerns_for_prescriber": "None."}
    )
    note_services.integration_summary_sign(actor=therapist_a, summary=summary)
    note_services.integration_summary_add_addendum(actor=therapist_a, summary=summary, body="Sleeping better since.")

    sessions = record_selectors.record_contents(record)["sessions"]

    exported = next(s["integration_summary"] for s in sessions if s["integration_summary"])
    assert exported["signed_at"] is not None
    assert [addendum["body"] for addendum in exported["addenda"]] == ["Sleeping better since."]
