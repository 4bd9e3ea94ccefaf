"""Every signed record behaves the same through the kernel (kapcare.signing), tested once per record:
signing, signing twice, editing after signing (service, model, raw SQL), writing a row as signed behind the
sign service's back, addenda, and a refused signature (the draft is kept, unsigned, on the API and the web)."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from assessments import services as assessment_services
from assessments.models import Evaluation
from kapcare.rules import RuleRefused
from treatment.course import services as course_services
from treatment.models import DosePlan, FollowUp, IntegrationSummary, SessionNote, TherapySession
from treatment.notes import services as note_services

from .course_states import DOSE_PLAN, EVALUATION, ready_for_evaluation, review_all_flags, signed_evaluation
from .note_states import integration_session, past_session

FOLLOW_UP_NOTE = {
    "symptoms": "Mood brighter; sleeping through the night most days.",
    "sessions_review": "Two dosing sessions, well integrated.",
    "side_effects": "None.",
    "rationale": "Good early response.",
    "decision": "continue",
}


def _evaluation(cast, complete):
    ready_for_evaluation(cast.patient)
    data = EVALUATION if complete else {"decision": "eligible"}
    return assessment_services.evaluation_save_draft(
        actor=cast.prescriber, patient=cast.patient, data=data, flag_reviews=review_all_flags(cast.patient)
    )


def _dose_plan(cast, complete):
    ready_for_evaluation(cast.patient)
    signed_evaluation(cast.prescriber, cast.patient)
    data = DOSE_PLAN if complete else {"route": "sublingual_rdt"}
    return course_services.dose_plan_save_draft(actor=cast.prescriber, patient=cast.patient, data=data)


def _follow_up(cast, complete):
    ready_for_evaluation(cast.patient)
    signed_evaluation(cast.prescriber, cast.patient)
    follow_up, _created = course_services.follow_up_start(actor=cast.prescriber, patient=cast.patient)
    data = {**FOLLOW_UP_NOTE, "next_follow_up_on": timezone.localdate() + timedelta(days=30)} if complete else {}
    return course_services.follow_up_save_draft(actor=cast.prescriber, follow_up=follow_up, data=data)


def _session_note(cast, complete):
    session = past_session(cast.therapist, cast.patient, TherapySession.Kind.PREPARATION)
    body = "Explored the intentions for the first dose; calm and clear on the plan." if complete else ""
    return note_services.note_save_draft(actor=cast.therapist, session=session, body=body)


def _integration_summary(cast, complete):
    session = integration_session(cast.therapist, cast.prescriber, cast.patient)
    data = {"themes": "Grief for the father; self-compassion."}
    if complete:
        data["concerns_for_prescriber"] = "Mild headache the evening after the dose."
    return note_services.integration_summary_save(actor=cast.therapist, session=session, data=data)


@dataclass
class Kind:
    model: type
    api: str  # the API collection
    text: str  # a column the signature covers
    draft: Callable  # (cast, complete) -> a draft, through the services
    sign: Callable  # (actor, record) -> the signed record, through the service
    edit: Callable  # (actor, record) -> the draft service, asked to change the record
    signer: str = "prescriber"
    addendum: dict | None = None  # the API body of an addendum, for records that take them


KINDS = {
    "evaluation": Kind(
        Evaluation,
        "evaluations",
        "diagnosis",
        _evaluation,
        lambda actor, r: course_services.evaluation_sign_and_advance_course(actor=actor, evaluation=r),
        lambda actor, r: assessment_services.evaluation_save_draft(
            actor=actor, patient=r.patient, data={"diagnosis": "Changed"}, evaluation=r
        ),
        addendum={"text": "Blood pressure rechecked: 122/78."},
    ),
    "dose plan": Kind(
        DosePlan,
        "dose-plans",
        "instructions_patient",
        _dose_plan,
        lambda actor, r: course_services.dose_plan_sign(actor=actor, plan=r),
        lambda actor, r: course_services.dose_plan_save_draft(
            actor=actor, patient=r.patient, data={"instructions_patient": "Changed"}, plan=r
        ),
    ),
    "follow-up": Kind(
        FollowUp,
        "follow-ups",
        "symptoms",
        _follow_up,
        lambda actor, r: course_services.follow_up_sign(actor=actor, follow_up=r),
        lambda actor, r: course_services.follow_up_save_draft(actor=actor, follow_up=r, data={"symptoms": "Changed"}),
    ),
    "progress note": Kind(
        SessionNote,
        "session-notes",
        "body",
        _session_note,
        lambda actor, r: note_services.note_sign(actor=actor, session=r.session),
        lambda actor, r: note_services.note_save_draft(actor=actor, session=r.session, body="Changed"),
        signer="therapist",
        addendum={"body": "Late addition: the patient called the next day, doing well."},
    ),
    "integration summary": Kind(
        IntegrationSummary,
        "integration-summaries",
        "themes",
        _integration_summary,
        lambda actor, r: note_services.integration_summary_sign(actor=actor, summary=r),
        lambda actor, r: note_services.integration_summary_save(
            actor=actor, session=r.session, data={"themes": "Changed"}
        ),
        signer="therapist",
        addendum={"body": "The patient's sister called: sleep is better this week."},
    ),
}


@dataclass
class Cast:
    prescriber: object
    therapist: object
    patient: object


@pytest.fixture(params=list(KINDS))
def kind(request):
    return KINDS[request.param]


@pytest.fixture
def cast(prescriber, therapist_a, patient_a):
    return Cast(prescriber, therapist_a, patient_a)


def signer_of(kind, cast):
    return getattr(cast, kind.signer)


def signed(kind, cast):
    return kind.sign(signer_of(kind, cast), kind.draft(cast, True))


def refused_sql(sql, params):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_signing_records_signer_time_and_hash_and_a_second_signature_is_refused(api, kind, cast):
    record = signed(kind, cast)

    stored = kind.model.objects.get(pk=record.pk)
    signer = signer_of(kind, cast)
    assert (stored.status, stored.signed_by, stored.is_signed) == ("signed", signer, True)
    assert stored.signed_at is not None and len(stored.content_hash) == 64
    again = api.as_user(signer).post(f"/api/v1/{kind.api}/{record.pk}/sign/")
    assert again.status_code == 409, again.content
    with pytest.raises(RuleRefused):
        kind.sign(signer, stored)
    assert kind.model.objects.get(pk=record.pk).signed_at == stored.signed_at


def test_a_signed_record_never_changes_through_the_service_the_model_or_raw_sql(kind, cast):
    record = signed(kind, cast)
    table = kind.model._meta.db_table
    before = getattr(kind.model.objects.get(pk=record.pk), kind.text)

    with pytest.raises(RuleRefused):
        kind.edit(signer_of(kind, cast), record)
    setattr(record, kind.text, "Changed")
    with pytest.raises(ValidationError, match="locked"):
        record.save()
    with pytest.raises(ValidationError, match="locked"):
        record.delete()
    refused_sql(f"UPDATE {table} SET {kind.text} = 'Changed' WHERE id = %s", [record.pk])  # noqa: S608
    refused_sql(f"UPDATE {table} SET status = 'draft' WHERE id = %s", [record.pk])  # noqa: S608
    refused_sql(f"DELETE FROM {table} WHERE id = %s", [record.pk])  # noqa: S608

    assert getattr(kind.model.objects.get(pk=record.pk), kind.text) == before


def test_a_row_becomes_signed_only_through_the_sign_service(kind, cast):
    draft = kind.draft(cast, True)
    table = kind.model._meta.db_table
    signer = signer_of(kind, cast)

    forged = kind.model.objects.get(pk=draft.pk)
    forged.status, forged.signed_at, forged.signed_by, forged.content_hash = "signed", timezone.now(), signer, "0" * 64
    with pytest.raises(ValidationError, match="sign service"):  # the model guard
        forged.save()
    refused_sql(  # a raw UPDATE of the draft into a signed row
        f"UPDATE {table} SET status = 'signed', signed_at = now(), signed_by_id = %s, content_hash = %s "  # noqa: S608
        "WHERE id = %s",
        [signer.pk, "0" * 64, draft.pk],
    )
    twin = forged
    twin.id = uuid.uuid4()
    with pytest.raises(DatabaseError), transaction.atomic():
        kind.model.objects.bulk_create([twin])  # an INSERT as signed, past the model: the trigger refuses it

    assert kind.model.objects.get(pk=draft.pk).status == "draft"
    assert not kind.model.objects.filter(status="signed").exists()


def test_a_refused_signature_keeps_the_draft_through_the_api(api, kind, cast):
    draft = kind.draft(cast, False)

    response = api.as_user(signer_of(kind, cast)).post(f"/api/v1/{kind.api}/{draft.pk}/sign/")

    assert response.status_code == 400, response.content
    kept = kind.model.objects.get(pk=draft.pk)
    assert (kept.status, kept.signed_at, kept.signed_by, kept.content_hash) == ("draft", None, None, "")


def test_addenda_are_added_to_a_signed_record_only(api, kind, cast):
    if kind.addendum is None:
        pytest.skip("this record is corrected by a new version or visit, not by addenda")
    draft = kind.draft(cast, True)
    client = api.as_user(signer_of(kind, cast))

    early = client.post(f"/api/v1/{kind.api}/{draft.pk}/addenda/", kind.addendum, format="json")
    assert early.status_code == 409, early.content
    record = kind.sign(signer_of(kind, cast), draft)
    added = client.post(f"/api/v1/{kind.api}/{record.pk}/addenda/", kind.addendum, format="json")
    assert added.status_code == 201, added.content
    listed = client.get(f"/api/v1/{kind.api}/{record.pk}/addenda/")
    assert listed.status_code == 200 and len(listed.json()) == 1
    assert kind.model.objects.get(pk=record.pk).content_hash == record.content_hash


WEB = {
    "evaluation": ("evaluation", {"decision": "eligible"}),
    "dose plan": ("dose-plan", {"route": "sublingual_rdt"}),
    "follow-up": ("follow-up", {"symptoms": "Typed, then signed too early."}),
}
SESSION_WEB = {  # the session page's forms: (the form's URL under the notes page, the typed field and value)
    "progress note": ("progress/", "note-body", "body", ""),
    "integration summary": ("integration-summary/", "summary-themes", "themes", "Typed, then signed too early."),
}


@pytest.mark.parametrize("name", list(WEB))
def test_a_refused_signature_keeps_the_typed_draft_on_the_web(client, name, cast):
    kind = KINDS[name]
    draft = kind.draft(cast, False)
    page, typed = WEB[name]
    client.force_login(cast.prescriber)

    pending = {"due_on": draft.due_on.isoformat()} if name == "follow-up" else {}
    response = client.post(f"/patients/{cast.patient.pk}/{page}/", {**typed, **pending, "action": "sign"})

    assert response.status_code in (200, 409), response.status_code
    kept = kind.model.objects.get(pk=draft.pk)
    assert kept.status == "draft"
    field, value = next(iter(typed.items()))
    assert getattr(kept, field) == value, "the draft the user typed is saved"


@pytest.mark.parametrize("name", list(SESSION_WEB))
def test_a_refused_signature_keeps_the_typed_draft_on_the_session_page(client, name, cast):
    kind = KINDS[name]
    draft = kind.draft(cast, False)
    url, field, column, typed = SESSION_WEB[name]
    page = f"/patients/{cast.patient.pk}/sessions/{draft.session_id}/notes/"
    client.force_login(cast.therapist)

    response = client.post(f"{page}{url}", {field: typed, "action": "sign", "next": page}, follow=True)

    assert "saved but not signed" in response.content.decode()
    kept = kind.model.objects.get(pk=draft.pk)
    assert (kept.status, getattr(kept, column)) == ("draft", typed), "the draft the user typed is saved"
