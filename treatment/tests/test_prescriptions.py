"""Prescriptions (issue 21): from a signed dose plan, under the DEA registration for the patient's state, after a
fresh PDMP check; Schedule III refill and six-month limits at their edges; the quantity bound by the plan."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from assessments.models import Evaluation
from kapcare.accounts.models import DEARegistration, Licence, User
from kapcare.rules import RuleRefused
from tests.course_states import ready_to_dose
from tests.factories import UserFactory
from treatment.models import CarePolicy, PharmacyNotice, Prescription, Visit
from treatment.prescriptions import services

# The test plan: a 200 mg full dose of 100 mg tablets and one 50 mg booster: 3 tablets a session, 3 sessions.
PLAN_NEED = Decimal("9")
PHARMACY = {
    "pharmacy_name": "Bay Compounding",
    "pharmacy_address": "12 Market St, San Francisco, CA 94103",
    "pharmacy_phone": "+1 415 555 0100",
    "pharmacy_ncpdp_id": "0512345",
}


def rx_data(**changes):
    return {
        "directions": "Dissolve 1 tablet under the tongue at the session start; 1 more as the booster.",
        "quantity": "3",
        "quantity_reason": "",
        "refills": 2,
        "days_supply": 42,
        "channel": "printed",
        "telemedicine_attested": True,
        **PHARMACY,
        **changes,
    }


@pytest.fixture
def plan(therapist_a, prescriber, patient_a, medical_group):
    CarePolicy.objects.create(medical_group=medical_group, telemedicine_flexibility_until=date(2099, 12, 31))
    return ready_to_dose(therapist_a, prescriber, patient_a)


def pdmp(prescriber, patient, days_ago=0, state="CA"):
    return services.pdmp_check_record(
        actor=prescriber,
        patient=patient,
        checked_on=timezone.localdate() - timedelta(days=days_ago),
        state=state,
        result="no_concerns",
    )


def issue(prescriber, patient, **changes):
    return services.prescription_issue(actor=prescriber, patient=patient, data=rx_data(**changes))


def test_a_prescription_records_the_plan_registration_and_pharmacy(plan, prescriber, patient_a):
    check = pdmp(prescriber, patient_a)
    rx = issue(prescriber, patient_a)
    assert rx.dose_plan == plan and rx.pdmp_check == check
    assert rx.dea_registration.state == "CA" and rx.issued_on == timezone.localdate()
    assert rx.formulation == "sublingual_rdt" and rx.strength_mg == Decimal("100.0")
    assert rx.quantity_derived == PLAN_NEED and len(rx.content_hash) == 64
    assert PharmacyNotice.objects.get(prescription=rx).kind == "new"


@pytest.mark.parametrize(("refills", "allowed"), [(5, True), (6, False)])
def test_schedule_iii_allows_at_most_five_refills(plan, prescriber, patient_a, refills, allowed):
    pdmp(prescriber, patient_a)
    change = {"quantity": "1", "quantity_reason": "One tablet a fill, refilled each session."}
    if allowed:
        assert issue(prescriber, patient_a, refills=refills, **change).refills == 5
    else:
        with pytest.raises(RuleRefused) as refused:
            issue(prescriber, patient_a, refills=refills, **change)
        assert refused.value.code == "schedule_iii_refills"
        assert not Prescription.objects.exists()


@pytest.mark.parametrize(("quantity", "refills", "allowed"), [("9", 0, True), ("10", 0, False), ("3", 3, False)])
def test_the_quantity_is_bound_by_the_plans_authorized_doses(plan, prescriber, patient_a, quantity, refills, allowed):
    pdmp(prescriber, patient_a)
    change = {"quantity": quantity, "refills": refills, "quantity_reason": "Spread over fills."}
    if allowed:
        assert issue(prescriber, patient_a, **change).quantity == Decimal(quantity)
    else:
        with pytest.raises(RuleRefused) as refused:
            issue(prescriber, patient_a, **change)
        assert refused.value.code == "quantity_over_plan"


def test_a_quantity_other_than_the_plans_needs_a_reason(plan, prescriber, patient_a):
    pdmp(prescriber, patient_a)
    with pytest.raises(RuleRefused) as refused:
        issue(prescriber, patient_a, quantity="6", refills=0)
    assert refused.value.code == "quantity_reason_required"
    assert issue(prescriber, patient_a, quantity="", refills=0).quantity == PLAN_NEED  # empty: the derived one


def test_a_second_prescription_counts_what_the_first_supplies(plan, prescriber, patient_a):
    pdmp(prescriber, patient_a)
    issue(prescriber, patient_a, refills=1, quantity_reason="Two sessions first.")  # 3 x 2 = 6 of 9
    with pytest.raises(RuleRefused) as refused:
        issue(prescriber, patient_a, refills=0, refills_left_reason="Lost tablets.", quantity="4", quantity_reason="x")
    assert refused.value.code == "quantity_over_plan"


@pytest.mark.parametrize(("days_ago", "allowed"), [(7, True), (8, False)])
def test_prescribing_needs_a_fresh_pdmp_check(plan, prescriber, patient_a, days_ago, allowed):
    pdmp(prescriber, patient_a, days_ago=days_ago)
    if allowed:
        assert issue(prescriber, patient_a)
        return
    with pytest.raises(RuleRefused) as refused:
        issue(prescriber, patient_a)
    assert refused.value.code == "pdmp_check_required"


def test_prescribing_without_any_pdmp_check_or_one_of_another_state_is_refused(plan, prescriber, patient_a):
    with pytest.raises(RuleRefused, match="none is recorded"):
        issue(prescriber, patient_a)
    pdmp(prescriber, patient_a, state="OR")
    with pytest.raises(RuleRefused) as refused:
        issue(prescriber, patient_a)
    assert refused.value.code == "pdmp_check_required"


def test_a_pdmp_check_cannot_be_attested_for_a_future_day(plan, prescriber, patient_a):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        pdmp(prescriber, patient_a, days_ago=-1)


def test_prescribing_needs_a_dea_registration_for_the_patients_state(plan, prescriber, patient_a):
    pdmp(prescriber, patient_a)
    DEARegistration.objects.filter(clinician=prescriber, state="CA").update(expires_on=date(2020, 1, 1))
    with pytest.raises(RuleRefused) as refused:
        issue(prescriber, patient_a)
    assert refused.value.code == "dea_registration_for_state"
    assert "the DEA registration for California expired on" in refused.value.message


def test_a_prescriber_licensed_in_two_states_prescribes_under_each_states_registration(plan, prescriber, patient_a):
    verified = {"expires_on": date(2099, 1, 1), "verified_at": timezone.now()}
    Licence.objects.create(clinician=prescriber, state="OR", number="OR-1", **verified)
    oregon = DEARegistration.objects.create(clinician=prescriber, state="OR", number="BO7654321", **verified)
    pdmp(prescriber, patient_a)
    california = issue(prescriber, patient_a)
    assert california.dea_registration.state == "CA"
    services.prescription_cancel(actor=prescriber, prescription=california, reason="The patient moved to Oregon.")
    patient_a.state = "OR"
    patient_a.save(update_fields=["state"])
    pdmp(prescriber, patient_a, state="OR")
    rx = issue(prescriber, patient_a)
    assert rx.dea_registration == oregon


def test_only_the_prescriber_prescribes(plan, therapist_a, patient_a, prescriber):
    pdmp(prescriber, patient_a)
    with pytest.raises(PermissionDenied):
        issue(therapist_a, patient_a)
    with pytest.raises(PermissionDenied):
        issue(patient_a.user, patient_a)


def test_telemedicine_without_an_in_person_visit_must_be_attested(plan, prescriber, patient_a):
    pdmp(prescriber, patient_a)
    with pytest.raises(RuleRefused) as refused:
        issue(prescriber, patient_a, telemedicine_attested=False)
    assert refused.value.code == "telemedicine_attestation_required"
    rx = issue(prescriber, patient_a)
    assert rx.evaluation_encounter == "not_recorded" and rx.last_in_person_on is None and rx.telemedicine_attested


def test_a_policy_requiring_an_in_person_visit_refuses_telemedicine_prescribing(plan, prescriber, patient_a):
    CarePolicy.objects.filter(medical_group=patient_a.medical_group).update(telemedicine_rule="in_person")
    pdmp(prescriber, patient_a)
    with pytest.raises(RuleRefused) as refused:
        issue(prescriber, patient_a)
    assert refused.value.code == "in_person_visit_required"


def test_a_new_prescription_while_one_has_refills_left_needs_a_reason(plan, prescriber, patient_a):
    pdmp(prescriber, patient_a)
    first = {"refills": 0, "quantity_reason": "One session at a time."}
    issue(prescriber, patient_a, **first)
    with pytest.raises(RuleRefused) as refused:
        issue(prescriber, patient_a, **first)
    assert refused.value.code == "refills_left_reason_required"
    assert issue(prescriber, patient_a, **first, refills_left_reason="Pharmacy lost the first.")


def test_cancelling_sends_the_reason_to_the_pharmacy_and_frees_the_supply(plan, prescriber, patient_a):
    pdmp(prescriber, patient_a)
    rx = issue(prescriber, patient_a, quantity="9", refills=0)
    services.prescription_cancel(actor=prescriber, prescription=rx, reason="Dose changed at follow-up.")
    notice = PharmacyNotice.objects.get(prescription=rx, kind="cancel")
    assert notice.reason == "Dose changed at follow-up." and notice.channel == "printed"
    with pytest.raises(RuleRefused):
        services.prescription_cancel(actor=prescriber, prescription=rx, reason="again")
    assert issue(prescriber, patient_a, quantity="9", refills=0).status == "issued"  # no refills left, no reason


# Fills: the Schedule III limits at their edges ---------------------------------------------------------------


def fill(actor, rx, on):
    return services.fill_record(actor=actor, prescription=rx, filled_on=on, method="pickup")


def test_fills_stop_after_the_refills(plan, prescriber, patient_a):
    pdmp(prescriber, patient_a)
    rx = issue(prescriber, patient_a, quantity="3", refills=2)
    today = timezone.localdate()
    assert [fill(patient_a.user, rx, today).number for _ in range(3)] == [0, 1, 2]
    with pytest.raises(RuleRefused) as refused:
        fill(patient_a.user, rx, today)
    assert refused.value.code == "no_refills_left"


def test_no_refill_more_than_six_months_after_issue(plan, prescriber, patient_a):
    pdmp(prescriber, patient_a)
    rx = issue(prescriber, patient_a, quantity="3", refills=2)
    last_day = rx.issued_on + relativedelta(months=6)
    with time_machine.travel(timezone.now() + (last_day - rx.issued_on) + timedelta(days=1)):
        assert fill(prescriber, rx, last_day).number == 0
        with pytest.raises(RuleRefused) as refused:
            fill(prescriber, rx, last_day + timedelta(days=1))
    assert refused.value.code == "schedule_iii_six_months"


def test_a_fill_before_issue_in_the_future_or_on_a_cancelled_prescription_is_refused(plan, prescriber, patient_a):
    pdmp(prescriber, patient_a)
    rx = issue(prescriber, patient_a, quantity="3", refills=2)
    for day in (rx.issued_on - timedelta(days=1), timezone.localdate() + timedelta(days=1)):
        with pytest.raises(RuleRefused):
            fill(prescriber, rx, day)
    services.prescription_cancel(actor=prescriber, prescription=rx, reason="Stopped.")
    with pytest.raises(RuleRefused):
        fill(prescriber, rx, timezone.localdate())
    assert not rx.fills.exists()


# The printable prescription -----------------------------------------------------------------------------------


def pdf_text(content):
    import io

    from pypdf import PdfReader

    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_prescription_pdf_has_what_a_pharmacy_needs_and_its_hash(api, plan, prescriber, patient_a, therapist_a):
    pdmp(prescriber, patient_a)
    rx = issue(prescriber, patient_a, channel="faxed")
    api.force_authenticate(patient_a.user)
    response = api.get(f"/api/v1/prescriptions/{rx.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = " ".join(pdf_text(response.content).split())
    for expected in (
        patient_a.full_name,
        "Ketamine 100.0 mg",
        "sublingual rapid-dissolve tablet",
        rx.directions[:30],
        "3.0 tablets",
        "Refills 2",
        "Days' supply 42",
        "Bay Compounding",
        "NCPDP 0512345",
        rx.dea_registration.number,
        rx.issued_on.isoformat(),
        "Faxed",
        "Schedule III",
    ):
        assert expected in text, expected
    assert rx.content_hash in text.replace(" ", "")


def test_the_patient_sees_their_prescriptions_and_prints_one(client, plan, prescriber, patient_a):
    pdmp(prescriber, patient_a)
    rx = issue(prescriber, patient_a)
    client.force_login(patient_a.user)
    page = client.get(f"/patients/{patient_a.pk}/prescriptions/")
    assert page.status_code == 200 and "Bay Compounding" in page.content.decode()
    printed = client.get(f"/patients/{patient_a.pk}/prescriptions/{rx.pk}.pdf")
    assert printed.status_code == 200 and rx.content_hash in pdf_text(printed.content).replace(" ", "").replace(
        "\n", ""
    )


def test_an_unverified_dea_registration_does_not_count(plan, prescriber, patient_a):
    pdmp(prescriber, patient_a)
    DEARegistration.objects.filter(clinician=prescriber, state="CA").update(verified_at=None)
    with pytest.raises(RuleRefused, match="not verified yet"):
        issue(prescriber, patient_a)


def test_only_an_in_person_visit_the_prescriber_held_satisfies_an_in_person_policy(
    plan, prescriber, patient_a, medical_group
):
    CarePolicy.objects.filter(medical_group=medical_group).update(telemedicine_rule="in_person")
    pdmp(prescriber, patient_a)
    evaluated_at = Evaluation.objects.signed().get(patient=patient_a).signed_at
    colleague = UserFactory(role=User.Role.PRESCRIBER, organization=medical_group)

    def in_person(kind, starts_at, by=prescriber):
        return Visit.objects.create(
            patient=patient_a,
            prescriber=by,
            kind=kind,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=1),
            encounter=Visit.Encounter.IN_PERSON,
            patient_state="CA",
            booked_by=patient_a.user,
        )

    in_person(Visit.Kind.FOLLOW_UP, timezone.now() - timedelta(hours=3))  # booked and missed: nothing was signed
    colleagues = in_person(Visit.Kind.EVALUATION, evaluated_at - timedelta(hours=1), by=colleague)
    with pytest.raises(RuleRefused) as refused:
        issue(prescriber, patient_a)
    assert refused.value.code == "in_person_visit_required"

    Visit.objects.filter(pk=colleagues.pk).update(status=Visit.Status.CANCELLED)  # one booked evaluation at a time

    held = in_person(Visit.Kind.EVALUATION, evaluated_at - timedelta(hours=2))  # the evaluation signed after it
    rx = issue(prescriber, patient_a)
    assert rx.evaluation_encounter == "in_person" and rx.last_in_person_on == timezone.localdate(held.starts_at)
