"""A psychotherapy note is its author's alone. Nobody else reads it through any route: the chart, the session
page, every API list and detail, the access history (page and audit-events API), the dashboards and the admin.
Search and export do not exist yet; any export of documentation goes through note_selectors.patient_documentation,
which never includes one (asserted here). The access matrix lists the routes as author-only."""

import pytest
from django.contrib import admin
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from patients.models import CareTeamMember
from tests.factories import UserFactory, enrol_totp
from tests.note_states import past_session
from tests.test_access_matrix import ROUTES
from treatment.models import PsychotherapyNote, TherapySession
from treatment.notes import selectors as note_selectors
from treatment.notes import services as note_services
from treatment.notes.selectors import visible_psychotherapy_notes

URL = "/api/v1/psychotherapy-notes/"
SECRET = "Process note: childhood memory of the lake house surfaced; transference toward me noted."


@pytest.fixture
def colleague(therapist_a2, patient_a):
    """Another therapist on patient A's care team: sees the patient and their progress notes, not this note."""
    CareTeamMember.objects.create(patient=patient_a, clinician=therapist_a2, role=CareTeamMember.Role.THERAPIST)
    return therapist_a2


@pytest.fixture
def superuser(db):
    user = UserFactory(role=User.Role.ADMIN, is_staff=True, is_superuser=True, email="root@example.test")
    enrol_totp(user)
    return user


@pytest.fixture
def written(api, therapist_a, patient_a):
    session = past_session(therapist_a, patient_a, TherapySession.Kind.PREPARATION)
    response = api.as_user(therapist_a).post(URL, {"session": str(session.pk), "body": SECRET}, format="json")
    assert response.status_code == 201, response.content
    note_services.note_save_draft(actor=therapist_a, session=session, body="Progress note for the team.")
    return PsychotherapyNote.objects.get(pk=response.json()["id"])


@pytest.fixture
def others(cast, colleague, superuser):
    users = {name: user for name, user in cast.items() if name != "therapist_a"}
    return {**users, "colleague on the team": colleague, "superuser": superuser}


def readable_routes(patient, note):
    """Every GET route of the API, pointed at this patient (or the note, the session, the note's progress note)."""
    for route, methods in ROUTES.items():
        if "GET" not in methods:
            continue
        yield route.format(id=patient.pk)
    yield f"{URL}{note.pk}/"
    yield f"{URL}?patient={patient.pk}"
    yield f"/api/v1/sessions/{note.session_id}/"
    yield f"/api/v1/session-notes/?patient={patient.pk}"


def pages(patient, note):
    return [
        "/",
        f"/patients/{patient.pk}/",
        f"/patients/{patient.pk}/access-history/",
        f"/patients/{patient.pk}/sessions/{note.session_id}/",
        f"/patients/{patient.pk}/sessions/{note.session_id}/notes/",
        "/admin/treatment/",
        "/admin/audit/auditevent/",
    ]


def test_the_author_reads_and_rewrites_their_own(api, client, therapist_a, patient_a, written):
    client_api = api.as_user(therapist_a)

    listed = client_api.get(URL).json()["results"]
    detail = client_api.get(f"{URL}{written.pk}/")
    rewritten = client_api.patch(f"{URL}{written.pk}/", {"body": SECRET + " More."}, format="json")

    assert [item["body"] for item in listed] == [SECRET]
    assert detail.status_code == 200
    assert rewritten.status_code == 200
    assert PsychotherapyNote.objects.get(pk=written.pk).body == SECRET + " More."
    client.force_login(therapist_a)
    page = client.get(f"/patients/{patient_a.pk}/sessions/{written.session_id}/").content.decode()
    assert SECRET in page
    assert "Only you can ever read this psychotherapy note" in page
    assert "the prescriber, the coordinator, the patient" in page


def test_nobody_else_reads_it_through_any_api_route(api, patient_a, written, others):
    for name, user in others.items():
        client = api.as_user(user)
        for path in readable_routes(patient_a, written):
            response = client.get(path)
            assert SECRET not in response.content.decode(), f"{name} read it at {path}"
        assert client.get(f"{URL}{written.pk}/").status_code in (401, 404), name


def test_nobody_else_reads_it_on_any_page(client, patient_a, written, others):
    for name, user in others.items():
        client.logout()
        if user.is_authenticated:
            client.force_login(user)
        for path in pages(patient_a, written):
            response = client.get(path, follow=True)
            assert SECRET not in response.content.decode(), f"{name} read it at {path}"


def test_nobody_else_can_change_it_or_learn_it_exists(api, patient_a, written, others):
    for name, user in others.items():
        client = api.as_user(user)
        response = client.patch(f"{URL}{written.pk}/", {"body": "Overwritten"}, format="json")
        assert response.status_code in (401, 404), name
        assert "Overwritten" not in PsychotherapyNote.objects.get(pk=written.pk).body
        listed = client.get(URL)
        if listed.status_code == 200:
            assert listed.json()["results"] == [], name


def test_a_colleague_on_the_team_keeps_their_own_separately(api, colleague, written):
    client = api.as_user(colleague)

    response = client.post(URL, {"session": str(written.session_id), "body": "My own impressions."}, format="json")

    assert response.status_code == 201, response.content
    assert [item["body"] for item in client.get(URL).json()["results"]] == ["My own impressions."]
    assert PsychotherapyNote.objects.get(pk=written.pk).body == SECRET


def test_the_author_off_the_care_team_no_longer_reads_it(api, therapist_a, patient_a, written):
    CareTeamMember.objects.filter(patient=patient_a, clinician=therapist_a).update(active_to=timezone.now())

    client = api.as_user(therapist_a)

    assert client.get(f"{URL}{written.pk}/").status_code == 404
    assert client.get(URL).json()["results"] == []


def test_the_only_door_is_the_authors(therapist_a, prescriber, coordinator, patient, admin_user, written, colleague):
    assert list(visible_psychotherapy_notes(therapist_a)) == [written]
    for user in (prescriber, coordinator, patient, admin_user, colleague):
        assert not visible_psychotherapy_notes(user).exists()


def test_it_is_not_in_the_admin(client, superuser, written):
    client.force_login(superuser)

    assert PsychotherapyNote not in admin.site._registry
    assert client.get(f"/admin/treatment/psychotherapynote/{written.pk}/change/").status_code == 404
    assert client.get("/admin/treatment/psychotherapynote/").status_code == 404


def test_exports_of_documentation_never_include_it(therapist_a, prescriber, patient_a, written):
    for user in (therapist_a, prescriber):
        exported = note_selectors.patient_documentation(user, patient_a)
        texts = [note.body for note in exported["notes"]]
        assert texts == ["Progress note for the team."]
        assert SECRET not in repr(exported)


def test_its_audit_rows_carry_ids_only(api, therapist_a, prescriber, patient_a, written):
    api.as_user(therapist_a).get(f"{URL}{written.pk}/")
    api.as_user(prescriber).get(f"{URL}{written.pk}/")

    rows = AuditEvent.objects.filter(object_type="treatment.psychotherapynote", object_id=str(written.pk))

    assert {(row.actor_id, row.action, row.outcome) for row in rows} >= {
        (therapist_a.pk, "create", "allowed"),
        (therapist_a.pk, "read", "allowed"),
        (prescriber.pk, "read", "denied"),
    }
    assert not any(SECRET in str(values) for values in AuditEvent.objects.values())
    history = api.as_user(prescriber).get(f"/api/v1/audit-events/?patient={patient_a.pk}")
    assert history.status_code == 200
    assert SECRET not in history.content.decode()
    # Even that the note exists is the author's: others see no row about it but their own refused attempt.
    about_note = [row for row in history.json()["results"] if row["object_id"] == str(written.pk)]
    assert about_note and all(
        row["actor"] == (prescriber.get_full_name() or prescriber.email) and row["outcome"] == "denied"
        for row in about_note
    )
    own_history = api.as_user(therapist_a).get(f"/api/v1/audit-events/?patient={patient_a.pk}&page_size=500")
    assert str(written.pk) in own_history.content.decode()


def test_only_a_therapist_on_the_team_can_keep_one(api, prescriber, coordinator, patient, therapist_b, patient_a):
    session = past_session(patient_a.referred_by, patient_a, TherapySession.Kind.PREPARATION)
    body = {"session": str(session.pk), "body": "x"}

    assert api.as_user(prescriber).post(URL, body, format="json").status_code == 403
    assert api.as_user(coordinator).post(URL, body, format="json").status_code == 403
    assert api.as_user(patient).post(URL, body, format="json").status_code == 403
    assert api.as_user(therapist_b).post(URL, body, format="json").status_code == 404
    assert not PsychotherapyNote.objects.exists()
