"""The demo, driven through Debian's Chromium: each role signs in and sees its own dashboard and nobody else's.

`make run` serves the demo without a second factor, and so does this module's server (journeys.demo_site, seeded
once for the module); test_browser_totp.py signs a clinician in with a real TOTP code.
"""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from patients.models import Patient

from .journeys import sign_in_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db, pytest.mark.xdist_group("demo_site_browser")]

SHOTS = Path("/tmp/kapcare-shots")  # noqa: S108 (screenshots for people to look at, not secrets)
WAIT_MS = 10_000

ALL_PATIENTS = [
    ("Taylor", "Brooks"),
    ("Morgan", "Ellis"),
    ("Casey", "Nguyen"),
    ("Riley", "Patel"),
    ("Jamie", "Ortiz"),
    ("Avery", "Thompson"),
    ("Drew", "Kowalski"),
    ("Quinn", "Harper"),
    ("Robin", "Diaz"),
]
PRACTICE_A = [*ALL_PATIENTS[:3], ("Quinn", "Harper")]  # referred by therapist@ (Riverside Therapy Collective)
PRACTICE_B = [("Riley", "Patel"), ("Robin", "Diaz")]  # referred by therapist2@ (Harbor Counseling)

# login, dashboard heading, role badge, patients listed, patients that must not appear
CLINICAL = {
    "therapist": ("My patients", "Therapist", PRACTICE_A, [p for p in ALL_PATIENTS if p not in PRACTICE_A]),
    "therapist2": ("My patients", "Therapist", PRACTICE_B, [p for p in ALL_PATIENTS if p not in PRACTICE_B]),
    "prescriber": ("My patients", "Prescriber", ALL_PATIENTS, []),
    "coordinator": ("Patients of Cascade Medical Group", "Coordinator", ALL_PATIENTS, []),
}


@pytest.fixture
def demo(demo_site):
    return demo_site


@pytest.fixture
def browser_log(page):
    """Console errors, page errors and CSP violations, plus every response, from the moment the page opens."""
    log = {"errors": [], "responses": []}
    page.on("console", lambda msg: msg.type in ("error", "warning") and log["errors"].append(msg.text))
    page.on("pageerror", lambda exc: log["errors"].append(str(exc)))
    page.on("response", lambda response: log["responses"].append(response))
    page.set_default_timeout(WAIT_MS)
    return log


def no_csp_or_console_errors(log):
    assert not [e for e in log["errors"] if "Content Security Policy" in e], log["errors"]
    assert log["errors"] == []


@pytest.mark.parametrize("local", list(CLINICAL))
def test_each_clinical_role_sees_its_own_dashboard(page, demo, browser_log, local):
    title, badge, visible, hidden = CLINICAL[local]
    sign_in_demo(page, demo, local)
    page.wait_for_url(f"{demo}/")
    expect(page.locator("#dashboard-title")).to_have_text(title)
    expect(page.locator(".site-header .role")).to_have_text(badge)

    rows = page.locator("table.patients tbody tr")
    expect(rows).to_have_count(len(visible))
    table = page.locator("table.patients")
    for first, last in visible:
        expect(table).to_contain_text(f"{last}, {first}")
    body = page.locator("body")
    for _first, last in hidden:
        expect(body).not_to_contain_text(last)
    no_csp_or_console_errors(browser_log)


def test_the_patient_sees_only_their_own_page(page, demo, browser_log):
    sign_in_demo(page, demo, "patient")
    page.wait_for_url(f"{demo}/")
    expect(page.locator("#dashboard-title")).to_have_text("Welcome, Taylor")
    expect(page.locator(".site-header .role")).to_have_text("Patient")
    expect(page.locator("main")).to_contain_text("Maya Okafor, prescriber")
    body = page.locator("body")
    for _first, last in ALL_PATIENTS[1:]:
        expect(body).not_to_contain_text(last)
    expect(page.locator("table.patients")).to_have_count(0)
    no_csp_or_console_errors(browser_log)


def test_a_wrong_password_keeps_the_user_on_the_login_page(page, demo, browser_log):
    sign_in_demo(page, demo, "therapist", password="not-the-demo-password")
    expect(page.locator("main")).to_contain_text("not correct")
    assert page.url.startswith(f"{demo}/accounts/login/")
    expect(page.locator("#dashboard-title")).to_have_count(0)


def test_another_practices_chart_is_a_not_found_page(page, demo, browser_log):
    taylor = Patient.objects.get(first_name="Taylor", last_name="Brooks")
    sign_in_demo(page, demo, "therapist2")
    page.wait_for_url(f"{demo}/")
    expect(page.locator("#dashboard-title")).to_have_text("My patients")

    response = page.goto(f"{demo}/patients/{taylor.id}/")
    assert response.status == 404
    expect(page.locator("main h1")).to_have_text("Not found")
    expect(page.locator("body")).not_to_contain_text("Brooks")
    expect(page.locator("body")).not_to_contain_text("Taylor")

    # therapist@ opens the same URL and sees the chart: the 404 above is about access, not a broken link.
    page.context.clear_cookies()
    sign_in_demo(page, demo, "therapist")
    page.wait_for_url(f"{demo}/")
    response = page.goto(f"{demo}/patients/{taylor.id}/")
    assert response.status == 200
    expect(page.locator("main h1")).to_have_text("Taylor Brooks")


def test_login_page_and_dashboard_have_no_console_errors_or_csp_violations(page, demo, browser_log):
    page.goto(f"{demo}/accounts/login/")
    expect(page.locator("main h1")).to_be_visible()
    no_csp_or_console_errors(browser_log)
    # The stylesheet really applied (a CSP block on it would leave the header unstyled).
    header_bg = page.locator(".site-header").evaluate("el => getComputedStyle(el).backgroundColor")
    assert header_bg == "rgb(31, 95, 139)"
    expect(page.locator("main")).not_to_contain_text("sign up")  # sign-up is closed; accounts come from referrals
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "login-desktop.png"), full_page=True)

    sign_in_demo(page, demo, "coordinator")
    page.wait_for_url(f"{demo}/")
    expect(page.locator("#dashboard-title")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert page.evaluate("typeof window.htmx") == "object"  # the script loaded and ran under the CSP
    no_csp_or_console_errors(browser_log)


def test_the_dashboard_weighs_under_150_kb(page, demo, browser_log):
    sign_in_demo(page, demo, "coordinator")
    page.wait_for_url(f"{demo}/")
    browser_log["responses"].clear()
    page.reload(wait_until="networkidle")
    expect(page.locator("#dashboard-title")).to_be_visible()

    sizes = {}
    for response in browser_log["responses"]:
        kind = response.request.resource_type
        if kind in ("document", "stylesheet", "script") and response.status == 200:
            sizes[response.url] = len(response.body())
    assert any(url.endswith(".css") for url in sizes), sizes
    assert any(url.endswith(".js") for url in sizes), sizes
    assert f"{demo}/" in sizes, sizes
    total = sum(sizes.values())
    assert total < 150 * 1024, sizes


@pytest.mark.parametrize("local", ["coordinator", "patient"])
def test_the_dashboard_fits_a_phone(page, demo, browser_log, local):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in_demo(page, demo, local)
    page.wait_for_url(f"{demo}/")
    expect(page.locator("#dashboard-title")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # The sign-out button is on screen, not pushed off to the right.
    box = page.locator(".site-header button", has_text="Sign out").bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{local}-phone.png"), full_page=True)


def test_desktop_screenshot(page, demo, browser_log):
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in_demo(page, demo, "therapist")
    page.wait_for_url(f"{demo}/")
    expect(page.locator("#dashboard-title")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "therapist-desktop.png"), full_page=True)
