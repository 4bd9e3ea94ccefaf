"""A clinician signs in to the demo with a real TOTP code on allauth's second-factor page, in Debian's Chromium.

Apart from test_browser.py because it changes the demo (it enrols the therapist's authenticator): it seeds its own
demo behind the per-test `live_server`, which flushes it afterwards.
"""

import io
import re
import time

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core.management import call_command
from playwright.sync_api import expect

from kapcare.accounts.models import User

from .factories import enrol_totp
from .journeys import DEMO_DOMAIN, clean, sign_in_demo, watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(live_server, settings):
    settings.KAPCARE_REQUIRE_MFA = False
    call_command("seed_demo", stdout=io.StringIO())
    return live_server.url


def fresh_totp_code(secret, period=30):
    """The current code, computed past the window edge when fewer than 3 s of the window remain."""
    if period - time.time() % period < 3:
        time.sleep(period - time.time() % period + 0.2)
    return format_hotp_value(hotp_value(secret, int(time.time()) // period))


def test_full_totp_login_for_a_clinician(page, demo, settings):
    errors = watch(page)
    page.set_default_timeout(10_000)
    settings.KAPCARE_REQUIRE_MFA = True
    secret = enrol_totp(User.objects.get(email=f"therapist@{DEMO_DOMAIN}"))

    sign_in_demo(page, demo, "therapist")
    page.wait_for_url(f"{demo}/accounts/2fa/authenticate/")
    expect(page.locator("main h1")).to_contain_text("Two-Factor")
    wrong = f"{(int(fresh_totp_code(secret)) + 1) % 1_000_000:06d}"
    page.fill("input[name=code]", wrong)
    page.click("main button[type=submit]:not([form])")
    expect(page.locator("main")).to_contain_text("Incorrect code.")
    assert page.url == f"{demo}/accounts/2fa/authenticate/"

    page.fill("input[name=code]", fresh_totp_code(secret))
    page.click("main button[type=submit]:not([form])")
    page.wait_for_url(f"{demo}/")
    expect(page.locator("#dashboard-title")).to_have_text("My patients")
    expect(page.locator("table.patients")).to_contain_text("Brooks, Taylor")
    expect(page.locator("body")).not_to_contain_text("Patel")
    assert re.search(r"Sam Rivera", page.locator(".site-header").inner_text())
    clean(errors)
