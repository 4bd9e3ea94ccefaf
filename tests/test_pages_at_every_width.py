"""Every main page of every role at a phone (360 px) and a laptop (1366 px) width (issue 16, point 4): nothing
scrolls sideways, and axe-core finds no serious or critical WCAG 2.2 AA violation. The same walk writes the
README's screenshots (`make screenshots`, KAPCARE_SCREENSHOTS=docs/screenshots)."""

import os
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from patients.models import Patient

from .journeys import sign_in_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db, pytest.mark.xdist_group("demo_site_widths")]

WIDTHS = {"phone": {"width": 360, "height": 780}, "desktop": {"width": 1366, "height": 900}}
# Every element only for violations: the rules that passed still come back (the test checks axe ran), without the
# thousands of nodes they passed on, which the browser would serialise for nothing.
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    "resultTypes": ["violations"],
}
SHOTS = os.environ.get("KAPCARE_SCREENSHOTS")
AXE_SCRIPT = Axe().axe_script  # axe-core as axe-playwright-python ships it


def pages_of(role, chart, prescribing=()):
    """The pages each role works from; `chart` is Taylor's chart (Taylor is mid-course with every section).
    `prescribing`: the pages of Taylor's prescription and the demo office's controlled-substance log."""
    clinician = ["/", "/agenda/?view=week", chart, f"{chart}chart/sessions/", f"{chart}chart/course/"]
    prescriber = [f"{chart}prescriptions/", f"{chart}prescriptions/new/", f"{chart}pdmp-checks/new/", "/stock-sites/"]
    return {
        "therapist": [*clinician, f"{chart}chart/measures/", f"{chart}chart/safety/", f"{chart}chart/documents/"],
        "prescriber": [
            *clinician,
            f"{chart}chart/measures/",
            f"{chart}chart/notes/",
            "/schedule/",
            *prescriber,
            *prescribing,
        ],
        "coordinator": ["/", "/agenda/?view=week", chart, f"{chart}chart/documents/", "/reminders/", "/stock-sites/"],
        "patient": ["/", "/questionnaires/", "/progress/", "/consents/", "/education/", "/messages/", "/visits/"],
        "admin": ["/"],
    }[role]


def prescribing_pages(patient):
    from treatment.models import Prescription, StockSite

    pages = [f"/stock-sites/{site.pk}/" for site in StockSite.objects.all()[:1]]
    prescription = Prescription.objects.filter(patient=patient).first()
    return pages + ([f"/patients/{patient.pk}/prescriptions/{prescription.pk}/"] if prescription else [])


@pytest.fixture
def demo(demo_site):
    return demo_site


def serious(results):
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def run_axe(page):
    """axe-core's results for the page as it is now. The library's `Axe().run` sends axe-core (570 KB) into the page
    on every call; a page keeps it once loaded, so it is sent once per page, not once per width."""
    if page.evaluate("() => typeof window.axe === 'undefined'"):
        page.evaluate(AXE_SCRIPT)
    return page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)


@pytest.mark.parametrize("role", ["therapist", "prescriber", "coordinator", "patient", "admin"])
def test_every_main_page_fits_and_passes_axe_at_phone_and_desktop_width(page, demo, role):
    page.set_default_timeout(10_000)
    sign_in_demo(page, demo, role)
    page.wait_for_url(f"{demo}/")
    taylor = Patient.objects.get(first_name="Taylor", last_name="Brooks")
    problems = []
    for path in pages_of(role, f"/patients/{taylor.pk}/", prescribing_pages(taylor)):
        # Loaded once, at the phone width, then widened: the layout is CSS media queries (the one script, which
        # labels stacked table cells, does not depend on the width), so the widened page is the page at that width.
        page.set_viewport_size(WIDTHS["phone"])
        response = page.goto(f"{demo}{path}")
        assert response.status == 200, (role, path)
        for name, size in WIDTHS.items():
            page.set_viewport_size(size)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > size["width"]:
                problems.append(f"{path} at {name}: {width} px wide")
            results = run_axe(page)
            assert results["testEngine"]["name"] == "axe-core" and results["passes"], path
            problems += [f"{path} at {name}: {v}" for v in serious(results)]
            if SHOTS and path == "/":
                Path(SHOTS).mkdir(parents=True, exist_ok=True)
                page.screenshot(path=f"{SHOTS}/{role}-{name}.png")
    assert problems == []
