"""The dosing record: the dose, boosters checked against the dose plan, chaperone check-ins for remote sessions,
the end of the session (which completes it and uses a dose from the ledger), the checklist, who may record what,
and the lock once the progress note is signed."""

from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from kapcare.signing.mode import signing
from patients.models import Stage
from tests.course_states import END_CRITERIA, IN_RANGE, confirm_checklist, ready_to_dose
from treatment.course import selectors as course_selectors
from treatment.models import (
    AdverseEvent,
    BoosterDose,
    ChaperoneCheckIn,
    ChecklistConfirmation,
    SessionNote,
    TherapySession,
    VitalsReading,
)
from treatment.sessions import services as session_services

REMOTE = {
    "modality": "remote",
    "video_link": "https://video.example.test/room/1",
    "chaperone": {"name": "Sam Brooks", "phone": "+1 415 555 0142"},
}


def book(therapist, patient, minutes_ago=10, confirmed=True, **details):
    """A dosing session that started `minutes_ago` (booked then, on the clock of the time), its checklist
    confirmed in the session unless told not."""
    start = timezone.now() - timedelta(minutes=minutes_ago)
    with time_machine.travel(start, tick=False):
        session = session_services.session_schedule(
            actor=therapist, patient=patient, kind="dosing", scheduled_at=start, **details
        )
    return confirm_checklist(therapist, session) if confirmed else session


def dosed(therapist, session, mg=100):
    session_services.vitals_record(actor=therapist, session=session, phase="pre_dose", **IN_RANGE)
    return session_services.dose_record(actor=therapist, session=session, dose_mg=mg)


def url(session, action):
    return f"/api/v1/sessions/{session.pk}/{action}/"


@pytest.fixture
def ready(therapist_a, prescriber, patient_a):
    """Every dosing gate holds; the plan allows one booster of 50 mg, 30 minutes after a 200 mg full dose."""
    return ready_to_dose(therapist_a, prescriber, patient_a)


# The dose -------------------------------------------------------------------------------------------


def test_a_dose_above_the_plans_full_dose_is_refused(api, therapist_a, prescriber, patient_a):
    ready_to_dose(therapist_a, prescriber, patient_a, start_at="full")
    session = book(therapist_a, patient_a)
    session_services.vitals_record(actor=therapist_a, session=session, phase="pre_dose", **IN_RANGE)

    response = api.as_user(therapist_a).post(url(session, "dose"), {"dose_mg": "250"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "dose_over_plan"
    assert "at most 200.0 mg" in response.json()["detail"]


def test_the_dose_waits_for_the_pre_dosing_checklist(api, therapist_a, patient_a, ready):
    session = book(therapist_a, patient_a, confirmed=False, **REMOTE)
    session_services.checklist_confirm(actor=therapist_a, session=session, items=["fasting"])
    session_services.vitals_record(actor=therapist_a, session=session, phase="pre_dose", **IN_RANGE)

    refused = api.as_user(therapist_a).post(url(session, "dose"), {"dose_mg": "100"}, format="json")
    hold = api.as_user(therapist_a).get(url(session, "dosing-record")).json()["hold"]

    assert refused.status_code == 409
    assert refused.json()["code"] == "pre_dosing_checklist_confirmed"
    assert "ride home" in refused.json()["detail"] and "chaperone" in refused.json()["detail"]
    assert "not eat" not in refused.json()["detail"]  # confirmed already
    assert hold["code"] == "pre_dosing_checklist_confirmed"
    assert not TherapySession.objects.filter(pk=session.pk, dosing_record__dose_taken_at__isnull=False).exists()

    session_services.checklist_confirm(actor=therapist_a, session=session, items=["ride_home", "chaperone"])
    taken = api.as_user(therapist_a).post(url(session, "dose"), {"dose_mg": "100"}, format="json")
    assert taken.status_code == 200, taken.content


def test_the_dose_is_recorded_once(api, therapist_a, patient_a, ready):
    session = book(therapist_a, patient_a)
    dosed(therapist_a, session)

    again = api.as_user(therapist_a).post(url(session, "dose"), {"dose_mg": "100"}, format="json")

    assert again.status_code == 409
    assert again.json()["code"] == "dose_already_recorded"


def test_a_dose_cannot_be_taken_long_before_the_session(api, therapist_a, patient_a, ready):
    session = session_services.session_schedule(
        actor=therapist_a, patient=patient_a, kind="dosing", scheduled_at=timezone.now() + timedelta(days=1)
    )

    response = api.as_user(therapist_a).post(
        url(session, "vitals"), {**IN_RANGE, "phase": "pre_dose", "taken_by": "patient"}, format="json"
    )

    assert response.status_code == 400
    assert "taken_at" in response.json()


# Boosters -------------------------------------------------------------------------------------------


def post_booster(api, therapist, session, mg="50", at=None):
    body = {"dose_mg": mg, **({"taken_at": at.isoformat()} if at else {})}
    return api.as_user(therapist).post(url(session, "boosters"), body, format="json")


def test_a_booster_within_the_plan_is_recorded(api, therapist_a, patient_a, ready):
    session = book(therapist_a, patient_a, minutes_ago=60)
    session_services.vitals_record(
        actor=therapist_a,
        session=session,
        phase="pre_dose",
        taken_at=timezone.now() - timedelta(minutes=50),
        **IN_RANGE,
    )
    session_services.dose_record(
        actor=therapist_a, session=session, dose_mg=100, taken_at=timezone.now() - timedelta(minutes=45)
    )

    response = post_booster(api, therapist_a, session)

    assert response.status_code == 201, response.content
    assert BoosterDose.objects.get(session=session).dose_mg == 50


def test_boosters_outside_the_dose_plan_are_refused(api, therapist_a, patient_a, ready):
    session = book(therapist_a, patient_a, minutes_ago=5)
    assert post_booster(api, therapist_a, session).json()["code"] == "dose_not_taken"
    start = timezone.now()
    dosed(therapist_a, session)

    too_soon = post_booster(api, therapist_a, session)
    assert too_soon.status_code == 409
    assert too_soon.json()["code"] == "booster_too_soon"
    assert "30 minutes" in too_soon.json()["detail"]

    with time_machine.travel(start + timedelta(minutes=31)):
        too_big = post_booster(api, therapist_a, session, mg="75")
        assert too_big.status_code == 409
        assert too_big.json()["code"] == "booster_size"
        assert post_booster(api, therapist_a, session).status_code == 201
        one_too_many = post_booster(api, therapist_a, session)
        assert one_too_many.status_code == 409
        assert one_too_many.json()["code"] == "booster_count"
    assert BoosterDose.objects.filter(session=session).count() == 1


def test_a_plan_without_boosters_refuses_every_booster(api, therapist_a, prescriber, patient_a):
    ready_to_dose(
        therapist_a,
        prescriber,
        patient_a,
        boosters_allowed=False,
        booster_count=0,
        booster_mg=None,
        booster_min_minutes=None,
    )
    session = book(therapist_a, patient_a, minutes_ago=90)
    session_services.vitals_record(
        actor=therapist_a,
        session=session,
        phase="pre_dose",
        taken_at=timezone.now() - timedelta(minutes=80),
        **IN_RANGE,
    )
    session_services.dose_record(
        actor=therapist_a, session=session, dose_mg=100, taken_at=timezone.now() - timedelta(minutes=75)
    )

    response = post_booster(api, therapist_a, session)

    assert response.status_code == 409
    assert response.json()["code"] == "booster_not_allowed"


def test_no_booster_while_the_latest_vitals_are_out_of_range(api, therapist_a, patient_a, ready):
    session = book(therapist_a, patient_a, minutes_ago=60)
    session_services.vitals_record(
        actor=therapist_a,
        session=session,
        phase="pre_dose",
        taken_at=timezone.now() - timedelta(minutes=50),
        **IN_RANGE,
    )
    session_services.dose_record(
        actor=therapist_a, session=session, dose_mg=100, taken_at=timezone.now() - timedelta(minutes=45)
    )
    session_services.vitals_record(actor=therapist_a, session=session, phase="booster", **{**IN_RANGE, "systolic": 155})

    response = post_booster(api, therapist_a, session)

    assert response.status_code == 409
    assert response.json()["code"] == "pre_dose_vitals_in_range"


# Chaperone check-ins -----------------------------------------------------------------------------------


def test_a_remote_session_records_check_ins_and_shows_the_next_due(api, therapist_a, patient_a, ready):
    session = book(therapist_a, patient_a, **REMOTE)
    dose_at = timezone.now()
    dosed(therapist_a, session)

    for minutes in (15, 30):
        with time_machine.travel(dose_at + timedelta(minutes=minutes)):
            client = api.as_user(therapist_a)  # signed in afresh: the idle limit is 15 minutes
            assert client.post(url(session, "check-ins"), {"remark": "Resting"}, format="json").status_code == 201

    record = api.as_user(therapist_a).get(url(session, "dosing-record")).json()
    assert len(record["check_ins"]) == 2
    assert record["next_check_in_due"].startswith(
        (dose_at + timedelta(minutes=45)).isoformat()[:16].replace("+00:00", "")
    )


def test_an_in_person_session_has_no_chaperone_check_ins(api, therapist_a, patient_a, ready):
    session = book(therapist_a, patient_a)
    dosed(therapist_a, session)

    response = api.as_user(therapist_a).post(url(session, "check-ins"), {}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "not_remote"
    assert not ChaperoneCheckIn.objects.exists()


# The end of the session ---------------------------------------------------------------------------


def test_ending_needs_end_vitals_and_every_criterion_then_completes_and_uses_a_dose(api, therapist_a, patient_a, ready):
    session = book(therapist_a, patient_a, minutes_ago=120)
    session_services.vitals_record(
        actor=therapist_a,
        session=session,
        phase="pre_dose",
        taken_at=timezone.now() - timedelta(minutes=110),
        **IN_RANGE,
    )
    session_services.dose_record(
        actor=therapist_a, session=session, dose_mg=100, taken_at=timezone.now() - timedelta(minutes=100)
    )
    client = api.as_user(therapist_a)
    ledger_before = course_selectors.ledger(session.course)

    no_vitals = client.post(url(session, "end"), END_CRITERIA, format="json")
    assert no_vitals.json()["code"] == "end_vitals_missing"
    session_services.vitals_record(actor=therapist_a, session=session, phase="end", **IN_RANGE)
    unmet = client.post(url(session, "end"), {**END_CRITERIA, "safe_transport": False}, format="json")
    assert unmet.status_code == 409
    assert unmet.json()["code"] == "end_criteria_not_met"
    assert "safe transport" in unmet.json()["detail"]
    assert "alert and oriented" not in unmet.json()["detail"]

    ended = client.post(url(session, "end"), END_CRITERIA, format="json")

    assert ended.status_code == 200, ended.content
    assert ended.json()["record"]["ended_at"] is not None
    session.refresh_from_db()
    assert session.status == TherapySession.Status.COMPLETED
    ledger = course_selectors.ledger(session.course)
    assert (ledger.used, ledger.booked) == (ledger_before.used + 1, ledger_before.booked - 1)
    patient_a.refresh_from_db()
    assert patient_a.stage == Stage.DOSING


def test_a_session_without_a_dose_cannot_end_or_complete(api, therapist_a, patient_a, ready):
    session = book(therapist_a, patient_a)
    client = api.as_user(therapist_a)

    assert client.post(url(session, "end"), END_CRITERIA, format="json").json()["code"] == "dose_not_taken"
    assert client.post(url(session, "complete")).json()["code"] == "dosing_record_incomplete"
    cancelled = client.post(url(session, "cancel"), {"reason": "Blood pressure stayed high; dose held."}, format="json")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"


def test_a_session_whose_dose_was_taken_cannot_be_cancelled(api, therapist_a, patient_a, ready):
    session = book(therapist_a, patient_a)
    dosed(therapist_a, session)

    response = api.as_user(therapist_a).post(url(session, "cancel"), {"reason": "Oops"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "dose_taken"


# Locked once the note is signed -------------------------------------------------------------------


def test_a_signed_note_locks_the_record_with_a_clear_409(api, therapist_a, patient_a, ready):
    session = book(therapist_a, patient_a)
    dosed(therapist_a, session)
    with transaction.atomic(), signing():  # a signed note as its sign service writes it
        SessionNote.objects.create(
            session=session,
            patient=patient_a,
            author=therapist_a,
            body="Tolerated well.",
            status=SessionNote.Status.SIGNED,
            signed_at=timezone.now(),
            signed_by=therapist_a,
            content_hash="0" * 64,
        )
    client = api.as_user(therapist_a)
    before = VitalsReading.objects.count()

    for action, body in (
        ("vitals", {**IN_RANGE, "phase": "end", "taken_by": "patient"}),
        ("end", END_CRITERIA),
        ("boosters", {"dose_mg": "50"}),
    ):
        response = client.post(url(session, action), body, format="json")
        assert response.status_code == 409, (action, response.content)
        assert response.json()["code"] == "documentation_locked"
        assert "addendum" in response.json()["detail"]
    assert VitalsReading.objects.count() == before


# Who may record and read -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["prescriber", "coordinator", "patient"])
def test_only_the_therapist_records_the_dosing_record(api, cast, therapist_a, patient_a, ready, role):
    session = book(therapist_a, patient_a)

    response = api.as_user(cast[role]).post(
        url(session, "vitals"), {**IN_RANGE, "phase": "pre_dose", "taken_by": "patient"}, format="json"
    )

    assert response.status_code == 403
    assert not VitalsReading.objects.exists()


def test_the_prescriber_reads_the_record_and_the_coordinator_only_the_schedule(
    api, therapist_a, prescriber, coordinator, patient_a, ready
):
    session = book(therapist_a, patient_a)
    dosed(therapist_a, session)

    read = api.as_user(prescriber).get(url(session, "dosing-record"))
    assert read.status_code == 200
    assert read.json()["record"]["dose_mg"] == "100.0"
    assert api.as_user(coordinator).get(url(session, "dosing-record")).status_code == 403
    schedule = api.as_user(coordinator).get(f"/api/v1/sessions/{session.pk}/")
    assert schedule.status_code == 200
    assert "vitals" not in schedule.json()


# The pre-dosing checklist -------------------------------------------------------------------------


def test_the_checklist_asks_what_the_session_needs(therapist_a, prescriber, patient_a):
    ready_to_dose(therapist_a, prescriber, patient_a, benzodiazepine_hold="Skip the evening lorazepam the day before.")
    in_person = book(therapist_a, patient_a)
    session_services.session_cancel(actor=therapist_a, session=in_person, reason="Moved to remote.")
    remote = book(therapist_a, patient_a, **REMOTE)

    assert session_services.checklist_items(in_person) == ["fasting", "ride_home", "benzodiazepine_hold"]
    assert session_services.checklist_items(remote) == ["fasting", "ride_home", "chaperone", "benzodiazepine_hold"]
    assert remote.chaperone_name == "Sam Brooks"


def test_the_patient_confirms_their_own_checklist(
    api, therapist_a, patient, other_patient, coordinator, patient_a, ready
):
    session = book(therapist_a, patient_a, minutes_ago=-60 * 24, confirmed=False)
    client = api.as_user(patient)

    state = client.get(url(session, "checklist")).json()
    assert [item["confirmed"] for item in state["items"]] == [False, False]
    assert state["consent_current"] is True
    confirmed = client.post(url(session, "checklist"), {"items": ["fasting", "ride_home"]}, format="json")
    assert confirmed.status_code == 201
    assert confirmed.json()["complete"] is True
    assert set(ChecklistConfirmation.objects.values_list("confirmed_by", flat=True)) == {patient.pk}

    assert (
        api.as_user(other_patient).post(url(session, "checklist"), {"items": ["fasting"]}, format="json").status_code
        == 404
    )
    assert api.as_user(coordinator).get(url(session, "checklist")).status_code == 403
    wrong = api.as_user(patient).post(url(session, "checklist"), {"items": ["chaperone"]}, format="json")
    assert wrong.status_code == 400


def test_the_session_page_shows_unconfirmed_items_and_the_therapist_records_them(client, therapist_a, patient_a, ready):
    session = book(therapist_a, patient_a, minutes_ago=-60, confirmed=False)
    client.force_login(therapist_a)
    page_url = f"/patients/{patient_a.pk}/sessions/{session.pk}/"

    page = client.get(page_url).content.decode()
    assert page.count("not confirmed") == 2
    client.post(page_url, {"action": "checklist", "checklist-items": ["fasting"]})

    page = client.get(page_url).content.decode()
    assert page.count("not confirmed") == 1
    assert ChecklistConfirmation.objects.get(session=session).confirmed_by == therapist_a


def test_the_patient_portal_checklist_page(client, patient, patient_a, therapist_a, ready):
    session = book(therapist_a, patient_a, minutes_ago=-60 * 24, confirmed=False, **REMOTE)
    client.force_login(patient)

    home = client.get("/").content.decode()
    assert "Confirm your checklist" in home
    page = client.get(f"/sessions/{session.pk}/checklist/")
    assert page.status_code == 200
    assert "Sam Brooks" in page.content.decode()
    done = client.post(f"/sessions/{session.pk}/checklist/", {"items": ["fasting", "ride_home", "chaperone"]})
    assert done.status_code == 302
    assert "Everything is confirmed" in client.get(done["Location"]).content.decode()


# Side effects link to the session -----------------------------------------------------------------


def test_a_side_effect_reported_from_the_session_page_is_linked_to_it(client, therapist_a, patient_a, ready):
    session = book(therapist_a, patient_a)
    dosed(therapist_a, session)
    client.force_login(therapist_a)
    page = client.get(f"/patients/{patient_a.pk}/sessions/{session.pk}/").content.decode()
    assert f"/patients/{patient_a.pk}/side-effects/new/?session={session.pk}" in page

    response = client.post(
        f"/patients/{patient_a.pk}/side-effects/new/?session={session.pk}",
        {"kind": "nausea", "severity": "mild", "onset_minutes": 20, "action_taken": "none"},
    )

    assert response.status_code == 302
    assert AdverseEvent.objects.get(patient=patient_a).session == session
    assert "Mild nausea" in client.get(response["Location"]).content.decode()
