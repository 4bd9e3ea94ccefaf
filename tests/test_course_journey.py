"""The course of care end to end in Chromium: the prescriber evaluates a patient from the queue, reviews each
screening flag, signs them eligible, writes and signs a dose plan; the therapist then sees the plan read-only
and the patient in the preparation stage, and is refused the prescriber's evaluation form.

The patient reaches "awaiting evaluation" through the services (tests/course_states.py); everything after
happens in the browser. Screenshots at 390 px and 1280 px go to /tmp/kapcare-shots/course-*.png.
"""

import pytest
from playwright.sync_api import expect

from assessments.models import ScreeningFlag
from patients.models import Stage

from . import course_states
from .fixtures import refer
from .journeys import DESKTOP, PHONE, SHOTS, clean, fits, sign_in, watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def clinic(clinic_staff):
    """Rowan, referred by Sam and assigned to Maya, has submitted an intake that raised flags (BP 148/94 and
    a benzodiazepine) and signed every consent: awaiting Maya's evaluation."""
    patient = refer(clinic_staff["therapist"], "Rowan", "Redwood", "rowan@example.test", account=True)
    course_states.ready_for_evaluation(patient, flagged=True)
    assert patient.stage == Stage.EVALUATION
    flags = {flag.code: flag for flag in ScreeningFlag.objects.filter(intake__patient=patient)}
    assert len(flags) >= 2, flags
    return {
        **clinic_staff,
        "patient": patient,
        "flags": flags,
    }


def shoot(page, name):
    """Full-page screenshots at 1280 px and 390 px (which must not scroll sideways); back to desktop."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(SHOTS / f"course-{name}-1280.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SHOTS / f"course-{name}-390.png"), full_page=True)
    fits(page)
    page.set_viewport_size(DESKTOP)


def evaluate_from_the_queue(desk, base, flags):
    """The prescriber opens Rowan's evaluation from the dashboard queue, fills it in and signs it eligible."""
    expect(desk.locator("#dashboard-title")).to_have_text("My patients")
    queue = desk.locator("section[aria-labelledby=queue-heading]")
    expect(queue.locator("#queue-heading")).to_contain_text("Awaiting your evaluation")
    entry = queue.locator("li", has_text="Redwood, Rowan")
    expect(entry).to_have_count(1)
    expect(entry.locator(".flag-list")).to_contain_text("148/94")
    entry.locator("a", has_text="Redwood, Rowan").click()
    desk.wait_for_url(f"{base}/patients/*/evaluation/")
    expect(desk.locator("main h1")).to_contain_text("Rowan Redwood")
    form = desk.locator("main form.form", has=desk.locator("button[value=sign]"))
    expect(form).to_have_count(1)
    for flag in flags.values():
        expect(form).to_contain_text(flag.reason)
    shoot(desk, "evaluation-form")

    desk.fill("#id_bp_systolic", "132")
    desk.fill("#id_bp_diastolic", "84")
    desk.fill("#id_pulse", "70")
    desk.fill("#id_weight_kg", "80.0")
    desk.fill("#id_psychiatric_assessment", "Recurrent MDD, no psychosis or mania; PHQ-9 18.")
    desk.fill("#id_medical_assessment", "Healthy. Clinic BP 132/84 on re-check: intake reading was white-coat.")
    desk.fill("#id_diagnosis", "Major depressive disorder, recurrent, moderate")
    desk.fill("#id_icd10_code", "F33.1")
    bp = next(flag for code, flag in flags.items() if code.startswith("bp_above"))
    benzo = flags["medication_benzodiazepine"]
    desk.check(f"input[name=flag_{bp.pk}_outcome][value=confirmed]")
    desk.check(f"input[name=flag_{benzo.pk}_outcome][value=dismissed]")
    for flag in flags.values():
        if flag.pk not in (bp.pk, benzo.pk):
            desk.check(f"input[name=flag_{flag.pk}_outcome][value=confirmed]")
    desk.check("input[name=decision][value=eligible]")
    desk.fill("#id_rationale", "Treatment-resistant depression; no absolute contraindication.")

    # Dismissing a flag without a reason is refused, naming the flag; nothing is signed.
    desk.click("button[value=sign]")
    expect(desk.locator("main")).to_contain_text("say why this flag is dismissed")
    expect(desk.locator(".messages")).to_have_count(0)
    desk.fill(f"#id_flag_{benzo.pk}_reason", "Lorazepam as needed, last taken months ago; will hold 24 h before.")
    desk.click("button[value=save]")
    expect(desk.locator(".messages")).to_contain_text("Draft saved.")
    expect(desk.locator(f"input[name=flag_{benzo.pk}_outcome][value=dismissed]")).to_be_checked()
    expect(desk.locator("#id_icd10_code")).to_have_value("F33.1")

    desk.click("button[value=sign]")
    desk.wait_for_url(f"{base}/patients/*/")
    expect(desk.locator(".messages")).to_contain_text("Evaluation signed and locked.")
    expect(desk.locator("main .lead .stage")).to_have_text("Preparation")
    return bp, benzo


def see_the_signed_evaluation(desk, base, patient, bp, benzo):
    desk.goto(f"{base}/patients/{patient.pk}/evaluation/")
    signed = desk.locator("main section.card", has=desk.locator("h2", has_text="Signed evaluation"))
    expect(signed).to_have_count(1)
    expect(signed.locator("h2")).to_contain_text("Signed evaluation: Eligible")
    expect(signed.locator("h2 .badge")).to_have_text("Locked")
    expect(signed).to_contain_text("Signed by Maya Okafor")
    expect(signed).to_contain_text("It can no longer be edited")
    expect(signed).to_contain_text("BP 132/84")
    expect(signed).to_contain_text("F33.1")
    expect(signed).to_contain_text(f"Confirmed: {bp.reason}")
    expect(signed).to_contain_text(f"Dismissed: {benzo.reason}")
    expect(signed).to_contain_text("will hold 24 h before")
    shoot(desk, "evaluation-signed")
    # The signed evaluation is read-only: its values are text, not inputs, and nothing offers to edit it.
    expect(signed.locator("input:not([type=hidden]):not([name^=addendum]), select")).to_have_count(0)
    expect(desk.locator("#id_psychiatric_assessment:visible")).to_have_count(0)
    expect(desk.locator("button[value=sign]:visible")).to_have_count(0)


def write_the_dose_plan(desk, base):
    desk.locator("nav.chart-tabs a", has_text="Course").click()
    desk.wait_for_url(f"{base}/patients/*/chart/course/")
    desk.locator("section[aria-labelledby=course-heading] a", has_text="Dose plan").click()
    desk.wait_for_url(f"{base}/patients/*/dose-plan/")
    expect(desk.locator("main h1")).to_contain_text("Rowan Redwood")
    expect(desk.locator("main form.form")).to_contain_text("Weight: 80.0 kg, measured at the evaluation")
    desk.select_option("#id_route", "sublingual_rdt")
    desk.fill("#id_tablet_strength_mg", "100")
    desk.fill("#id_full_dose_mg", "200")
    desk.check("input[name=start_at][value=half]")
    desk.check("#id_boosters_allowed")
    desk.fill("#id_booster_count", "1")
    desk.fill("#id_booster_mg", "50")
    desk.fill("#id_booster_min_minutes", "30")
    desk.fill("#id_doses_authorized", "3")
    desk.fill("#id_instructions_patient", "Nothing to eat for 4 hours before; hold the tablets under the tongue.")
    desk.fill("#id_instructions_therapist", "Pre-dose blood pressure; recheck at 40 minutes.")
    desk.fill("#id_benzodiazepine_hold", "No lorazepam for 24 hours before a dosing session.")
    desk.click("button[value=save]")
    expect(desk.locator(".messages")).to_contain_text("Draft saved.")
    expect(desk.locator("main form.form")).to_contain_text("2.50 mg/kg")  # 200 mg / 80.0 kg at the evaluation
    expect(desk.locator("#id_full_dose_mg")).to_have_value("200.0")
    shoot(desk, "dose-plan-form")
    desk.click("button[value=sign]")
    desk.wait_for_url(f"{base}/patients/*/")
    expect(desk.locator(".messages")).to_contain_text("Dose plan version 1 signed: it is now the active plan.")
    desk.locator("nav.chart-tabs a", has_text="Course").click()
    desk.wait_for_url(f"{base}/patients/*/chart/course/")
    course = desk.locator("section[aria-labelledby=course-heading]")
    expect(course).to_contain_text("Current dose plan (version 1")
    expect(course).to_contain_text("200.0 mg (2.50 mg/kg)")


def therapist_reads_the_course(page, base, patient):
    expect(page.locator("#dashboard-title")).to_have_text("My patients")
    row = page.locator("table.patients tbody tr", has_text="Redwood, Rowan")
    expect(row.locator(".stage")).to_have_text("Preparation")
    row.locator("a", has_text="Redwood, Rowan").click()
    page.wait_for_url(f"{base}/patients/{patient.pk}/")
    expect(page.locator("main .lead .stage")).to_have_text("Preparation")
    page.locator("nav.chart-tabs a", has_text="Course").click()
    page.wait_for_url(f"{base}/patients/{patient.pk}/chart/course/")
    course = page.locator("section[aria-labelledby=course-heading]")
    expect(course).to_contain_text("Current dose plan (version 1, read-only)")
    plan = course.locator("dl")
    expect(plan).to_contain_text("Ketamine, sublingual rapid-dissolve tablet, 100.0 mg tablets")
    expect(plan).to_contain_text("200.0 mg (2.50 mg/kg)")
    expect(plan).to_contain_text("100.0 mg first")
    expect(plan).to_contain_text("up to 1 of 50.0 mg, no sooner than 30 minutes after the first dose")
    expect(plan).to_contain_text("Pre-dose blood pressure; recheck at 40 minutes.")
    expect(plan).to_contain_text("No lorazepam for 24 hours before a dosing session.")
    expect(plan).to_contain_text("by Maya Okafor")
    # Read-only: no way to edit the plan or the evaluation from the chart.
    expect(course.locator("a[href$='/dose-plan/']")).to_have_count(0)
    expect(course.locator("a.button", has_text="Evaluation")).to_have_count(0)
    expect(course.locator("textarea, select, input:not([type=hidden])")).to_have_count(0)
    timeline = course.locator("ol.timeline li")
    expect(timeline).to_have_count(2)
    expect(timeline.nth(0)).to_contain_text("Evaluation signed: eligible")
    expect(timeline.nth(0)).to_contain_text("by Maya Okafor")
    expect(timeline.nth(1)).to_contain_text("Dose plan version 1 signed")
    expect(timeline.nth(1)).to_contain_text("3 dosing sessions authorized")
    expect(course).to_contain_text("3 authorized · 0 used · 3 remaining")
    SHOTS.mkdir(parents=True, exist_ok=True)
    course.scroll_into_view_if_needed()
    course.screenshot(path=str(SHOTS / "course-chart-section-1280.png"))
    page.set_viewport_size(PHONE)
    fits(page)
    course.screenshot(path=str(SHOTS / "course-chart-section-390.png"))
    page.set_viewport_size(DESKTOP)

    # The evaluation reads the same for the therapist, without a form; the dose plan page has none either.
    course.locator("a", has_text="Read the evaluation").click()
    page.wait_for_url(f"{base}/patients/{patient.pk}/evaluation/")
    expect(page.locator("main h2", has_text="Signed evaluation: Eligible")).to_have_count(1)
    expect(page.locator("main form.form")).to_have_count(0)
    expect(page.locator("main button[value=sign]")).to_have_count(0)
    page.goto(f"{base}/patients/{patient.pk}/dose-plan/")
    expect(page.locator("#active-plan")).to_have_text("Active plan (version 1)")
    expect(page.locator("main form")).to_have_count(0)


def therapist_is_refused_the_form(page, base, patient):
    """Writing the evaluation is the prescriber's: a therapist's post (with a valid CSRF token) gets the 403
    page with the reason, and nothing changes."""
    page.goto(f"{base}/patients/{patient.pk}/evaluation/")
    token = page.locator("form[action$='/logout/'] input[name=csrfmiddlewaretoken]").input_value()
    with page.expect_response(f"{base}/patients/{patient.pk}/evaluation/") as answer:
        page.evaluate(
            """([token]) => {
                const form = document.createElement("form");
                form.method = "post";
                for (const [name, value] of [["csrfmiddlewaretoken", token], ["action", "sign"],
                                             ["decision", "ineligible"], ["rationale", "I decide"]]) {
                    const input = document.createElement("input");
                    input.type = "hidden"; input.name = name; input.value = value;
                    form.append(input);
                }
                document.body.append(form);
                form.submit();
            }""",
            [token],
        )
    assert answer.value.status == 403
    expect(page.locator("main h1")).to_have_text("Not allowed")
    reason = "Only the prescriber on this care team can write or sign an evaluation."
    expect(page.locator("main")).to_contain_text(reason)


def test_evaluation_to_dose_plan_to_preparation(browser, clinic):
    base, patient, flags = clinic["url"], clinic["patient"], clinic["flags"]

    # 1. The prescriber evaluates Rowan from the queue and signs eligible; the evaluation is then locked.
    prescriber_context = browser.new_context(viewport=DESKTOP)
    desk = prescriber_context.new_page()
    errors = watch(desk)
    sign_in(desk, base, clinic["prescriber"].email)
    bp, benzo = evaluate_from_the_queue(desk, base, flags)
    see_the_signed_evaluation(desk, base, patient, bp, benzo)
    clean(errors)

    # 2. The dose plan: written, mg/kg from the weight measured at the evaluation, signed.
    desk.goto(f"{base}/patients/{patient.pk}/")
    write_the_dose_plan(desk, base)
    clean(errors)
    prescriber_context.close()
    patient.refresh_from_db()
    assert patient.stage == Stage.PREPARATION

    # 3. The therapist sees the plan read-only, the timeline and the stage, and cannot write the evaluation.
    therapist_context = browser.new_context(viewport=DESKTOP)
    page = therapist_context.new_page()
    therapist_errors = watch(page)
    sign_in(page, base, clinic["therapist"].email)
    therapist_reads_the_course(page, base, patient)
    clean(therapist_errors)
    therapist_is_refused_the_form(page, base, patient)
    assert [e for e in therapist_errors if "403" not in e] == []
    therapist_context.close()
    assert patient.evaluations.get().decision == "eligible"
