"""Issue 13, finding 2 and hardening: API tokens are made only by their owner (the "API tokens" page under
Account) or by `issue_api_token`; each has a name and an expiry, is shown once, and dies when it is revoked,
when its owner's password changes, or when the account is deactivated."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from kapcare.accounts.models import ApiToken
from kapcare.audit.models import AuditEvent
from tests.factories import PASSWORD

PAGE = "/accounts/api-tokens/"


def works(token):
    return APIClient(HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/patients/").status_code == 200


def reauthenticate(client):
    """Creating a token asks for the password again (allauth's reauthentication), whenever the login was."""
    response = client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:1000]


def create(client, name="EHR sync", days=30):
    reauthenticate(client)
    response = client.post(PAGE, {"name": name, "days": days})
    assert response.status_code == 200, response.content.decode()[:1000]
    return response.context["new_token"]


@pytest.mark.django_db
def test_the_owner_creates_a_named_expiring_token_shown_once(client, therapist_a, patient_a):
    client.force_login(therapist_a)
    assert client.get(PAGE).status_code == 200

    token = create(client, days=90)

    assert works(token)
    stored = AuthToken.objects.get(user=therapist_a)
    assert stored.details.name == "EHR sync"
    assert timezone.now() + timedelta(days=89) < stored.expiry <= timezone.now() + timedelta(days=90)
    assert token not in (stored.digest, stored.token_key)
    page = client.get(PAGE).content.decode()
    assert "EHR sync" in page
    assert token not in page  # shown once, on the answer to the form
    event = AuditEvent.objects.get(object_type="accounts.apitoken", action=AuditEvent.Action.CREATE)
    assert (event.actor, event.object_id) == (therapist_a, str(stored.details.pk))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "days"), [("", 30), ("EHR sync", ""), ("EHR sync", 0), ("EHR sync", 3650), ("EHR sync", "never")]
)
def test_a_token_without_a_name_or_a_valid_expiry_is_refused(client, therapist_a, name, days):
    client.force_login(therapist_a)
    reauthenticate(client)
    response = client.post(PAGE, {"name": name, "days": days})
    assert response.status_code == 400
    assert response.context["new_token"] is None
    assert not AuthToken.objects.filter(user=therapist_a).exists()


@pytest.mark.django_db
def test_the_owner_revokes_a_token_and_nobody_else_can(client, therapist_a, therapist_b, patient_a):
    client.force_login(therapist_a)
    token = create(client)
    api_token = ApiToken.objects.get(auth_token__user=therapist_a)
    revoke = f"{PAGE}{api_token.pk}/revoke/"

    client.force_login(therapist_b)
    assert client.post(revoke).status_code == 404
    assert works(token)

    client.force_login(therapist_a)
    assert client.get(revoke).status_code == 405
    response = client.post(revoke)
    assert response.status_code == 302
    assert not works(token)
    assert AuditEvent.objects.filter(object_id=str(api_token.pk), action=AuditEvent.Action.DELETE).exists()


@pytest.mark.django_db
def test_the_token_page_needs_a_sign_in(client, therapist_a):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client.post(PAGE, {"name": "x", "days": 30}).status_code == 302
    assert not AuthToken.objects.exists()


@pytest.mark.django_db
def test_the_command_issues_a_named_token_with_an_expiry(therapist_a, patient_a, capsys):
    call_command("issue_api_token", therapist_a.email, "--days", "7", "--name", "Nightly export")
    token = capsys.readouterr().out.strip().splitlines()[-1]

    assert works(token)
    stored = AuthToken.objects.get(user=therapist_a)
    assert stored.details.name == "Nightly export"
    assert stored.expiry <= timezone.now() + timedelta(days=7)
    for days in ("0", "366"):
        with pytest.raises(CommandError, match="--days"):
            call_command("issue_api_token", therapist_a.email, "--days", days)


@pytest.mark.django_db
def test_a_password_change_revokes_the_users_tokens(client, therapist_a, patient_a, capsys):
    call_command("issue_api_token", therapist_a.email)
    token = capsys.readouterr().out.strip().splitlines()[-1]
    client.force_login(therapist_a)
    create(client)
    assert works(token)

    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": "a-brand-new-passphrase-7", "password2": "a-brand-new-passphrase-7"},
    )
    assert response.status_code == 302

    assert not works(token)
    assert not AuthToken.objects.filter(user=therapist_a).exists()


@pytest.mark.django_db
def test_deactivating_an_account_revokes_its_tokens(therapist_a, capsys):
    call_command("issue_api_token", therapist_a.email)
    token = capsys.readouterr().out.strip().splitlines()[-1]

    therapist_a.is_active = False
    therapist_a.save(update_fields=["is_active"])

    assert not AuthToken.objects.filter(user=therapist_a).exists()
    assert APIClient(HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/patients/").status_code == 401


@pytest.mark.django_db
def test_a_login_does_not_revoke_tokens(client, patient, capsys):
    call_command("issue_api_token", patient.email)
    client.post("/accounts/login/", {"login": patient.email, "password": PASSWORD})
    assert "_auth_user_id" in client.session
    assert AuthToken.objects.filter(user=patient).exists()


# Hardening: no browser or proxy cache keeps a copy of a response that can carry patient data.


@pytest.mark.django_db
def test_responses_with_patient_data_are_not_stored(client, therapist_a, patient_a, capsys):
    client.force_login(therapist_a)
    for path in ["/", f"/patients/{patient_a.pk}/", "/api/v1/patients/", f"/api/v1/patients/{patient_a.pk}/", PAGE]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response["Cache-Control"], path

    call_command("issue_api_token", therapist_a.email)
    token = capsys.readouterr().out.strip().splitlines()[-1]
    response = APIClient(HTTP_AUTHORIZATION=f"Token {token}").get(f"/api/v1/patients/{patient_a.pk}/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "no-store" in APIClient().get("/api/v1/patients/")["Cache-Control"]


@pytest.mark.django_db
def test_a_session_left_open_cannot_mint_a_token_without_the_password_again(client, therapist_a, patient_a):
    """Someone at a clinician's unlocked workstation mints a token for a year: it outlives the session, its idle
    limit and its sign-out. Creating one asks for the password again, as allauth does for a new second factor."""
    import time_machine

    client.force_login(therapist_a)
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        response = client.post(PAGE, {"name": "Persistence", "days": 365})
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/reauthenticate/")
        assert client.get(PAGE).status_code == 200, "the list is still shown"
        assert not AuthToken.objects.filter(user=therapist_a).exists()
    assert create(client)  # with the password given again
