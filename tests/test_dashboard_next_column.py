"""The dashboards' patient list says, for a patient early in their course, what they are still waiting for (the
"Next" column): read with the page's own query (messaging.dashboards.selectors.with_waiting_for), it says what
the patient's invitations, intakes and consent signatures say."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.utils import timezone

from assessments.models import Intake
from patients import content
from patients.models import ConsentDocument, ConsentKind, ConsentSignature, Invitation, Patient, Stage

from .fixtures import refer

REQUIRED = [ConsentKind.KAP_INFORMED_CONSENT, ConsentKind.REMOTE_DOSING_CHAPERONE, ConsentKind.RELEASE_OF_INFORMATION]


def next_column(client, last_name):
    """The row's "Next" cell, as text."""
    page = client.get("/").content.decode()
    row = re.search(rf"<tr>\s*<th scope=\"row\"><a [^>]*>{last_name}, .*?</tr>", page, re.S)
    assert row, f"{last_name} is not on the page"
    cell = re.search(r'<td data-label="Next">(.*?)</td>', row.group(0), re.S).group(1)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", cell)).split())


def invite(patient, *, days_ago=0, **fields):
    created = timezone.now() - timedelta(days=days_ago)
    invitation = Invitation.objects.create(patient=patient, expires_at=created + timedelta(days=7), **fields)
    Invitation.objects.filter(pk=invitation.pk).update(created_at=created)
    return created


def at_stage(patient, stage):
    Patient.objects.filter(pk=patient.pk).update(stage=stage)


def sign(patient, document):
    ConsentSignature.objects.create(
        patient=patient, document=document, typed_name=patient.full_name, text_sha256="0" * 64
    )


@pytest.fixture
def documents(db):
    content.seed_current()
    return {d.kind: d for d in ConsentDocument.objects.current()}


def test_a_referred_patients_invitation(client, therapist_a, documents):
    client.force_login(therapist_a)
    refer(therapist_a, "Nia", "Nobody", "nia@example.test")
    joined = refer(therapist_a, "Jo", "Joined", "jo@example.test", account=True)
    invited = refer(therapist_a, "Ivo", "Invited", "ivo@example.test")
    revoked = refer(therapist_a, "Rae", "Revoked", "rae@example.test")
    expired = refer(therapist_a, "Eli", "Expired", "eli@example.test")
    created = invite(invited, days_ago=10, revoked_at=timezone.now())  # an older one, replaced
    created = invite(invited, days_ago=1)
    invite(revoked, revoked_at=timezone.now())
    invite(expired, days_ago=8)
    invite(joined)
    assert joined.stage == invited.stage == Stage.REFERRED

    assert next_column(client, "Nobody") == "Not invited yet"
    assert next_column(client, "Joined") == "Joined the portal"
    assert next_column(client, "Invited") == f"Invited {created:%b %-d}; not joined yet"
    assert next_column(client, "Revoked") == "Invitation link no longer works: send a new one"
    assert next_column(client, "Expired") == "Invitation link no longer works: send a new one"


def test_a_patient_at_intake(client, therapist_a, documents):
    client.force_login(therapist_a)
    nothing = refer(therapist_a, "Nat", "Nothing", "nat@example.test")
    drafted = refer(therapist_a, "Dov", "Drafted", "dov@example.test")
    ready = refer(therapist_a, "Rey", "Ready", "rey@example.test")
    for patient in (nothing, drafted, ready):
        at_stage(patient, Stage.INTAKE)
    Intake.objects.create(patient=drafted, status=Intake.Status.DRAFT)
    # Drafted signed every required consent at version 1; then the informed consent moved to version 2.
    for kind in REQUIRED:
        sign(drafted, documents[kind])
    old = documents[ConsentKind.KAP_INFORMED_CONSENT]
    new = ConsentDocument.objects.create(
        kind=old.kind, version=2, title=old.title, body="Revised.", required=True, published_at=timezone.now()
    )
    # Ready submitted the intake and signed every current required version (an optional one left unsigned).
    Patient.objects.filter(pk=ready.pk).update(intake_submitted_at=timezone.now())
    for document in [new, *(documents[kind] for kind in REQUIRED[1:])]:
        sign(ready, document)

    assert next_column(client, "Nothing") == "Waiting for: intake, 3 consents"
    assert next_column(client, "Drafted") == "Waiting for: intake in progress, 1 consent"
    assert next_column(client, "Ready") == "Ready for evaluation"
