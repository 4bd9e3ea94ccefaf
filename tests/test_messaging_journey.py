"""The care-team conversation in Chromium (issue 7): the therapist shares an integration summary to the care-team
thread; the prescriber sees the unread badge, reads it and replies; the therapist sees the read receipt and the
reply. Then the patient writes to their prescriber from a phone, and never sees the care-team thread.

Rowan reaches "ready to dose" through the services (tests/course_states.py) and has had an integration session
with the therapist's summary; everything after happens in the browser. Screenshots go to
/tmp/kapcare-shots/messaging-*.png.
"""

import pytest
from playwright.sync_api import expect

from messaging.models import Message, MessageRecipient
from messaging.tests.test_messaging import integration_summary

from . import course_states
from .fixtures import refer
from .journeys import DESKTOP, PHONE, SHOTS, clean, fits, sign_in, watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CONCERN = "Nausea at the peak; ask about ondansetron."


@pytest.fixture
def clinic(clinic_staff):
    therapist, prescriber = clinic_staff["therapist"], clinic_staff["prescriber"]
    patient = refer(therapist, "Rowan", "Redwood", "rowan@example.test", account=True)
    course_states.ready_to_dose(therapist, prescriber, patient)
    summary = integration_summary(therapist, patient, concerns_for_prescriber=CONCERN)
    return {
        **clinic_staff,
        "patient": patient,
        "summary": summary,
    }


def shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(SHOTS / f"messaging-{name}-1280.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SHOTS / f"messaging-{name}-390.png"), full_page=True)
    fits(page)
    page.set_viewport_size(DESKTOP)


def test_share_read_reply_and_receipt(browser, clinic):
    base, patient = clinic["url"], clinic["patient"]
    thread = f"{base}/patients/{patient.pk}/messages/"

    # 1. The therapist opens the care-team thread from the chart and shares the integration summary.
    sam_context = browser.new_context(viewport=DESKTOP)
    sam = sam_context.new_page()
    sam_errors = watch(sam)
    sign_in(sam, base, clinic["therapist"].email)
    sam.goto(f"{base}/patients/{patient.pk}/")
    sam.get_by_role("link", name="Care-team messages").click()
    sam.wait_for_url(thread)
    expect(sam.locator("main h1")).to_have_text("Care team · Rowan Redwood")
    expect(sam.locator(".thread")).to_contain_text("Dose plan version 1 signed")  # merged from the course
    share = sam.locator("section[aria-labelledby=share-heading] li", has_text="Integration summary")
    share.get_by_role("button", name="Share integration summary").click()
    sam.wait_for_url(f"{thread}#message-*")
    card = sam.locator(".message-item .share-card.kind-integration_summary")
    expect(card).to_contain_text(CONCERN)
    expect(sam.locator(".message-item").last.locator(".receipts")).to_contain_text("Not read yet by Maya Okafor")
    clean(sam_errors)

    # 2. The prescriber sees the badge and the unread count on the dashboard, reads the card and replies.
    maya_context = browser.new_context(viewport=DESKTOP)
    maya = maya_context.new_page()
    maya_errors = watch(maya)
    sign_in(maya, base, clinic["prescriber"].email)
    expect(maya.locator("#notification-badge [data-testid=unread-count]")).to_contain_text("1")
    row = maya.locator("table.patients tr", has_text="Redwood, Rowan")
    expect(row.locator(".unread-messages")).to_have_text("1 unread")
    shoot(maya, "dashboard-unread")
    row.locator(".unread-messages").click()
    maya.wait_for_url(thread)
    message = maya.locator(".message-item.unread")
    expect(message).to_have_count(1)
    expect(message.locator(".share-card")).to_contain_text(CONCERN)
    expect(message.locator(".badge.new")).to_have_text("New")
    expect(maya.locator("#notification-badge [data-testid=unread-count]")).to_have_count(0)  # read now
    shoot(maya, "thread-card")
    maya.fill("#id_body", "Thanks Sam. I will add ondansetron 4 mg before the next dose.")
    maya.get_by_role("button", name="Send").click()
    maya.wait_for_url(f"{thread}#message-*")
    expect(maya.locator(".messages")).to_contain_text("Message sent.")
    expect(maya.locator(".message-item.mine").last).to_contain_text("ondansetron 4 mg")
    clean(maya_errors)
    maya_context.close()

    # 3. The therapist sees the reply waiting, opens the thread, and sees that Maya read the summary.
    sam.goto(f"{base}/")
    expect(sam.locator("#notification-badge [data-testid=unread-count]")).to_contain_text("1")
    sam.goto(thread)
    shared = sam.locator(".message-item", has=sam.locator(".share-card"))
    expect(shared.locator(".receipts")).to_contain_text("Read by Maya Okafor")
    reply = sam.locator(".message-item.unread")
    expect(reply).to_contain_text("ondansetron 4 mg")
    expect(reply).to_contain_text("Maya Okafor")
    shoot(sam, "thread-receipt")
    clean(sam_errors)
    sam_context.close()

    summary_message = Message.objects.get(kind=Message.Kind.INTEGRATION_SUMMARY)
    assert MessageRecipient.objects.get(message=summary_message).read_at is not None
    assert Message.objects.count() == 2


def test_the_patient_writes_to_the_prescriber_from_a_phone(browser, clinic):
    base, patient = clinic["url"], clinic["patient"]
    from messaging import services

    services.message_send(actor=clinic["therapist"], patient=patient, body="Private: consider a lower dose.")
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    errors = watch(page)
    sign_in(page, base, patient.user.email)
    page.get_by_role("link", name="Message my care team").click()
    page.wait_for_url(f"{base}/messages/")
    expect(page.locator("main h1")).to_have_text("Message my care team")
    fits(page)
    page.select_option("#id_for_clinician", label="Maya Okafor (Prescriber)")
    page.fill("#id_body", "Is it normal to feel tired two days after?")
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(f"{base}/messages/#message-*")
    mine = page.locator(".message-item.mine")
    expect(mine).to_contain_text("for Maya Okafor")
    expect(mine.locator(".receipts")).to_contain_text("Not read yet by Maya Okafor")
    expect(page.locator("main")).not_to_contain_text("consider a lower dose")
    fits(page)
    page.screenshot(path=str(SHOTS / "messaging-patient-390.png"), full_page=True)
    assert page.goto(f"{base}/patients/{patient.pk}/messages/").status == 403
    assert [e for e in errors if "403" not in e] == []
    context.close()
