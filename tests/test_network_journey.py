"""Joining the network end to end in Chromium: a clinician applies on the public page (no account is made), the
coordinator checks each credential and approves, the new therapist sets a password from the e-mailed link, is
refused a referral until the network's KAP training is recorded, then refers a client.

The KAP training is recorded as the fact kapcare.accounts keeps (network.training will record it from a
completed course)."""

import re

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from kapcare.accounts.models import KAPTraining, User
from network.joining.models import Application

from .factories import UserFactory
from .journeys import sign_in, watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a long new password for Nova"


def apply_on_the_public_page(page, base):
    page.goto(f"{base}/network/join/")
    page.fill("#id_email", "nova@example.test")
    page.select_option("#id_role", "therapist")
    page.select_option("#id_medical_group", label="Cascade Medical Group")
    page.fill("#id_first_name", "Nova")
    page.fill("#id_last_name", "Newcomb")
    page.fill("#id_npi", "1234567893")
    page.fill("#id_malpractice_carrier", "CareGuard")
    page.fill("#id_malpractice_policy_number", "CG-778")
    page.fill("#id_malpractice_expires_on", f"{timezone.localdate().year + 1}-06-30")
    page.select_option("#id_licences-0-kind", "lmft")
    page.select_option("#id_licences-0-state", "CA")
    page.fill("#id_licences-0-number", "LMFT-9001")
    page.fill("#id_licences-0-expires_on", f"{timezone.localdate().year + 1}-12-31")
    page.click("main button[type=submit]")
    expect(page.locator("#application-received")).to_be_visible()
    assert not User.objects.filter(email="nova@example.test").exists()


def approve_as_coordinator(page, base, coordinator):
    sign_in(page, base, coordinator.email)
    page.goto(f"{base}/network/applications/")
    page.click("text=Nova Newcomb")
    for n in range(3):  # the NPI, the California licence, the malpractice cover
        page.fill(f"#id_{n}_source", "Board and NPPES lookups today")
        page.locator(f"form:has(#id_{n}_source) button").click()
        expect(page.locator(".messages")).to_contain_text("The check is on record.")
    expect(page.locator("#credential-checks")).not_to_contain_text("Not checked.")
    page.select_option("#id_practice", label="Riverside Therapy")
    page.click("button[name=approve]")
    expect(page.locator(".messages")).to_contain_text("Approved")
    expect(page.locator("#application-status")).to_contain_text("Approved")
    page.click("text=Sign out")


def set_password_from_the_email(page, base):
    [message] = [m for m in mail.outbox if m.to == ["nova@example.test"] and "approved" in m.body]
    link = re.search(r"https?://\S+", message.body.split("Set your password here")[1]).group(0)
    page.context.clear_cookies()
    page.goto(link)
    page.fill("input[name=password1]", NEW_PASSWORD)
    page.fill("input[name=password2]", NEW_PASSWORD)
    page.click("main button[type=submit]")
    sign_in(page, base, "nova@example.test", NEW_PASSWORD)


def refer(page):
    page.click("text=Refer a client")
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


@pytest.mark.celery_eager  # the approval (set-your-password) e-mail is sent by a task
def test_a_coordinator_approves_a_therapist_who_trains_and_refers(page, clinic_staff):
    base = clinic_staff["url"]
    group = clinic_staff["prescriber"].organization
    coordinator = UserFactory(role=User.Role.COORDINATOR, organization=group, email="priya@example.test")
    errors = watch(page)

    apply_on_the_public_page(page, base)
    approve_as_coordinator(page, base, coordinator)
    assert Application.objects.get(email="nova@example.test").status == Application.Status.APPROVED
    set_password_from_the_email(page, base)

    refer(page)
    expect(page.locator("main")).to_contain_text("no KAP training recorded")
    nova = User.objects.get(email="nova@example.test")
    KAPTraining.objects.create(clinician=nova, completed_on=timezone.localdate(), provider="KAP", title="Network KAP")
    page.goto(f"{base}/")
    refer(page)
    expect(page.locator(".messages")).to_contain_text("Rowan is referred")
    expect(page.locator("main h1")).to_have_text("Rowan Redwood")
    expect(page.locator("main")).to_contain_text("Maya Okafor, prescriber")
    assert not [e for e in errors if "Content Security Policy" in e], errors
