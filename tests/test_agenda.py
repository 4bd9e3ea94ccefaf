"""The clinician's agenda (issue 16, point 3): a day and a week of their booked sessions, with what is still to
do before each; other practices' sessions never appear."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from treatment.sessions import services as session_services

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
    assert f"{timezone.localtime(booked.scheduled_at):%H:%M}" in the_day and "1 session." in the_day
    assert "Avery Alder" not in next_day and "Nothing booked." in next_day


def test_another_practices_therapist_sees_none_of_it(client, booked, therapist_b):
    client.force_login(therapist_b)
    day = timezone.localtime(booked.scheduled_at).date()

    assert "Avery" not in client.get(f"/agenda/?view=week&date={day:%Y-%m-%d}").content.decode()


def test_a_bad_date_or_view_falls_back_to_today(client, booked, therapist_a):
    client.force_login(therapist_a)

    for query in ("?date=2026-13-45", "?view=year", "?date=%00"):
        response = client.get(f"/agenda/{query}")
        assert response.status_code == 200, query
        today = timezone.localdate()
        assert f"{today:%A %b} {today.day}, {today.year}" in response.content.decode(), query


def test_an_outsider_is_refused(client, admin_user):
    client.force_login(admin_user)

    assert client.get("/agenda/").status_code == 403
