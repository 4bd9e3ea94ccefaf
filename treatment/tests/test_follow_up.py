"""Follow-up visits: the due date (configurable, with time travel), more doses only through a signed follow-up,
maintenance and discharge through follow-ups, the lock, who may sign, and the prescriber's dashboard lists."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.rules import RuleRefused
from patients import due_work
from patients.models import Stage
from tests.course_states import (
    DOSE_PLAN,
    completed_session,
    ready_for_evaluation,
    ready_to_dose,
    signed_dose_plan,
    signed_evaluation,
)
from tests.factories import UserFactory, enrol_totp
from tests.fixtures import refer
from tests.test_query_counts import DASHBOARD_QUERIES, EARLY_ROWS_QUERY
from treatment.course import selectors as course_selectors
from treatment.course import services as course_services
from treatment.models import CarePolicy, DosePlan, FollowUp, TherapySession
from treatment.sessions import services as session_services

URL = "/api/v1/follow-ups/"
NOTE = {
    "symptoms": "Mood brighter; sleeping through the night most days.",
    "sessions_review": "Two dosing sessions; the therapist's notes describe good integration.",
    "side_effects": "Mild nausea after the first dose only.",
    "rationale": "Good early response, well tolerated.",
}
START = datetime(2030, 3, 1, 15, 0, tzinfo=UTC)


def next_visit(days=30):
    return timezone.localdate() + timedelta(days=days)


def signed_follow_up(prescriber, patient, decision, **changes):
    """The patient's pending visit, written and signed through the services."""
    follow_up, _created = course_services.follow_up_start(actor=prescriber, patient=patient)
    data = {**NOTE, "decision": decision, **changes}
    if decision not in FollowUp.DISCHARGES:
        data.setdefault("next_follow_up_on", next_visit())
    follow_up = course_services.follow_up_save_draft(actor=prescriber, follow_up=follow_up, data=data)
    follow_up = course_services.follow_up_sign(actor=prescriber, follow_up=follow_up)
    patient.refresh_from_db()
    return follow_up


@due_work.deferred()
def dosed(therapist, prescriber, patient, doses=2, **plan):
    """Every gate holds and `doses` dosing sessions took place, each followed by integration (the patient's due
    work stored once, at the end, as ready_to_dose and completed_session each do)."""
    ready_to_dose(therapist, prescriber, patient, **plan)
    for n in range(doses):
        completed_session(therapist, patient, "dosing", at=timezone.now() - timedelta(days=8 - 4 * n))
        completed_session(therapist, patient, "integration", at=timezone.now() - timedelta(days=7 - 4 * n))
    return patient


# Due dates ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("days", [30, 21])
def test_first_follow_up_is_due_the_policys_days_after_the_evaluation(api, prescriber, patient_a, medical_group, days):
    if days != CarePolicy.DEFAULT_FIRST_FOLLOW_UP_DAYS:
        CarePolicy.objects.create(medical_group=medical_group, first_follow_up_days=days)
    with time_machine.travel(START, tick=False):
        ready_for_evaluation(patient_a)
        signed_evaluation(prescriber, patient_a)
    pending = FollowUp.objects.get(patient=patient_a)
    due = START.date() + timedelta(days=days)
    assert (pending.status, pending.due_on) == ("draft", due)

    for offset, listed, overdue in [(-8, False, 0), (-7, True, 0), (0, True, 0), (1, True, 1), (12, True, 12)]:
        with time_machine.travel(datetime.combine(due, datetime.min.time(), UTC) + timedelta(days=offset, hours=12)):
            entries = course_selectors.follow_ups_due(prescriber)
            assert [e.patient.pk for e in entries] == ([patient_a.pk] if listed else []), offset
            if listed:
                assert entries[0].days_overdue == overdue
            response = api.as_user(prescriber).get(f"{URL}{pending.pk}/")  # signed in on that day
            assert response.json()["days_overdue"] == overdue


def test_each_signed_visit_schedules_the_next(prescriber, therapist_a, patient_a):
    dosed(therapist_a, prescriber, patient_a)
    first = signed_follow_up(prescriber, patient_a, "continue", next_follow_up_on=next_visit(28))

    pending = FollowUp.objects.pending().get(patient=patient_a)
    assert pending.due_on == next_visit(28)
    assert first.days_overdue(date(2100, 1, 1)) == 0  # a signed visit is never overdue
    assert patient_a.stage == Stage.DOSING


# Signing --------------------------------------------------------------------------------------------


def test_sign_names_what_is_missing(api, prescriber, therapist_a, patient_a):
    dosed(therapist_a, prescriber, patient_a)
    client = api.as_user(prescriber)
    started = client.post(URL, {"patient": str(patient_a.pk)}, format="json")
    again = client.post(URL, {"patient": str(patient_a.pk)}, format="json")
    assert started.status_code == 200  # the evaluation already planned the first visit: it is returned
    assert again.json()["id"] == started.json()["id"]
    pk = started.json()["id"]

    missing = client.post(f"{URL}{pk}/sign/")
    assert missing.status_code == 400
    assert {"symptoms", "side_effects", "decision", "rationale"} <= set(missing.json())

    client.patch(f"{URL}{pk}/", {**NOTE, "decision": "more_doses"}, format="json")
    missing = client.post(f"{URL}{pk}/sign/").json()
    assert set(missing) == {"additional_doses", "next_follow_up_on"}

    bad = client.patch(f"{URL}{pk}/", {"next_follow_up_on": "yesterday", "status": "signed"}, format="json")
    assert bad.status_code == 400
    assert FollowUp.objects.get(pk=pk).status == "draft"


def test_more_doses_are_refused_without_a_follow_up_and_allowed_through_one(api, prescriber, therapist_a, patient_a):
    dosed(therapist_a, prescriber, patient_a, doses=2, doses_authorized=2)
    with pytest.raises(RuleRefused) as refused:
        signed_dose_plan(prescriber, patient_a, doses_authorized=4)
    assert refused.value.code == "follow_up_required"

    client = api.as_user(prescriber)
    draft = DosePlan.objects.get(patient=patient_a, status="draft")
    response = client.post(f"/api/v1/dose-plans/{draft.pk}/sign/")
    assert response.status_code == 409
    assert response.json()["code"] == "follow_up_required"
    client.patch(f"/api/v1/dose-plans/{draft.pk}/", {"doses_authorized": 2, "full_dose_mg": "250.0"}, format="json")
    assert client.post(f"/api/v1/dose-plans/{draft.pk}/sign/").status_code == 200  # same doses, new dose: fine

    signed_follow_up(prescriber, patient_a, "more_doses", additional_doses=4)

    active = DosePlan.objects.signed().get(patient=patient_a)
    assert (active.version, active.doses_authorized, active.full_dose_mg) == (3, 6, 250)
    assert course_selectors.ledger(active.course).remaining == 4
    with pytest.raises(RuleRefused) as refused:  # that follow-up is used: the next increase needs another
        signed_dose_plan(prescriber, patient_a, doses_authorized=7)
    assert refused.value.code == "follow_up_required"


def test_adjusting_the_dose_signs_the_drafted_version_with_the_note(prescriber, therapist_a, patient_a):
    dosed(therapist_a, prescriber, patient_a)
    with pytest.raises(ValidationError) as error:
        signed_follow_up(prescriber, patient_a, "adjust_dose")
    assert "decision" in error.value.message_dict
    assert not FollowUp.objects.signed().exists()  # nothing of the refused signature is kept

    course_services.dose_plan_save_draft(actor=prescriber, patient=patient_a, data={**DOSE_PLAN, "full_dose_mg": 150})
    signed_follow_up(prescriber, patient_a, "adjust_dose")

    active = DosePlan.objects.signed().get(patient=patient_a)
    assert (active.version, active.full_dose_mg) == (2, 150)


def test_maintenance_comes_from_a_signed_follow_up(prescriber, therapist_a, patient_a):
    dosed(therapist_a, prescriber, patient_a)
    signed_follow_up(prescriber, patient_a, "maintenance", next_follow_up_on=next_visit(45))

    assert patient_a.stage == Stage.MAINTENANCE
    assert FollowUp.objects.pending().get(patient=patient_a).due_on == next_visit(45)
    completed_session(therapist_a, patient_a, "dosing", at=timezone.now() - timedelta(minutes=30))
    assert patient_a.stage == Stage.MAINTENANCE  # a maintenance dose keeps the stage


@pytest.mark.parametrize(("decision", "stage"), [("complete", Stage.COMPLETED), ("discontinue", Stage.DISCONTINUED)])
def test_discharge_closes_the_course_and_only_it_does(prescriber, therapist_a, patient_a, decision, stage):
    dosed(therapist_a, prescriber, patient_a)
    booked = session_services.session_schedule(
        actor=therapist_a, patient=patient_a, kind="dosing", scheduled_at=timezone.now() + timedelta(days=3)
    )

    follow_up = signed_follow_up(prescriber, patient_a, decision)

    assert patient_a.stage == stage
    assert follow_up.course.ended_at is not None
    booked.refresh_from_db()
    assert booked.status == TherapySession.Status.CANCELLED
    assert not FollowUp.objects.pending().filter(patient=patient_a).exists()
    with pytest.raises(RuleRefused):
        session_services.session_schedule(
            actor=therapist_a, patient=patient_a, kind="dosing", scheduled_at=timezone.now() + timedelta(days=4)
        )
    with pytest.raises(RuleRefused) as refused:
        course_services.follow_up_start(actor=prescriber, patient=patient_a)
    assert refused.value.code == "course_closed"
    with pytest.raises(RuleRefused):
        course_services.dose_plan_save_draft(actor=prescriber, patient=patient_a, data={"doses_authorized": 9})


# The lock -------------------------------------------------------------------------------------------


def test_signed_follow_up_never_changes(api, prescriber, therapist_a, patient_a):
    dosed(therapist_a, prescriber, patient_a)
    follow_up = signed_follow_up(prescriber, patient_a, "continue")
    client = api.as_user(prescriber)

    patched = client.patch(f"{URL}{follow_up.pk}/", {"symptoms": "Rewritten"}, format="json")
    resigned = client.post(f"{URL}{follow_up.pk}/sign/")
    assert (patched.status_code, resigned.status_code) == (409, 409)
    assert patched.json()["code"] == "follow_up_signed"

    follow_up.symptoms = "Rewritten"
    with pytest.raises(ValidationError):
        follow_up.save()
    with pytest.raises(ValidationError):
        follow_up.delete()
    for sql in [
        "UPDATE treatment_followup SET symptoms = 'Rewritten' WHERE id = %s",
        "UPDATE treatment_followup SET status = 'draft' WHERE id = %s",
        "DELETE FROM treatment_followup WHERE id = %s",
    ]:
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [follow_up.pk])
    stored = FollowUp.objects.get(pk=follow_up.pk)
    assert (stored.symptoms, stored.content_hash) == (NOTE["symptoms"], stored.compute_hash())


def test_signed_follow_up_cannot_change_through_the_admin(client, prescriber, therapist_a, patient_a):
    dosed(therapist_a, prescriber, patient_a)
    follow_up = signed_follow_up(prescriber, patient_a, "continue")
    superuser = UserFactory(role=User.Role.ADMIN, is_staff=True, is_superuser=True, email="root@example.test")
    enrol_totp(superuser)
    client.force_login(superuser)

    page = client.get(f"/admin/treatment/followup/{follow_up.pk}/change/")
    client.post(f"/admin/treatment/followup/{follow_up.pk}/change/", {"symptoms": "Rewritten", "status": "draft"})
    client.post(f"/admin/treatment/followup/{follow_up.pk}/delete/", {"post": "yes"})

    assert page.status_code == 200
    assert NOTE["symptoms"] not in page.content.decode()  # integrity only, not the clinical content
    stored = FollowUp.objects.get(pk=follow_up.pk)
    assert (stored.status, stored.symptoms) == ("signed", NOTE["symptoms"])


# Who signs ------------------------------------------------------------------------------------------


def test_only_the_teams_prescriber_writes_and_signs(api, client, prescriber, therapist_a, medical_group, patient_a):
    dosed(therapist_a, prescriber, patient_a)
    pending = FollowUp.objects.pending().get(patient=patient_a)
    course_services.follow_up_save_draft(
        actor=prescriber, follow_up=pending, data={**NOTE, "decision": "continue", "next_follow_up_on": next_visit()}
    )
    foreign = UserFactory(role=User.Role.PRESCRIBER, organization=medical_group, email="other.rx@example.test")
    enrol_totp(foreign)

    assert api.as_user(therapist_a).post(f"{URL}{pending.pk}/sign/").status_code == 403
    assert api.as_user(therapist_a).get(f"{URL}{pending.pk}/").status_code == 200  # the therapist reads it
    assert api.as_user(foreign).post(f"{URL}{pending.pk}/sign/").status_code == 404
    assert api.as_user(foreign).post(URL, {"patient": str(patient_a.pk)}, format="json").status_code == 404
    client.force_login(therapist_a)
    assert client.post(f"/patients/{patient_a.pk}/follow-up/", {"action": "sign"}).status_code == 403
    assert FollowUp.objects.get(pk=pending.pk).status == "draft"


def test_portal_follow_up_page_writes_and_signs(client, prescriber, therapist_a, patient_a):
    dosed(therapist_a, prescriber, patient_a)
    client.force_login(prescriber)
    url = f"/patients/{patient_a.pk}/follow-up/"
    pending = FollowUp.objects.pending().get(patient=patient_a)

    page = client.get(url).content.decode()
    assert "No questionnaire scores yet." in page
    assert page.count("not documented") == 2  # neither dosing session's progress note is signed yet
    form = {
        **NOTE,
        "due_on": pending.due_on.isoformat(),
        "decision": "maintenance",
        "next_follow_up_on": next_visit(40).isoformat(),
    }
    assert client.post(url, {**form, "action": "sign", "rationale": ""}).status_code == 200  # names what is missing
    assert client.post(url, {**form, "action": "sign"}).status_code == 302

    patient_a.refresh_from_db()
    assert patient_a.stage == Stage.MAINTENANCE
    client.force_login(therapist_a)
    chart = client.get(f"/patients/{patient_a.pk}/chart/course/").content.decode()
    assert "Follow-up visit signed: Move to maintenance" in chart
    assert f'href="{url}"' in chart


# The prescriber's dashboard ---------------------------------------------------------------------------


def test_dashboard_lists_follow_ups_due_and_plans_nearing_exhaustion(client, prescriber, therapist_a, patient_a):
    dosed(therapist_a, prescriber, patient_a, doses=2, doses_authorized=3)
    FollowUp.objects.pending().filter(patient=patient_a).update(due_on=timezone.localdate() - timedelta(days=3))
    due_work.reconcile()  # a write around the services: the beat task's reconcile stores what is due
    client.force_login(prescriber)

    page = client.get("/").content.decode()

    assert "Follow-ups due and overdue (1)" in page
    assert "3 days overdue" in page
    assert "Dose plans nearing exhaustion (1)" in page
    assert "1 of 3 dosing sessions left" in page
    client.force_login(therapist_a)
    assert "Follow-ups due and overdue" not in client.get("/").content.decode()


def _dashboard_queries(client):
    client.get("/")
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/")
    assert response.status_code == 200
    return len(captured.captured_queries), response.content.decode()


# The prescriber's dashboard of tests/test_query_counts.py (its two lists cost one query each, counted there
# while they are empty) plus the audit rows of the patients they show: one INSERT for both lists together. The larger
# size is more than a panel lists (10).
@pytest.mark.parametrize("size", [1, 12])
def test_dashboard_lists_cost_a_fixed_number_of_queries(client, prescriber, therapist_a, coordinator, size):
    for n in range(size):
        patient = refer(
            therapist_a,
            f"Pat{n}",
            f"Course{n:03d}",
            f"course{n}@example.test",
            prescriber=prescriber,
            coordinator=coordinator,
            account=True,
        )
        dosed(therapist_a, prescriber, patient, doses=1, doses_authorized=2)
    # The visits planned by the evaluations fall due in two days, as they would 28 days after them.
    FollowUp.objects.pending().update(due_on=timezone.localdate() + timedelta(days=2))
    due_work.reconcile()  # a write around the services: the beat task's reconcile stores what is due
    client.force_login(prescriber)

    queries, page = _dashboard_queries(client)

    assert f"Follow-ups due and overdue ({size})" in page
    assert f"Dose plans nearing exhaustion ({size})" in page
    # Its rows share the page's audit INSERT; its patients are past intake (nothing asked about early rows).
    assert queries == DASHBOARD_QUERIES["prescriber"] - EARLY_ROWS_QUERY


def test_bad_input_is_a_400_never_a_500(api, prescriber, therapist_a, patient_a):
    dosed(therapist_a, prescriber, patient_a)
    pending = FollowUp.objects.pending().get(patient=patient_a)
    client = api.as_user(prescriber)

    for body in [{"patient": "not-a-uuid"}, {}, {"patient": str(patient_a.pk), "decision": "continue"}]:
        assert client.post(URL, body, format="json").status_code == 400, body
    for body in [
        {"decision": "stop"},
        {"additional_doses": 0},
        {"additional_doses": "many"},
        {"due_on": None},
        {"due_on": "2000-01-01"},
        {"next_follow_up_on": "soon"},
        {"symptoms": "x" * 5001},
        {"id": "00000000-0000-0000-0000-000000000000"},
    ]:
        assert client.patch(f"{URL}{pending.pk}/", body, format="json").status_code == 400, body
    assert client.get(f"{URL}?patient=nope").status_code == 400
    assert client.get(f"{URL}not-a-uuid/").status_code == 404
