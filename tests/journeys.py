"""What the browser journeys (tests/test_*_journey.py) share: the clinic they start from, signing in, watching the
console, and the viewport sizes and screenshot folder. A pytest plugin (fixtures.py's `pytest_plugins`), so
`clinic_staff` is a fixture for every journey; the helpers are imported."""

import io
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.testcases import LiveServerThread

from kapcare.accounts.models import User

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


@pytest.fixture(scope="module")
def demo_site(django_db_setup, django_db_blocker):
    """The demo (`seed_demo`) made once for a module of browser tests that only read it, and a live server of
    the module's own: the address. Seeding per test (as `live_server` with its per-test flush would) cost
    about 20 s a test. The rows are committed, so the module's tests take plain `db` access; afterwards the
    database is flushed, as after any transactional test. A test that must change the demo (say, enrol a
    second factor) belongs in a module with the per-test `live_server`."""
    from .fixtures import next_clinic_hour

    server = LiveServerThread("localhost", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    url = f"http://localhost:{server.port}"
    with (
        override_settings(KAPCARE_REQUIRE_MFA=False, KAPCARE_BASE_URL=url),
        django_db_blocker.unblock(),
    ):
        # Seeded a little before the clock each test runs at (fixtures._at_a_clinic_hour), so nothing is "later".
        with time_machine.travel(next_clinic_hour() - timedelta(minutes=2)):
            call_command("seed_demo", stdout=io.StringIO())
        try:
            yield url
        finally:
            server.terminate()
            _close_server_connections()
            call_command("flush", interactive=False, verbosity=0, reset_sequences=False)  # as a transactional test does


def _close_server_connections():
    """The live server's request threads are daemons that close their database connection when the browser closes
    the socket, which may come after the server stops: end those sessions (this worker's database only), so the
    test database can be dropped at the end of the run."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


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


DEMO_PASSWORD = "kapcare-demo-2026"  # the demo's published password (CONTRACT.md)
DEMO_DOMAIN = "demo.kapcare.test"


def sign_in_demo(page, base, local, password=DEMO_PASSWORD):
    """Submit the login form as the demo's `local`@demo.kapcare.test; the caller waits for where it lands."""
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", f"{local}@{DEMO_DOMAIN}")
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")


def fits(page, width=PHONE["width"]):
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} scrolls sideways: {scroll} px wide at {width} px"
