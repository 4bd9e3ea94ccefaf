"""A remote dosing session end to end in Chromium on a tablet-sized screen: the therapist opens it from the
dashboard, records pre-dose vitals in range (GO), the dose, two chaperone check-ins, end-of-session vitals and the
end criteria, and signs the progress note; the prescriber then sees the session and the updated ledger.

The patient is brought to "ready to dose" and the session is booked through the services (tests/course_states.py);
everything after happens in the browser. Screenshots go to /tmp/kapcare-shots/session-*.png.
"""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from treatment.models import DosingRecord, SessionNote, TherapySession
from treatment.sessions import services as session_services

from . import course_states
from .fixtures import refer
from .journeys import SHOTS, TABLET, sign_in, watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def clinic(clinic_staff):
    """Rowan, Sam's patient with Maya as prescriber, is ready to dose; a remote dosing session with Rowan's
    partner as chaperone started a few minutes ago."""
    therapist, prescriber = clinic_staff["therapist"], clinic_staff["prescriber"]
    patient = refer(therapist, "Rowan", "Redwood", "rowan@example.test", account=True)
    course_states.ready_to_dose(therapist, prescriber, patient)
    start = timezone.now() - timedelta(minutes=5)
    with time_machine.travel(start, tick=False):  # booked when it started
        session = session_services.session_schedule(
            actor=therapist,
            patient=patient,
            kind="dosing",
            scheduled_at=start,
            modality="remote",
            video_link="https://video.example.test/rowan",
            chaperone={"name": "Jo Redwood", "phone": "+1 415 555 0150"},
        )
    return {
        **clinic_staff,
        "patient": patient,
        "session": session,
    }


def shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"session-{name}-820.png"), full_page=True)
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= TABLET["width"], f"{page.url} scrolls sideways at tablet width: {scroll} px"


def record_vitals(page, phase, systolic, diastolic, pulse, spo2):
    vitals = page.locator("section[aria-labelledby=vitals-heading]")
    details = vitals.locator("details")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    vitals.locator(f"input[name=vitals-phase][value={phase}]").check()
    vitals.locator("input[name=vitals-taken_by][value=chaperone]").check()
    page.fill("#id_vitals-systolic", str(systolic))
    page.fill("#id_vitals-diastolic", str(diastolic))
    page.fill("#id_vitals-pulse", str(pulse))
    page.fill("#id_vitals-spo2", str(spo2))
    vitals.locator("button[value=vitals]").click()
    expect(page.locator(".messages")).to_contain_text("Vitals recorded.")


def test_a_therapist_runs_a_remote_dosing_session_on_a_tablet(clinic, browser, request):
    base, patient, session = clinic["url"], clinic["patient"], clinic["session"]
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    errors = watch(page)
    sign_in(page, base, "sam@example.test")

    # The dashboard lists today's session with its checklist state; the therapist opens it.
    upcoming = page.locator("section[aria-labelledby=upcoming-sessions-heading]")
    entry = upcoming.locator("li", has_text="Redwood, Rowan")
    expect(entry).to_contain_text("Dosing")
    expect(entry).to_contain_text("0 of 3 confirmed")
    shoot(page, "dashboard")
    entry.locator("a").click()
    page.wait_for_url(f"{base}/patients/{patient.pk}/sessions/{session.pk}/")
    expect(page.locator("main h1")).to_contain_text("Dosing session · Rowan Redwood")
    expect(page.locator("main")).to_contain_text("Jo Redwood, +1 415 555 0150")
    expect(page.locator("#go-hold")).to_contain_text("HOLD")  # no pre-dose vitals yet
    shoot(page, "opened")

    # The patient has not confirmed the checklist yet: the therapist asks and records it in the session.
    checklist = page.locator("section[aria-labelledby=checklist-heading]")
    for box in checklist.locator("input[type=checkbox]").all():
        box.check()
    checklist.locator("button[value=checklist]").click()
    expect(checklist).not_to_contain_text("not confirmed")

    # Pre-dose vitals in range: GO.
    record_vitals(page, "pre_dose", 128, 82, 74, 98)
    expect(page.locator("#go-hold")).to_contain_text("GO: every gate holds")

    # The dose (the plan's first dose is offered).
    expect(page.locator("#id_dose-dose_mg")).to_have_value("100.0")
    page.locator("button[value=dose]").click()
    expect(page.locator(".messages")).to_contain_text("Dose recorded.")
    expect(page.locator("#dose-taken")).to_contain_text("100.0 mg taken")
    expect(page.locator("#check-in-due")).to_contain_text("Next check-in due")

    # Two chaperone check-ins.
    for remark in ("Resting with eyes closed.", "Talking calmly."):
        page.fill("#id_check_in-remark", remark)
        page.locator("button[value=check_in]").click()
        expect(page.locator(".messages")).to_contain_text("Check-in recorded.")
    expect(page.locator("#check-ins li")).to_have_count(2)
    shoot(page, "dosed")

    # The patient stays monitored the policy's 90 minutes after a sublingual dose: the clock moves on, and the
    # therapist, idle that long, signs in again.
    later = time_machine.travel(timezone.now() + timedelta(minutes=95), tick=True)
    later.start()
    request.addfinalizer(later.stop)
    sign_in(page, base, "sam@example.test")
    page.goto(f"{base}/patients/{patient.pk}/sessions/{session.pk}/")

    # End-of-session vitals and criteria: the session ends and is completed.
    record_vitals(page, "end", 126, 80, 72, 98)
    end = page.locator("section[aria-labelledby=end-heading]")
    end.locator("#id_end-alert_and_oriented").check()
    end.locator("#id_end-vitals_near_baseline").check()
    end.locator("#id_end-safe_transport").check()
    end.locator("button[value=end]").click()
    expect(page.locator(".messages")).to_contain_text("Session ended and completed.")
    expect(page.locator("#session-ended")).to_contain_text("Ended at")
    expect(page.locator("main .lead")).to_contain_text("Completed")

    # The progress note (the notes helper's section of the page) is signed and locked.
    page.fill("#id_note-body", "Remote session with Jo present. Gentle onset; processed grief themes. Left calm.")
    page.locator("button[value=sign]").click()
    notes = page.locator("section[aria-labelledby=session-notes-heading]")
    expect(notes).to_contain_text("Signed by")
    shoot(page, "signed")
    assert errors == []
    context.close()

    record = DosingRecord.objects.get(session=session)
    assert (record.dose_mg, record.end_criteria_met) == (100, True)
    assert TherapySession.objects.get(pk=session.pk).status == "completed"
    assert SessionNote.objects.get(session=session).is_signed

    # The prescriber sees the session, its record and the updated ledger.
    context = browser.new_context(viewport=TABLET)
    desk = context.new_page()
    errors = watch(desk)
    sign_in(desk, base, "maya@example.test")
    desk.goto(f"{base}/patients/{patient.pk}/chart/course/")
    course = desk.locator("section[aria-labelledby=course-heading]")
    expect(course).to_contain_text("3 authorized · 1 used · 2 remaining")
    desk.locator("nav.chart-tabs a", has_text="Sessions").click()
    desk.wait_for_url(f"{base}/patients/{patient.pk}/chart/sessions/")
    desk.locator("section[aria-labelledby=sessions-heading] a", has_text="Dosing").click()
    desk.wait_for_url(f"{base}/patients/{patient.pk}/sessions/{session.pk}/")
    expect(desk.locator("#dose-taken")).to_contain_text("100.0 mg taken")
    expect(desk.locator("#check-ins li")).to_have_count(2)
    expect(desk.locator("section[aria-labelledby=vitals-heading] tbody tr")).to_have_count(2)
    expect(desk.locator("#session-ended")).to_contain_text("Ended at")
    expect(desk.locator("section[aria-labelledby=session-notes-heading]")).to_contain_text("processed grief themes")
    expect(desk.locator("button[value=vitals]")).to_have_count(0)  # the prescriber reads, does not record
    shoot(desk, "prescriber")
    assert errors == []
    context.close()
