"""Booking a follow-up on a phone (issue 19) in Chromium: the patient in California signs in, opens Visits, sees
the open times of her prescriber in New York in her own time (6:00 AM for the prescriber's 09:00), books the
first, sees the visit, and downloads it as an .ics that holds the booked time and no patient name.

The patient reaches "follow-up to book" through the services (tests/course_states.py): a signed eligible
evaluation and the course's first follow-up. Screenshots go to /tmp/kapcare-shots/visit-*.png.
"""

import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from playwright.sync_api import expect

from treatment.course import services as course_services
from treatment.visits import selectors, services
from treatment.visits.models import Visit

from . import course_states
from .fixtures import refer
from .journeys import PHONE, SHOTS, clean, fits, sign_in, watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def clinic(clinic_staff):
    """Rowan (Los Angeles), evaluated eligible by Maya, whose first follow-up is due; Maya sees patients
    09:00-11:00 New York time every day."""
    therapist, prescriber = clinic_staff["therapist"], clinic_staff["prescriber"]
    patient = refer(therapist, "Rowan", "Redwood", "rowan@example.test", account=True)
    course_states.ready_for_evaluation(patient)
    course_states.signed_evaluation(prescriber, patient)
    follow_up, _created = course_services.follow_up_start(actor=prescriber, patient=patient)
    services.schedule_save(actor=prescriber, time_zone="America/New_York", video_link="https://video.example.test/maya")
    for weekday in range(7):
        services.hours_add(actor=prescriber, weekday=weekday, start_time=datetime.time(9), end_time=datetime.time(11))
    return {**clinic_staff, "patient": patient, "follow_up": follow_up}


def shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"visit-{name}.png"), full_page=True)


def test_the_patient_books_a_follow_up_on_a_phone_and_gets_it_as_ics(browser, clinic):
    base, patient = clinic["url"], clinic["patient"]
    assert patient.time_zone == "America/Los_Angeles"
    first = selectors.open_slots(clinic["prescriber"], Visit.Kind.FOLLOW_UP)[0]
    local = first.astimezone(ZoneInfo(patient.time_zone))
    assert local.hour == 6  # 09:00 in New York
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, accept_downloads=True)
    phone = context.new_page()
    errors = watch(phone)

    sign_in(phone, base, patient.user.email)
    phone.get_by_role("navigation", name="Main").get_by_role("link", name="Visits").click()
    expect(phone.get_by_role("heading", name="Book your follow-up visit")).to_be_visible()
    phone.get_by_role("link", name="See open times").click()
    expect(phone.locator("main")).to_contain_text("Times are shown in your time zone (America/Los_Angeles)")
    day = phone.locator("fieldset.slot-day").first
    expect(day.locator("legend")).to_have_text(f"{local:%A %b} {local.day}")
    slot = day.get_by_label(f"{local:%-I:%M %p}")
    expect(slot).to_have_value(first.isoformat())
    fits(phone)
    shoot(phone, "slots-390")
    slot.check()
    phone.get_by_role("button", name="Book this time").click()

    expect(phone.locator(".messages")).to_contain_text("Visit booked.")
    when = f"{local:%A %b} {local.day}, {local.year}, {local:%-I:%M %p %Z}"
    expect(phone.locator("dl.details")).to_contain_text(when)
    expect(phone.locator("dl.details")).to_contain_text("Maya Okafor")
    fits(phone)
    shoot(phone, "booked-390")
    with phone.expect_download() as download_info:
        phone.get_by_role("link", name="Add to my calendar (.ics)").click()
    ics = download_info.value
    data = Path(ics.path()).read_bytes()
    phone.get_by_role("navigation", name="Main").get_by_role("link", name="Visits").click()
    expect(phone.locator("main")).not_to_contain_text("Book your follow-up visit")
    expect(phone.locator("main li", has_text="Follow-up visit")).to_contain_text(f"{local:%-I:%M %p}")
    clean(errors)
    context.close()

    visit = Visit.objects.get(patient=patient, status=Visit.Status.BOOKED)
    assert (visit.starts_at, visit.follow_up, visit.booked_by) == (first, clinic["follow_up"], patient.user)
    assert ics.suggested_filename == "kapcare-visit.ics"
    (event,) = Calendar.from_ical(data).walk("VEVENT")
    assert event.decoded("dtstart") == first
    text = data.decode()
    for value in (patient.first_name, patient.last_name, patient.email, patient.user.email):
        assert value not in text
