"""Joining the network (issue 17, point 1): the public form makes an application, not an account (rate limited,
the same answer for a known address); a coordinator checks each credential (who, when, against what), asks for
corrections, approves or declines; approval opens a usable account with the verified credentials."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from kapcare.accounts.models import KAPTraining, User
from kapcare.audit.models import AuditEvent
from kapcare.tests.test_mfa import ACTIVATE, log_in
from network.joining.models import Application, CredentialCheck, npi_is_valid

NPI = "1234567893"  # the CMS example: its last digit is the Luhn check digit
APPLICATIONS = "/api/v1/network/applications/"


def in_a_year():
    return (timezone.localdate() + timedelta(days=365)).isoformat()


def join_form(medical_group, email="new.therapist@example.test", role="therapist", **changes):
    form = {
        "email": email,
        "role": role,
        "medical_group": str(medical_group.pk),
        "first_name": "Nova",
        "last_name": "Newcomb",
        "npi": NPI,
        "malpractice_carrier": "CareGuard",
        "malpractice_policy_number": "CG-778",
        "malpractice_expires_on": in_a_year(),
        "licences-TOTAL_FORMS": "2",
        "licences-INITIAL_FORMS": "0",
        "licences-0-kind": "lmft",
        "licences-0-state": "CA",
        "licences-0-number": "LMFT-9001",
        "licences-0-expires_on": in_a_year(),
        "licences-1-kind": "lmft",
        "licences-1-state": "OR",
        "licences-1-number": "T-1200",
        "licences-1-expires_on": in_a_year(),
        "dea-TOTAL_FORMS": "1",
        "dea-INITIAL_FORMS": "0",
    }
    return {**form, **changes}


SENDING = {}  # e-mails leave on commit: `sent(call)` runs the call's commit callbacks


@pytest.fixture(autouse=True)
def sending(django_capture_on_commit_callbacks):
    SENDING["now"] = lambda: django_capture_on_commit_callbacks(execute=True)


def sent(call):
    with SENDING["now"]():
        return call()


def apply(client, medical_group, **changes):
    return sent(lambda: client.post("/network/join/", join_form(medical_group, **changes)))


def verify_all(api, coordinator, application, source="State board lookup, 2026-12-06"):
    client = api.as_user(coordinator)
    body = client.get(f"{APPLICATIONS}{application.pk}/").json()
    for credential in body["credentials"]:
        checked = client.post(
            f"{APPLICATIONS}{application.pk}/checks/",
            {"item": credential["item"], "outcome": "verified", "source": source},
            format="json",
        )
        assert checked.status_code == 200, checked.content
    return client


def test_npi_check_digit():
    assert npi_is_valid(NPI)
    assert not npi_is_valid("1234567890")
    assert not npi_is_valid("123456789")
    assert not npi_is_valid("12345678ab")


def test_the_public_page_makes_an_application_not_an_account(client, medical_group):
    assert client.get("/network/join/").status_code == 200

    response = apply(client, medical_group)

    assert response.status_code == 200
    application = Application.objects.get(email="new.therapist@example.test")
    assert application.status == Application.Status.SUBMITTED
    assert sorted(application.licences.values_list("state", flat=True)) == ["CA", "OR"]
    assert not User.objects.filter(email="new.therapist@example.test").exists()
    assert [m.to for m in mail.outbox] == [["new.therapist@example.test"]]
    assert AuditEvent.objects.filter(object_type="network.application", action="create").exists()


def test_a_known_address_gets_the_same_answer_and_no_second_application(client, medical_group, therapist_a):
    fresh = apply(client, medical_group, email="someone.new@example.test")
    known = apply(client, medical_group, email=therapist_a.email)
    again = apply(client, medical_group, email="someone.new@example.test")

    assert fresh.status_code == known.status_code == again.status_code == 200
    assert fresh.content == known.content == again.content
    assert not Application.objects.filter(email=therapist_a.email).exists()
    assert Application.objects.filter(email="someone.new@example.test").count() == 1
    assert len(mail.outbox) == 3, "every applicant is written to, whatever the address"


def test_the_public_page_is_rate_limited_per_email(client, medical_group):
    answers = [apply(client, medical_group, email="flood@example.test").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    assert Application.objects.filter(email="flood@example.test").count() == 1


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"npi": "1234567890"}, "check digit"),
        ({"licences-0-expires_on": "2020-01-01"}, "has expired"),
        ({"licences-TOTAL_FORMS": "0"}, "at least one state licence"),
        ({"role": "prescriber"}, "DEA registration for each state"),
        ({"malpractice_expires_on": ""}, "malpractice cover runs to"),
    ],
)
def test_a_bad_declaration_is_refused_and_nothing_kept(client, medical_group, changes, error):
    response = apply(client, medical_group, **changes)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Application.objects.exists()
    assert not mail.outbox


def test_the_coordinator_verifies_each_credential_and_the_trail_is_kept(api, client, coordinator, medical_group):
    apply(client, medical_group)
    application = Application.objects.get()
    coordinator_api = api.as_user(coordinator)

    refused = coordinator_api.post(f"{APPLICATIONS}{application.pk}/approve/", {}, format="json")
    assert refused.status_code == 409
    assert refused.json()["code"] == "application_unverified"
    no_source = coordinator_api.post(
        f"{APPLICATIONS}{application.pk}/checks/", {"item": "npi", "outcome": "verified", "source": ""}, format="json"
    )
    assert no_source.status_code == 400
    bad_item = coordinator_api.post(
        f"{APPLICATIONS}{application.pk}/checks/",
        {"item": "licence:999999", "outcome": "verified", "source": "Board"},
        format="json",
    )
    assert bad_item.status_code == 400

    verify_all(api, coordinator, application)

    checks = CredentialCheck.objects.filter(application=application)
    assert checks.count() == 4  # NPI, two licences, malpractice cover
    assert {check.checked_by for check in checks} == {coordinator}
    assert all(check.source == "State board lookup, 2026-12-06" and check.checked_at for check in checks)
    client.force_login(coordinator)
    page = client.get(f"/network/applications/{application.pk}/").content.decode()
    assert "State board lookup, 2026-12-06" in page and str(coordinator) in page


def test_corrections_send_a_link_and_a_corrected_credential_needs_checking_again(
    api, client, coordinator, medical_group, practice_a
):
    apply(client, medical_group)
    application = Application.objects.get()
    coordinator_api = verify_all(api, coordinator, application)
    mail.outbox.clear()

    asked = sent(
        lambda: coordinator_api.post(
            f"{APPLICATIONS}{application.pk}/request-corrections/",
            {"corrections": "The Oregon number is T-1201 on the board's site."},
            format="json",
        )
    )
    assert asked.status_code == 200
    assert asked.json()["status"] == "corrections"
    link = re.search(r"https?://\S+/network/apply/(\S+)/", mail.outbox[0].body)
    assert "T-1201" in mail.outbox[0].body
    page = client.get(f"/network/apply/{link.group(1)}/")
    assert "The Oregon number is T-1201" in page.content.decode()

    form = join_form(medical_group, **{"licences-1-number": "T-1201"})
    assert client.post(f"/network/apply/{link.group(1)}/", form).status_code == 200
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED
    assert client.get(f"/network/apply/{link.group(1)}/").status_code == 404, "the link works once"

    refused = coordinator_api.post(
        f"{APPLICATIONS}{application.pk}/approve/", {"practice": str(practice_a.pk)}, format="json"
    )
    assert refused.status_code == 409
    assert "T-1201" in refused.json()["detail"], "the corrected licence is unverified"
    assert "NPI" not in refused.json()["detail"], "unchanged credentials stay verified"


@pytest.mark.celery_eager  # the welcome e-mail is a task
def test_approval_opens_a_usable_account_with_the_verified_credentials(
    api, client, coordinator, medical_group, practice_a
):
    apply(client, medical_group)
    application = Application.objects.get()
    coordinator_api = verify_all(api, coordinator, application)
    without_practice = coordinator_api.post(f"{APPLICATIONS}{application.pk}/approve/", {}, format="json")
    assert without_practice.status_code == 400
    mail.outbox.clear()

    approved = sent(
        lambda: coordinator_api.post(
            f"{APPLICATIONS}{application.pk}/approve/", {"practice": str(practice_a.pk)}, format="json"
        )
    )
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved"
    user = User.objects.get(email="new.therapist@example.test")
    assert (user.role, user.organization) == (User.Role.THERAPIST, practice_a)
    assert user.clinician_profile.is_approved and user.clinician_profile.approved_by == coordinator
    licences = list(user.licences.all())
    assert {lic.state for lic in licences} == {"CA", "OR"}
    assert all(lic.verified_by == coordinator and "State board lookup" in lic.verification_note for lic in licences)
    assert not user.has_usable_password()
    twice = coordinator_api.post(
        f"{APPLICATIONS}{application.pk}/approve/", {"practice": str(practice_a.pk)}, format="json"
    )
    assert twice.status_code == 409

    link = re.search(r"https?://[^/\s]+(/\S+)", mail.outbox[0].body).group(1)
    client.logout()
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    password = "a-new-long-passphrase-42"
    set_password = client.post(form_page.request["PATH_INFO"], {"password1": password, "password2": password})
    assert set_password.status_code == 302
    assert log_in(client, user, password=password).status_code == 302
    assert client.get("/")["Location"] == ACTIVATE, "the second factor is enrolled at first sign-in"


def test_a_declared_training_is_recorded_only_when_verified(api, client, coordinator, medical_group, practice_a):
    training = {
        "training_provider": "Fluence",
        "training_title": "KAP certificate",
        "training_completed_on": "2025-05-01",
    }
    apply(client, medical_group, **training)
    application = Application.objects.get()
    coordinator_api = verify_all(api, coordinator, application)
    coordinator_api.post(f"{APPLICATIONS}{application.pk}/approve/", {"practice": str(practice_a.pk)}, format="json")
    assert KAPTraining.objects.get(clinician__email="new.therapist@example.test").provider == "Fluence"


def test_a_coordinator_invites_and_declines(api, client, coordinator, medical_group):
    coordinator_api = api.as_user(coordinator)
    invited = sent(
        lambda: coordinator_api.post(
            APPLICATIONS,
            {"email": "invitee@example.test", "first_name": "Ivy", "last_name": "Inman", "role": "prescriber"},
            format="json",
        )
    )
    assert invited.status_code == 201, invited.content
    assert invited.json()["status"] == "invited"
    assert re.search(r"/network/apply/\S+/", mail.outbox[0].body)
    again = coordinator_api.post(
        APPLICATIONS,
        {"email": "INVITEE@example.test", "first_name": "Ivy", "last_name": "Inman", "role": "prescriber"},
        format="json",
    )
    assert again.status_code == 400

    declined = coordinator_api.post(
        f"{APPLICATIONS}{invited.json()['id']}/decline/", {"note": "Not practising in our states."}, format="json"
    )
    assert declined.status_code == 200
    assert declined.json()["status"] == "declined"
    link = re.search(r"https?://\S+(/network/apply/\S+/)", mail.outbox[0].body).group(1)
    assert client.get(link).status_code == 404, "a declined application's link no longer works"


def test_only_the_medical_groups_coordinators_reach_applications(
    api, client, coordinator, therapist_a, prescriber, admin_user, medical_group
):
    from .factories import MedicalGroupFactory, UserFactory, enrol_totp

    apply(client, medical_group)
    application = Application.objects.get()
    for user in (therapist_a, prescriber, admin_user):
        assert api.as_user(user).get(APPLICATIONS).status_code == 403
        assert api.as_user(user).get(f"{APPLICATIONS}{application.pk}/").status_code == 403
    other = UserFactory(
        role=User.Role.COORDINATOR, organization=MedicalGroupFactory(), email="other.coord@example.test"
    )
    enrol_totp(other)
    assert api.as_user(other).get(APPLICATIONS).json()["results"] == []
    assert api.as_user(other).get(f"{APPLICATIONS}{application.pk}/").status_code == 404
    assert api.as_user(other).post(f"{APPLICATIONS}{application.pk}/decline/", {}, format="json").status_code == 404
    client.force_login(other)
    assert client.get(f"/network/applications/{application.pk}/").status_code == 404
    assert AuditEvent.objects.filter(object_id=str(application.pk), outcome="denied").exists()
    assert api.as_user(coordinator).get(f"{APPLICATIONS}{application.pk}/").status_code == 200
