"""The controlled-substance log in the portal (issue 21, point 4): coordinators add the group's sites and say who
works there; the group's prescribers and the site's clinicians keep the log (receipt, administration linked to
its dosing session, waste witnessed by a second clinician who confirms with their own password, count), with its
running balance and discrepancy report. Patients and coordinators never read it."""

from datetime import date

import pytest

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from tests.factories import PASSWORD, UserFactory, enrol_totp
from tests.fixtures import _staff
from treatment.models import StockEntry, StockSite
from treatment.prescriptions import stock
from treatment.tests.test_route_monitoring import im_session  # noqa: F401 (a fixture)

LOT = "KX-2207"


@pytest.fixture
def site(medical_group):
    return StockSite.objects.create(medical_group=medical_group, name="Mission St office", address="1 Mission St")


@pytest.fixture
def received(site, prescriber):
    return stock.stock_receive(actor=prescriber, site=site, lot=LOT, expires_on=date(2099, 1, 1), quantity_mg=500)


def log_page(site):
    return f"/stock-sites/{site.pk}/"


def waste(witness, password, **changes):
    return {
        "kind": "waste",
        "waste-lot": LOT,
        "waste-quantity_mg": "20",
        "waste-witness": str(witness.pk),
        "waste-witness_password": password,
        "waste-note": "Vial drawn up, not given",
        **changes,
    }


# Sites ---------------------------------------------------------------------------------------------------------


def test_a_coordinator_adds_a_site_and_who_works_there(client, coordinator, therapist_a, medical_group):
    client.force_login(coordinator)
    assert client.get("/stock-sites/").status_code == 200
    body = {"name": "Harbor office", "address": "400 Harbor Way", "clinicians": [str(therapist_a.pk)]}
    assert client.post("/stock-sites/", body).status_code == 302
    site = StockSite.objects.get()
    assert site.medical_group == medical_group and list(site.clinicians.all()) == [therapist_a]
    again = client.post("/stock-sites/", body)
    assert again.status_code == 400 and StockSite.objects.count() == 1  # a double submit adds no second site
    assert client.get(log_page(site)).status_code == 403  # the coordinator never reads the log
    assert "Harbor office" in client.get("/stock-sites/").content.decode()


def test_a_coordinator_cannot_staff_a_site_with_another_groups_clinician(client, coordinator, outside_world):
    client.force_login(coordinator)
    body = {"name": "Harbor office", "address": "400 Harbor Way", "clinicians": [str(outside_world["therapist"].pk)]}
    assert client.post("/stock-sites/", body).status_code == 400
    assert not StockSite.objects.exists()


def test_who_reads_a_sites_log(client, site, received, prescriber, therapist_a, therapist_b, coordinator, patient_a):
    site.clinicians.add(therapist_a)
    expected = {prescriber: 200, therapist_a: 200, therapist_b: 404, coordinator: 403, patient_a.user: 403}
    for user, status in expected.items():
        client.force_login(user)
        assert client.get(log_page(site)).status_code == status, user.role
    client.force_login(patient_a.user)
    assert client.get("/stock-sites/").status_code == 403
    client.logout()
    assert client.get(log_page(site))["Location"].startswith("/accounts/login/")


def test_another_groups_prescriber_gets_404_and_the_attempt_is_audited(client, site, received, outside_world):
    group = outside_world["coordinator"].organization
    stranger = _staff(User.Role.PRESCRIBER, group, "prescriber.x@example.test")
    client.force_login(stranger)
    denied_before = AuditEvent.objects.filter(outcome="denied").count()
    assert client.get(log_page(site)).status_code == 404
    assert client.post(log_page(site), {"kind": "count", "count-lot": LOT, "count-counted_mg": "0"}).status_code == 404
    assert AuditEvent.objects.filter(outcome="denied").count() == denied_before + 2
    assert StockEntry.objects.count() == 1


# The log ---------------------------------------------------------------------------------------------------------


def test_the_log_page_balances_through_receipt_administration_waste_and_count(
    client,
    site,
    prescriber,
    therapist_a,
    im_session,  # noqa: F811
):
    session, _at = im_session
    client.force_login(prescriber)
    receipt = {"kind": "receipt", "receipt-lot": LOT, "receipt-expires_on": "2099-01-01", "receipt-quantity_mg": "500"}
    assert client.post(log_page(site), receipt).status_code == 302
    offered = client.get(log_page(site)).context["forms"]["administration"].fields["session"].choices
    assert [value for value, _label in offered] == ["", str(session.pk)]
    administration = {"kind": "administration", "administration-lot": LOT, "administration-session": str(session.pk)}
    assert client.post(log_page(site), administration).status_code == 302
    assert client.post(log_page(site), waste(therapist_a, PASSWORD)).status_code == 302
    assert (
        client.post(log_page(site), {"kind": "count", "count-lot": LOT, "count-counted_mg": "370"}).status_code == 302
    )
    page = client.get(log_page(site))
    text = page.content.decode()
    assert page.context["balance"] == 380 and "Running balance: 380.0 mg" in text
    assert "counted 370.0 mg, the log says 380.0" in text  # the planted discrepancy, reported
    kinds = list(StockEntry.objects.values_list("kind", flat=True))
    assert kinds == ["receipt", "administration", "waste", "count"]
    assert StockEntry.objects.get(kind="administration").quantity_mg == 100  # the dose recorded in the session
    assert AuditEvent.objects.filter(object_type="treatment.stockentry", patient=session.patient, action="read")


def test_an_administration_is_logged_once_and_a_negative_balance_is_refused(
    client,
    site,
    prescriber,
    im_session,  # noqa: F811
):
    session, _at = im_session
    stock.stock_receive(actor=prescriber, site=site, lot=LOT, expires_on=date(2099, 1, 1), quantity_mg=50)
    client.force_login(prescriber)
    administration = {"kind": "administration", "administration-lot": LOT, "administration-session": str(session.pk)}
    refused = client.post(log_page(site), administration)
    assert refused.status_code == 409 and "the balance never goes negative" in refused.content.decode()
    stock.stock_receive(actor=prescriber, site=site, lot=LOT, expires_on=date(2099, 1, 1), quantity_mg=100)
    assert client.post(log_page(site), administration).status_code == 302
    assert client.post(log_page(site), administration).status_code == 400  # the session is no longer offered
    assert StockEntry.objects.filter(kind="administration").count() == 1


def test_a_session_of_a_patient_not_on_the_clinicians_team_is_not_logged(
    client,
    site,
    received,
    therapist_b,
    im_session,  # noqa: F811
):
    session, _at = im_session  # patient A's: therapist B is not on the team
    site.clinicians.add(therapist_b)
    client.force_login(therapist_b)
    administration = {"kind": "administration", "administration-lot": LOT, "administration-session": str(session.pk)}
    assert client.post(log_page(site), administration).status_code == 400
    assert not StockEntry.objects.filter(kind="administration").exists()


def test_an_unknown_kind_of_entry_is_refused(client, site, received, prescriber):
    client.force_login(prescriber)
    response = client.post(log_page(site), {"kind": "theft"})
    assert response.status_code == 409 and StockEntry.objects.count() == 1


# The witness confirms with their own password ------------------------------------------------------------------


def test_a_waste_is_written_only_with_the_witnesss_own_password(client, site, received, prescriber, therapist_a):
    client.force_login(prescriber)
    denied_before = AuditEvent.objects.filter(outcome="denied").count()
    wrong = client.post(log_page(site), waste(therapist_a, "not-the-password"))
    assert wrong.status_code == 400 and "password is not right" in wrong.content.decode()
    assert "not-the-password" not in wrong.content.decode()  # never echoed back
    assert AuditEvent.objects.filter(outcome="denied").count() == denied_before + 1  # the wrong password, audited
    assert client.post(log_page(site), waste(therapist_a, "")).status_code == 400  # none: the form asks for it
    assert not StockEntry.objects.filter(kind="waste").exists() and stock.lot_balance(site, LOT) == 500
    assert client.post(log_page(site), waste(therapist_a, PASSWORD)).status_code == 302
    assert StockEntry.objects.get(kind="waste").witness == therapist_a


def test_the_witness_is_never_the_clinician_who_wastes(client, site, received, prescriber):
    client.force_login(prescriber)
    response = client.post(log_page(site), waste(prescriber, PASSWORD))  # their own password, even
    assert response.status_code == 400  # the form does not offer oneself
    with pytest.raises(Exception, match="second clinician"):
        stock.stock_waste(
            actor=prescriber, site=site, lot=LOT, quantity_mg=5, witness=prescriber, witness_password=PASSWORD, note="x"
        )
    assert not StockEntry.objects.filter(kind="waste").exists()


def test_guessing_a_witnesss_password_pauses_their_confirmations(site, received, prescriber, therapist_a):
    from django.core.exceptions import ValidationError

    from kapcare.rules import RuleRefused

    attempt = {"actor": prescriber, "site": site, "lot": LOT, "quantity_mg": 5, "witness": therapist_a, "note": "x"}
    for guess in range(stock.WITNESS_TRIES):
        with pytest.raises(ValidationError):
            stock.stock_waste(**attempt, witness_password=f"guess-{guess}")
    with pytest.raises(RuleRefused) as paused:
        stock.stock_waste(**attempt, witness_password=PASSWORD)
    assert paused.value.code == "witness_confirmation_paused"
    assert not StockEntry.objects.filter(kind="waste").exists()


def test_the_api_asks_the_witnesss_password_too(api, site, received, prescriber, therapist_a):
    api.force_authenticate(prescriber)
    body = {"site": str(site.pk), "kind": "waste", "lot": LOT, "quantity_mg": "20", "witness": str(therapist_a.pk)}
    body["note"] = "Dropped vial"
    missing = api.post("/api/v1/stock-log/", body, format="json")
    assert missing.status_code == 400 and "witness_password" in missing.json()
    wrong = api.post("/api/v1/stock-log/", {**body, "witness_password": "guess"}, format="json")
    assert wrong.status_code == 400 and "guess" not in wrong.content.decode()
    same = api.post(
        "/api/v1/stock-log/", {**body, "witness": str(prescriber.pk), "witness_password": PASSWORD}, format="json"
    )
    assert same.status_code == 409 and same.json()["code"] == "waste_witness"
    assert not StockEntry.objects.filter(kind="waste").exists() and stock.lot_balance(site, LOT) == 500
    done = api.post("/api/v1/stock-log/", {**body, "witness_password": PASSWORD}, format="json")
    assert done.status_code == 201 and "witness_password" not in done.json()
    assert stock.lot_balance(site, LOT) == 480


def test_the_admin_lists_sites_but_adds_none_around_the_coordinators_service(client, medical_group):
    admin = UserFactory(role=User.Role.ADMIN, email="site.admin@example.test", is_staff=True, is_superuser=True)
    enrol_totp(admin)
    client.force_login(admin)

    added = client.post(
        "/admin/treatment/stocksite/add/",
        {"medical_group": medical_group.pk, "name": "Back office", "address": "1 Side St"},
    )

    assert added.status_code == 403
    assert not StockSite.objects.filter(name="Back office").exists()
    assert client.get("/admin/treatment/stocksite/").status_code == 200
