"""Second factor for clinicians and coordinators, through allauth's real views and KAPCare's middleware.

Everything goes through the login form, the reauthentication page, the TOTP enrolment page and the
second-factor page exactly as a browser would post them; codes are computed from the secret the way an
authenticator app would.
"""

import time
from datetime import timedelta

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt
from django.utils import timezone

from tests.factories import PASSWORD

LOGIN = "/accounts/login/"
LOGOUT = "/accounts/logout/"
ACTIVATE = "/accounts/2fa/totp/activate/"
REAUTHENTICATE = "/accounts/reauthenticate/"
SECOND_FACTOR = "/accounts/2fa/authenticate/"
PATIENTS_API = "/api/v1/patients/"
TOTP_PERIOD = 30


def totp_code(secret, *, step=0):
    """The code an authenticator app shows now (or `step` periods later), never within 3 s of a window edge."""
    if TOTP_PERIOD - time.time() % TOTP_PERIOD < 3:
        time.sleep(TOTP_PERIOD - time.time() % TOTP_PERIOD + 0.2)
    counter = int(time.time()) // TOTP_PERIOD + step
    return format_hotp_value(hotp_value(secret, counter))


def totp_secret(user):
    return decrypt(Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP).data["secret"])


def log_in(client, user, password=PASSWORD):
    return client.post(LOGIN, {"login": user.email, "password": password})


def log_out(client):
    client.post(LOGOUT)
    assert "_auth_user_id" not in client.session


def enrol_through_the_pages(client, password=PASSWORD):
    """Reauthenticate, open the enrolment page, type the code from the shown secret. Returns the secret."""
    response = client.get(ACTIVATE)
    assert response.status_code == 302
    assert response["Location"].startswith(REAUTHENTICATE)
    response = client.post(response["Location"], {"password": password})
    assert response.status_code == 302
    response = client.get(ACTIVATE)
    assert response.status_code == 200
    secret = client.session["mfa.totp.secret"]
    assert secret in response.content.decode()  # shown for manual entry beside the QR code
    response = client.post(ACTIVATE, {"code": totp_code(secret)})
    assert response.status_code == 302, response.content.decode()[:2000]
    return secret


@pytest.fixture
def clinician_without_mfa(request):
    """A cast member who is on patient_a's care team or coordinates it, with their authenticators removed."""

    def make(name):
        user = request.getfixturevalue(name)
        Authenticator.objects.filter(user=user).delete()
        return user

    return make


STAFF = ["therapist_a", "coordinator", "prescriber"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", STAFF)
def test_staff_without_second_factor_reach_only_the_enrolment_page(client, clinician_without_mfa, patient_a, name):
    user = clinician_without_mfa(name)

    response = log_in(client, user)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)

    for path in ["/", f"/patients/{patient_a.id}/", f"/patients/{patient_a.id}/access-history/"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == ACTIVATE, path

    page = client.get("/", follow=True)
    assert page.request["PATH_INFO"] == REAUTHENTICATE  # allauth asks for the password again before enrolment
    assert "Set up two-factor authentication before using KAPCare." in page.content.decode()
    assert "Alder" not in page.content.decode()

    response = client.get(PATIENTS_API)
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "mfa_required"
    assert "Alder" not in response.content.decode()


@pytest.mark.django_db
def test_a_patient_is_not_held_for_a_second_factor(client, patient):
    assert not Authenticator.objects.filter(user=patient).exists()
    response = log_in(client, patient)
    assert response.status_code == 302
    assert response["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert "Welcome, Avery" in page.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("name", STAFF)
def test_enrolment_through_the_real_flow_opens_the_dashboard(client, clinician_without_mfa, patient_a, name):
    user = clinician_without_mfa(name)
    log_in(client, user)
    assert client.get("/")["Location"] == ACTIVATE

    enrol_through_the_pages(client)

    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).exists()
    page = client.get("/")
    assert page.status_code == 200
    assert 'id="dashboard-title"' in page.content.decode()
    assert "Alder, Avery" in page.content.decode()
    assert client.get(f"/patients/{patient_a.id}/").status_code == 200
    response = client.get(PATIENTS_API)
    assert response.status_code == 200
    assert "Alder" in response.content.decode()


@pytest.mark.django_db
def test_a_wrong_enrolment_code_enrols_nothing(client, clinician_without_mfa):
    user = clinician_without_mfa("therapist_a")
    log_in(client, user)
    response = client.get(ACTIVATE)
    client.post(response["Location"], {"password": PASSWORD})
    client.get(ACTIVATE)
    secret = client.session["mfa.totp.secret"]
    wrong = f"{(int(totp_code(secret)) + 1) % 1_000_000:06d}"
    response = client.post(ACTIVATE, {"code": wrong})
    assert response.status_code == 200
    assert "Incorrect code." in response.content.decode()
    assert not Authenticator.objects.filter(user=user).exists()
    assert client.get("/")["Location"] == ACTIVATE


@pytest.mark.django_db
def test_after_enrolment_login_needs_the_code_and_a_code_works_once(client, clinician_without_mfa, patient_a):
    user = clinician_without_mfa("therapist_a")
    log_in(client, user)
    secret = enrol_through_the_pages(client)
    log_out(client)

    # Password alone is not a login any more.
    response = log_in(client, user)
    assert response.status_code == 302
    assert response["Location"] == SECOND_FACTOR
    assert "_auth_user_id" not in client.session
    assert client.get("/")["Location"].startswith(LOGIN)
    assert client.get(PATIENTS_API).status_code == 401

    # A wrong code is refused. (The next period's code is accepted: MFA_TOTP_TOLERANCE is 1.)
    code = totp_code(secret, step=1)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = client.post(SECOND_FACTOR, {"code": wrong})
    assert response.status_code == 200
    assert "Incorrect code." in response.content.decode()
    assert "_auth_user_id" not in client.session

    response = client.post(SECOND_FACTOR, {"code": code})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(user.pk)
    assert "Alder, Avery" in client.get("/").content.decode()
    log_out(client)

    # Someone who saw the code cannot use it again within its lifetime.
    assert log_in(client, user)["Location"] == SECOND_FACTOR
    response = client.post(SECOND_FACTOR, {"code": code})
    assert response.status_code == 200
    assert "Incorrect code." in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/")["Location"].startswith(LOGIN)


@pytest.mark.django_db
def test_a_recovery_code_works_once(client, therapist_a, patient_a):
    codes = RecoveryCodes.activate(therapist_a).get_unused_codes()
    assert len(codes) >= 2

    assert log_in(client, therapist_a)["Location"] == SECOND_FACTOR
    response = client.post(SECOND_FACTOR, {"code": codes[0]})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert "Alder, Avery" in client.get("/").content.decode()
    log_out(client)

    assert log_in(client, therapist_a)["Location"] == SECOND_FACTOR
    response = client.post(SECOND_FACTOR, {"code": codes[0]})
    assert response.status_code == 200
    assert "Incorrect code." in response.content.decode()
    assert "_auth_user_id" not in client.session

    # The other codes still work.
    response = client.post(SECOND_FACTOR, {"code": codes[1]})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(therapist_a.pk)


@pytest.mark.django_db
def test_removing_the_authenticator_holds_the_user_again(client, therapist_a, patient_a):
    """A clinician who deactivates TOTP mid-session must not keep using KAPCare without a second factor."""
    secret = totp_secret(therapist_a)
    log_in(client, therapist_a)
    client.post(SECOND_FACTOR, {"code": totp_code(secret)})
    assert client.get("/").status_code == 200

    # allauth's own deactivation page asks for the password again, then carries out the held-back POST.
    response = client.post("/accounts/2fa/totp/deactivate/")
    assert response["Location"].startswith(REAUTHENTICATE)
    assert client.post(response["Location"], {"password": PASSWORD}).status_code == 302
    assert not Authenticator.objects.filter(user=therapist_a, type=Authenticator.Type.TOTP).exists()

    assert client.get("/")["Location"] == ACTIVATE
    assert client.get(PATIENTS_API).json()["code"] == "mfa_required"


@pytest.mark.django_db
@pytest.mark.parametrize("name", STAFF)
def test_without_required_mfa_a_clinician_without_it_reaches_the_dashboard(
    client, settings, clinician_without_mfa, patient_a, name
):
    settings.KAPCARE_REQUIRE_MFA = False
    user = clinician_without_mfa(name)
    response = log_in(client, user)
    assert response["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert "Alder, Avery" in page.content.decode()
    assert client.get(PATIENTS_API).status_code == 200


@pytest.mark.django_db
def test_repeated_failed_logins_lock_the_account_for_a_while(client, patient):
    """allauth's `login_failed` limit is 5 per 5 minutes per account from one address (and 10 a minute per
    address); tests/test_admin_security.py shows that another address is not locked out."""
    for _ in range(5):
        response = log_in(client, patient, password="not-the-password-at-all")
        assert response.status_code == 200
        assert "not correct" in response.content.decode()

    response = log_in(client, patient)
    assert response.status_code == 200
    assert "Too many failed login attempts. Try again later." in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/")["Location"].startswith(LOGIN)

    # Still refused a little later: the window is five minutes.
    with time_machine.travel(timezone.now() + timedelta(minutes=4), tick=True):
        response = log_in(client, patient)
        assert "Too many failed login attempts" in response.content.decode()

    # allauth keeps attempt timestamps (time.time()) in the cache, so travelling past the window frees the account.
    with time_machine.travel(timezone.now() + timedelta(minutes=5, seconds=30), tick=True):
        response = log_in(client, patient)
        assert response.status_code == 302
        assert response["Location"] == "/"
        assert "Welcome, Avery" in client.get("/").content.decode()


@pytest.mark.django_db
def test_failed_logins_for_one_account_do_not_lock_another(client, patient, other_patient):
    for _ in range(5):
        log_in(client, patient, password="not-the-password-at-all")
    assert "Too many failed" in log_in(client, patient).content.decode()
    response = log_in(client, other_patient)
    assert response.status_code == 302
    assert response["Location"] == "/"
