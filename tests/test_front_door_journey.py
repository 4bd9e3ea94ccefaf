"""The front door end to end in Chromium: a therapist refers a client in the portal, the client follows
the e-mailed invitation on a phone, sets a password, fills in the profile, the intake and the consents,
and the prescriber finds them on the dashboard, awaiting evaluation, with the screening flags.

Only the organizations and clinicians are made directly; the patient exists only through the UI.
Screenshots at 390 px and 1280 px go to /tmp/kapcare-shots/ for people to look at.
"""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from patients.models import Patient, Stage

from .factories import INTAKE_ANSWERS
from .journeys import DESKTOP, PHONE, SHOTS, clean, fits, sign_in, watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PATIENT_PASSWORD = "a long new password 2026"

# The one intake answer set (tests/factories.py), answered through the form: every "no" of it.
NO_ANSWERS = tuple(name for name, value in INTAKE_ANSWERS.items() if value is False and name != "takes_medications")
VALUES = {
    "alcohol_drinks_per_week": "0",
    "allergies": "none",
    "height_cm": "170",
    "weight_kg": "68.5",
    "bp_systolic": "150",
    "bp_diastolic": "95",
    "pulse": "72",
}


@pytest.fixture
def clinic(clinic_staff):
    """A practice referring to a medical group whose prescriber is licensed in California."""
    return clinic_staff


def shoot(page, name, *, both=True):
    """Full-page screenshots at the current (phone) width and, with `both`, at desktop width."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    page.screenshot(path=str(SHOTS / f"journey-{name}-{size['width']}.png"), full_page=True)
    if both:
        page.set_viewport_size(DESKTOP)
        page.screenshot(path=str(SHOTS / f"journey-{name}-1280.png"), full_page=True)
        page.set_viewport_size(size)


def refer_through_the_portal(page, base, therapist):
    sign_in(page, base, therapist.email)
    expect(page.locator("#dashboard-title")).to_have_text("My patients")
    page.click("text=Refer a client")
    expect(page.locator("main h1")).to_have_text("Refer a client")
    page.fill("#id_first_name", "Rowan")
    page.fill("#id_last_name", "Redwood")
    page.fill("#id_email", "rowan@example.test")
    page.fill("#id_date_of_birth", "1987-07-07")
    page.select_option("#id_state", "CA")
    page.check("input[name=referral_reasons][value=trd]")
    page.fill("#id_reason_for_referral", "Three failed SSRI trials; wants to try KAP.")
    page.fill("#id_current_medications", "Sertraline 100 mg daily")
    page.fill("#id_clinical_summary", "Engaged in weekly therapy, stable housing, good support.")
    page.click("main button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("Rowan is referred; an invitation to the portal is on its way.")
    expect(page.locator("main h1")).to_have_text("Rowan Redwood")
    expect(page.locator("main")).to_contain_text("Maya Okafor, prescriber")
    expect(page.locator("main")).to_contain_text("Sam Rivera, therapist")


def invitation_link(base):
    [message] = mail.outbox
    assert message.to == ["rowan@example.test"]
    link = re.search(r"https?://\S+/invitations/\S+/", message.body).group(0)
    assert link.startswith(f"{base}/invitations/")
    return link


def fill_intake(page):
    for name in NO_ANSWERS:
        page.check(f"input[name={name}][value=False]")
    for name in ("takes_medications", "has_support_person"):
        page.check(f"input[name={name}][value=True]")
    page.check("input[name=substance_use_disorder][value=none]")
    for name, value in VALUES.items():
        page.fill(f"[name={name}]", value)
    page.fill("[name=support_details]", "My partner Jordan stays with me.")
    page.fill("[name=medications-0-name]", "Sertraline")
    page.fill("[name=medications-0-dose]", "100 mg")
    page.fill("[name=medications-0-frequency]", "once a day")


@pytest.mark.celery_eager  # the invitation is e-mailed by a task
def test_referral_to_evaluation_queue(page, browser, clinic):
    base = clinic["url"]

    # 1. The therapist refers a client through the portal form.
    page.set_viewport_size(DESKTOP)
    therapist_errors = watch(page)
    refer_through_the_portal(page, base, clinic["therapist"])
    link = invitation_link(base)
    clean(therapist_errors)

    # 2. The patient opens the link on a phone and sets a password.
    patient_context = browser.new_context(viewport=PHONE)
    phone = patient_context.new_page()
    errors = watch(phone)
    phone.goto(link)
    assert phone.url == f"{base}/invitations/accept/"  # the token left the address bar
    expect(phone.locator("main h1")).to_have_text("Welcome, Rowan")
    phone.fill("#id_date_of_birth", "1987-07-07")  # confirms the link reached the patient (issue 13)
    phone.fill("#id_password1", PATIENT_PASSWORD)
    phone.fill("#id_password2", PATIENT_PASSWORD)
    phone.click("main button[type=submit]")
    phone.wait_for_url(f"{base}/")
    expect(phone.locator(".messages")).to_contain_text("Welcome to KAPCare. Here is what to do next.")
    expect(phone.locator("#dashboard-title")).to_have_text("Welcome, Rowan")
    expect(phone.locator("#next-heading")).to_have_text("Next: Your profile")
    checklist = phone.locator("ol.checklist")
    expect(checklist.locator("li")).to_have_count(5)
    expect(checklist).to_contain_text("Health questionnaire (intake)")
    expect(checklist).to_contain_text("Baseline questionnaires")
    fits(phone)
    shoot(phone, "checklist-new")

    # 3. The profile: phone, emergency contact and chaperone.
    phone.click("#next-heading ~ a.button")
    phone.wait_for_url(f"{base}/profile/")
    expect(phone.locator("main h1")).to_have_text("My profile")
    phone.fill("#id_phone", "+1 415 555 0101")
    phone.fill("#id_emergency_contact_name", "Jordan Redwood")
    phone.fill("#id_emergency_contact_phone", "+1 415 555 0102")
    phone.fill("#id_emergency_contact_relationship", "partner")
    phone.fill("#id_chaperone_name", "Jordan Redwood")
    phone.fill("#id_chaperone_phone", "+1 415 555 0102")
    fits(phone)
    phone.click("main button[type=submit]")
    phone.wait_for_url(f"{base}/")
    expect(phone.locator(".messages")).to_contain_text("Your profile is saved.")
    expect(phone.locator("#next-heading")).to_have_text("Next: Health questionnaire (intake)")

    # 4. The intake: a draft first, then every required answer, one medicine, and submit.
    phone.click("#next-heading ~ a.button")
    phone.wait_for_url(f"{base}/intake/")
    expect(phone.locator("#intake-title")).to_have_text("Your health questions")
    fits(phone)
    shoot(phone, "intake-top")
    details = phone.locator("[name=ketamine_hypersensitivity_details]")
    expect(details).to_be_hidden()  # a condition's details appear after "Yes"
    phone.check("input[name=ketamine_hypersensitivity][value=True]")
    expect(details).to_be_visible()
    phone.check("input[name=ketamine_hypersensitivity][value=False]")
    expect(details).to_be_hidden()
    phone.click("button[value=save]")
    expect(phone.locator(".messages")).to_contain_text("Your answers are saved.")
    expect(phone.locator("input[name=ketamine_hypersensitivity][value=False]")).to_be_checked()

    fill_intake(phone)
    medicines = phone.locator("#section-medicines")
    medicines.scroll_into_view_if_needed()
    fits(phone)
    SHOTS.mkdir(parents=True, exist_ok=True)
    medicines.screenshot(path=str(SHOTS / "journey-intake-medicines-390.png"))
    phone.set_viewport_size(DESKTOP)
    medicines.screenshot(path=str(SHOTS / "journey-intake-medicines-1280.png"))
    phone.set_viewport_size(PHONE)
    phone.click("button[value=submit]")
    phone.wait_for_url(f"{base}/intake/")
    expect(phone.locator("#intake-title")).to_have_text("Thank you — your medical team will review your answers")
    main = phone.locator("main")
    for verdict in ("flag", "absolute", "relative", "150/95", "eligible", "contraindicat"):
        expect(main).not_to_contain_text(re.compile(verdict, re.IGNORECASE))
    fits(phone)
    shoot(phone, "intake-thanks", both=False)
    clean(errors)

    # 5. The consents: read and sign each required one.
    phone.goto(f"{base}/consents/")
    expect(phone.locator("main h1")).to_have_text("My consents")
    fits(phone)
    shoot(phone, "consent-list")
    to_sign = phone.locator("ul.checklist li.next a")
    required = to_sign.count()
    assert required >= 3, phone.locator("main").inner_text()
    for number in range(required):
        to_sign.first.click()
        expect(phone.locator("#sign-heading")).to_have_text("Sign this document")
        fits(phone)
        if number == 0:
            shoot(phone, "consent-detail")
        title = phone.locator("#document-title").inner_text()
        phone.fill("#id_typed_name", "Rowan Redwood")
        phone.check("#id_understood")
        phone.click("form[aria-labelledby=sign-heading] button[type=submit]")
        phone.wait_for_url(f"{base}/consents/")
        expect(phone.locator(".messages")).to_contain_text(f"Thank you. You signed “{title}”.")
    expect(to_sign).to_have_count(0)
    expect(phone.locator("ul.checklist li.done")).to_have_count(required)
    clean(errors)

    # 6. The portal says the medical team is reviewing.
    phone.goto(f"{base}/")
    expect(phone.locator("#review-heading")).to_have_text("Your medical team is reviewing your answers")
    expect(phone.locator("#next-heading")).to_have_text("While you wait: learn what to expect")
    expect(phone.locator("main .stage")).to_have_text("Awaiting evaluation")
    expect(phone.locator("main")).not_to_contain_text("150/95")
    fits(phone)
    shoot(phone, "checklist-done")
    clean(errors)
    patient_context.close()
    assert Patient.objects.get(email="rowan@example.test").stage == Stage.EVALUATION

    # 7. The prescriber finds Rowan on the dashboard, awaiting evaluation, with the flag.
    prescriber_context = browser.new_context(viewport=DESKTOP)
    desk = prescriber_context.new_page()
    prescriber_errors = watch(desk)
    sign_in(desk, base, clinic["prescriber"].email)
    expect(desk.locator("#dashboard-title")).to_have_text("My patients")
    row = desk.locator("table.patients tbody tr", has_text="Redwood, Rowan")
    expect(row).to_have_count(1)
    expect(row.locator(".stage")).to_have_text("Awaiting evaluation")
    expect(row).to_contain_text("Ready for the prescriber's evaluation")
    expect(row.locator(".flag-list")).to_contain_text("Relative: resting BP 150/95 above 140/90")
    desk.set_viewport_size(PHONE)
    fits(desk)
    desk.set_viewport_size(DESKTOP)
    shoot_desktop_then_phone(desk, "prescriber-dashboard")

    # ...and on the chart: the intake's flags and every required consent signed.
    row.locator("a", has_text="Redwood, Rowan").click()
    expect(desk.locator("main h1")).to_have_text("Rowan Redwood")
    # The intake and the consents are in the chart's Documents section.
    desk.locator("nav.chart-tabs a", has_text="Documents").click()
    desk.wait_for_url("**/chart/documents/")
    expect(desk.locator("#intake-heading + p")).to_contain_text("Submitted")
    expect(desk.locator("main .flag-list")).to_contain_text("resting BP 150/95 above 140/90")
    consents = desk.locator("section[aria-labelledby=consents-heading]")
    expect(consents.locator("td.consent-signed")).to_have_count(required)
    shoot_desktop_then_phone(desk, "chart")
    clean(prescriber_errors)
    prescriber_context.close()

    # The therapist's dashboard shows the same stage (without the patient's portal).
    page.goto(f"{base}/")
    therapist_row = page.locator("table.patients tbody tr", has_text="Redwood, Rowan")
    expect(therapist_row.locator(".stage")).to_have_text("Awaiting evaluation")
    shoot_desktop_then_phone(page, "therapist-dashboard")
    clean(therapist_errors)


def shoot_desktop_then_phone(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(SHOTS / f"journey-{name}-1280.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SHOTS / f"journey-{name}-390.png"), full_page=True)
    fits(page)
    page.set_viewport_size(DESKTOP)
