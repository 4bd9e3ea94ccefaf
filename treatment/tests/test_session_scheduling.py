"""Scheduling therapy sessions: details (time in the patient's time zone, duration, in person or remote), changes
with a reason (reschedule, cancel, no-show), the gates at scheduling, and the therapist's dashboard panels with
their query budgets. (tests/test_sessions.py is about sign-in sessions.)"""

from datetime import UTC, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.course_states import completed_session, ready_to_dose
from tests.fixtures import refer
from tests.test_query_counts import DASHBOARD_QUERIES, EARLY_ROWS_QUERY
from treatment.course import gates
from treatment.models import SessionChange, TherapySession
from treatment.sessions import services as session_services

REMOTE = {"modality": "remote", "video_link": "https://video.example.test/room/7"}


def schedule(api, user, patient, **body):
    data = {
        "patient": str(patient.pk),
        "kind": "preparation",
        "scheduled_at": (timezone.now() + timedelta(days=2)).isoformat(),
        **body,
    }
    return api.as_user(user).post("/api/v1/sessions/", data, format="json")


# Details ----------------------------------------------------------------------------------------------


def test_the_contracts_three_fields_still_book_a_session(api, therapist_a, patient_a):
    response = schedule(api, therapist_a, patient_a)

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["modality"], body["duration_minutes"], body["status"]) == ("in_person", 60, "scheduled")
    assert body["therapist"] == str(therapist_a.pk)


def test_a_remote_dosing_session_copies_the_chaperone_and_needs_a_link(api, therapist_a, prescriber, patient_a):
    ready_to_dose(therapist_a, prescriber, patient_a)
    patient_a.chaperone_name, patient_a.chaperone_phone = "Sam Brooks", "+1 415 555 0142"
    patient_a.save()

    no_link = schedule(api, therapist_a, patient_a, kind="dosing", modality="remote")
    assert no_link.status_code == 400
    assert "video_link" in no_link.json()
    booked = schedule(api, therapist_a, patient_a, kind="dosing", duration_minutes=150, **REMOTE)

    assert booked.status_code == 201, booked.content
    assert (booked.json()["chaperone_name"], booked.json()["chaperone_phone"]) == ("Sam Brooks", "+1 415 555 0142")
    assert booked.json()["duration_minutes"] == 150


def test_bad_details_are_field_errors_never_500(api, therapist_a, patient_a):
    for body in (
        {"modality": "carrier pigeon"},
        {"duration_minutes": 5},
        {"video_link": "not a link"},
        {"location": "x" * 301},
        {"colour": "blue"},
    ):
        response = schedule(api, therapist_a, patient_a, **body)
        assert response.status_code == 400, (body, response.content)
    assert not TherapySession.objects.exists()


def test_the_portal_reads_the_time_in_the_patients_time_zone(client, therapist_a, patient_a):
    assert patient_a.time_zone == "America/Los_Angeles"
    client.force_login(therapist_a)
    day = (timezone.now() + timedelta(days=3)).date()

    response = client.post(
        f"/patients/{patient_a.pk}/sessions/new/",
        {
            "kind": "integration",
            "scheduled_at": f"{day:%Y-%m-%d}T10:00",
            "modality": "in_person",
            "location": "Suite 4",
        },
    )

    assert response.status_code == 302
    session = TherapySession.objects.get(patient=patient_a)
    local = timezone.localtime(session.scheduled_at, timezone=__import__("zoneinfo").ZoneInfo("America/Los_Angeles"))
    assert (local.hour, local.minute) == (10, 0)
    assert session.scheduled_at.astimezone(UTC).hour in (17, 18)  # PDT or PST
    page = client.get(response["Location"]).content.decode()
    assert "10:00" in page
    assert "America/Los_Angeles" in page
    assert "Suite 4" in page


# Changes with a reason -----------------------------------------------------------------------------


def test_reschedule_and_cancel_keep_the_reason(api, therapist_a, coordinator, patient_a):
    session_id = schedule(api, therapist_a, patient_a).json()["id"]
    new_time = timezone.now() + timedelta(days=4)

    blank = api.as_user(coordinator).post(
        f"/api/v1/sessions/{session_id}/reschedule/",
        {"scheduled_at": new_time.isoformat(), "reason": ""},
        format="json",
    )
    assert blank.status_code == 400
    moved = api.as_user(coordinator).post(
        f"/api/v1/sessions/{session_id}/reschedule/",
        {"scheduled_at": new_time.isoformat(), "reason": "Patient asked for Thursday."},
        format="json",
    )
    assert moved.status_code == 200, moved.content
    cancelled = api.as_user(therapist_a).post(
        f"/api/v1/sessions/{session_id}/cancel/", {"reason": "Therapist unwell."}, format="json"
    )

    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["status_reason"] == "Therapist unwell."
    changes = list(SessionChange.objects.filter(session_id=session_id).values_list("kind", "reason"))
    assert changes == [("rescheduled", "Patient asked for Thursday."), ("cancelled", "Therapist unwell.")]
    again = api.as_user(therapist_a).post(f"/api/v1/sessions/{session_id}/cancel/", {"reason": "x"}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "session_not_scheduled"


def test_a_no_show_is_recorded_after_the_start_only(api, therapist_a, patient_a):
    session_id = schedule(api, therapist_a, patient_a).json()["id"]
    reason = {"reason": "No answer on the phone or by text."}

    early = api.as_user(therapist_a).post(f"/api/v1/sessions/{session_id}/no-show/", reason, format="json")
    assert early.status_code == 409
    with time_machine.travel(timezone.now() + timedelta(days=2, minutes=20)):
        late = api.as_user(therapist_a).post(f"/api/v1/sessions/{session_id}/no-show/", reason, format="json")

    assert late.status_code == 200
    assert late.json()["status"] == "no_show"
    assert SessionChange.objects.get(session_id=session_id).kind == "no_show"


def test_the_prescriber_and_the_patient_cannot_change_a_session(api, therapist_a, prescriber, patient, patient_a):
    session_id = schedule(api, therapist_a, patient_a).json()["id"]

    for user in (prescriber, patient):
        response = api.as_user(user).post(f"/api/v1/sessions/{session_id}/cancel/", {"reason": "x"}, format="json")
        assert response.status_code == 403
    assert TherapySession.objects.get(pk=session_id).status == "scheduled"


def test_cancelling_a_dosing_session_frees_its_dose(api, therapist_a, prescriber, patient_a):
    ready_to_dose(therapist_a, prescriber, patient_a, doses_authorized=1)
    first = schedule(api, therapist_a, patient_a, kind="dosing").json()["id"]
    later = (timezone.now() + timedelta(days=3)).isoformat()
    assert schedule(api, therapist_a, patient_a, kind="dosing", scheduled_at=later).json()["code"] in (
        gates.DOSES_REMAINING,
        gates.IN_ORDER,
    )

    api.as_user(therapist_a).post(f"/api/v1/sessions/{first}/cancel/", {"reason": "Flu."}, format="json")

    assert schedule(api, therapist_a, patient_a, kind="dosing", scheduled_at=later).status_code == 201


# The gates at scheduling and when moved, with time travel -----------------------------------------------

DAY = timedelta(days=1)


@pytest.fixture
def T0(therapist_a, patient_a):
    """Tomorrow, 20:00 UTC (noon in California): after the cast joined the care team (the clock only ever moves
    forward), and sessions three hours before it still start at clinic hours."""
    return (timezone.now() + DAY).replace(hour=20, minute=0, second=0, microsecond=0)


def test_integration_between_doses_with_time_travel(api, therapist_a, prescriber, patient_a, T0):
    with time_machine.travel(T0, tick=False) as clock:
        ready_to_dose(therapist_a, prescriber, patient_a, doses_authorized=6)
        completed_session(therapist_a, patient_a, "dosing", at=T0 - timedelta(hours=3))
        clock.move_to(T0 + 3 * DAY)
        refused = schedule(api, therapist_a, patient_a, kind="dosing", scheduled_at=(T0 + 4 * DAY).isoformat())
        assert refused.status_code == 409
        assert refused.json()["code"] == gates.INTEGRATION
        assert refused.json()["detail"].startswith("Gate “integration between dosing sessions”")

        completed_session(therapist_a, patient_a, "integration", at=T0 + 3 * DAY - timedelta(hours=2))

        allowed = schedule(api, therapist_a, patient_a, kind="dosing", scheduled_at=(T0 + 4 * DAY).isoformat())
        assert allowed.status_code == 201, allowed.content


def test_at_most_two_doses_in_seven_days_with_time_travel(api, therapist_a, prescriber, patient_a, T0):
    with time_machine.travel(T0, tick=False) as clock:
        ready_to_dose(therapist_a, prescriber, patient_a, doses_authorized=6)
        for start in (T0, T0 + 3 * DAY + timedelta(hours=1)):  # doses 72 hours apart at least
            clock.move_to(start + timedelta(hours=4))
            completed_session(therapist_a, patient_a, "dosing", at=start)
            completed_session(therapist_a, patient_a, "integration", at=start + timedelta(hours=3))
        clock.move_to(T0 + 5 * DAY)

        # Six days and two hours after the first dose: 72 hours after the second, but a third in 7 days.
        busy = T0 + 6 * DAY + timedelta(hours=2)
        third = schedule(api, therapist_a, patient_a, kind="dosing", scheduled_at=busy.isoformat())
        assert third.status_code == 409
        assert third.json()["code"] == gates.WEEKLY_LIMIT
        assert "at most 2 dosing sessions in 7 days" in third.json()["detail"]

        # Seven days after the first dose was taken (5 minutes into its session) the window has moved on.
        week_later = T0 + 7 * DAY + timedelta(minutes=5)
        booked = schedule(api, therapist_a, patient_a, kind="dosing", scheduled_at=week_later.isoformat())
        assert booked.status_code == 201, booked.content

        # Moving it back into the busy week is refused by the same gate, and the booking stays where it was.
        moved = api.as_user(therapist_a).post(
            f"/api/v1/sessions/{booked.json()['id']}/reschedule/",
            {"scheduled_at": busy.isoformat(), "reason": "Earlier slot"},
            format="json",
        )
        assert moved.status_code == 409
        assert moved.json()["code"] == gates.WEEKLY_LIMIT
        assert TherapySession.objects.get(pk=booked.json()["id"]).scheduled_at == week_later


def test_the_weekly_limit_is_asked_again_when_the_dose_is_taken(
    api, therapist_a, prescriber, patient_a, medical_group, T0
):
    from treatment.models import CarePolicy

    with time_machine.travel(T0, tick=False) as clock:
        ready_to_dose(therapist_a, prescriber, patient_a, doses_authorized=6)
        clock.move_to(T0 + timedelta(hours=4))
        completed_session(therapist_a, patient_a, "dosing", at=T0)
        completed_session(therapist_a, patient_a, "integration", at=T0 + timedelta(hours=3))
        booked = session_services.session_schedule(
            actor=therapist_a, patient=patient_a, kind="dosing", scheduled_at=T0 + 4 * DAY
        )
        CarePolicy.objects.create(medical_group=medical_group, max_dosing_sessions_per_7_days=1)  # policy tightened
        clock.move_to(T0 + 4 * DAY + timedelta(minutes=5))
        client = api.as_user(therapist_a)
        vitals = {"phase": "pre_dose", "systolic": 120, "diastolic": 80, "pulse": 70, "taken_by": "patient"}
        assert client.post(f"/api/v1/sessions/{booked.pk}/vitals/", vitals, format="json").status_code == 201

        taken = client.post(f"/api/v1/sessions/{booked.pk}/dose/", {"dose_mg": "100"}, format="json")

    assert taken.status_code == 409
    assert taken.json()["code"] == gates.WEEKLY_LIMIT


# The dashboard ---------------------------------------------------------------------------------------


def test_the_therapists_dashboard_shows_stages_sessions_with_checklist_state_and_plans(
    client, therapist_a, prescriber, patient_a
):
    ready_to_dose(therapist_a, prescriber, patient_a, benzodiazepine_hold="Hold lorazepam the night before.")
    session_services.session_schedule(
        actor=therapist_a, patient=patient_a, kind="dosing", scheduled_at=timezone.now() + timedelta(days=1), **REMOTE
    )
    client.force_login(therapist_a)

    page = client.get("/").content.decode()

    assert "Patients by stage" in page
    assert "Preparation</span> 1" in page
    assert "Today&#x27;s and upcoming sessions (1)" in page or "Today's and upcoming sessions (1)" in page
    assert "0 of 4 confirmed" in page  # fasting, ride home, chaperone, benzodiazepine hold
    assert "Current dose plans (1)" in page
    assert "200.0 mg sublingual rapid-dissolve tablet" in page
    assert "benzodiazepine hold" in page


def _sessions_for(therapist, prescriber, coordinator, count):
    """`count` patients of the therapist, each with a remote dosing session tomorrow and a signed dose plan."""
    for n in range(count):
        patient = refer(
            therapist,
            f"Pat{n}",
            f"Sched{n:03d}",
            f"sched{n}@example.test",
            prescriber=prescriber,
            coordinator=coordinator,
            account=True,
        )
        ready_to_dose(therapist, prescriber, patient)
        session_services.session_schedule(
            actor=therapist, patient=patient, kind="dosing", scheduled_at=timezone.now() + timedelta(days=1), **REMOTE
        )


def _queries(client, path):
    client.get(path)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured.captured_queries), response


@pytest.mark.parametrize("count", [1, 6])
def test_the_session_panels_cost_a_fixed_number_of_queries(client, therapist_a, prescriber, coordinator, count):
    _sessions_for(therapist_a, prescriber, coordinator, count)
    client.force_login(therapist_a)

    queries, response = _queries(client, "/")

    assert response.content.decode().count("0 of 3 confirmed") == count
    assert queries == SESSION_DASHBOARD_QUERIES


@pytest.mark.parametrize("count", [1, 6])
def test_the_sessions_api_list_costs_a_fixed_number_of_queries(api, therapist_a, prescriber, coordinator, count):
    _sessions_for(therapist_a, prescriber, coordinator, count)
    client = api.as_user(therapist_a)

    queries, response = _queries(client, "/api/v1/sessions/")

    assert response.json()["count"] == 2 * count  # the preparation session and the booked dose
    assert queries == SESSION_LIST_QUERIES


# The therapist's whole dashboard with sessions and plans listed costs what it costs empty (its rows share the
# page's audit INSERT; its patients are past intake, so nothing is asked about early rows); the API list is the
# plain list budget. Exact, whatever the count.
SESSION_DASHBOARD_QUERIES = DASHBOARD_QUERIES["therapist_a"] - EARLY_ROWS_QUERY
SESSION_LIST_QUERIES = 6


# The session page --------------------------------------------------------------------------------------


def test_the_session_page_cancels_with_a_reason_and_shows_the_coordinator_only_the_schedule(
    client, therapist_a, coordinator, prescriber, patient_a
):
    ready_to_dose(therapist_a, prescriber, patient_a)
    session = session_services.session_schedule(
        actor=therapist_a, patient=patient_a, kind="dosing", scheduled_at=timezone.now() + timedelta(days=1), **REMOTE
    )
    page_url = f"/patients/{patient_a.pk}/sessions/{session.pk}/"
    client.force_login(coordinator)

    page = client.get(page_url).content.decode()
    assert "Reschedule" in page
    assert "Pre-dosing checklist" not in page
    assert "Vitals" not in page
    assert client.post(page_url, {"action": "vitals", "vitals-phase": "pre_dose"}).status_code == 403
    blank = client.post(page_url, {"action": "cancel", "cancel-reason": ""})
    assert blank.status_code == 400
    assert "This field is required" in blank.content.decode()

    done = client.post(page_url, {"action": "cancel", "cancel-reason": "The chaperone cannot come."})

    assert done.status_code == 302
    page = client.get(page_url).content.decode()
    assert "Cancelled" in page
    assert "The chaperone cannot come." not in page, "free-text reasons are for the clinicians (issue 13)"
    assert SessionChange.objects.get(session=session).kind == "cancelled"


def test_an_outsider_gets_404_for_the_session_page(client, therapist_b, therapist_a, patient_a):
    session = session_services.session_schedule(
        actor=therapist_a, patient=patient_a, kind="preparation", scheduled_at=timezone.now() + timedelta(days=1)
    )
    client.force_login(therapist_b)

    assert client.get(f"/patients/{patient_a.pk}/sessions/{session.pk}/").status_code == 404
    # The portal's checklist page is the patient's own: anyone else is sent home and nothing is confirmed.
    assert client.post(f"/sessions/{session.pk}/checklist/", {"items": ["fasting"]})["Location"] == "/"
    assert not session.checklist.exists()
