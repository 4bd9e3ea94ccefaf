"""Peer consultation (issue 17, point 4): recurring meetings with .ics files, attendance that earns CE hours,
and case presentations de-identified by construction: no name, e-mail, date of birth, exact date or free text
copied from the record reaches a member outside the care team, on any page or API route they can open."""

import re
import uuid
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from icalendar import Calendar

from assessments.questionnaires import services as questionnaire_services
from network.consultation import services as consultation_services
from network.consultation.models import Attendance, ConsultationGroup, Presentation
from network.training import selectors as training_selectors
from patients import services as patient_services

from .course_states import ready_for_evaluation, signed_dose_plan, signed_evaluation
from .factories import UserFactory
from .network_states import group, meetings, past_meeting

COPIED = "Lost her brother in the Calloway ferry accident and cannot sleep since the funeral"
RECORD_DAYS = [datetime(2026, 2, 3, 15), datetime(2026, 2, 17, 15), datetime(2026, 3, 3, 15)]


def _at(moment):
    return time_machine.travel(timezone.make_aware(moment), tick=False)


@pytest.fixture
def case(therapist_a, prescriber, coordinator):
    """A patient of therapist A and the prescriber, with a referral summary, PHQ-9s on three record days and a
    signed dose plan: everything a presentation could leak."""
    with _at(datetime(2026, 1, 20, 15)):
        patient = patient_services.patient_refer(
            actor=therapist_a,
            first_name="Quinley",
            last_name="Vandermeer",
            email="quinley.vandermeer@example.test",
            date_of_birth=date(1979, 8, 23),
            state="CA",
            phone="+1 415 555 0142",
            referral={"clinical_summary": COPIED},
            invite=False,
        )
        patient_services.prescriber_assign(actor=coordinator, patient=patient, prescriber=prescriber)
        patient.user = UserFactory(role="patient", email="portal.quinley@example.test")
        patient.save(update_fields=["user"])
    for n, day in enumerate(RECORD_DAYS):
        with _at(day):
            questionnaire_services.questionnaire_submit(
                actor=patient.user,
                patient=patient,
                instrument="phq9",
                answers=[3 - n, 2, 2, 2, 2, 1, 1, 1, 0],
                difficulty=1,
            )
    with _at(datetime(2026, 3, 10, 15)):
        ready_for_evaluation(patient)
        signed_evaluation(prescriber, patient)
        signed_dose_plan(prescriber, patient)
    return patient


@pytest.fixture
def peers(coordinator, therapist_a, therapist_b, prescriber):
    """Therapist A facilitates; therapist B (not on the patient's team) and the prescriber are members."""
    return group(coordinator, therapist_a, therapist_b, prescriber)


def _present(api, presenter, peers, patient, **changes):
    body = {
        "group": str(peers.pk),
        "patient": str(patient.pk),
        "title": "Treatment-resistant depression, slow response",
        "summary": "Woman in her forties, partial response by week 4; grief is the main theme in integration.",
        **changes,
    }
    return api.as_user(presenter).post("/api/v1/network/presentations/", body, format="json")


def _identifiers(patient):
    """Everything that would identify the patient or copy their record, as it could be written out."""
    values = [patient.first_name, patient.last_name, patient.email, patient.phone, "555 0142", "Calloway", COPIED]
    born = patient.date_of_birth
    days = [born] + [day.date() for day in RECORD_DAYS] + [date(2026, 3, 10), date(2026, 1, 20)]
    for day in days:
        values += [day.isoformat(), f"{day:%m/%d/%Y}", f"{day:%b} {day.day}, {day.year}", f"{day:%B} {day.day}"]
    values += [f"{born:%b}. {born.day}", str(born.year), patient.referral.clinical_summary[:30]]
    return values


def _leaked(values, seen):
    """The values that appear in `seen` as words of their own: a birth year such as 1979 also turns up inside
    the random hex of a UUID or a CSRF token, which identifies no one."""
    return [value for value in values if re.search(rf"(?<![\w-]){re.escape(value)}(?![\w-])", seen, re.IGNORECASE)]


def test_nothing_identifying_reaches_a_member_outside_the_care_team(
    api, client, case, peers, therapist_a, therapist_b, prescriber
):
    meeting = past_meeting(therapist_a, peers)
    created = _present(api, therapist_a, peers, case, meeting=str(meeting.pk))
    assert created.status_code == 201, created.content
    presentation = Presentation.objects.get()
    consultation_services.attendance_record(actor=therapist_a, meeting=meeting, attendees=[therapist_a, therapist_b])
    client.force_login(therapist_b)
    pages = [
        "/network/groups/",
        f"/network/groups/{peers.pk}/",
        f"/network/meetings/{meeting.pk}/",
        f"/network/meetings/{meeting.pk}/meeting.ics",
        f"/network/presentations/{presentation.pk}/",
        "/network/training/transcript/",
        "/api/v1/network/groups/",
        f"/api/v1/network/groups/{peers.pk}/",
        "/api/v1/network/meetings/",
        f"/api/v1/network/meetings/{meeting.pk}/",
        f"/api/v1/network/meetings/{meeting.pk}/ics/",
        "/api/v1/network/presentations/",
        f"/api/v1/network/presentations/{presentation.pk}/",
    ]

    seen = ""
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        seen += response.content.decode() + "\n"

    assert _leaked(_identifiers(case), seen) == []
    assert str(case.pk) not in seen
    # What the group does see: the presenter's words and the de-identified values.
    assert "grief is the main theme" in seen and "40–49" in seen
    detail = api.as_user(therapist_b).get(f"/api/v1/network/presentations/{presentation.pk}/").json()
    assert detail["scores"] == [
        {"instrument": "phq9", "week": 0, "score": 14},
        {"instrument": "phq9", "week": 2, "score": 13},
        {"instrument": "phq9", "week": 4, "score": 12},
    ]
    assert detail["dose_plan"]["full_dose_mg"] == "200.0" and "instructions" not in str(detail["dose_plan"])
    assert "patient" not in detail


def test_a_presentation_keeps_no_link_to_the_patient():
    links = [field.name for field in Presentation._meta.get_fields() if field.is_relation]

    assert sorted(links) == ["group", "meeting", "presenter"]


@pytest.mark.parametrize(
    "summary",
    [
        "Quinley is doing better after week 4.",
        "Ms VANDERMEER reports less rumination.",
        "Reach her at quinley.vandermeer@example.test for the scales.",
        "Any e-mail at all, say someone@example.org, is refused.",
        "Born 1979, she started in February.",
        "Scores dropped after the session on 2026-02-17.",
        "Scores dropped after the session on 2/17/26.",
        "Scores dropped after the session on Feb 17.",
        "Scores dropped after the session on the 17th of February.",
        "Call 415-555-0142 if needed.",
        f"Referral said: {COPIED.lower()}.",
    ],
)
def test_a_summary_that_identifies_or_copies_the_record_is_refused(api, case, peers, therapist_a, summary):
    response = _present(api, therapist_a, peers, case, summary=summary)

    assert response.status_code == 400
    assert "Remove what could identify the patient" in str(response.json()["summary"])
    assert not Presentation.objects.exists()


def test_a_title_that_names_the_patient_is_refused(api, case, peers, therapist_a):
    response = _present(api, therapist_a, peers, case, title="The Vandermeer case")

    assert response.status_code == 400 and "title" in response.json()


def test_a_case_starts_only_from_the_presenters_own_patients(api, case, peers, therapist_b, coordinator):
    """Therapist B is in the group but not on the patient's care team: the patient is 404 to them."""
    outsider = _present(api, therapist_b, peers, case)
    coordinators = _present(api, coordinator, peers, case)

    assert outsider.status_code == 404
    assert coordinators.status_code == 403
    assert not Presentation.objects.exists()


def test_a_case_is_presented_only_to_the_presenters_own_groups(api, case, coordinator, prescriber, therapist_b):
    others = group(coordinator, therapist_b, name="Another group")

    response = _present(api, prescriber, others, case)

    assert response.status_code == 404


def test_the_web_form_presents_a_case_without_its_identity(client, case, peers, therapist_a):
    client.force_login(therapist_a)
    form = client.get(f"/network/groups/{peers.pk}/present/")
    body = {
        "patient": str(case.pk),
        "title": "Slow responder",
        "summary": "Grief; partial response by week 4.",
        "include_scores": "on",
    }

    response = client.post(f"/network/groups/{peers.pk}/present/", body)

    assert form.status_code == 200
    assert response.status_code == 302
    presentation = Presentation.objects.get()
    assert presentation.dose_plan == {} and len(presentation.scores) == 3
    refused = client.post(f"/network/groups/{peers.pk}/present/", {**body, "summary": "Quinley improved."})
    assert refused.status_code == 400 and Presentation.objects.count() == 1


def test_members_outside_the_group_see_nothing(client, api, peers, therapist_a, outside_world, patient_b):
    meeting = meetings(therapist_a, peers)[0]
    stranger = outside_world["therapist"]
    client.force_login(stranger)

    for page in (
        f"/network/groups/{peers.pk}/",
        f"/network/meetings/{meeting.pk}/",
        f"/network/meetings/{meeting.pk}/meeting.ics",
    ):
        assert client.get(page).status_code == 404
    assert api.as_user(stranger).get(f"/api/v1/network/meetings/{meeting.pk}/ics/").status_code == 404
    assert api.as_user(patient_b.user).get(f"/api/v1/network/groups/{peers.pk}/").status_code == 404


# Meetings, their calendar files, attendance and CE hours.


def _schedule(peers, **changes):
    return {
        "group": str(peers.pk),
        "starts_at": "2099-01-01T10:00:00+00:00",
        "time_zone": "America/New_York",
        "video_link": "https://video.example.test/peer",
        "ce_hours": "1.00",
        **changes,
    }


def test_a_series_keeps_its_local_time_across_daylight_saving(api, peers, therapist_a):
    first = timezone.make_aware(datetime(2026, 10, 27, 18), ZoneInfo("America/Los_Angeles"))
    body = _schedule(peers, starts_at=first.isoformat(), time_zone="America/Los_Angeles", count=3)
    with _at(datetime(2026, 10, 1, 12)):
        response = api.as_user(therapist_a).post("/api/v1/network/meetings/", body, format="json")

    assert response.status_code == 201, response.content
    starts = [datetime.fromisoformat(row["starts_at"]) for row in response.json()]
    local = [start.astimezone(ZoneInfo("America/Los_Angeles")) for start in starts]
    assert [(day.day, day.hour) for day in local] == [(27, 18), (3, 18), (10, 18)]  # DST ended on Nov 1
    assert starts[1] - starts[0] != starts[2] - starts[1]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"starts_at": "2020-01-01T10:00:00+00:00"}, "starts_at"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"video_link": "javascript:alert(1)"}, "video_link"),
        ({"count": 500}, "count"),
        ({"every_weeks": 0}, "every_weeks"),
    ],
)
def test_a_bad_schedule_is_refused_and_nothing_is_made(api, peers, therapist_a, change, field):
    body = _schedule(peers, **change)

    response = api.as_user(therapist_a).post("/api/v1/network/meetings/", body, format="json")

    assert response.status_code == 400 and field in response.json()
    assert not peers.meetings.exists()


def test_a_time_without_an_offset_is_the_meetings_local_time(api, peers, therapist_a):
    body = _schedule(peers, starts_at="2099-01-01T10:00:00")

    response = api.as_user(therapist_a).post("/api/v1/network/meetings/", body, format="json")

    assert response.status_code == 201, response.content
    assert peers.meetings.get().starts_at == datetime(2099, 1, 1, 15, tzinfo=ZoneInfo("UTC"))


def test_only_the_facilitator_schedules(api, peers, prescriber, coordinator):
    body = _schedule(peers)

    for user in (prescriber, coordinator):
        response = api.as_user(user).post("/api/v1/network/meetings/", body, format="json")
        assert response.status_code == 403 and "facilitator" in response.json()["detail"]
    assert not peers.meetings.exists()


def test_the_ics_file_holds_the_local_time_and_the_video_link(client, peers, therapist_b, therapist_a):
    meeting = meetings(therapist_a, peers, time_zone="America/Denver")[0]
    client.force_login(therapist_b)

    response = client.get(f"/network/meetings/{meeting.pk}/meeting.ics")

    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    event = Calendar.from_ical(response.content).walk("VEVENT")[0]
    assert event["LOCATION"] == "https://video.example.test/peer"
    assert event.decoded("DTSTART") == meeting.starts_at
    assert str(event.decoded("DTSTART").tzinfo) == "America/Denver"
    assert re.search(r"DTSTART;TZID=America/Denver:", response.content.decode())


def test_attendance_earns_the_meetings_ce_hours(api, peers, therapist_a, therapist_b, prescriber):
    meeting = past_meeting(therapist_a, peers, ce_hours="1.50")
    client = api.as_user(therapist_a)
    url = f"/api/v1/network/meetings/{meeting.pk}/attendance/"

    first = client.post(url, {"attendees": [str(therapist_b.pk), str(prescriber.pk)]}, format="json")
    hours = training_selectors.transcript(therapist_b).periods[0].consultation_hours
    again = client.post(url, {"attendees": [str(prescriber.pk)]}, format="json")  # corrected: B was not there

    assert first.status_code == again.status_code == 200
    assert hours == Decimal("1.50")
    assert training_selectors.transcript(therapist_b).periods[0].consultation_hours == 0
    assert training_selectors.transcript(prescriber).periods[0].consultation_hours == Decimal("1.50")
    assert list(Attendance.objects.values_list("clinician", flat=True)) == [prescriber.pk]


def test_attendance_before_the_meeting_or_by_another_or_for_strangers_is_refused(
    api, peers, therapist_a, therapist_b, outside_world
):
    future = meetings(therapist_a, peers)[0]
    past = past_meeting(therapist_a, peers)

    early = api.as_user(therapist_a).post(
        f"/api/v1/network/meetings/{future.pk}/attendance/", {"attendees": [str(therapist_b.pk)]}, format="json"
    )
    not_facilitator = api.as_user(therapist_b).post(
        f"/api/v1/network/meetings/{past.pk}/attendance/", {"attendees": [str(therapist_b.pk)]}, format="json"
    )
    stranger = api.as_user(therapist_a).post(
        f"/api/v1/network/meetings/{past.pk}/attendance/",
        {"attendees": [str(outside_world["therapist"].pk)]},
        format="json",
    )
    unknown = api.as_user(therapist_a).post(
        f"/api/v1/network/meetings/{past.pk}/attendance/", {"attendees": [str(uuid.uuid4())]}, format="json"
    )

    assert early.status_code == 409 and early.json()["code"] == "meeting_not_started"
    assert not_facilitator.status_code == 403
    assert stranger.status_code == unknown.status_code == 400
    assert not Attendance.objects.exists()


def test_the_facilitator_records_attendance_on_the_meeting_page(client, peers, therapist_a, therapist_b):
    meeting = past_meeting(therapist_a, peers, ce_hours="2.00")
    client.force_login(therapist_a)

    response = client.post(f"/network/meetings/{meeting.pk}/", {"attendees": [str(therapist_b.pk)]})

    assert response.status_code == 302
    assert training_selectors.transcript(therapist_b).periods[0].consultation_hours == Decimal("2.00")
    client.force_login(therapist_b)
    assert client.post(f"/network/meetings/{meeting.pk}/", {"attendees": [str(therapist_b.pk)]}).status_code == 403


PAGE_STATUS = {
    # role: (group page, meeting page, presentation page)
    "therapist_a": (200, 200, 200),
    "prescriber": (200, 200, 200),
    "coordinator": (200, 200, 403),
    "therapist_b": (404, 404, 404),
    "patient": (403, 403, 403),
    "admin": (403, 403, 403),
}


@pytest.mark.parametrize("role", sorted(PAGE_STATUS))
def test_each_role_opens_the_group_pages_the_policy_allows(client, cast, patient_a, coordinator, role):
    peers = group(coordinator, cast["therapist_a"], cast["prescriber"])
    meeting = past_meeting(cast["therapist_a"], peers)
    presentation = consultation_services.presentation_create(
        actor=cast["therapist_a"], group=peers, patient=patient_a, title="A case", summary="Partial response."
    )
    client.force_login(cast[role])

    statuses = tuple(
        client.get(page).status_code
        for page in (
            f"/network/groups/{peers.pk}/",
            f"/network/meetings/{meeting.pk}/",
            f"/network/presentations/{presentation.pk}/",
        )
    )

    assert statuses == PAGE_STATUS[role]


def _queries(api, user, url):
    client = api.as_user(user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", ["/api/v1/network/groups/", "/api/v1/network/meetings/"])
def test_the_lists_cost_the_same_queries_for_one_group_or_three(api, coordinator, therapist_a, therapist_b, url):
    first = group(coordinator, therapist_a, therapist_b)
    past_meeting(therapist_a, first)
    one = _queries(api, therapist_a, url)
    for name in ("Second", "Third"):
        peers = group(coordinator, therapist_a, therapist_b, name=name)
        meeting = past_meeting(therapist_a, peers)
        consultation_services.attendance_record(actor=therapist_a, meeting=meeting, attendees=[therapist_b])

    assert _queries(api, therapist_a, url) == one


def test_a_coordinator_forms_a_group_and_its_facilitator_schedules_on_the_pages(
    client, coordinator, therapist_a, therapist_b, prescriber, outside_world
):
    client.force_login(coordinator)
    stranger = outside_world["therapist"]
    refused = client.post("/network/groups/", {"name": "Peers", "facilitator": stranger.pk, "members": [stranger.pk]})
    formed = client.post(
        "/network/groups/", {"name": "Peers", "facilitator": therapist_a.pk, "members": [therapist_b.pk]}
    )
    peers = ConsultationGroup.objects.get()
    schedule = {
        "starts_at": "2099-03-03T18:30",
        "time_zone": "America/Chicago",
        "video_link": "https://video.example.test/peers",
        "ce_hours": "1.00",
        "duration_minutes": 60,
        "count": 2,
        "every_weeks": 2,
    }
    client.force_login(prescriber)
    not_theirs = client.post(f"/network/groups/{peers.pk}/schedule/", schedule)
    client.force_login(therapist_b)
    member = client.post(f"/network/groups/{peers.pk}/schedule/", schedule)
    client.force_login(therapist_a)
    scheduled = client.post(f"/network/groups/{peers.pk}/schedule/", schedule)

    assert refused.status_code == 400 and formed.status_code == 302
    assert not_theirs.status_code == 404  # the prescriber is not in this group
    assert member.status_code == 403  # a member, not the facilitator
    assert scheduled.status_code == 302, scheduled.content.decode()
    starts = [meeting.local_start for meeting in peers.meetings.all()]
    assert [(day.month, day.day, day.hour, day.minute) for day in starts] == [(3, 3, 18, 30), (3, 17, 18, 30)]
    assert str(starts[0].tzinfo) == "America/Chicago"
