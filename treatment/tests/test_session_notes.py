"""The session's progress note: drafted, signed and locked with a hash, corrected by signed addenda; a dosing
session's note is signed only with its record complete, naming what is missing; a signed note and the
session's records cannot change through the API, the admin, the ORM or raw SQL; coordinators see whether a
session is documented, never what its note says; the dashboard lists what is undocumented."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.rules import RuleRefused
from tests.factories import UserFactory, enrol_totp
from tests.fixtures import refer
from tests.note_states import (
    IN_RANGE,
    documented_dosing_session,
    dosing_session,
    past_session,
    record_end,
    record_pre_dose_and_dose,
)
from treatment.course import services as course_services
from treatment.models import DosingRecord, FollowUp, SessionNote, SessionNoteAddendum, TherapySession, VitalsReading
from treatment.notes import selectors as note_selectors
from treatment.notes import services as note_services
from treatment.sessions import services as session_services

URL = "/api/v1/session-notes/"
BODY = "Explored the intentions for the first dose; patient calm, grounded, clear on the plan."


def write(api, user, session, body=BODY, **extra):
    return api.as_user(user).post(URL, {"session": str(session.pk), "body": body, **extra}, format="json")


def signed_note(therapist, session, body=BODY):
    note_services.note_save_draft(actor=therapist, session=session, body=body)
    return note_services.note_sign(actor=therapist, session=session)


def test_draft_then_sign_then_only_addenda(api, therapist_a, prescriber, patient_a):
    session = past_session(therapist_a, patient_a, TherapySession.Kind.PREPARATION)

    draft = write(api, therapist_a, session, body="First thoughts")
    assert draft.status_code == 201, draft.content
    assert draft.json()["status"] == "draft"
    note_id = draft.json()["id"]
    client = api.as_user(therapist_a)
    assert client.patch(f"{URL}{note_id}/", {"body": BODY}, format="json").status_code == 200

    signed = client.post(f"{URL}{note_id}/sign/")

    assert signed.status_code == 200, signed.content
    body = signed.json()
    assert body["status"] == "signed"
    assert body["body"] == BODY
    assert len(body["content_hash"]) == 64
    assert body["signed_at"]
    edited = client.patch(f"{URL}{note_id}/", {"body": "Rewritten"}, format="json")
    assert edited.status_code == 409
    assert edited.json()["code"] == "session_note_signed"
    assert "addendum" in edited.json()["detail"]
    assert write(api, therapist_a, session, body="Rewritten").status_code == 409
    assert client.post(f"{URL}{note_id}/sign/").status_code == 409
    addendum = client.post(f"{URL}{note_id}/addenda/", {"body": "Patient phoned: slept well."}, format="json")
    assert addendum.status_code == 201, addendum.content
    assert len(addendum.json()["content_hash"]) == 64
    read = api.as_user(prescriber).get(f"{URL}{note_id}/")
    assert read.status_code == 200
    assert read.json()["body"] == BODY
    assert [a["body"] for a in read.json()["addenda"]] == ["Patient phoned: slept well."]
    assert SessionNote.objects.get(pk=note_id).body == BODY


def test_an_addendum_to_a_draft_is_refused(api, therapist_a, patient_a):
    session = past_session(therapist_a, patient_a, TherapySession.Kind.PREPARATION)
    note_id = write(api, therapist_a, session).json()["id"]

    response = api.as_user(therapist_a).post(f"{URL}{note_id}/addenda/", {"body": "x"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "session_note_not_signed"


def test_an_empty_note_cannot_be_signed(api, therapist_a, patient_a):
    session = past_session(therapist_a, patient_a, TherapySession.Kind.PREPARATION)

    response = write(api, therapist_a, session, body="  ", sign=True)

    assert response.status_code == 400
    assert "body" in response.json()
    assert SessionNote.objects.get(session=session).status == "draft", "a refused signature keeps the draft"


def test_a_future_session_note_cannot_be_signed(therapist_a, patient_a):
    session = session_services.session_schedule(
        actor=therapist_a, patient=patient_a, kind="preparation", scheduled_at=timezone.now() + timedelta(days=2)
    )
    note_services.note_save_draft(actor=therapist_a, session=session, body=BODY)

    with pytest.raises(RuleRefused) as refused:
        note_services.note_sign(actor=therapist_a, session=session)

    assert refused.value.code == "session_not_started"


def test_only_the_therapist_on_the_team_writes_notes(api, therapist_b, prescriber, coordinator, patient, patient_a):
    session = past_session(patient_a.referred_by, patient_a, TherapySession.Kind.PREPARATION)

    assert write(api, prescriber, session).status_code == 403
    assert write(api, coordinator, session).status_code == 403
    assert write(api, patient, session).status_code == 403
    assert write(api, therapist_b, session).status_code == 404
    assert not SessionNote.objects.filter(session=session).exists()


def test_a_dosing_note_is_refused_naming_every_missing_part(api, therapist_a, prescriber, patient_a):
    session = dosing_session(therapist_a, prescriber, patient_a)

    nothing = write(api, therapist_a, session, sign=True)

    assert nothing.status_code == 400, nothing.content
    missing = " ".join(nothing.json()["documentation"])
    for part in [
        "pre-dose vitals",
        "the dose taken",
        "end-of-session vitals",
        "the time the session ended",
        "alert and oriented",
        "vitals back near baseline",
        "safe transport",
    ]:
        assert part in missing, part
    assert SessionNote.objects.get(session=session).status == "draft"  # the draft is kept, unsigned

    record_pre_dose_and_dose(therapist_a, session)
    half = write(api, therapist_a, session, sign=True)

    assert half.status_code == 400
    missing = " ".join(half.json()["documentation"])
    assert "pre-dose vitals" not in missing
    assert "the dose taken" not in missing
    assert "end-of-session vitals" in missing
    assert "the time the session ended" in missing

    record_end(therapist_a, session)
    complete = write(api, therapist_a, session, sign=True)

    assert complete.status_code == 200, complete.content  # the draft kept by the refused attempts, now signed
    assert complete.json()["status"] == "signed"


def test_the_session_page_says_what_is_missing(client, therapist_a, prescriber, patient_a):
    session = dosing_session(therapist_a, prescriber, patient_a)
    client.force_login(therapist_a)
    page = f"/patients/{patient_a.pk}/sessions/{session.pk}/notes/"

    response = client.post(f"{page}progress/", {"note-body": BODY, "action": "sign", "next": page}, follow=True)

    text = response.content.decode()
    assert "saved but not signed" in text
    assert "Record pre-dose vitals before signing" in text
    assert SessionNote.objects.get(session=session).status == "draft"
    assert BODY in text, "the draft is kept"


def test_signing_on_the_page_shows_the_hash_signer_and_addendum_form(client, therapist_a, prescriber, patient_a):
    session = past_session(therapist_a, patient_a, TherapySession.Kind.PREPARATION)
    client.force_login(therapist_a)
    page = f"/patients/{patient_a.pk}/sessions/{session.pk}/notes/"

    client.post(f"{page}progress/", {"note-body": BODY, "action": "save", "next": page})
    response = client.post(f"{page}progress/", {"note-body": BODY, "action": "sign", "next": page}, follow=True)

    note = SessionNote.objects.get(session=session)
    text = response.content.decode()
    assert note.is_signed
    assert note.content_hash in text
    assert f"Signed by {therapist_a}" in text
    assert "Add an addendum" in text
    assert 'name="note-body"' not in text, "a signed note has no edit form"

    client.post(f"{page}addenda/", {"addendum-body": "Follow-up call: sleeping well.", "next": page})
    assert "Follow-up call: sleeping well." in client.get(page).content.decode()
    client.force_login(prescriber)
    prescriber_view = client.get(page).content.decode()
    assert BODY in prescriber_view
    assert "Add an addendum" not in prescriber_view


def test_signed_note_cannot_change_through_the_orm_or_raw_sql(therapist_a, patient_a):
    session = past_session(therapist_a, patient_a, TherapySession.Kind.PREPARATION)
    note = signed_note(therapist_a, session)
    addendum = note_services.note_add_addendum(actor=therapist_a, note=note, body="Late addition.")

    for sql, pk in [
        ("UPDATE treatment_sessionnote SET body = 'Edited' WHERE id = %s", note.pk),
        ("UPDATE treatment_sessionnote SET status = 'draft' WHERE id = %s", note.pk),
        ("DELETE FROM treatment_sessionnote WHERE id = %s", note.pk),
        ("UPDATE treatment_sessionnoteaddendum SET body = 'Edited' WHERE id = %s", addendum.pk),
        ("DELETE FROM treatment_sessionnoteaddendum WHERE id = %s", addendum.pk),
    ]:
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [pk])
    note.body = "Edited"
    with pytest.raises(ValidationError, match="signed and locked"), transaction.atomic():
        note.save()  # the model's guard, before the database's

    assert SessionNote.objects.get(pk=note.pk).body == BODY
    assert SessionNoteAddendum.objects.get(pk=addendum.pk).body == "Late addition."


def test_a_signed_dosing_note_freezes_the_dosing_record(therapist_a, prescriber, patient_a):
    session = documented_dosing_session(therapist_a, prescriber, patient_a)
    signed_note(therapist_a, session)

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE treatment_dosingrecord SET dose_mg = 150 WHERE session_id = %s", [session.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        VitalsReading.objects.create(
            session=session,
            patient=patient_a,
            phase="end",
            taken_at=timezone.now(),
            in_range=True,
            recorded_by=therapist_a,
            **IN_RANGE,
        )
    with pytest.raises(RuleRefused):
        note_services.note_save_draft(actor=therapist_a, session=session, body="Rewritten")
    assert DosingRecord.objects.get(session=session).dose_mg == 100


def test_signed_note_cannot_change_through_the_admin(client, therapist_a, patient_a):
    session = past_session(therapist_a, patient_a, TherapySession.Kind.PREPARATION)
    note = signed_note(therapist_a, session)
    superuser = UserFactory(role=User.Role.ADMIN, is_staff=True, is_superuser=True, email="root@example.test")
    enrol_totp(superuser)
    client.force_login(superuser)
    url = f"/admin/treatment/sessionnote/{note.pk}/change/"

    page = client.get(url)
    client.post(url, {"body": "Edited in the admin", "status": "draft"})
    client.post(f"/admin/treatment/sessionnote/{note.pk}/delete/", {"post": "yes"})

    assert page.status_code == 200
    assert BODY not in page.content.decode(), "the admin shows no clinical content"
    assert note.content_hash in page.content.decode()
    note.refresh_from_db()
    assert note.status == "signed"
    assert note.body == BODY


def test_coordinator_sees_the_state_never_the_body(api, client, therapist_a, coordinator, patient_a):
    session = past_session(therapist_a, patient_a, TherapySession.Kind.PREPARATION)
    session_services.session_complete(actor=therapist_a, session=session)
    note = signed_note(therapist_a, session)
    client.force_login(coordinator)

    chart = client.get(f"/patients/{patient_a.pk}/chart/sessions/").content.decode()
    notes_page = client.get(f"/patients/{patient_a.pk}/sessions/{session.pk}/notes/")

    assert "Note signed" in chart
    assert BODY not in chart
    assert notes_page.status_code == 200
    assert "Note signed" in notes_page.content.decode()
    assert BODY not in notes_page.content.decode()
    assert api.as_user(coordinator).get(f"{URL}{note.pk}/").status_code == 403
    assert api.as_user(coordinator).get(URL).status_code == 403


def test_the_chart_shows_each_sessions_documentation_state(client, therapist_a, prescriber, patient_a):
    signed = past_session(therapist_a, patient_a, TherapySession.Kind.PREPARATION, hours_ago=5)
    session_services.session_complete(actor=therapist_a, session=signed)
    signed_note(therapist_a, signed)
    undocumented = past_session(therapist_a, patient_a, TherapySession.Kind.PREPARATION, hours_ago=2)
    session_services.session_complete(actor=therapist_a, session=undocumented)
    client.force_login(prescriber)

    chart = client.get(f"/patients/{patient_a.pk}/chart/sessions/").content.decode()

    assert "note signed" in chart.lower()
    assert "no note yet" in chart.lower()


def test_reads_and_writes_are_audited_with_ids_only(api, therapist_a, prescriber, patient_a):
    session = past_session(therapist_a, patient_a, TherapySession.Kind.PREPARATION)
    note_id = write(api, therapist_a, session, sign=True).json()["id"]
    api.as_user(prescriber).get(f"{URL}{note_id}/")

    rows = AuditEvent.objects.filter(object_type="treatment.sessionnote", object_id=note_id)

    assert {(row.actor_id, row.action) for row in rows} >= {
        (therapist_a.pk, "create"),
        (therapist_a.pk, "update"),
        (prescriber.pk, "read"),
    }
    assert all(row.patient_id == patient_a.pk for row in rows)
    assert not any(BODY in str(values) for values in AuditEvent.objects.values())


def test_dashboard_lists_unsigned_notes_and_missing_documentation_before_follow_up(
    client, therapist_a, prescriber, patient_a
):
    session = documented_dosing_session(therapist_a, prescriber, patient_a)
    follow_up, _created = course_services.follow_up_start(actor=prescriber, patient=patient_a)
    note_services.note_save_draft(actor=therapist_a, session=session, body="Started writing.")

    # The preparation session of ready_to_dose was completed without a note too.
    preparation = TherapySession.objects.get(patient=patient_a, kind="preparation")
    assert [s.pk for s in note_selectors.unsigned_notes(therapist_a)] == [preparation.pk, session.pk]
    missing = note_selectors.missing_before_follow_up(prescriber)
    assert [(m.session.pk, m.follow_up_due_on) for m in missing] == [
        (preparation.pk, follow_up.due_on),
        (session.pk, follow_up.due_on),
    ]
    client.force_login(therapist_a)
    therapist_dashboard = client.get("/").content.decode()
    assert "Unsigned notes" in therapist_dashboard
    assert "Sessions missing documentation before the next follow-up" in therapist_dashboard
    client.force_login(prescriber)
    assert "Sessions missing documentation before the next follow-up" in client.get("/").content.decode()

    note_services.note_sign(actor=therapist_a, session=session)

    assert [s.pk for s in note_selectors.unsigned_notes(therapist_a)] == [preparation.pk]
    assert [m.session.pk for m in note_selectors.missing_before_follow_up(prescriber)] == [preparation.pk]


def test_the_sign_service_names_what_is_missing_in_words(therapist_a, prescriber, patient_a):
    session = dosing_session(therapist_a, prescriber, patient_a)
    note_services.note_save_draft(actor=therapist_a, session=session, body=BODY)

    with pytest.raises(ValidationError) as refused:
        note_services.note_sign(actor=therapist_a, session=session)

    assert "Record pre-dose vitals before signing this dosing session's note." in refused.value.messages


@pytest.mark.parametrize("count", [1, 6])
def test_documentation_panels_cost_one_query_each(
    django_assert_num_queries, therapist_a, prescriber, coordinator, patient_a, count
):
    follow_up_patients = [patient_a] + [
        refer(
            therapist_a, f"Pat{n}", f"Docs{n}", f"docs{n}@example.test", prescriber=prescriber, coordinator=coordinator
        )
        for n in range(count - 1)
    ]
    for patient in follow_up_patients:
        session = past_session(therapist_a, patient, TherapySession.Kind.PREPARATION)
        session_services.session_complete(actor=therapist_a, session=session)
        note_services.note_save_draft(actor=therapist_a, session=session, body="Started.")
        FollowUp.objects.create(course=session.course, patient=patient, due_on=timezone.localdate())

    with django_assert_num_queries(1):
        unsigned = note_selectors.unsigned_notes(therapist_a)
        assert [s.patient.last_name for s in unsigned] and all(s.note.status == "draft" for s in unsigned)
    with django_assert_num_queries(1):
        missing = note_selectors.missing_before_follow_up(prescriber)
        assert {m.patient.pk for m in missing} == {p.pk for p in follow_up_patients}
    with django_assert_num_queries(0):
        assert note_selectors.unsigned_notes(prescriber) == []
        assert note_selectors.missing_before_follow_up(coordinator) == []


def test_documented_session_ids_are_those_with_a_signed_note(therapist_a, patient_a):
    signed = past_session(therapist_a, patient_a, TherapySession.Kind.PREPARATION, hours_ago=3)
    signed_note(therapist_a, signed)
    drafted = past_session(therapist_a, patient_a, TherapySession.Kind.PREPARATION, hours_ago=2)
    note_services.note_save_draft(actor=therapist_a, session=drafted, body="Started.")
    bare = past_session(therapist_a, patient_a, TherapySession.Kind.PREPARATION)

    assert note_selectors.documented_session_ids([signed.pk, drafted.pk, bare.pk]) == {signed.pk}


def test_the_patient_sees_their_sessions_not_the_notes(api, client, therapist_a, patient, patient_a):
    session = past_session(therapist_a, patient_a, TherapySession.Kind.PREPARATION)
    session_services.session_complete(actor=therapist_a, session=session)
    note = signed_note(therapist_a, session)
    client.force_login(patient)

    for path in [f"/patients/{patient_a.pk}/", f"/patients/{patient_a.pk}/sessions/{session.pk}/", "/"]:
        text = client.get(path, follow=True).content.decode()
        assert BODY not in text, path
        assert "Note signed" not in text, path
    assert client.get(f"/patients/{patient_a.pk}/sessions/{session.pk}/notes/").status_code == 403
    assert api.as_user(patient).get(f"{URL}{note.pk}/").status_code == 403
