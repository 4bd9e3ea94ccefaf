"""What the browser journeys (tests/test_*_journey.py) share: the clinic they start from, signing in, watching the
console, and the viewport sizes and screenshot folder. A pytest plugin (fixtures.py's `pytest_plugins`), so
`clinic_staff` is a fixture for every journey; the helpers are imported."""

from pathlib import Path

import pytest

from kapcare.accounts.models import User
from patients import content

from .factories import PASSWORD, ClinicianProfileFactory, MedicalGroupFactory, PracticeFactory, UserFactory

SHOTS = Path("/tmp/kapcare-shots")  # noqa: S108 (screenshots for people to look at, not secrets)
WAIT_MS = 5_000
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 820, "height": 1180}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture
def clinic_staff(live_server, settings):
    """A practice referring to a medical group: Sam Rivera, therapist at Riverside Therapy, and Maya Okafor,
    the group's prescriber licensed in California; the live server's address; no second factor to set up."""
    settings.KAPCARE_REQUIRE_MFA = False
    settings.KAPCARE_BASE_URL = live_server.url
    content.seed_current()  # the transactional flush removed the seeded consent documents and modules
    group = MedicalGroupFactory(name="Cascade Medical Group")
    practice = PracticeFactory(name="Riverside Therapy", medical_group=group)
    therapist = UserFactory(
        role=User.Role.THERAPIST, organization=practice, email="sam@example.test", first_name="Sam", last_name="Rivera"
    )
    ClinicianProfileFactory(user=therapist)
    prescriber = UserFactory(
        role=User.Role.PRESCRIBER, organization=group, email="maya@example.test", first_name="Maya", last_name="Okafor"
    )
    ClinicianProfileFactory(user=prescriber, licence_state="CA")
    return {"url": live_server.url, "therapist": therapist, "prescriber": prescriber}


def watch(page):
    """Collect console errors and warnings, page errors and CSP violations from now on."""
    errors = []
    page.on("console", lambda msg: msg.type in ("error", "warning") and errors.append(msg.text))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(WAIT_MS)
    return errors


def clean(errors):
    assert not [e for e in errors if "Content Security Policy" in e], errors
    assert errors == []


def sign_in(page, base, email, password=PASSWORD):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")


def fits(page, width=PHONE["width"]):
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} scrolls sideways: {scroll} px wide at {width} px"
