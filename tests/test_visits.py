"""Prescriber visits, session hours and calendar feeds (issue 19): what a patient, a prescriber and a therapist
notice. Booking across time zones and a daylight-saving change, the double-booking race on PostgreSQL, dosing
outside the allowed hours, the iCal feeds."""

import datetime
import threading
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.utils import timezone
from icalendar import Calendar

from kapcare.accounts.models import Licence, User
from kapcare.rules import RuleRefused
from messaging.reminders import outbox
from messaging.reminders.models import Reminder
from patients import services as patient_services
from treatment.course import services as course_services
from treatment.models import TherapySession
from treatment.visits import selectors, services
from treatment.visits.models import Schedule, SessionHoursException, TimeOff, Visit, WeeklyHours

from .course_states import ready_to_dose
from .fixtures import _staff

Kind = Reminder.Kind
NEW_YORK, LOS_ANGELES = ZoneInfo("America/New_York"), ZoneInfo("America/Los_Angeles")
# Wednesday 10 March 2027, noon UTC: the US moves its clocks forward on Sunday 14 March.
BEFORE_DST = datetime.datetime(2027, 3, 10, 12, tzinfo=UTC)


def mornings(prescriber, time_zone="America/New_York", start=datetime.time(9), end=datetime.time(11)):
    """The prescriber sees patients 09:00-11:00 every weekday, in their own zone."""
    schedule, _ = Schedule.objects.update_or_create(
        clinician=prescriber, defaults={"time_zone": time_zone, "video_link": "https://video.example.test/maya"}
    )
    for weekday in range(5):
        WeeklyHours.objects.create(schedule=schedule, weekday=weekday, start_time=start, end_time=end)
    return schedule


def pending_follow_up(prescriber, patient):
    """A signed eligible evaluation and the course's first follow-up, due in 30 days."""
    from .course_states import ready_for_evaluation, signed_evaluation

    ready_for_evaluation(patient)
    signed_evaluation(prescriber, patient)
    follow_up, _created = course_services.follow_up_start(actor=prescriber, patient=patient)
    return follow_up


# Availability and booking across time zones and a DST change ---------------------------------------------


def test_weekly_hours_keep_their_wall_time_across_the_dst_change_in_both_zones(prescriber, patient_a):
    mornings(prescriber)
    with time_machine.travel(BEFORE_DST, tick=False):
        slots = selectors.open_slots(prescriber, Visit.Kind.FOLLOW_UP)

    by_day = {slot.astimezone(NEW_YORK).date(): [] for slot in slots}
    for slot in slots:
        by_day[slot.astimezone(NEW_YORK).date()].append(slot)
    thursday, monday = datetime.date(2027, 3, 11), datetime.date(2027, 3, 15)
    # 09:00 in New York is 14:00 UTC before the change and 13:00 UTC after it ...
    assert by_day[thursday][0] == datetime.datetime(2027, 3, 11, 14, tzinfo=UTC)
    assert by_day[monday][0] == datetime.datetime(2027, 3, 15, 13, tzinfo=UTC)
    assert [s.astimezone(NEW_YORK).strftime("%H:%M") for s in by_day[monday]] == ["09:00", "09:30", "10:00", "10:30"]
    assert datetime.date(2027, 3, 13) not in by_day  # no weekend hours
    # ... and the patient in California sees 06:00 on both sides (both zones changed).
    days = selectors.slots_by_day(slots, patient_a.time_zone)
    assert {day.slots[0].strftime("%H:%M") for day in days} == {"06:00"}


def test_los_angeles_changes_on_the_same_day_but_a_patient_in_arizona_sees_the_hour_move(prescriber, patient_a):
    mornings(prescriber)
    with time_machine.travel(BEFORE_DST, tick=False):
        days = selectors.slots_by_day(selectors.open_slots(prescriber, Visit.Kind.FOLLOW_UP), "America/Phoenix")
    first = {day.day: day.slots[0].strftime("%H:%M") for day in days}
    assert first[datetime.date(2027, 3, 11)] == "07:00"
    assert first[datetime.date(2027, 3, 15)] == "06:00"  # Arizona keeps standard time


def test_time_off_and_a_day_off_remove_their_slots(prescriber):
    schedule = mornings(prescriber)
    monday = datetime.date(2027, 3, 15)
    TimeOff.objects.create(
        schedule=schedule,
        starts_at=datetime.datetime(2027, 3, 16, 0, tzinfo=NEW_YORK),
        ends_at=datetime.datetime(2027, 3, 17, 0, tzinfo=NEW_YORK),
    )
    schedule.date_hours.create(on=monday)  # the whole Monday off
    schedule.date_hours.create(on=datetime.date(2027, 3, 13), start_time=datetime.time(10), end_time=datetime.time(11))
    with time_machine.travel(BEFORE_DST, tick=False):
        days = {s.astimezone(NEW_YORK).date() for s in selectors.open_slots(prescriber, Visit.Kind.FOLLOW_UP)}
    assert monday not in days
    assert datetime.date(2027, 3, 16) not in days
    assert datetime.date(2027, 3, 13) in days  # a Saturday with extra hours
    assert datetime.date(2027, 3, 17) in days


def test_the_patient_books_their_follow_up_and_the_slot_is_gone(api, prescriber, patient_a):
    follow_up = pending_follow_up(prescriber, patient_a)
    mornings(prescriber)
    with time_machine.travel(BEFORE_DST, tick=True):
        client = api.as_user(patient_a.user)
        open_times = client.get(f"/api/v1/visit-slots/?patient={patient_a.pk}&kind=follow_up").json()
        first = open_times["slots"][0]
        assert first["local"].endswith("-08:00")  # shown in the patient's zone, before the change

        booked = client.post(
            "/api/v1/visits/",
            {"patient": str(patient_a.pk), "kind": "follow_up", "starts_at": first["starts_at"]},
            format="json",
        )
        again = client.post(
            "/api/v1/visits/",
            {"patient": str(patient_a.pk), "kind": "follow_up", "starts_at": open_times["slots"][1]["starts_at"]},
            format="json",
        )
        after = client.get(f"/api/v1/visit-slots/?patient={patient_a.pk}&kind=follow_up").json()

    assert booked.status_code == 201, booked.content
    visit = Visit.objects.get(pk=booked.json()["id"])
    assert visit.follow_up == follow_up
    assert visit.prescriber == prescriber
    assert visit.patient_state == "CA"
    assert visit.video_link == "https://video.example.test/maya"
    assert again.status_code == 409 and again.json()["code"] == "visit_nothing_to_book"
    assert first["starts_at"] not in [slot["starts_at"] for slot in after["slots"]]


def test_a_time_outside_the_hours_or_in_a_state_without_licence_is_refused(prescriber, patient_a):
    pending_follow_up(prescriber, patient_a)
    mornings(prescriber)
    with time_machine.travel(BEFORE_DST, tick=True):
        slot = selectors.open_slots(prescriber, Visit.Kind.FOLLOW_UP)[0]
        with pytest.raises(RuleRefused) as closed:
            services.visit_book(
                actor=patient_a.user, patient=patient_a, kind="follow_up", starts_at=slot + timedelta(hours=5)
            )
        with pytest.raises(RuleRefused) as unlicensed:
            services.visit_book(
                actor=patient_a.user, patient=patient_a, kind="follow_up", starts_at=slot, patient_state="TX"
            )
    assert closed.value.code == "visit_slot_not_open"
    assert unlicensed.value.code == "prescriber_not_licensed"
    assert not Visit.objects.exists()


def test_a_patient_cancels_or_moves_only_within_the_policys_notice(prescriber, coordinator, patient_a):
    pending_follow_up(prescriber, patient_a)
    mornings(prescriber)
    with time_machine.travel(BEFORE_DST, tick=True) as clock:
        slots = selectors.open_slots(prescriber, Visit.Kind.FOLLOW_UP)
        visit = services.visit_book(actor=patient_a.user, patient=patient_a, kind="follow_up", starts_at=slots[8])
        moved = services.visit_reschedule(actor=patient_a.user, visit=visit, starts_at=slots[11])
        assert moved.starts_at == slots[11] and moved.ends_at == slots[11] + timedelta(minutes=30)
        clock.move_to(slots[11] - timedelta(hours=3))  # within the 24 hours' notice
        with pytest.raises(RuleRefused) as late:
            services.visit_cancel(actor=patient_a.user, visit=visit, reason="Work.")
        cancelled = services.visit_cancel(actor=coordinator, visit=visit, reason="Patient called.")
    assert late.value.code == "visit_notice"
    assert cancelled.status == Visit.Status.CANCELLED


# The race: two patients, one slot, one wins -----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_patients_racing_for_one_slot_one_wins_and_the_other_hears_it_was_taken(prescriber, patient_a, patient_b):
    for patient in (patient_a, patient_b):
        pending_follow_up(prescriber, patient)
    mornings(prescriber, start=datetime.time(0), end=datetime.time(23, 30))
    slot = selectors.open_slots(prescriber, Visit.Kind.FOLLOW_UP)[0]
    barrier, outcomes = threading.Barrier(2), {}

    def book(patient):
        try:
            barrier.wait(timeout=10)
            services.visit_book(actor=patient.user, patient=patient, kind="follow_up", starts_at=slot)
            outcomes[patient.pk] = "booked"
        except RuleRefused as error:
            outcomes[patient.pk] = error.code
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(patient,)) for patient in (patient_a, patient_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes.values()) == ["booked", "visit_slot_taken"]
    assert Visit.objects.filter(starts_at=slot, status=Visit.Status.BOOKED).count() == 1


# Session hours --------------------------------------------------------------------------------------------


def _dosing(api, therapist, patient, at, **extra):
    body = {"patient": str(patient.pk), "kind": "dosing", "scheduled_at": at.isoformat(), **extra}
    return api.as_user(therapist).post("/api/v1/sessions/", body, format="json")


def _local(day_offset, hour, minute=0):
    day = timezone.now().astimezone(LOS_ANGELES).date() + timedelta(days=day_offset)
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=LOS_ANGELES)


def test_dosing_outside_the_allowed_hours_is_refused_without_a_reason(api, therapist_a, prescriber, patient_a):
    ready_to_dose(therapist_a, prescriber, patient_a)

    evening = _dosing(api, therapist_a, patient_a, _local(2, 16))  # 16:00 + 3 hours runs past 18:00
    early = _dosing(api, therapist_a, patient_a, _local(2, 7, 30))
    with_reason = _dosing(api, therapist_a, patient_a, _local(2, 16), reason="Only evening with a ride home.")

    for refused in (evening, early):
        assert refused.status_code == 409
        assert refused.json()["code"] == "session_outside_hours"
        assert "dosing hours (08:00-18:00" in refused.json()["detail"]
    assert with_reason.status_code == 201, with_reason.content
    exception = SessionHoursException.objects.get(session_id=with_reason.json()["id"])
    assert exception.reason == "Only evening with a ride home."
    assert TherapySession.objects.filter(patient=patient_a, kind="dosing").count() == 1


def test_a_dosing_session_starting_now_after_hours_is_allowed_with_a_reason(api, therapist_a, prescriber, patient_a):
    ready_to_dose(therapist_a, prescriber, patient_a)
    with time_machine.travel(_local(1, 17, 10), tick=True):
        refused = _dosing(api, therapist_a, patient_a, timezone.now())
        allowed = _dosing(api, therapist_a, patient_a, timezone.now(), reason="The patient arrived late; we start now.")
    assert refused.status_code == 409 and refused.json()["code"] == "session_outside_hours"
    assert allowed.status_code == 201, allowed.content


def test_a_preparation_session_keeps_the_therapists_published_hours(api, therapist_a, patient_a):
    mornings(therapist_a, time_zone="America/Los_Angeles", start=datetime.time(12), end=datetime.time(17))
    body = {"patient": str(patient_a.pk), "kind": "preparation"}
    client = api.as_user(therapist_a)

    morning = client.post("/api/v1/sessions/", {**body, "scheduled_at": _local(7, 9).isoformat()}, format="json")
    afternoon = client.post("/api/v1/sessions/", {**body, "scheduled_at": _local(7, 13).isoformat()}, format="json")

    assert morning.status_code == 409 and "working hours" in morning.json()["detail"]
    assert afternoon.status_code in (201, 409)
    if afternoon.status_code == 409:  # a weekend: no hours published then
        assert afternoon.json()["code"] == "session_outside_hours"


# Calendar feeds -------------------------------------------------------------------------------------------


def _feed_url(client, user):
    client.force_login(user)
    page = client.post("/calendar/", {"action": "create"})
    assert page.status_code == 200
    return page.context["feed_url"].split("testserver", 1)[1]


def test_the_prescribers_feed_parses_holds_no_patient_name_and_dies_on_revocation(client, prescriber, patient_a):
    pending_follow_up(prescriber, patient_a)
    mornings(prescriber)
    slot = selectors.open_slots(prescriber, Visit.Kind.FOLLOW_UP)[0]
    visit = services.visit_book(actor=patient_a.user, patient=patient_a, kind="follow_up", starts_at=slot)
    url = _feed_url(client, prescriber)
    client.logout()

    feed = client.get(url)

    assert feed.status_code == 200
    assert feed["Content-Type"].startswith("text/calendar")
    text = feed.content.decode()
    for value in (patient_a.first_name, patient_a.last_name, patient_a.email):
        assert value not in text
    events = Calendar.from_ical(feed.content).walk("VEVENT")
    (event,) = [e for e in events if str(e["uid"]) == f"visit-{visit.pk}@kapcare"]
    assert "A.A." in str(event["summary"])
    assert event.decoded("dtstart") == slot
    assert str(event["url"]).endswith(f"/patients/{patient_a.pk}/")

    client.force_login(prescriber)
    client.post("/calendar/", {"action": "revoke"})
    client.logout()
    assert client.get(url).status_code == 404


def test_a_new_feed_address_ends_the_old_one_and_only_the_hash_is_kept(client, patient_a):
    first = _feed_url(client, patient_a.user)
    second = _feed_url(client, patient_a.user)
    token = second.rsplit("/", 1)[1].removesuffix(".ics")
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
    assert token not in patient_a.user.calendar_feed.token_hash


def test_the_patient_downloads_their_visit_as_ics_across_the_dst_change(client, prescriber, patient_a):
    pending_follow_up(prescriber, patient_a)
    mornings(prescriber)
    with time_machine.travel(BEFORE_DST, tick=True):
        monday = next(s for s in selectors.open_slots(prescriber, Visit.Kind.FOLLOW_UP) if s.day == 15)
        visit = services.visit_book(actor=patient_a.user, patient=patient_a, kind="follow_up", starts_at=monday)
        client.force_login(patient_a.user)
        download = client.get(f"/visits/{visit.pk}/visit.ics")
        page = client.get(f"/visits/{visit.pk}/")
    (event,) = Calendar.from_ical(download.content).walk("VEVENT")
    assert event.decoded("dtstart").astimezone(LOS_ANGELES).strftime("%H:%M %Z") == "06:00 PDT"
    assert "Maya" in str(event["summary"]) or prescriber.get_full_name() in str(event["summary"])
    assert "6:00 AM PDT" in page.content.decode()


# Pages: who reaches them ------------------------------------------------------------------------------------


def test_visit_pages_answer_outsiders_404_and_roles_403(client, prescriber, therapist_a, therapist_b, patient_a):
    pending_follow_up(prescriber, patient_a)
    mornings(prescriber)
    slot = selectors.open_slots(prescriber, Visit.Kind.FOLLOW_UP)[0]
    visit = services.visit_book(actor=prescriber, patient=patient_a, kind="follow_up", starts_at=slot)

    client.force_login(therapist_b)
    assert client.get(f"/visits/{visit.pk}/").status_code == 404
    assert client.get(f"/patients/{patient_a.pk}/visits/").status_code == 404
    client.force_login(therapist_a)
    assert client.get(f"/visits/{visit.pk}/").status_code == 200
    assert client.post(f"/visits/{visit.pk}/cancel/", {"reason": "x"}).status_code == 403
    assert client.get(f"/patients/{patient_a.pk}/visits/book/follow_up/").status_code == 403
    assert client.get("/schedule/").status_code == 200
    client.force_login(patient_a.user)
    assert client.get("/schedule/").status_code == 403
    assert client.get("/visits/").status_code == 200
    assert Visit.objects.get(pk=visit.pk).status == Visit.Status.BOOKED


def test_the_prescribers_dashboard_shows_booked_and_unbooked_follow_ups(client, prescriber, patient_a, patient_b):
    pending_follow_up(prescriber, patient_a)
    pending_follow_up(prescriber, patient_b)
    mornings(prescriber)
    slot = selectors.open_slots(prescriber, Visit.Kind.FOLLOW_UP)[0]
    services.visit_book(actor=patient_a.user, patient=patient_a, kind="follow_up", starts_at=slot)
    client.force_login(prescriber)

    text = client.get("/").content.decode()

    panel = text.split('id="follow-up-bookings-heading"', 1)[1].split("</section>", 1)[0]
    assert f"{patient_a.last_name}, {patient_a.first_name}" in panel and "booked" in panel
    assert f"{patient_b.last_name}, {patient_b.first_name}" in panel and "not booked" in panel


# The clinician's availability over the API (and the page: one service each) ---------------------------------

HOURS = "/api/v1/availability/weekly-hours/"
DATES = "/api/v1/availability/dates/"
TIME_OFF = "/api/v1/availability/time-off/"


def test_a_prescriber_keeps_their_hours_over_the_api_and_patients_see_the_slots(api, prescriber):
    services.schedule_save(actor=prescriber, time_zone="America/New_York")
    client = api.as_user(prescriber)

    added = client.post(HOURS, {"weekday": 0, "start_time": "09:00", "end_time": "10:00"}, format="json")
    listed = client.get(HOURS).json()
    with time_machine.travel(BEFORE_DST, tick=False):
        monday = [s for s in selectors.open_slots(prescriber, Visit.Kind.FOLLOW_UP) if s.date().weekday() == 0]

    assert added.status_code == 201, added.content
    assert added.json() | {"id": None} == {
        "id": None,
        "weekday": 0,
        "start_time": "09:00:00",
        "end_time": "10:00:00",
        "time_zone": "America/New_York",
    }
    assert [row["id"] for row in listed["results"]] == [added.json()["id"]]
    assert monday[0] == datetime.datetime(2027, 3, 15, 13, tzinfo=UTC)  # 09:00 New York, after the change

    removed = client.delete(f"{HOURS}{added.json()['id']}/")
    assert removed.status_code == 204
    assert not WeeklyHours.objects.exists()


def test_hours_out_of_order_or_overlapping_are_refused_with_a_message_on_the_api_and_the_page(api, client, prescriber):
    services.hours_add(actor=prescriber, weekday=2, start_time=datetime.time(9), end_time=datetime.time(12))
    caller = api.as_user(prescriber)

    backwards = caller.post(HOURS, {"weekday": 2, "start_time": "15:00", "end_time": "14:00"}, format="json")
    overlapping = caller.post(HOURS, {"weekday": 2, "start_time": "11:00", "end_time": "13:00"}, format="json")
    client.force_login(prescriber)
    page = client.post(
        "/schedule/",
        {"form": "weekly", "weekly-weekday": 2, "weekly-start_time": "08:00", "weekly-end_time": "09:30"},
    )
    next_to_it = caller.post(HOURS, {"weekday": 2, "start_time": "12:00", "end_time": "13:00"}, format="json")

    assert backwards.status_code == 400 and backwards.json() == {"end_time": ["The hours end after they start."]}
    assert overlapping.status_code == 400
    assert "overlap your Wednesday 09:00-12:00" in overlapping.json()["start_time"][0]
    assert page.status_code == 400 and "overlap your Wednesday 09:00-12:00" in page.content.decode()
    assert next_to_it.status_code == 201
    assert WeeklyHours.objects.count() == 2


def test_time_off_is_read_in_the_clinicians_zone_and_may_not_overlap(api, prescriber):
    services.schedule_save(actor=prescriber, time_zone="America/New_York")
    day = timezone.localdate() + timedelta(days=10)
    caller = api.as_user(prescriber)
    body = {"starts_at": f"{day}T09:00", "ends_at": f"{day + timedelta(days=2)}T17:00", "note": "Conference"}

    added = caller.post(TIME_OFF, body, format="json")
    again = caller.post(TIME_OFF, {**body, "starts_at": f"{day + timedelta(days=1)}T09:00"}, format="json")
    past = caller.post(TIME_OFF, {"starts_at": "2020-01-01T09:00", "ends_at": "2020-01-02T09:00"}, format="json")

    assert added.status_code == 201, added.content
    row = TimeOff.objects.get()
    assert row.starts_at == datetime.datetime.combine(day, datetime.time(9), tzinfo=NEW_YORK)
    assert added.json()["starts_at"] == row.starts_at.astimezone(NEW_YORK).isoformat()
    assert again.status_code == 400 and "overlaps your time off" in again.json()["starts_at"][0]
    assert past.status_code == 400 and "ends in the future" in past.json()["starts_at"][0]
    assert TimeOff.objects.count() == 1


def test_a_day_off_and_hours_on_the_same_date_do_not_mix(api, prescriber):
    day = (timezone.localdate() + timedelta(days=5)).isoformat()
    caller = api.as_user(prescriber)

    off = caller.post(DATES, {"on": day, "note": "Moving house"}, format="json")
    hours = caller.post(DATES, {"on": day, "start_time": "10:00", "end_time": "12:00"}, format="json")
    half = caller.post(DATES, {"on": day, "start_time": "10:00"}, format="json")

    assert off.status_code == 201 and off.json()["start_time"] is None
    assert hours.status_code == 400 and "already a day off" in hours.json()["on"][0]
    assert half.status_code == 400
    assert Schedule.objects.get(clinician=prescriber).date_hours.count() == 1


def test_another_clinicians_rows_are_404_and_other_roles_cannot_write(api, prescriber, coordinator, patient_a):
    from kapcare.accounts.models import User

    from .fixtures import _staff

    colleague = _staff(User.Role.PRESCRIBER, prescriber.organization, "prescriber.two@example.test")
    theirs = services.hours_add(actor=colleague, weekday=1, start_time=datetime.time(9), end_time=datetime.time(10))
    caller = api.as_user(prescriber)

    assert caller.get(f"{HOURS}{theirs.pk}/").status_code == 404
    assert caller.delete(f"{HOURS}{theirs.pk}/").status_code == 404
    assert caller.get(HOURS).json()["results"] == []
    for user in (coordinator, patient_a.user):
        refused = api.as_user(user).post(HOURS, {"weekday": 1, "start_time": "09:00", "end_time": "10:00"})
        assert refused.status_code == 403
        assert api.as_user(user).delete(f"{HOURS}{theirs.pk}/").status_code == 403
    assert list(WeeklyHours.objects.values_list("pk", flat=True)) == [theirs.pk]


# Reminders: the visit tomorrow, the follow-up still to book (planned, swept, sent to the patient) --------------


def _every_day(prescriber):
    for weekday in range(7):
        services.hours_add(actor=prescriber, weekday=weekday, start_time=datetime.time(9), end_time=datetime.time(11))


def _sweep(django_capture_on_commit_callbacks):
    """What beat does: plan, then the sweeper dispatches due rows, delivered inline (celery_eager) after commit."""
    outbox.plan()
    with django_capture_on_commit_callbacks(execute=True):
        outbox.sweep()


def _reminder(kind, patient):
    return Reminder.objects.get(kind=kind, patient=patient)


def _mail_of(reminder):
    return [m for m in mail.outbox if m.extra_headers.get("Message-ID") == reminder.message_id]


@pytest.mark.celery_eager
def test_the_patient_hears_of_tomorrows_visit_unless_it_was_cancelled(
    coordinator, prescriber, patient_a, patient_b, django_capture_on_commit_callbacks
):
    _every_day(prescriber)
    slots = selectors.open_slots(prescriber, Visit.Kind.FOLLOW_UP)
    for index, patient in enumerate((patient_a, patient_b)):
        pending_follow_up(prescriber, patient)
        services.visit_book(actor=patient.user, patient=patient, kind="follow_up", starts_at=slots[index])
    outbox.plan()
    services.visit_cancel(actor=coordinator, visit=Visit.objects.get(patient=patient_b), reason="Patient called.")

    _sweep(django_capture_on_commit_callbacks)

    sent, skipped = _reminder(Kind.VISIT_TOMORROW, patient_a), _reminder(Kind.VISIT_TOMORROW, patient_b)
    assert (sent.recipient, sent.status) == (patient_a.user, Reminder.Status.SENT)
    (message,) = _mail_of(sent)
    assert message.to == [patient_a.user.email]
    assert "/visits/" in message.body and patient_a.last_name not in message.body
    assert (skipped.status, skipped.last_error) == (Reminder.Status.SKIPPED, "The visit was cancelled.")
    assert _mail_of(skipped) == []


@pytest.mark.celery_eager
def test_the_patient_is_asked_to_book_their_follow_up_until_it_is_booked(
    prescriber, patient_a, patient_b, django_capture_on_commit_callbacks
):
    _every_day(prescriber)
    due_on = pending_follow_up(prescriber, patient_a).due_on
    pending_follow_up(prescriber, patient_b)
    with time_machine.travel(timezone.now() + (due_on - timezone.localdate()) - timedelta(days=7)):
        outbox.plan()
        slot = selectors.open_slots(prescriber, Visit.Kind.FOLLOW_UP)[0]
        services.visit_book(actor=patient_b.user, patient=patient_b, kind="follow_up", starts_at=slot)
        _sweep(django_capture_on_commit_callbacks)

    asked, booked = _reminder(Kind.FOLLOW_UP_TO_BOOK, patient_a), _reminder(Kind.FOLLOW_UP_TO_BOOK, patient_b)
    assert (asked.recipient, asked.status) == (patient_a.user, Reminder.Status.SENT)
    (message,) = _mail_of(asked)
    assert message.to == [patient_a.user.email] and "/visits/" in message.body
    assert _mail_of(booked) == []
    assert booked.status == Reminder.Status.SKIPPED
    assert booked.last_error == "The follow-up visit is booked or signed."


def test_hours_that_end_before_they_start_are_refused_on_the_schedule_page_in_words(client, prescriber):
    client.force_login(prescriber)
    weekly = {"form": "weekly", "weekly-weekday": 0, "weekly-start_time": "17:00", "weekly-end_time": "09:00"}
    away = {"form": "time_off", "time_off-starts_at": "2031-05-02T12:00", "time_off-ends_at": "2031-05-01T12:00"}

    refused = [client.post("/schedule/", weekly), client.post("/schedule/", away)]

    assert [response.status_code for response in refused] == [400, 400]
    assert "The end time must be after the start time." in refused[0].content.decode()
    assert "Time off must end after it starts." in refused[1].content.decode()
    assert "Constraint" not in refused[0].content.decode() + refused[1].content.decode()
    assert not WeeklyHours.objects.filter(schedule__clinician=prescriber).exists()
    assert not TimeOff.objects.filter(schedule__clinician=prescriber).exists()


def test_a_move_meets_the_rules_of_a_booking_again(prescriber, coordinator, patient_a, medical_group):
    pending_follow_up(prescriber, patient_a)
    mornings(prescriber)
    with time_machine.travel(BEFORE_DST, tick=True):
        slots = selectors.open_slots(prescriber, Visit.Kind.FOLLOW_UP)
        visit = services.visit_book(actor=patient_a.user, patient=patient_a, kind="follow_up", starts_at=slots[8])
        Licence.objects.filter(clinician=prescriber).update(expires_on=slots[8].date() - timedelta(days=1))
        with pytest.raises(RuleRefused) as unlicensed:
            services.visit_reschedule(actor=patient_a.user, visit=visit, starts_at=slots[11])
        Licence.objects.filter(clinician=prescriber).update(expires_on=slots[8].date() + timedelta(days=3650))
        successor = _staff(User.Role.PRESCRIBER, medical_group, "successor@example.test")
        patient_services.prescriber_assign(actor=coordinator, patient=patient_a, prescriber=successor)
        with pytest.raises(RuleRefused) as changed:
            services.visit_reschedule(actor=patient_a.user, visit=visit, starts_at=slots[11])
    assert (unlicensed.value.code, changed.value.code) == ("prescriber_not_licensed", "visit_prescriber_changed")
    assert Visit.objects.get(pk=visit.pk).starts_at == slots[8]
