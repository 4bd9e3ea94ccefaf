"""Consent: the patient signs the current version of each document with their typed name; a new
version asks them to sign again; signatures never change; the care team and coordinator see status."""

import hashlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kapcare.audit.models import AuditEvent
from patients import content, selectors, services
from patients.models import ConsentDocument, ConsentKind, ConsentSignature, Stage
from tests.fixtures import refer

REQUIRED = [ConsentKind.KAP_INFORMED_CONSENT, ConsentKind.REMOTE_DOSING_CHAPERONE, ConsentKind.RELEASE_OF_INFORMATION]
SIGNATURES = "/api/v1/consent-signatures/"


@pytest.fixture
def documents(db):
    """The current version of each kind, as the seed migration publishes them."""
    content.seed_current()
    return {d.kind: d for d in ConsentDocument.objects.current()}


def sign(patient, document, name=None):
    return services.consent_sign(
        actor=patient.user, patient=patient, document=document, typed_name=name or patient.full_name
    )


def publish_new_version(document, body="Revised text.\n\nPlease read it again."):
    return ConsentDocument.objects.create(
        kind=document.kind,
        version=document.version + 1,
        title=document.title,
        body=body,
        required=document.required,
        published_at=timezone.now(),
    )


def denied_events():
    return AuditEvent.objects.filter(outcome=AuditEvent.Outcome.DENIED)


# Seeded documents ---------------------------------------------------------------------------------


def test_the_migration_publishes_version_1_of_each_kind(documents):
    assert set(documents) == set(ConsentKind.values)
    assert all(d.version == 1 and d.is_published for d in documents.values())
    assert {k for k, d in documents.items() if d.required} == set(REQUIRED)
    informed = documents[ConsentKind.KAP_INFORMED_CONSENT].body
    for fact in ("off-label", "Schedule III", "not FDA-approved", "withdraw", "until the next day", "dissociation"):
        assert fact.lower() in informed.lower(), fact


# Signing ------------------------------------------------------------------------------------------


def test_patient_signs_the_current_version_through_the_api(api, patient, patient_a, documents):
    document = documents[ConsentKind.KAP_INFORMED_CONSENT]

    response = api.as_user(patient).post(
        SIGNATURES, {"document": document.pk, "typed_name": "Avery Alder"}, format="json", REMOTE_ADDR="203.0.113.7"
    )

    assert response.status_code == 201, response.content
    signature = ConsentSignature.objects.get()
    assert (signature.patient, signature.document, signature.typed_name) == (patient_a, document, "Avery Alder")
    assert str(signature.ip) == "203.0.113.7"
    assert response.json()["version"] == 1
    assert "ip" not in response.json()
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.CREATE, object_type="patients.consentsignature", patient=patient_a
    ).exists()


def test_the_stored_hash_is_the_sha256_of_the_body_signed(patient_a, documents):
    document = documents[ConsentKind.RELEASE_OF_INFORMATION]

    signature = sign(patient_a, document)

    assert signature.text_sha256 == hashlib.sha256(document.body.encode("utf-8")).hexdigest()
    assert signature.text_sha256 == document.text_sha256


def test_the_typed_name_matches_whatever_the_case_and_spacing(patient_a, documents):
    signature = sign(patient_a, documents[ConsentKind.KAP_INFORMED_CONSENT], name="  avery   ALDER ")

    assert signature.typed_name == "avery ALDER"


@pytest.mark.parametrize("typed_name", ["Avery", "Avery Alder-Smith", "Casey Cedar", "A. Alder"])
def test_a_wrong_typed_name_is_refused(api, patient, documents, typed_name):
    document = documents[ConsentKind.KAP_INFORMED_CONSENT]

    response = api.as_user(patient).post(SIGNATURES, {"document": document.pk, "typed_name": typed_name}, format="json")

    assert response.status_code == 400
    assert "does not match your record" in response.json()["typed_name"][0]
    assert not ConsentSignature.objects.exists()


@pytest.mark.parametrize(
    "body",
    [{}, {"document": "x", "typed_name": "Avery Alder"}, {"document": 999999, "typed_name": "Avery Alder"}],
    ids=["empty", "not-a-number", "no-such-document"],
)
def test_bad_input_is_a_clear_400(api, patient, documents, body):
    response = api.as_user(patient).post(SIGNATURES, body, format="json")

    assert response.status_code == 400
    assert "document" in response.json()


@pytest.mark.parametrize("role", ["therapist_a", "prescriber", "coordinator", "admin"])
def test_only_the_patient_can_sign(api, cast, patient_a, documents, role):
    document = documents[ConsentKind.KAP_INFORMED_CONSENT]
    before = denied_events().count()

    response = api.as_user(cast[role]).post(
        SIGNATURES, {"document": document.pk, "typed_name": "Avery Alder"}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["detail"] == "Only the patient can sign their consent."
    assert denied_events().count() == before + 1
    assert not ConsentSignature.objects.exists()


def test_a_clinician_calling_the_service_is_refused_and_audited(therapist_a, patient_a, documents):
    with pytest.raises(PermissionDenied, match="Only the patient"):
        services.consent_sign(
            actor=therapist_a,
            patient=patient_a,
            document=documents[ConsentKind.KAP_INFORMED_CONSENT],
            typed_name="Avery Alder",
        )

    event = denied_events().get()
    assert (event.actor, event.patient_id) == (therapist_a, patient_a.pk)


def test_a_patient_cannot_sign_for_another_patient(other_patient, patient_a, documents):
    with pytest.raises(PermissionDenied):
        services.consent_sign(
            actor=other_patient,
            patient=patient_a,
            document=documents[ConsentKind.KAP_INFORMED_CONSENT],
            typed_name="Avery Alder",
        )

    assert denied_events().filter(patient=patient_a, actor=other_patient).exists()
    assert not ConsentSignature.objects.exists()


def test_signing_the_same_version_twice_is_refused(api, patient, patient_a, documents):
    document = documents[ConsentKind.KAP_INFORMED_CONSENT]
    sign(patient_a, document)

    response = api.as_user(patient).post(
        SIGNATURES, {"document": document.pk, "typed_name": "Avery Alder"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["document"] == ["You have already signed version 1 of this document."]
    assert ConsentSignature.objects.count() == 1


def test_a_draft_cannot_be_signed(patient_a, documents):
    draft = ConsentDocument.objects.create(
        kind=ConsentKind.KAP_INFORMED_CONSENT, version=2, title="Draft", body="Not yet.", published_at=None
    )

    with pytest.raises(ValidationError) as refused:
        sign(patient_a, draft)

    assert "document" in refused.value.message_dict
    assert selectors.outstanding_consents(patient_a)[0] == documents[ConsentKind.KAP_INFORMED_CONSENT]


# Re-consent ---------------------------------------------------------------------------------------


def test_a_new_version_asks_the_patient_to_sign_again(api, patient, patient_a, documents):
    for kind in REQUIRED:
        sign(patient_a, documents[kind])
    assert selectors.outstanding_consents(patient_a) == []

    old = documents[ConsentKind.KAP_INFORMED_CONSENT]
    new = publish_new_version(old)

    assert selectors.outstanding_consents(patient_a) == [new]
    status = {s.kind: s for s in selectors.consent_status(patient_a)}[ConsentKind.KAP_INFORMED_CONSENT]
    assert (status.state, status.signed_version, status.document) == ("needs_resign", 1, new)
    assert status.outstanding

    stale = api.as_user(patient).post(SIGNATURES, {"document": old.pk, "typed_name": "Avery Alder"}, format="json")
    assert stale.status_code == 400
    assert "replaced" in stale.json()["document"][0]

    fresh = api.as_user(patient).post(SIGNATURES, {"document": new.pk, "typed_name": "Avery Alder"}, format="json")
    assert fresh.status_code == 201, fresh.content
    assert selectors.outstanding_consents(patient_a) == []
    status = {s.kind: s for s in selectors.consent_status(patient_a)}[ConsentKind.KAP_INFORMED_CONSENT]
    assert (status.state, status.signed_version) == ("signed", 2)
    assert ConsentSignature.objects.filter(patient=patient_a, document=old).exists(), "the old signature is kept"


def test_an_unsigned_optional_document_is_not_outstanding(patient_a, documents):
    for kind in REQUIRED:
        sign(patient_a, documents[kind])

    statuses = {s.kind: s for s in selectors.consent_status(patient_a)}

    assert statuses[ConsentKind.CONSENT_TO_TOUCH].state == "not_signed"
    assert not statuses[ConsentKind.CONSENT_TO_TOUCH].outstanding
    assert selectors.outstanding_consents(patient_a) == []


def test_a_scheduled_version_is_not_current_until_its_time(patient_a, documents):
    old = documents[ConsentKind.KAP_INFORMED_CONSENT]
    sign(patient_a, old)
    ConsentDocument.objects.create(
        kind=old.kind,
        version=2,
        title=old.title,
        body="Later.",
        published_at=timezone.now() + timezone.timedelta(days=1),
    )

    assert old not in selectors.outstanding_consents(patient_a)
    assert ConsentDocument.objects.current().get(kind=old.kind) == old


def test_signing_every_required_consent_after_the_intake_moves_the_stage_to_evaluation(patient_a, documents):
    services.patient_mark_intake_submitted(actor=patient_a.user, patient=patient_a)
    patient_a.refresh_from_db()
    assert patient_a.stage == Stage.INTAKE

    for kind in REQUIRED:
        sign(patient_a, documents[kind])

    patient_a.refresh_from_db()
    assert patient_a.stage == Stage.EVALUATION


# Immutability -------------------------------------------------------------------------------------


def test_the_database_refuses_to_change_or_delete_a_signature(patient_a, documents):
    signature = sign(patient_a, documents[ConsentKind.KAP_INFORMED_CONSENT])

    for sql in (
        "UPDATE patients_consentsignature SET typed_name = 'Someone Else' WHERE id = %s",
        "DELETE FROM patients_consentsignature WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [signature.pk])

    signature.refresh_from_db()
    assert signature.typed_name == "Avery Alder"


def test_the_model_refuses_to_change_or_delete_a_signature(patient_a, documents):
    signature = sign(patient_a, documents[ConsentKind.KAP_INFORMED_CONSENT])
    signature.typed_name = "Someone Else"

    with pytest.raises(ValidationError):
        signature.save()
    with pytest.raises(ValidationError):
        signature.delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        ConsentSignature.objects.filter(pk=signature.pk).update(typed_name="Someone Else")


def test_a_published_document_cannot_be_edited_or_deleted(documents):
    document = documents[ConsentKind.KAP_INFORMED_CONSENT]
    document.body += "\nOne more line."

    with pytest.raises(ValidationError, match="new version"):
        document.save()
    with pytest.raises(DatabaseError, match="never changes"), transaction.atomic():
        ConsentDocument.objects.filter(pk=document.pk).update(body="Changed.")
    with pytest.raises(DatabaseError, match="never deleted"), transaction.atomic():
        ConsentDocument.objects.filter(pk=document.pk).delete()


def test_a_draft_can_be_edited_then_published(documents):
    draft = ConsentDocument.objects.create(kind=ConsentKind.CONSENT_TO_TOUCH, version=2, title="Touch", body="Draft.")
    draft.body = "Final."
    draft.save()
    draft.published_at = timezone.now()
    draft.save()

    assert ConsentDocument.objects.current().get(kind=ConsentKind.CONSENT_TO_TOUCH) == draft


def test_a_new_version_must_be_higher_than_the_published_one(documents):
    draft = ConsentDocument(kind=ConsentKind.CONSENT_TO_TOUCH, version=1, title="Touch", body="Draft.")

    with pytest.raises(ValidationError) as refused:
        draft.full_clean(exclude=["kind", "version"])  # the unique check would say so less clearly

    assert "must be higher" in refused.value.message_dict["version"][0]


# Who sees what ------------------------------------------------------------------------------------


def test_foreign_therapist_and_other_patient_get_404(api, client, therapist_b, other_patient, patient_a, documents):
    sign(patient_a, documents[ConsentKind.KAP_INFORMED_CONSENT])

    for user in (therapist_b, other_patient):
        response = api.as_user(user).get(SIGNATURES, {"patient": str(patient_a.pk)})
        assert response.status_code == 404
        assert "Alder" not in response.content.decode()
        listed = api.as_user(user).get(SIGNATURES).json()["results"]
        assert all(item["patient"] != str(patient_a.pk) for item in listed)
        client.force_login(user)
        page = client.get(f"/patients/{patient_a.pk}/consents/")
        assert page.status_code == 404
        assert "Alder" not in page.content.decode()


def test_a_bad_patient_id_is_a_400(api, therapist_a):
    response = api.as_user(therapist_a).get(SIGNATURES, {"patient": "not-a-uuid"})

    assert response.status_code == 400
    assert "patient" in response.json()


@pytest.mark.parametrize("role", ["therapist_a", "prescriber", "coordinator", "patient"])
def test_the_team_coordinator_and_patient_see_the_status(api, client, cast, patient_a, documents, role):
    sign(patient_a, documents[ConsentKind.KAP_INFORMED_CONSENT])
    publish_new_version(documents[ConsentKind.KAP_INFORMED_CONSENT])

    listed = api.as_user(cast[role]).get(SIGNATURES, {"patient": str(patient_a.pk)})
    assert listed.status_code == 200
    [item] = listed.json()["results"]
    assert (item["kind"], item["version"], item["typed_name"]) == ("kap_informed_consent", 1, "Avery Alder")

    if role != "patient":
        client.force_login(cast[role])
        page = client.get(f"/patients/{patient_a.pk}/consents/")
        assert page.status_code == 200
        text = page.content.decode()
        assert "Needs re-sign (version 2)" in text
        assert "Not signed: no touch" in text


def test_an_empty_answer_about_one_patient_is_still_audited(api, coordinator, patient_a, documents):
    response = api.as_user(coordinator).get(SIGNATURES, {"patient": str(patient_a.pk)})

    assert response.json()["results"] == []
    assert AuditEvent.objects.filter(actor=coordinator, patient=patient_a, action=AuditEvent.Action.LIST).exists()


def test_status_for_many_patients_costs_two_queries(patient_a, patient_b, documents):
    sign(patient_a, documents[ConsentKind.KAP_INFORMED_CONSENT])

    with CaptureQueriesContext(connection) as captured:
        statuses = selectors.consent_status_for_patients([patient_a.pk, patient_b.pk])

    assert len(captured.captured_queries) == 2
    assert [s.state for s in statuses[patient_a.pk]][:2] == ["signed", "not_signed"]
    assert {s.state for s in statuses[patient_b.pk]} == {"not_signed"}


def test_consent_documents_are_listed_to_any_signed_in_user(api, admin_user, documents):
    response = api.as_user(admin_user).get("/api/v1/consent-documents/")

    assert response.status_code == 200
    kinds = [d["kind"] for d in response.json()["results"]]
    assert kinds == list(ConsentKind.values)
    first = response.json()["results"][0]
    assert first["text_sha256"] == hashlib.sha256(first["body"].encode()).hexdigest()


# Portal pages -------------------------------------------------------------------------------------


def test_the_patient_reads_and_signs_in_the_portal(client, patient, patient_a, documents):
    document = documents[ConsentKind.KAP_INFORMED_CONSENT]
    client.force_login(patient)

    listing = client.get("/consents/")
    assert listing.status_code == 200
    assert listing.content.decode().count("To sign") == 3

    page = client.get(f"/consents/{document.pk}/")
    assert page.status_code == 200
    assert "I have read and understand this document." in page.content.decode()

    unchecked = client.post(f"/consents/{document.pk}/", {"typed_name": "Avery Alder"})
    assert unchecked.status_code == 400
    assert "Please confirm" in unchecked.content.decode()

    wrong = client.post(f"/consents/{document.pk}/", {"typed_name": "Avery", "understood": "on"})
    assert wrong.status_code == 400
    assert "does not match your record" in wrong.content.decode()

    signed = client.post(f"/consents/{document.pk}/", {"typed_name": "avery alder", "understood": "on"})
    assert signed.status_code == 302
    assert signed["Location"] == "/consents/"
    assert ConsentSignature.objects.filter(patient=patient_a, document=document).exists()

    again = client.get(f"/consents/{document.pk}/")
    assert "You signed this version" in again.content.decode()
    assert '<form method="post" class="card' not in again.content.decode()


def test_the_body_is_escaped(client, patient, documents):
    document = publish_new_version(documents[ConsentKind.CONSENT_TO_TOUCH], body="<script>alert(1)</script>\nLine two")
    client.force_login(patient)

    text = client.get(f"/consents/{document.pk}/").content.decode()

    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;" in text
    assert "<br>Line two" in text


def test_the_consents_page_shows_what_needs_signing_again(client, patient, patient_a, documents):
    sign(patient_a, documents[ConsentKind.KAP_INFORMED_CONSENT])
    new = publish_new_version(documents[ConsentKind.KAP_INFORMED_CONSENT])
    client.force_login(patient)

    text = client.get("/consents/").content.decode()
    assert "New version to sign" in text
    assert f"/consents/{new.pk}/" in text

    old_page = client.get(f"/consents/{documents[ConsentKind.KAP_INFORMED_CONSENT].pk}/").content.decode()
    assert f"read and sign version {new.version}" in old_page


@pytest.mark.parametrize("role", ["therapist_a", "coordinator", "admin"])
def test_only_patients_reach_the_signing_pages(client, cast, documents, role):
    client.force_login(cast[role])
    before = denied_events().count()

    assert client.get("/consents/").status_code == 403
    assert client.post(f"/consents/{documents[ConsentKind.KAP_INFORMED_CONSENT].pk}/", {}).status_code == 403
    assert denied_events().count() == before + 2


def test_drafts_and_unknown_documents_are_404(client, patient, documents):
    draft = ConsentDocument.objects.create(kind=ConsentKind.CONSENT_TO_TOUCH, version=9, title="Draft", body="x")
    client.force_login(patient)

    assert client.get(f"/consents/{draft.pk}/").status_code == 404
    assert client.get("/consents/999999/").status_code == 404


def test_the_signing_pages_send_visitors_to_sign_in(client, documents):
    response = client.get("/consents/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# Query counts -------------------------------------------------------------------------------------

# Session, user, the second-factor check, count, page (documents joined) and one audit INSERT for every
# row shown (the idle clock, kept to the minute, writes nothing here).
SIGNATURE_LIST_QUERIES = 6


def make_signatures(count, patient_a, patient_b, extra_patients, documents):
    signers = [patient_a, patient_b, *extra_patients]
    kinds = list(ConsentKind.values)
    made = 0
    for patient in signers:
        for kind in kinds:
            if made == count:
                return
            sign(patient, documents[kind])
            made += 1


@pytest.mark.parametrize("size", [1, 10])
def test_signature_list_costs_the_same_at_any_size(
    api, therapist_a, prescriber, coordinator, patient_a, patient_b, documents, size
):
    extra = [
        refer(
            therapist_a,
            "Ellis",
            "Elm",
            "ellis@example.test",
            prescriber=prescriber,
            coordinator=coordinator,
            account=True,
        )
    ]
    make_signatures(size, patient_a, patient_b, extra, documents)
    client = api.as_user(coordinator)
    client.get(SIGNATURES)  # warm: the session learns the user once

    with CaptureQueriesContext(connection) as captured:
        response = client.get(SIGNATURES)

    assert response.status_code == 200
    assert response.json()["count"] == size
    assert len(captured.captured_queries) == SIGNATURE_LIST_QUERIES, [q["sql"][:60] for q in captured.captured_queries]
    assert AuditEvent.objects.filter(actor=coordinator, action=AuditEvent.Action.LIST).count() == 2 * size


# Admin --------------------------------------------------------------------------------------------


@pytest.fixture
def site_admin(db):
    from kapcare.accounts.models import User
    from tests.factories import UserFactory, enrol_totp

    user = UserFactory(role=User.Role.ADMIN, email="site.admin@example.test", is_staff=True, is_superuser=True)
    enrol_totp(user)
    return user


def test_publishing_a_new_version_in_the_admin(client, site_admin, patient_a, documents):
    old = documents[ConsentKind.KAP_INFORMED_CONSENT]
    sign(patient_a, old)
    client.force_login(site_admin)
    changelist = "/admin/patients/consentdocument/"

    page = client.get(f"{changelist}{old.pk}/change/").content.decode()
    assert "can no longer be edited" in page
    assert 'name="body"' not in page, "a published body is read-only"

    client.post(changelist, {"action": "start_new_version", "_selected_action": [old.pk]})
    draft = ConsentDocument.objects.get(kind=old.kind, version=2)
    assert draft.published_at is None
    assert old.kind not in {d.kind for d in selectors.outstanding_consents(patient_a)}, "a draft asks nobody to sign"

    edited = client.post(
        f"{changelist}{draft.pk}/change/",
        {"kind": draft.kind, "version": 2, "title": draft.title, "body": "Revised.", "required": "on"},
    )
    assert edited.status_code == 302
    client.post(changelist, {"action": "publish_now", "_selected_action": [draft.pk]})

    draft.refresh_from_db()
    assert draft.body == "Revised."
    assert draft.is_published
    assert draft in selectors.outstanding_consents(patient_a)
    assert "Replaced by a newer version" in client.get(changelist).content.decode()
