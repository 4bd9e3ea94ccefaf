"""Issue 13, findings 1 and 2: the administrator cannot become a clinician.

Each test replays the penetration test's requests: the stock admin login with a password alone, minting a
token for a prescriber in the knox admin, reading TOTP secrets in the allauth MFA admin, and an administrator
changing their own role; then shows the allowed path next to it.
"""

import importlib
from importlib import import_module

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from allauth.mfa.utils import decrypt
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db import connection
from knox.models import AuthToken

from kapcare.accounts.models import Organization, User
from kapcare.audit.models import AuditEvent
from kapcare.tests.test_mfa import LOGIN, SECOND_FACTOR, totp_code
from tests.factories import PASSWORD, UserFactory, enrol_totp

ADMIN_LOGIN = "/admin/login/"


@pytest.fixture
def site_admin(db):
    """The administrator as seed_demo makes them: admin role, staff and superuser flags, TOTP enrolled."""
    user = UserFactory(role=User.Role.ADMIN, email="site.admin@example.test", is_staff=True, is_superuser=True)
    user.totp_secret = enrol_totp(user)
    return user


def password_only_session(client, user):
    """A session signed in by a door that asks only for the password, as Django's stock admin login was."""
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key


# Finding 1: the admin login skipped the second factor and the login throttle.


@pytest.mark.django_db
def test_the_admin_login_page_sends_to_the_one_login(client, site_admin):
    response = client.get(ADMIN_LOGIN)
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=/admin/"

    assert client.get("/admin/", follow=True).redirect_chain[-1][0] == f"{LOGIN}?next=/admin/"
    assert client.get(f"{ADMIN_LOGIN}?next=https://evil.example/")["Location"] == f"{LOGIN}?next=/admin/"


@pytest.mark.django_db
def test_the_admin_password_alone_opens_nothing(client, site_admin, patient_a):
    # The attack: Django's stock admin login form, password only.
    response = client.post(ADMIN_LOGIN, {"username": site_admin.email, "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    assert client.get("/")["Location"].startswith(LOGIN)

    # The one login asks for the code before anything opens.
    response = client.post(f"{LOGIN}?next=/admin/", {"login": site_admin.email, "password": PASSWORD})
    assert response["Location"] == SECOND_FACTOR
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302
    assert client.get("/").status_code == 302

    response = client.post(SECOND_FACTOR, {"code": totp_code(site_admin.totp_secret)})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_a_staff_session_without_the_second_factor_is_signed_out(client, site_admin, therapist_a, patient_a):
    for user in (site_admin, therapist_a):
        password_only_session(client, user)
        response = client.get("/admin/" if user is site_admin else f"/patients/{patient_a.pk}/")
        assert response.status_code == 302
        assert response["Location"].startswith(f"{LOGIN}?next=/")
        assert "_auth_user_id" not in client.session

        password_only_session(client, user)
        response = client.get("/api/v1/patients/")
        assert response.status_code == 401
        assert response.json()["code"] == "mfa_not_verified"
        assert "Alder" not in response.content.decode()


@pytest.mark.django_db
def test_fifteen_wrong_admin_passwords_are_throttled(client, site_admin):
    refused = []
    for _ in range(15):
        response = client.post(f"{LOGIN}?next=/admin/", {"login": site_admin.email, "password": "wrong-password-x"})
        refused.append("Too many failed login attempts" in response.content.decode())
    assert refused[:5] == [False] * 5
    assert all(refused[5:])
    # Throttled, the right password does not get through from that address either.
    response = client.post(f"{LOGIN}?next=/admin/", {"login": site_admin.email, "password": PASSWORD})
    assert "Too many failed login attempts" in response.content.decode()
    # And the stock admin form checks no password at all any more.
    for _ in range(15):
        response = client.post(ADMIN_LOGIN, {"username": site_admin.email, "password": "wrong-password-x"})
        assert response.status_code == 302
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_strangers_failures_do_not_lock_the_clinician_out(client, therapist_a):
    """Throttling, not lockout: failures count per account and address (and per address)."""
    stranger = {"REMOTE_ADDR": "203.0.113.9"}
    for _ in range(15):
        client.post(LOGIN, {"login": therapist_a.email, "password": "wrong-password-x"}, **stranger)
    response = client.post(LOGIN, {"login": therapist_a.email, "password": PASSWORD}, **stranger)
    assert "Too many failed login attempts" in response.content.decode()

    response = client.post(LOGIN, {"login": therapist_a.email, "password": PASSWORD}, REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 302
    assert response["Location"] == SECOND_FACTOR


# Finding 2: no admin page for tokens or authenticators; own role locked; every admin change audited.


@pytest.mark.django_db
def test_the_admin_cannot_mint_a_token_for_a_prescriber(client, site_admin, prescriber):
    client.force_login(site_admin)
    index = client.get("/admin/").content.decode()
    assert "/admin/knox/" not in index
    assert "/admin/mfa/" not in index

    for path in ["/admin/knox/authtoken/", "/admin/knox/authtoken/add/"]:
        assert client.get(path).status_code == 404, path
    # The attack: the knox admin's add form, for the prescriber, with the expiry left empty.
    response = client.post("/admin/knox/authtoken/add/", {"user": str(prescriber.pk), "expiry": ""})
    assert response.status_code == 404
    assert not AuthToken.objects.filter(user=prescriber).exists()


@pytest.mark.django_db
def test_no_token_without_an_expiry(prescriber):
    with pytest.raises(ValueError, match="expiry"):
        AuthToken.objects.create(user=prescriber, expiry=None)
    assert not AuthToken.objects.filter(user=prescriber).exists()


@pytest.mark.django_db
def test_second_factor_secrets_are_stored_encrypted_and_shown_nowhere(client, site_admin, prescriber):
    secret = enrol_totp(UserFactory(role=User.Role.COORDINATOR, email="c2@example.test"))
    stored = Authenticator.objects.get(user__email="c2@example.test", type=Authenticator.Type.TOTP)
    assert stored.data["secret"] != secret
    assert secret not in str(stored.data)
    assert decrypt(stored.data["secret"]) == secret

    client.force_login(site_admin)
    totp = Authenticator.objects.get(user=prescriber, type=Authenticator.Type.TOTP)
    for path in ["/admin/mfa/authenticator/", f"/admin/mfa/authenticator/{totp.pk}/change/"]:
        response = client.get(path)
        assert response.status_code == 404, path
        assert decrypt(totp.data["secret"]) not in response.content.decode()


@pytest.mark.django_db
def test_the_migration_encrypts_secrets_stored_in_the_clear(prescriber):
    Authenticator.objects.filter(user=prescriber).delete()
    plain = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    row = Authenticator.objects.create(user=prescriber, type=Authenticator.Type.TOTP, data={"secret": plain})
    seed = Authenticator.objects.create(
        user=prescriber, type=Authenticator.Type.RECOVERY_CODES, data={"seed": "ab" * 20}
    )
    migration = importlib.import_module("kapcare.accounts.migrations.0003_add_api_token_and_encrypt_mfa_secrets")

    migration.encrypt_mfa_secrets(django_apps, connection.schema_editor())
    migration.encrypt_mfa_secrets(django_apps, connection.schema_editor())  # twice changes nothing

    row.refresh_from_db()
    seed.refresh_from_db()
    assert plain not in str(row.data)
    assert decrypt(row.data["secret"]) == plain
    assert decrypt(seed.data["seed"]) == "ab" * 20
    assert TOTP(row).validate_code(totp_code(plain))


def user_form(user, **changes):
    """The admin's change form for `user`, as the browser posts it (no clinician profile inline rows)."""
    data = {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": user.role,
        "organization": str(user.organization_id or ""),
        "is_active": "on",
        "clinician_profile-TOTAL_FORMS": "0",
        "clinician_profile-INITIAL_FORMS": "0",
        "clinician_profile-MIN_NUM_FORMS": "0",
        "clinician_profile-MAX_NUM_FORMS": "1",
    }
    for credentials in ("licences", "dea_registrations", "kap_trainings", "referral_state_exceptions"):
        data |= {f"{credentials}-TOTAL_FORMS": "0", f"{credentials}-INITIAL_FORMS": "0"}
    if user.is_staff:
        data["is_staff"] = "on"
    if user.is_superuser:
        data["is_superuser"] = "on"
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@pytest.mark.django_db
def test_an_admin_cannot_change_their_own_role_organization_or_powers(client, site_admin, medical_group):
    client.force_login(site_admin)
    page = client.get(f"/admin/accounts/user/{site_admin.pk}/change/").content.decode()
    assert 'name="role"' not in page
    assert 'name="is_superuser"' not in page

    # The attack: post the own change form with a clinician role in a medical group.
    response = client.post(
        f"/admin/accounts/user/{site_admin.pk}/change/",
        user_form(site_admin, role="prescriber", organization=str(medical_group.pk), first_name="Sam"),
    )
    assert response.status_code == 302

    site_admin.refresh_from_db()
    assert (site_admin.role, site_admin.organization_id, site_admin.is_superuser) == ("admin", None, True)
    assert site_admin.first_name == "Sam"
    event = AuditEvent.objects.filter(object_type="accounts.user", object_id=str(site_admin.pk)).get()
    assert event.detail["fields"] == ["first_name"]


@pytest.mark.django_db
def test_a_role_change_of_another_account_is_audited_with_before_and_after(client, site_admin, coordinator):
    client.force_login(site_admin)
    response = client.post(
        f"/admin/accounts/user/{coordinator.pk}/change/", user_form(coordinator, role=User.Role.PRESCRIBER)
    )
    assert response.status_code == 302

    event = AuditEvent.objects.get(object_type="accounts.user", object_id=str(coordinator.pk))
    assert (event.actor, event.actor_role, event.action) == (site_admin, "admin", AuditEvent.Action.UPDATE)
    assert event.detail == {
        "via": "admin",
        "fields": ["role"],
        "before": {"role": "coordinator"},
        "after": {"role": "prescriber"},
    }


@pytest.mark.django_db
def test_every_admin_add_change_and_delete_is_audited(client, site_admin):
    client.force_login(site_admin)

    client.post("/admin/accounts/organization/add/", {"name": "Harbor Practice", "kind": "therapy_practice"})
    organization = Organization.objects.get(name="Harbor Practice")
    client.post(
        f"/admin/accounts/organization/{organization.pk}/change/",
        {"name": "Harbor Therapy Practice", "kind": "therapy_practice"},
    )
    client.post(f"/admin/accounts/organization/{organization.pk}/delete/", {"post": "yes"})
    assert not Organization.objects.filter(pk=organization.pk).exists()

    events = AuditEvent.objects.filter(object_type="accounts.organization", object_id=str(organization.pk))
    assert [(e.action, e.detail.get("fields"), e.actor_id) for e in events.order_by("id")] == [
        ("create", ["kind", "name"], site_admin.pk),
        ("update", ["name"], site_admin.pk),
        ("delete", [], site_admin.pk),
    ]
    assert all("Harbor" not in str(e.detail) for e in events)  # names of fields, never their values


@pytest.mark.django_db
def test_a_password_set_in_the_admin_is_audited_and_ends_the_users_tokens(client, site_admin, therapist_a, capsys):
    from django.core.management import call_command

    call_command("issue_api_token", therapist_a.email)
    client.force_login(site_admin)
    response = client.post(
        f"/admin/accounts/user/{therapist_a.pk}/password/",
        {"password1": "a-new-long-passphrase-9", "password2": "a-new-long-passphrase-9", "set_usable_password": "true"},
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(object_type="accounts.user", object_id=str(therapist_a.pk))
    assert event.detail["fields"] == ["password"]
    assert not AuthToken.objects.filter(user=therapist_a).exists()


@pytest.mark.django_db
def test_another_admin_account_cannot_be_made_a_clinician(client, site_admin, medical_group):
    """The detour: make a second administrator account (password known) a prescriber and sign in as it."""
    second = UserFactory(role=User.Role.ADMIN, email="second.admin@example.test", is_staff=True)
    client.force_login(site_admin)
    response = client.post(
        f"/admin/accounts/user/{second.pk}/change/",
        user_form(second, role=User.Role.PRESCRIBER, organization=str(medical_group.pk)),
    )
    assert response.status_code == 200
    assert "An administrator account keeps its role." in response.content.decode()
    second.refresh_from_db()
    assert (second.role, second.organization_id) == ("admin", None)
    assert not AuditEvent.objects.filter(object_type="accounts.user", object_id=str(second.pk)).exists()


@pytest.mark.django_db
def test_a_list_action_in_the_admin_is_audited(client, site_admin):
    from patients.models import ConsentDocument

    document = ConsentDocument.objects.current().first()
    client.force_login(site_admin)
    client.post("/admin/patients/consentdocument/", {"action": "start_new_version", "_selected_action": [document.pk]})

    event = AuditEvent.objects.get(object_type="patients.consentdocument", object_id=str(document.pk))
    assert (event.actor, event.action) == (site_admin, AuditEvent.Action.UPDATE)
    assert event.detail["fields"] == ["action:start_new_version"]


# The detour through a patient's account: patients have no second factor, so whoever sets their password or
# their sign-in address (where a reset link goes) signs in as them and reads their record.


@pytest.mark.django_db
def test_the_admin_cannot_set_a_patients_password_and_sign_in_as_them(client, site_admin, patient):
    client.force_login(site_admin)
    new = "an-admin-chosen-passphrase-9"
    response = client.post(
        f"/admin/accounts/user/{patient.pk}/password/",
        {"password1": new, "password2": new, "set_usable_password": "true"},
    )
    assert response.status_code == 403
    patient.refresh_from_db()
    assert not patient.check_password(new)
    assert not AuditEvent.objects.filter(object_id=str(patient.pk), detail__fields=["password"]).exists()


@pytest.mark.django_db
def test_the_admin_cannot_redirect_a_patients_sign_in_address_or_role(client, site_admin, patient, medical_group):
    address = patient.email
    client.force_login(site_admin)
    page = client.get(f"/admin/accounts/user/{patient.pk}/change/").content.decode()
    assert 'name="email"' not in page and 'name="role"' not in page

    response = client.post(
        f"/admin/accounts/user/{patient.pk}/change/",
        user_form(patient, email="admin.inbox@example.test", role="coordinator", organization=str(medical_group.pk)),
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    assert (patient.email, patient.role, patient.organization_id) == (address, "patient", None)


@pytest.mark.django_db
def test_no_staff_account_becomes_a_patient_and_no_patient_account_is_made_in_the_admin(
    client, site_admin, coordinator
):
    client.force_login(site_admin)
    response = client.post(f"/admin/accounts/user/{coordinator.pk}/change/", user_form(coordinator, role="patient"))
    assert response.status_code == 200
    coordinator.refresh_from_db()
    assert coordinator.role == "coordinator"

    response = client.post(
        "/admin/accounts/user/add/",
        {
            "email": "someone@example.test",
            "role": "patient",
            "password1": "x-long-pass-9-q",
            "password2": "x-long-pass-9-q",
        },
    )
    assert response.status_code == 200
    assert not User.objects.filter(email="someone@example.test").exists()


@pytest.mark.django_db
def test_the_admin_still_manages_a_patients_account_status(client, site_admin, patient):
    client.force_login(site_admin)
    response = client.post(f"/admin/accounts/user/{patient.pk}/change/", user_form(patient, is_active=None))
    assert response.status_code == 302
    patient.refresh_from_db()
    assert not patient.is_active


@pytest.mark.django_db
def test_the_admin_cannot_give_a_patient_a_second_address_for_a_reset_link(client, site_admin, patient):
    """allauth's e-mail address admin: add the administrator's own mailbox to the patient's account, verified,
    then ask for a password reset at that address and sign in as the patient."""
    from django.core import mail

    client.force_login(site_admin)
    inbox = "admin.inbox@example.test"
    response = client.post(
        "/admin/account/emailaddress/add/",
        {"user": str(patient.pk), "email": inbox, "verified": "on"},
    )
    assert response.status_code == 404
    client.logout()
    client.post("/accounts/password/reset/", {"email": inbox})
    assert not [m for m in mail.outbox if m.to == [inbox] and "/password/reset/key/" in m.body]
