"""Measurement-based care end to end in Chromium: on a phone, the patient sees the baseline PHQ-9 due, answers it
with item 9 = 1 ("Several days") and lands on crisis resources (988, 911) saying their team has been told; the
therapist and then the prescriber each see the alert on their dashboard and acknowledge it with the action they
took, and the chart shows who acknowledged when.

The patient reaches "ready to dose" through the services (tests/course_states.py); everything after happens in
the browser. Screenshots go to /tmp/kapcare-shots/questionnaire-*.png.
"""

import pytest
from playwright.sync_api import expect

from assessments.models import QuestionnaireResponse
from patients.models import SafetyAlert, SafetyAlertAcknowledgement

from . import course_states
from .fixtures import refer
from .journeys import DESKTOP, PHONE, SHOTS, clean, fits, sign_in, watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def clinic(clinic_staff):
    """Rowan, referred by Sam, with Maya as prescriber: evaluated eligible, prepared, a dose plan signed."""
    therapist, prescriber = clinic_staff["therapist"], clinic_staff["prescriber"]
    patient = refer(therapist, "Rowan", "Redwood", "rowan@example.test", account=True)
    course_states.ready_to_dose(therapist, prescriber, patient)
    return {**clinic_staff, "patient": patient}


def shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"questionnaire-{name}.png"), full_page=True)


def answer_phq9_on_a_phone(phone, base):
    expect(phone.locator("#my-questionnaires-heading")).to_contain_text("Questionnaires to answer (2)")
    phone.get_by_role("link", name="PHQ-9").first.click()
    expect(phone.locator("#questionnaire-title")).to_have_text("PHQ-9")
    fits(phone)
    for number in range(1, 9):
        phone.check(f"input[name=item_{number}][value='0']")
    phone.get_by_role("group", name="9. Thoughts that you would be better off dead").get_by_label(
        "Several days"
    ).check()
    phone.check("input[name=difficulty][value='1']")
    shoot(phone, "phq9-390")
    phone.get_by_role("button", name="Send my answers").click()

    expect(phone.locator("#crisis-title")).to_have_text("Help is available now")
    expect(phone.get_by_role("link", name="Call 988")).to_have_attribute("href", "tel:988")
    expect(phone.get_by_role("link", name="Text 988")).to_have_attribute("href", "sms:988")
    expect(phone.get_by_role("link", name="Call 911")).to_have_attribute("href", "tel:911")
    expect(phone.locator(".crisis")).to_contain_text("Your care team has been told.")
    expect(phone.locator(".crisis")).to_contain_text("Sam Rivera")
    expect(phone.locator(".crisis")).to_contain_text("Maya Okafor")
    fits(phone)
    shoot(phone, "crisis-390")

    phone.goto(f"{base}/progress/")
    expect(phone.locator("#progress-phq9")).to_have_text("PHQ-9")
    expect(phone.locator("section", has=phone.locator("#progress-phq9"))).to_contain_text("Latest: 1 (minimal or none)")
    expect(phone.locator("svg.score-chart").first).to_be_visible()
    fits(phone)
    shoot(phone, "progress-390")


def acknowledge_from_the_dashboard(page, base, email, note, *, still_open_for_other):
    sign_in(page, base, email)
    alerts = page.locator("section.alerts")
    expect(alerts.locator("h2")).to_have_text("Open safety alerts (1)")
    expect(alerts).to_contain_text("Redwood, Rowan")
    expect(alerts).to_contain_text("PHQ-9 item 9")
    alerts.get_by_label("Action taken").fill(note)
    alerts.get_by_role("button", name="Acknowledge").click()
    expect(page.locator(".messages")).to_contain_text("acknowledged")
    expect(page.locator("section.alerts h2")).to_have_text("Open safety alerts (0)")
    page.get_by_role("link", name="Redwood, Rowan").first.click()
    page.locator("nav.chart-tabs a", has_text="Safety").click()
    page.wait_for_url(f"{base}/patients/*/chart/safety/")
    safety = page.locator("section", has=page.locator("#chart-alerts-heading"))
    expect(safety).to_contain_text(note)
    if still_open_for_other:
        expect(safety).to_contain_text("waiting for the patient's")
    else:
        expect(safety).not_to_contain_text("waiting for the patient's")
    page.locator("nav.chart-tabs a", has_text="Measures").click()
    page.wait_for_url(f"{base}/patients/*/chart/measures/")
    expect(page.locator("#scores-heading")).to_be_visible()


def test_phq9_item_9_on_a_phone_reaches_both_clinicians(browser, clinic):
    base = clinic["url"]
    patient_context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    phone = patient_context.new_page()
    phone_errors = watch(phone)
    sign_in(phone, base, clinic["patient"].user.email)
    answer_phq9_on_a_phone(phone, base)
    clean(phone_errors)
    patient_context.close()

    response = QuestionnaireResponse.objects.get()
    assert (response.answers, response.total_score, response.difficulty) == ([0] * 8 + [1], 1, 1)
    alert = SafetyAlert.objects.get(kind=SafetyAlert.Kind.PHQ9_ITEM9)

    therapist_context = browser.new_context(viewport=DESKTOP)
    desk = therapist_context.new_page()
    desk_errors = watch(desk)
    acknowledge_from_the_dashboard(
        desk, base, "sam@example.test", "Called Rowan: safe, safety plan reviewed.", still_open_for_other=True
    )
    shoot(desk, "chart-therapist-1280")
    clean(desk_errors)
    therapist_context.close()

    prescriber_context = browser.new_context(viewport=DESKTOP)
    desk = prescriber_context.new_page()
    desk_errors = watch(desk)
    acknowledge_from_the_dashboard(
        desk, base, "maya@example.test", "Reviewed with Sam; next dose held.", still_open_for_other=False
    )
    clean(desk_errors)
    prescriber_context.close()

    acknowledgements = {a.clinician.email: a for a in SafetyAlertAcknowledgement.objects.filter(alert=alert)}
    assert set(acknowledgements) == {"sam@example.test", "maya@example.test"}
    assert all(a.acknowledged_at is not None for a in acknowledgements.values())
