"""Due work is stored (patients.models.DueItem) and the dashboards read it: the stored answer must equal what
the rules derive (treatment's selectors, unchanged) for every kind, after each kind of write through the
services, after writes that go around them once reconciled, and on seed data."""

import os
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from assessments.models import QuestionnaireResponse
from assessments.questionnaires import services as questionnaire_services
from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from messaging.dashboards import due_selectors
from patients import due_work
from patients import services as patient_services
from patients.models import DueItem, SafetyAlert
from treatment.course import selectors as course_selectors
from treatment.measurement import selectors as measurement_selectors
from treatment.models import FollowUp, TherapySession
from treatment.notes import selectors as note_selectors
from treatment.notes import services as note_services
from treatment.sessions import selectors as session_selectors
from treatment.sessions import services as session_services

from .course_states import (
    completed_session,
    ready_for_evaluation,
    ready_to_dose,
    signed_dose_plan,
    signed_evaluation,
)
from .factories import enrol_totp

Kind = DueItem.Kind
ALL = 10_000


def derived(user) -> dict:
    """{kind: set of items} as the rules answer for this user (what the dashboards computed before)."""
    follow_ups = course_selectors.follow_ups_due(user, limit=ALL) if user.role == User.Role.PRESCRIBER else []
    plans = course_selectors.dose_plans_nearing_exhaustion(user, limit=ALL) if user.role == User.Role.PRESCRIBER else []
    return {
        Kind.QUESTIONNAIRE: {
            (d.patient.pk, d.code, d.due_on, d.reason) for d in measurement_selectors.questionnaires_due(user)
        },
        Kind.FOLLOW_UP: {(d.patient.pk, str(d.follow_up.pk), d.due_on) for d in follow_ups},
        Kind.DOSE_PLAN_ENDING: {(p.patient_id, str(p.pk)) for p in plans},
        Kind.NOTE_TO_SIGN: {(s.patient_id, str(s.pk)) for s in note_selectors.unsigned_notes(user, limit=ALL)},
        Kind.DOCUMENTATION: {
            (d.patient.pk, str(d.session.pk), d.follow_up_due_on)
            for d in note_selectors.missing_before_follow_up(user, limit=ALL)
        },
        Kind.HELD_SESSION: {
            (h.session.patient_id, str(h.session.pk), h.hold.message)
            for h in session_selectors.held_dosing_sessions(user, limit=ALL)
        },
    }


def stored(user) -> dict:
    """The same, read from the stored rows the way the dashboard panels read them."""
    rows = {kind: due_selectors.due_rows(user, kind, limit=ALL) for kind in Kind.values}
    shape = {
        Kind.QUESTIONNAIRE: lambda r: (r.patient_id, r.key, r.due_on, r.detail),
        Kind.FOLLOW_UP: lambda r: (r.patient_id, r.key, r.due_on),
        Kind.DOSE_PLAN_ENDING: lambda r: (r.patient_id, r.key),
        Kind.NOTE_TO_SIGN: lambda r: (r.patient_id, r.key),
        Kind.DOCUMENTATION: lambda r: (r.patient_id, r.key, r.due_on),
        Kind.HELD_SESSION: lambda r: (r.patient_id, r.key, r.detail),
    }
    return {kind: {shape[kind](row) for row in rows[kind]} for kind in Kind.values}


def assert_stored_equals_derived(*users):
    for user in users:
        assert stored(user) == derived(user), user.role


def kinds_due(user):
    return {kind for kind, items in stored(user).items() if items}


def test_each_write_keeps_the_stored_work_equal_to_the_rules(therapist_a, prescriber, patient_a):
    team = (therapist_a, prescriber)
    ready_for_evaluation(patient_a)
    signed_evaluation(prescriber, patient_a)  # the course opens: baselines are due
    assert_stored_equals_derived(*team)
    assert Kind.QUESTIONNAIRE in kinds_due(therapist_a)

    questionnaire_services.questionnaire_submit(
        actor=patient_a.user, patient=patient_a, instrument="phq9", answers=[1] * 8 + [0], difficulty=1
    )
    assert_stored_equals_derived(*team)
    assert {row[1] for row in stored(prescriber)[Kind.QUESTIONNAIRE]} == {"gad7"}
    questionnaire_services.questionnaire_submit(
        actor=therapist_a, patient=patient_a, instrument="gad7", answers=[1] * 7
    )
    assert_stored_equals_derived(*team)
    assert Kind.QUESTIONNAIRE not in kinds_due(prescriber)  # baselines answered (the next ones come with time)

    completed_session(therapist_a, patient_a, TherapySession.Kind.PREPARATION, at=timezone.now() - timedelta(days=9))
    assert_stored_equals_derived(*team)
    assert Kind.NOTE_TO_SIGN in kinds_due(therapist_a)  # the preparation session's note

    plan = signed_dose_plan(prescriber, patient_a, doses_authorized=2)
    assert_stored_equals_derived(*team)
    completed_session(therapist_a, patient_a, "dosing", at=timezone.now() - timedelta(hours=5))  # one of two used
    assert_stored_equals_derived(*team)
    completed_session(therapist_a, patient_a, "integration", at=timezone.now() - timedelta(hours=1))
    assert_stored_equals_derived(*team)
    assert Kind.DOSE_PLAN_ENDING in kinds_due(prescriber)
    assert plan.pk in {row.object_id for row in DueItem.objects.open().filter(kind=Kind.DOSE_PLAN_ENDING)}

    for session in TherapySession.objects.filter(patient=patient_a, status="completed"):
        note_services.note_save_draft(actor=therapist_a, session=session, body="Settled; no adverse effects.")
        note_services.note_sign(actor=therapist_a, session=session)
    assert_stored_equals_derived(*team)
    assert Kind.NOTE_TO_SIGN not in kinds_due(therapist_a)

    # A booked dose held by an open high alert, released when the prescriber acknowledges it.
    next_dose = session_services.session_schedule(
        actor=therapist_a, patient=patient_a, kind="dosing", scheduled_at=timezone.now() + timedelta(days=3)
    )
    alert = patient_services.safety_alert_raise(
        patient=patient_a, kind=SafetyAlert.Kind.CHECK_IN_NOT_OK, reason="Check-in: not OK", source=next_dose
    )
    assert_stored_equals_derived(*team)
    assert Kind.HELD_SESSION in kinds_due(therapist_a)
    patient_services.safety_alert_acknowledge(actor=prescriber, alert=alert, note="Seen; rechecked, fine.")
    assert_stored_equals_derived(*team)
    assert Kind.HELD_SESSION not in kinds_due(prescriber)

    session_services.session_cancel(actor=therapist_a, session=next_dose, reason="Patient travelling.")
    assert_stored_equals_derived(*team)


def test_a_refused_write_changes_no_stored_work(therapist_a, prescriber, patient_a):
    ready_for_evaluation(patient_a)
    signed_evaluation(prescriber, patient_a)
    before = list(DueItem.objects.values_list("pk", "resolved_at", "due_at"))
    with pytest.raises(Exception):  # noqa: B017 (any refusal: the rule's, the form's)
        questionnaire_services.questionnaire_submit(
            actor=patient_a.user, patient=patient_a, instrument="phq9", answers=[9] * 9
        )
    assert list(DueItem.objects.values_list("pk", "resolved_at", "due_at")) == before


def test_a_deferred_block_stores_the_work_once_at_its_end_and_nothing_when_it_fails(
    therapist_a, prescriber, patient_a, monkeypatch
):
    """Services inside `deferred()` (and services that call services) refresh once, when the block ends; the
    stored answer is the one each service would have left; a block that raises leaves no row behind."""
    refreshed = []
    real_refresh = due_work.refresh
    monkeypatch.setattr(due_work, "refresh", lambda ids, **kw: refreshed.append(set(ids)) or real_refresh(ids, **kw))
    ready_for_evaluation(patient_a)
    refreshed.clear()

    with due_work.deferred():
        signed_evaluation(prescriber, patient_a)  # saves, signs and opens the course: three services
        assert not DueItem.objects.exists()  # nothing stored yet inside the block
    assert refreshed == [{patient_a.pk}]
    assert Kind.QUESTIONNAIRE in kinds_due(therapist_a)
    assert_stored_equals_derived(therapist_a, prescriber)

    before = list(DueItem.objects.values_list("pk", "resolved_at"))
    with pytest.raises(RuntimeError), due_work.deferred():
        questionnaire_services.questionnaire_submit(
            actor=patient_a.user, patient=patient_a, instrument="phq9", answers=[0] * 9, difficulty=0
        )
        raise RuntimeError("the request failed after the service")
    assert list(DueItem.objects.values_list("pk", "resolved_at")) == before
    assert not QuestionnaireResponse.objects.filter(patient=patient_a).exists()


def test_writes_around_the_services_are_put_right_by_reconcile(therapist_a, prescriber, patient_a):
    """The beat task's job: a follow-up moved in the database, and the clock passing a grace period."""
    session = ready_to_dose(therapist_a, prescriber, patient_a)
    booked = session_services.session_schedule(
        actor=therapist_a, patient=patient_a, kind="dosing", scheduled_at=timezone.now() + timedelta(days=2)
    )
    assert session and booked
    FollowUp.objects.pending().filter(patient=patient_a).update(due_on=timezone.localdate() - timedelta(days=20))
    assert stored(prescriber) != derived(prescriber)  # the overdue visit holds the booked dose: not yet stored

    changed = due_work.reconcile()

    assert changed > 0
    assert_stored_equals_derived(therapist_a, prescriber)
    assert {Kind.FOLLOW_UP, Kind.HELD_SESSION} <= kinds_due(prescriber)
    assert due_work.reconcile() == 0  # nothing left to change: reconciling again is a no-op


def test_care_team_change_moves_the_work_with_the_patient(therapist_a, therapist_b, prescriber, patient_a, coordinator):
    ready_for_evaluation(patient_a)
    signed_evaluation(prescriber, patient_a)
    assert Kind.QUESTIONNAIRE in kinds_due(therapist_a)

    patient_services.therapist_assign(actor=coordinator, patient=patient_a, therapist=therapist_b)

    assert kinds_due(therapist_a) == set()
    assert Kind.QUESTIONNAIRE in kinds_due(therapist_b)
    assert_stored_equals_derived(therapist_b, prescriber)


@pytest.mark.parametrize("patients", [12])
def test_seed_data_reconciled_equals_the_rules(db, patients):
    call_command("seed_load", patients=patients, therapists=2, prescribers=1, stdout=open(os.devnull, "w"))  # noqa: SIM115
    clinicians = User.objects.filter(role__in=User.CLINICIAN_ROLES, email__endswith="@load.kapcare.test")
    for user in clinicians:
        assert_stored_equals_derived(user)
    assert DueItem.objects.open().values("kind").distinct().count() >= 3


# The "see all" pages: one kind, most urgent first, a keyset cursor in the querystring ---------------------------


def test_see_all_pages_through_every_row_once_in_order(db, client):
    call_command("seed_load", patients=60, therapists=1, prescribers=1, stdout=open(os.devnull, "w"))  # noqa: SIM115
    prescriber = User.objects.get(email="prescriber1@load.kapcare.test")
    enrol_totp(prescriber)
    kind = max(Kind.values, key=lambda k: len(due_selectors.due_rows(prescriber, k, limit=ALL)))
    everything = due_selectors.due_rows(prescriber, kind, limit=ALL)
    assert len(everything) > due_selectors.SEE_ALL_PAGE, kind
    client.force_login(prescriber)

    seen, url, pages = [], f"/due/{kind}/", 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        seen += [row.pk for row in response.context["rows"]]
        cursor = response.context["next_cursor"]
        url = f"/due/{kind}/?after={cursor}" if cursor else None
        pages += 1

    assert seen == [row.pk for row in everything]  # each once, in the panel's order
    assert pages == -(-len(everything) // due_selectors.SEE_ALL_PAGE)
    assert f"({len(everything)})" in client.get(f"/due/{kind}/").content.decode()


def test_see_all_is_audited_per_patient_shown(client, therapist_a, prescriber, patient_a):
    ready_for_evaluation(patient_a)
    signed_evaluation(prescriber, patient_a)
    client.force_login(therapist_a)
    before = AuditEvent.objects.filter(patient_id=patient_a.pk, action="list").count()

    page = client.get("/due/questionnaire/").content.decode()

    assert "Alder, Avery" in page
    assert AuditEvent.objects.filter(patient_id=patient_a.pk, action="list").count() == before + 1


@pytest.mark.parametrize(
    "role, path, status",
    [
        ("therapist_a", "/due/follow_up/", 403),  # the prescriber's work
        ("prescriber", "/due/note_to_sign/", 403),  # the therapist's
        ("coordinator", "/due/questionnaire/", 403),
        ("patient", "/due/questionnaire/", 403),
        ("therapist_a", "/due/nothing_such/", 404),
        ("therapist_a", "/due/questionnaire/?after=1.not-a-time.3", 400),
        ("therapist_a", "/due/questionnaire/?after=99999999999999999999999.1.1", 400),
        ("therapist_a", "/due/questionnaire/?after=1.2", 400),
        ("therapist_a", "/due/questionnaire/?after=1.99999999999999999999.1", 400),
        ("therapist_a", "/due/questionnaire/?after=1.1.-5", 400),
        ("therapist_b", "/due/questionnaire/", 200),  # nothing of another team's patients
    ],
)
def test_see_all_refuses_clearly(client, cast, prescriber, patient_a, role, path, status):
    ready_for_evaluation(patient_a)
    signed_evaluation(prescriber, patient_a)
    client.force_login(cast[role])

    response = client.get(path)

    assert response.status_code == status
    if status == 403:
        assert "another role" in response.content.decode()
    assert "Alder" not in response.content.decode()
