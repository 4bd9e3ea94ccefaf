"""The prescriber's pages (issue 21): prescribe from the signed dose plan, attest a PDMP check, read and cancel a
prescription. The same services and refusals as the API; a refused form keeps what was typed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from kapcare.audit.models import AuditEvent
from treatment.models import CarePolicy, PDMPCheck, PharmacyNotice, Prescription
from treatment.tests.test_prescriptions import PHARMACY, issue, pdmp, plan  # noqa: F401 (a fixture)


def new_page(patient):
    return f"/patients/{patient.pk}/prescriptions/new/"


def detail_page(rx):
    return f"/patients/{rx.patient_id}/prescriptions/{rx.pk}/"


def form(**changes):
    return {
        "strength_mg": "100.0",
        "quantity": "9",
        "quantity_reason": "",
        "refills": "0",
        "days_supply": "42",
        "directions": "Dissolve 1 tablet under the tongue; 1 more as the booster.",
        "channel": "faxed",
        "telemedicine_attested": "on",
        **PHARMACY,
        **changes,
    }


@pytest.fixture
def as_prescriber(client, prescriber):
    client.force_login(prescriber)
    return client


def test_the_chart_links_to_prescribing_from_a_signed_plan(as_prescriber, plan, patient_a):  # noqa: F811
    chart = as_prescriber.get(f"/patients/{patient_a.pk}/chart/course/").content.decode()
    assert new_page(patient_a) in chart and f"/patients/{patient_a.pk}/prescriptions/" in chart


def test_the_prescribe_page_prefills_the_derived_quantity_and_shows_the_checks(
    as_prescriber,
    plan,  # noqa: F811
    prescriber,
    patient_a,
):
    pdmp(prescriber, patient_a, days_ago=2)
    page = as_prescriber.get(new_page(patient_a))
    text = page.content.decode()
    assert page.status_code == 200
    assert page.context["form"]["quantity"].value() == 9  # 3 tablets a session, 3 sessions left
    assert "Not recorded" in text and "None recorded" in text  # the encounter; no in-person visit
    assert "No concerns found" in text and "older than" not in text
    assert 'name="telemedicine_attested"' in text  # no in-person visit: the policy's attestation
    assert '<label for="id_pharmacy_ncpdp_id">' in text


def test_prescribing_on_the_page_issues_through_the_service(as_prescriber, plan, prescriber, patient_a):  # noqa: F811
    pdmp(prescriber, patient_a)
    response = as_prescriber.post(new_page(patient_a), form())
    rx = Prescription.objects.get(patient=patient_a)
    assert response.status_code == 302 and response["Location"] == detail_page(rx)
    assert rx.quantity == 9 and rx.channel == "faxed" and rx.telemedicine_attested
    detail = as_prescriber.get(detail_page(rx)).content.decode()
    assert f"/patients/{patient_a.pk}/prescriptions/{rx.pk}.pdf" in detail and rx.content_hash in detail
    assert AuditEvent.objects.filter(object_id=str(rx.pk), action="read").exists()


def test_a_refused_prescription_says_the_rule_and_keeps_what_was_typed(
    as_prescriber,
    plan,  # noqa: F811
    patient_a,
):
    response = as_prescriber.post(new_page(patient_a), form(pharmacy_name="Typed Pharmacy", days_supply="41"))
    text = response.content.decode()
    assert response.status_code == 409
    assert "Rule “PDMP check before prescribing”" in text and "none is recorded" in text
    assert 'value="Typed Pharmacy"' in text and 'value="41"' in text
    assert not Prescription.objects.exists()


def test_a_different_quantity_needs_a_reason_on_the_page(as_prescriber, plan, prescriber, patient_a):  # noqa: F811
    pdmp(prescriber, patient_a)
    refused = as_prescriber.post(new_page(patient_a), form(quantity="6"))
    assert refused.status_code == 409 and "give the reason for 6" in refused.content.decode()
    assert 'value="6"' in refused.content.decode()
    accepted = as_prescriber.post(new_page(patient_a), form(quantity="6", quantity_reason="Two sessions first."))
    assert accepted.status_code == 302
    assert Prescription.objects.get().quantity_reason == "Two sessions first."


def test_the_telemedicine_attestation_is_required_where_the_policy_asks(
    as_prescriber,
    plan,  # noqa: F811
    prescriber,
    patient_a,
):
    pdmp(prescriber, patient_a)
    refused = as_prescriber.post(new_page(patient_a), form(telemedicine_attested=""))
    assert refused.status_code == 409 and "Attest that the evaluation was a real-time" in refused.content.decode()
    CarePolicy.objects.filter(medical_group=patient_a.medical_group).update(telemedicine_rule="in_person")
    page = as_prescriber.get(new_page(patient_a)).content.decode()
    assert "needs an in-person visit" in page and 'name="telemedicine_attested"' not in page
    assert as_prescriber.post(new_page(patient_a), form()).status_code == 409
    assert not Prescription.objects.exists()


def test_a_double_submit_issues_one_prescription(as_prescriber, plan, prescriber, patient_a):  # noqa: F811
    pdmp(prescriber, patient_a)
    assert as_prescriber.post(new_page(patient_a), form()).status_code == 302
    again = as_prescriber.post(new_page(patient_a), form())
    assert again.status_code == 409 and "Rule “quantity from the dose plan”" in again.content.decode()
    assert Prescription.objects.count() == 1


def test_bad_input_is_a_400_with_the_fields_named(as_prescriber, plan, prescriber, patient_a):  # noqa: F811
    pdmp(prescriber, patient_a)
    response = as_prescriber.post(new_page(patient_a), form(pharmacy_ncpdp_id="12", refills="-1", channel="pigeon"))
    errors = response.context["form"].errors
    assert response.status_code == 400 and {"pharmacy_ncpdp_id", "refills", "channel"} <= set(errors)
    assert not Prescription.objects.exists()


def test_only_the_prescriber_on_the_team_prescribes(client, plan, therapist_a, patient_a, patient_a2, prescriber):  # noqa: F811
    client.force_login(therapist_a)
    assert client.get(new_page(patient_a)).status_code == 403
    assert client.post(new_page(patient_a), form()).status_code == 403
    client.force_login(patient_a.user)
    assert client.get(new_page(patient_a)).status_code == 403
    client.force_login(prescriber)  # not on patient A2's team
    assert client.get(new_page(patient_a2)).status_code == 404
    assert client.post(f"/patients/{patient_a2.pk}/pdmp-checks/new/", {}).status_code == 404
    assert not Prescription.objects.exists() and not PDMPCheck.objects.exists()


# The PDMP attestation ------------------------------------------------------------------------------------------


def pdmp_page(patient):
    return f"/patients/{patient.pk}/pdmp-checks/new/"


def test_a_pdmp_check_is_attested_on_its_page(as_prescriber, plan, patient_a):  # noqa: F811
    page = as_prescriber.get(pdmp_page(patient_a))
    assert page.status_code == 200 and page.context["form"]["state"].value() == "CA"
    today = timezone.localdate().isoformat()
    response = as_prescriber.post(pdmp_page(patient_a), {"checked_on": today, "state": "CA", "result": "no_concerns"})
    assert response.status_code == 302 and response["Location"] == new_page(patient_a)
    check = PDMPCheck.objects.get()
    assert check.checked_on.isoformat() == today and check.prescriber.role == "prescriber"
    assert "older than" not in as_prescriber.get(new_page(patient_a)).content.decode()


def test_a_pdmp_check_in_the_future_or_with_unexplained_concerns_is_refused(as_prescriber, plan, patient_a):  # noqa: F811
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    future = as_prescriber.post(pdmp_page(patient_a), {"checked_on": tomorrow, "state": "CA", "result": "no_concerns"})
    assert future.status_code == 400 and "not a future day" in future.content.decode()
    today = timezone.localdate().isoformat()
    concerns = as_prescriber.post(pdmp_page(patient_a), {"checked_on": today, "state": "CA", "result": "concerns"})
    assert concerns.status_code == 400 and concerns.context["form"].errors["note"]
    assert not PDMPCheck.objects.exists()


def test_a_stale_pdmp_check_is_shown_as_too_old_by_the_groups_policy(as_prescriber, plan, prescriber, patient_a):  # noqa: F811
    pdmp(prescriber, patient_a, days_ago=4)
    assert "older than" not in as_prescriber.get(new_page(patient_a)).content.decode()
    CarePolicy.objects.filter(medical_group=patient_a.medical_group).update(pdmp_max_age_days=3)
    assert "older than the 3 days the policy allows" in as_prescriber.get(new_page(patient_a)).content.decode()


# One prescription and its cancellation -------------------------------------------------------------------------


def test_cancelling_needs_a_reason_and_happens_once(as_prescriber, plan, prescriber, patient_a):  # noqa: F811
    pdmp(prescriber, patient_a)
    rx = issue(prescriber, patient_a)
    blank = as_prescriber.post(detail_page(rx), {"reason": "  "})
    assert blank.status_code == 400 and Prescription.objects.get().status == "issued"
    done = as_prescriber.post(detail_page(rx), {"reason": "Dose changed at follow-up."})
    assert done.status_code == 302
    assert PharmacyNotice.objects.get(prescription=rx, kind="cancel").reason == "Dose changed at follow-up."
    again = as_prescriber.post(detail_page(rx), {"reason": "Again."})
    assert again.status_code == 409 and "already cancelled" in again.content.decode()
    assert PharmacyNotice.objects.filter(kind="cancel").count() == 1
    assert Prescription.objects.get().cancel_reason == "Dose changed at follow-up."
    assert "Cancel the prescription" not in as_prescriber.get(detail_page(rx)).content.decode()


def test_the_patient_reads_their_prescription_and_cannot_cancel_it(client, plan, prescriber, patient_a):  # noqa: F811
    pdmp(prescriber, patient_a)
    rx = issue(prescriber, patient_a)
    client.force_login(patient_a.user)
    page = client.get(detail_page(rx))
    assert page.status_code == 200 and "Bay Compounding" in page.content.decode()
    assert "Cancel the prescription" not in page.content.decode()
    assert client.post(detail_page(rx), {"reason": "I want to."}).status_code == 403
    assert Prescription.objects.get().status == "issued"


def test_a_prescription_under_another_patients_address_is_404(
    client,
    plan,  # noqa: F811
    prescriber,
    patient_a,
    patient_b,
):
    pdmp(prescriber, patient_a)
    rx = issue(prescriber, patient_a)
    client.force_login(prescriber)  # on both teams
    assert client.get(f"/patients/{patient_b.pk}/prescriptions/{rx.pk}/").status_code == 404
    assert client.post(f"/patients/{patient_b.pk}/prescriptions/{rx.pk}/", {"reason": "x"}).status_code == 404
    client.force_login(patient_b.user)
    assert client.get(detail_page(rx)).status_code == 404
    assert Prescription.objects.get().status == "issued"
