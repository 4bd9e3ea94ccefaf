"""The controlled-substance log of a site (issue 21, point 4): receipts, administrations linked to their dosing
session, waste witnessed by a second clinician, counts; the balance never goes negative and the discrepancy
report finds a planted discrepancy. Take-home tablets counted against the fills and doses, flagged when off."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from kapcare.audit.models import AuditEvent
from kapcare.rules import RuleRefused
from patients.models import SafetyAlert
from tests.course_states import IN_RANGE, confirm_checklist, ready_to_dose
from tests.factories import PASSWORD
from treatment.models import CarePolicy, StockEntry, StockSite
from treatment.prescriptions import services, stock
from treatment.sessions import services as session_services
from treatment.tests.test_prescriptions import issue, pdmp
from treatment.tests.test_route_monitoring import im_session  # noqa: F401 (a fixture)

LOT = "KX-2207"


@pytest.fixture
def site(medical_group):
    return StockSite.objects.create(medical_group=medical_group, name="Mission St office", address="1 Mission St")


@pytest.fixture
def received(site, prescriber):
    return stock.stock_receive(actor=prescriber, site=site, lot=LOT, expires_on=date(2099, 1, 1), quantity_mg=500)


def test_the_log_balances_through_receipt_administration_and_witnessed_waste(
    site,
    received,
    prescriber,
    therapist_a,
    im_session,  # noqa: F811
):
    session, _dose_at = im_session
    given = stock.stock_administer(actor=prescriber, site=site, lot=LOT, session=session)
    assert given.quantity_mg == Decimal("100") and given.patient_id == session.patient_id
    stock.stock_waste(
        actor=prescriber,
        site=site,
        lot=LOT,
        quantity_mg=20,
        witness=therapist_a,
        witness_password=PASSWORD,
        note="Vial drawn up",
    )
    assert stock.lot_balance(site, LOT) == Decimal("380") == stock.site_balance(site)
    count = stock.stock_count(actor=prescriber, site=site, lot=LOT, counted_mg=380)
    assert count.discrepancy_mg == 0
    assert stock.discrepancy_report(site) == []


def test_the_balance_never_goes_negative(site, received, prescriber, therapist_a):
    with pytest.raises(RuleRefused) as refused:
        stock.stock_waste(
            actor=prescriber,
            site=site,
            lot=LOT,
            quantity_mg=501,
            witness=therapist_a,
            witness_password=PASSWORD,
            note="Spill",
        )
    assert refused.value.code == "stock_negative_balance"
    stock.stock_waste(
        actor=prescriber,
        site=site,
        lot=LOT,
        quantity_mg=500,
        witness=therapist_a,
        witness_password=PASSWORD,
        note="Recall",
    )
    assert stock.lot_balance(site, LOT) == 0
    with pytest.raises(RuleRefused):
        stock.stock_waste(
            actor=prescriber,
            site=site,
            lot=LOT,
            quantity_mg="0.1",
            witness=therapist_a,
            witness_password=PASSWORD,
            note="x",
        )
    assert StockEntry.objects.filter(kind="waste").count() == 1


def test_the_report_finds_a_planted_discrepancy(site, received, prescriber):
    stock.stock_count(actor=prescriber, site=site, lot=LOT, counted_mg=450)
    [found] = stock.discrepancy_report(site)
    assert "counted 450" in found.what and "500" in found.what and found.entry.discrepancy_mg == -50


def test_an_administration_that_differs_from_the_session_record_is_reported(
    site,
    received,
    prescriber,
    im_session,  # noqa: F811
):
    session, _dose_at = im_session
    stock.stock_administer(actor=prescriber, site=site, lot=LOT, session=session, quantity_mg=150)
    [found] = stock.discrepancy_report(site)
    assert "150" in found.what and "100" in found.what
    with pytest.raises(RuleRefused) as refused:
        stock.stock_administer(actor=prescriber, site=site, lot=LOT, session=session)
    assert refused.value.code == "administration_recorded"


def test_waste_needs_a_second_clinician_of_the_group(site, received, prescriber, outside_world):
    for witness in (prescriber, outside_world["therapist"]):
        with pytest.raises(RuleRefused) as refused:
            stock.stock_waste(
                actor=prescriber,
                site=site,
                lot=LOT,
                quantity_mg=10,
                witness=witness,
                witness_password=PASSWORD,
                note="Spill",
            )
        assert refused.value.code == "waste_witness"
    assert stock.lot_balance(site, LOT) == 500


def test_an_expired_lot_is_not_given(site, prescriber, therapist_a):
    stock.stock_receive(
        actor=prescriber, site=site, lot="OLD-1", expires_on=timezone.localdate() - timedelta(days=1), quantity_mg=100
    )
    with pytest.raises(RuleRefused) as refused:
        stock.stock_waste(
            actor=prescriber,
            site=site,
            lot="OLD-1",
            quantity_mg=10,
            witness=therapist_a,
            witness_password=PASSWORD,
            note="x",
        )
    assert refused.value.code == "lot_expired"


def test_the_groups_prescribers_and_the_sites_clinicians_keep_the_log(
    site, therapist_a, coordinator, patient_a, outside_world
):
    receipt = {"site": site, "lot": LOT, "expires_on": date(2099, 1, 1), "quantity_mg": 10}
    for user in (coordinator, patient_a.user):
        with pytest.raises(PermissionDenied):
            stock.stock_receive(actor=user, **receipt)
    for user in (therapist_a, outside_world["therapist"]):  # not working there; of another group
        with pytest.raises(ValidationError):
            stock.stock_receive(actor=user, **receipt)
    assert not StockEntry.objects.exists()
    site.clinicians.add(therapist_a)
    assert stock.stock_receive(actor=therapist_a, **receipt).recorded_by == therapist_a
    assert not stock.visible_stock_sites(coordinator).exists()
    assert not stock.visible_stock_sites(patient_a.user).exists()


# Take-home tablets --------------------------------------------------------------------------------------------


@pytest.fixture
def filled(therapist_a, prescriber, patient_a, medical_group):
    """A sublingual plan (100 mg tablets), its prescription of 9 tablets filled today."""
    CarePolicy.objects.create(medical_group=medical_group, telemedicine_flexibility_until=date(2099, 12, 31))
    ready_to_dose(therapist_a, prescriber, patient_a)
    pdmp(prescriber, patient_a)
    rx = issue(prescriber, patient_a, quantity="9", refills=0)
    services.fill_record(actor=patient_a.user, prescription=rx, filled_on=timezone.localdate(), method="delivery")
    return rx


def test_a_count_that_matches_the_fills_raises_nothing(filled, patient_a):
    count = stock.medicine_count_record(actor=patient_a.user, patient=patient_a, remaining=9)
    assert count.expected == 9 and count.discrepancy == 0 and count.source == "patient"
    assert not SafetyAlert.objects.filter(kind=stock.COUNT_DISCREPANCY).exists()


def test_a_count_that_does_not_match_is_flagged_to_the_prescriber(filled, patient_a, therapist_a):
    count = stock.medicine_count_record(actor=therapist_a, patient=patient_a, remaining=6)
    assert count.source == "clinician" and count.discrepancy == -3
    alert = SafetyAlert.objects.get(kind=stock.COUNT_DISCREPANCY)
    assert "6 counted, 9.0 expected" in alert.reason and alert.severity == "moderate"


def test_a_coordinator_records_no_count(filled, patient_a, coordinator):
    with pytest.raises(PermissionDenied):
        stock.medicine_count_record(actor=coordinator, patient=patient_a, remaining=9)


# Over the API ---------------------------------------------------------------------------------------------------


def test_the_stock_log_over_the_api_balances_and_refuses_a_negative_balance(api, site, prescriber, therapist_a):
    api.force_authenticate(prescriber)
    body = {"site": str(site.pk), "lot": LOT}
    receipt = {**body, "kind": "receipt", "expires_on": "2099-01-01", "quantity_mg": "200"}
    assert api.post("/api/v1/stock-log/", receipt, format="json").status_code == 201
    waste = {**body, "kind": "waste", "quantity_mg": "250", "witness": str(therapist_a.pk), "note": "Dropped vial"}
    waste["witness_password"] = PASSWORD
    refused = api.post("/api/v1/stock-log/", waste, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "stock_negative_balance"
    count = api.post("/api/v1/stock-log/", {**body, "kind": "count", "quantity_mg": "190"}, format="json")
    assert count.status_code == 201
    [summary] = api.get("/api/v1/stock-log/").json()["sites"]
    assert summary["balance_mg"] == "200.0" and "counted 190.0" in summary["discrepancies"][0]["what"]
    api.force_authenticate(therapist_a)  # works at no site: lists none
    assert api.get("/api/v1/stock-log/").json() == {"sites": []}


def test_a_patient_reports_tablets_left_over_the_api(api, filled, patient_a):
    api.force_authenticate(patient_a.user)
    response = api.post("/api/v1/medicine-counts/", {"patient": str(patient_a.pk), "remaining": "9"}, format="json")
    assert response.status_code == 201 and response.json()["discrepancy"] == "0.0"


def test_reading_the_log_over_the_api_is_audited_like_the_page(
    api,
    site,
    received,
    prescriber,
    im_session,  # noqa: F811
):
    session, _dose_at = im_session
    given = stock.stock_administer(actor=prescriber, site=site, lot=LOT, session=session)
    api.force_authenticate(prescriber)

    assert api.get("/api/v1/stock-log/").status_code == 200

    reads = AuditEvent.objects.filter(actor=prescriber, action=AuditEvent.Action.READ)
    assert reads.filter(object_type="treatment.stocksite", object_id=str(site.pk)).count() == 1
    assert reads.get(object_type="treatment.stockentry", object_id=str(given.pk)).patient_id == session.patient_id


def test_tablets_picked_up_stay_expected_after_a_cancel_and_office_doses_are_not_counted_from_them(
    filled, patient_a, therapist_a, prescriber, site, received
):
    services.prescription_cancel(actor=prescriber, prescription=filled, reason="The pharmacy is out of stock.")
    start = timezone.now() + timedelta(minutes=1)
    with time_machine.travel(start, tick=False):
        session = session_services.session_schedule(
            actor=therapist_a, patient=patient_a, kind="dosing", scheduled_at=start
        )
        confirm_checklist(therapist_a, session)
        session_services.vitals_record(actor=therapist_a, session=session, phase="pre_dose", **IN_RANGE)
        session_services.dose_record(actor=therapist_a, session=session, dose_mg=100)
    stock.stock_administer(actor=prescriber, site=site, lot=LOT, session=session)

    count = stock.medicine_count_record(actor=patient_a.user, patient=patient_a, remaining=9)

    assert count.expected == 9 and count.discrepancy == 0
    assert not SafetyAlert.objects.filter(kind=stock.COUNT_DISCREPANCY).exists()
