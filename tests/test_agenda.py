"""The clinician's agenda (issue 16, point 3): a day and a week of their booked sessions, with what is still to
do before each; other practices' sessions never appear. Issue 19: the prescriber's booked visits beside them, all
in the clinician's own time zone, at a fixed number of queries."""

import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from treatment.course import services as course_services
from treatment.sessions import services as session_services
from treatment.visits import selectors as visit_selectors
from treatment.visits import services as visit_services

from .course_states import ready_for_evaluation, signed_dose_plan, signed_evaluation


@pytest.fixture
def booked(patient_a, therapist_a, prescriber):
    """A preparation session for Avery booked three days ahead at 10:00, her time (clinic hours)."""
    ready_for_evaluation(patient_a)
    signed_evaluation(prescriber, patient_a)
    signed_dose_plan(prescriber, patient_a)
    at = timezone.localtime(timezone=ZoneInfo(patient_a.time_zone)) + timedelta(days=3)
    at = at.replace(hour=10, minute=0, second=0, microsecond=0)
    return session_services.session_schedule(actor=therapist_a, patient=patient_a, kind="preparation", scheduled_at=at)


def test_the_week_lists_the_session_on_its_day_and_the_day_view_moves_by_day(client, booked, therapist_a):
    client.force_login(therapist_a)
    day = timezone.localtime(booked.scheduled_at).date()

    week = client.get(f"/agenda/?view=week&date={day:%Y-%m-%d}").content.decode()
    the_day = client.get(f"/agenda/?view=day&date={day:%Y-%m-%d}").content.decode()
    next_day = client.get(f"/agenda/?view=day&date={day + timedelta(days=1):%Y-%m-%d}").content.decode()

    assert "Preparation session" in week and "Avery Alder" in week and week.count('class="card agenda-day"') == 7
    assert "10:00" in the_day and "1 session." in the_day  # the therapist's zone (no hours kept: California)
    assert "Avery Alder" not in next_day and "Nothing booked." in next_day


def test_another_practices_therapist_sees_none_of_it(client, booked, therapist_b):
    client.force_login(therapist_b)
    day = timezone.localtime(booked.scheduled_at).date()

    assert "Avery" not in client.get(f"/agenda/?view=week&date={day:%Y-%m-%d}").content.decode()


def test_a_bad_date_or_view_falls_back_to_today(client, booked, therapist_a):
    client.force_login(therapist_a)

    for query in ("?date=2026-13-45", "?view=year", "?date=%00", "?view=week&date=9999-12-31", "?date=0001-01-01"):
        response = client.get(f"/agenda/{query}")
        assert response.status_code == 200, query
        today = timezone.localdate(timezone=ZoneInfo("America/Los_Angeles"))
        shown = f"{today:%A %b} {today.day}, {today.year}" if "week" not in query else f"{today:%b}"
        assert shown in response.content.decode(), query


def test_a_coordinator_is_not_offered_hours_to_keep(client, coordinator):
    client.force_login(coordinator)

    assert "My hours" not in client.get("/agenda/").content.decode()
    assert client.get("/schedule/").status_code == 403


def test_an_outsider_is_refused(client, admin_user):
    client.force_login(admin_user)

    assert client.get("/agenda/").status_code == 403


def _follow_up_booked(prescriber, patient, slot_index=0):
    """The patient's first follow-up, booked by the patient at one of the prescriber's open times."""
    ready_for_evaluation(patient)
    signed_evaluation(prescriber, patient)
    course_services.follow_up_start(actor=prescriber, patient=patient)
    slot = visit_selectors.open_slots(prescriber, "follow_up")[slot_index]
    return visit_services.visit_book(actor=patient.user, patient=patient, kind="follow_up", starts_at=slot)


@pytest.fixture
def new_york_mornings(prescriber):
    """The prescriber keeps 09:00-11:00 every day, New York time."""
    visit_services.schedule_save(actor=prescriber, time_zone="America/New_York")
    for weekday in range(7):
        visit_services.hours_add(
            actor=prescriber, weekday=weekday, start_time=datetime.time(9), end_time=datetime.time(11)
        )


def test_the_prescriber_sees_a_booked_visit_on_its_day_in_their_own_time(
    client, new_york_mornings, prescriber, patient_a
):
    visit = _follow_up_booked(prescriber, patient_a)
    day = visit.starts_at.astimezone(ZoneInfo("America/New_York")).date()
    client.force_login(prescriber)

    page = client.get(f"/agenda/?view=day&date={day:%Y-%m-%d}").content.decode()
    week = client.get(f"/agenda/?view=week&date={day:%Y-%m-%d}").content.decode()

    assert "09:00" in page and "Follow-up visit (video)" in page and "Avery Alder" in page
    assert f'href="/visits/{visit.pk}/"' in page
    assert "0 sessions, 1 visit." in page and "Times in America/New_York." in page
    assert week.count("Follow-up visit") == 1
    assert 'href="/schedule/">My hours</a>' in page


def test_the_therapist_sees_whom_the_visit_is_with_and_a_cancelled_one_leaves(
    client, new_york_mornings, prescriber, therapist_a, therapist_b, patient_a
):
    visit = _follow_up_booked(prescriber, patient_a)
    day = visit.starts_at.astimezone(ZoneInfo("America/Los_Angeles")).date()
    url = f"/agenda/?view=week&date={day:%Y-%m-%d}"
    client.force_login(therapist_a)

    shown = client.get(url).content.decode()
    visit_services.visit_cancel(actor=prescriber, visit=visit, reason="Patient called.")
    after = client.get(url).content.decode()
    client.force_login(therapist_b)

    assert f"Follow-up visit with {prescriber.get_full_name()} (video)" in shown and "06:00" in shown
    assert "Follow-up visit" not in after
    assert "Avery Alder" not in client.get(url).content.decode()  # another therapist's agenda: not their patient


def test_the_agenda_costs_the_same_queries_with_more_sessions_and_visits(
    client, new_york_mornings, prescriber, therapist_a, patient_a, patient_b
):
    first = _follow_up_booked(prescriber, patient_a)
    week = first.starts_at.astimezone(ZoneInfo("America/New_York")).date()
    url = f"/agenda/?view=week&date={week:%Y-%m-%d}"
    client.force_login(prescriber)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    client.get(url)  # warm: the menu's badge is counted once, then kept (kapcare.caseload_cache)
    few = queries()
    _follow_up_booked(prescriber, patient_b, slot_index=1)
    at = first.starts_at + timedelta(hours=4)
    for patient in (patient_a, patient_b):
        session_services.session_schedule(
            actor=patient.referred_by, patient=patient, kind="preparation", scheduled_at=at
        )
    many = client.get(url).content.decode()

    assert many.count("Follow-up visit") == 2 and many.count("Preparation session") == 2
    assert few == queries() == AGENDA_QUERIES


# The session and its user, the second factor, the clinician's time zone (their schedule), the sessions, the visits
# and one INSERT of the audit rows of the patients listed. Before visits joined it was 9: the visits and the time
# zone the page is now shown in are one query each; then the menu's notification badge went to
# kapcare.caseload_cache and the idle clock is written once a minute at most (-4).
AGENDA_QUERIES = 7
