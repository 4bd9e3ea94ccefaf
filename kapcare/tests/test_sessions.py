"""Session limits: 15 minutes idle for staff, 30 for patients, 12 hours in all; background polls are not activity.
Activity is recorded to the minute: the idle limit counts from at most a minute before the last request, never
after it.

Every test logs in through the real login page (and, for clinicians, the real second-factor page) at a fixed
moment T with the clock frozen, then moves the clock and makes ordinary requests.
"""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kapcare.middleware import LAST_ACTIVITY
from tests.factories import PASSWORD

# Ten seconds into a 30-second TOTP window, so the frozen clock is never near a window edge.
T = datetime(2026, 3, 2, 9, 0, 10, tzinfo=UTC)
LOGIN = "/accounts/login/"
ACCOUNT_PAGE = "/accounts/api-tokens/"
BACKGROUND = {"HTTP_X_KAPCARE_BACKGROUND": "1"}
EXPIRED_MESSAGE = "Your session ended after a period of inactivity. Please sign in again."
TOO_OLD_MESSAGE = "For your security, sessions end after 12 hours. Please sign in again."


def minutes(m, s=0):
    return timedelta(minutes=m, seconds=s)


@pytest.fixture
def clock():
    with time_machine.travel(T, tick=False) as traveller:
        yield traveller


def log_in(client, user):
    """Password, then (for a user with an authenticator) the current TOTP code; asserts the login finished."""
    response = client.post(LOGIN, {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if authenticator is not None:
        assert response["Location"] == "/accounts/2fa/authenticate/"
        secret = decrypt(authenticator.data["secret"])
        code = format_hotp_value(hotp_value(secret, int(T.timestamp()) // 30))
        response = client.post("/accounts/2fa/authenticate/", {"code": code})
        assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(user.pk)


def at(clock, offset):
    clock.move_to(T + offset)


def assert_served(client, path="/", **headers):
    response = client.get(path, **headers)
    assert response.status_code == 200, (path, response.status_code, response.get("Location"))
    return response


def assert_signed_out(client, path="/", message=EXPIRED_MESSAGE):
    """The request is turned away to the login page with a message, and the session is anonymous afterwards."""
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?{urlencode({'next': path})}"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert message in page.content.decode()
    assert 'name="password"' in page.content.decode()
    assert "_auth_user_id" not in client.session
    again = client.get("/")
    assert again.status_code == 302
    assert again["Location"].startswith(LOGIN)
    assert message not in client.get(again["Location"]).content.decode()  # shown once, not forever


@pytest.mark.django_db
def test_staff_idle_limit_is_fifteen_minutes(client, clock, therapist_a, patient_a):
    log_in(client, therapist_a)
    at(clock, minutes(14, 59))
    page = assert_served(client)
    assert "Alder, Avery" in page.content.decode()
    assert "signed out after 15 minutes without activity" in page.content.decode()

    at(clock, minutes(14, 59) + minutes(15, 1))
    assert_signed_out(client)


@pytest.mark.django_db
def test_staff_idle_exactly_under_the_limit_on_a_chart_is_still_served(client, clock, therapist_a, patient_a):
    log_in(client, therapist_a)
    at(clock, minutes(14, 59))
    assert_served(client, f"/patients/{patient_a.id}/")
    at(clock, minutes(29, 58))
    assert_served(client, f"/patients/{patient_a.id}/")
    at(clock, minutes(45, 0))
    assert_signed_out(client, f"/patients/{patient_a.id}/")


@pytest.mark.django_db
def test_patient_idle_limit_is_thirty_minutes(client, clock, patient):
    log_in(client, patient)
    at(clock, minutes(29, 59))
    page = assert_served(client)
    assert "Welcome, Avery" in page.content.decode()
    assert "signed out after 30 minutes without activity" in page.content.decode()

    at(clock, minutes(29, 59) + minutes(30, 1))
    assert_signed_out(client)


@pytest.mark.django_db
def test_a_patient_idle_for_thirty_minutes_and_a_second_is_signed_out(client, clock, patient):
    log_in(client, patient)
    at(clock, minutes(30, 1))
    assert_signed_out(client)


@pytest.mark.django_db
def test_absolute_limit_ends_an_active_session_after_twelve_hours(client, clock, therapist_a, patient_a):
    log_in(client, therapist_a)
    for step in range(1, 72):  # every 10 minutes until 11 h 50 min, on a light page (any page is activity)
        at(clock, minutes(10 * step))
        assert_served(client, ACCOUNT_PAGE)
    at(clock, minutes(11 * 60 + 59))
    assert_served(client)
    at(clock, minutes(12 * 60 + 1))  # only two minutes idle, but twelve hours since login
    assert_signed_out(client, message=TOO_OLD_MESSAGE)


@pytest.mark.django_db
def test_background_polls_do_not_keep_a_session_alive(client, clock, therapist_a, patient_a):
    log_in(client, therapist_a)
    at(clock, minutes(10))
    assert_served(client, **BACKGROUND)  # the poll itself is answered
    at(clock, minutes(16))
    assert_signed_out(client)


@pytest.mark.django_db
def test_a_real_request_keeps_a_session_alive(client, clock, therapist_a, patient_a):
    """The counterpart of the test above: the same timeline with an ordinary request at 10 minutes."""
    log_in(client, therapist_a)
    at(clock, minutes(10))
    assert_served(client)
    at(clock, minutes(16))
    assert_served(client)


@pytest.mark.django_db
def test_activity_is_recorded_to_the_minute_so_a_session_ends_early_never_late(client, clock, therapist_a, patient_a):
    log_in(client, therapist_a)
    at(clock, minutes(0, 59))
    assert_served(client)  # activity less than a minute after the recorded one: not recorded
    assert client.session[LAST_ACTIVITY] == T.timestamp()
    with CaptureQueriesContext(connection) as captured:
        assert_served(client)
    assert not any(query["sql"].startswith('UPDATE "django_session"') for query in captured.captured_queries)
    at(clock, minutes(15, 1))  # 14 min 2 s after that request, but 15 min 1 s after the recorded activity
    assert_signed_out(client)


@pytest.mark.django_db
def test_activity_a_minute_after_the_recorded_one_moves_the_clock(client, clock, therapist_a, patient_a):
    log_in(client, therapist_a)
    at(clock, minutes(1))
    assert_served(client)  # recorded
    at(clock, minutes(16))  # 15 minutes after it: still within the limit
    assert_served(client)
    at(clock, minutes(31, 1))
    assert_signed_out(client)


@pytest.mark.django_db
def test_a_background_poll_after_the_idle_limit_gets_401_json(client, clock, therapist_a, patient_a):
    log_in(client, therapist_a)
    at(clock, minutes(15, 1))
    response = client.get("/", **BACKGROUND)
    assert response.status_code == 401
    assert response.json()["code"] == "session_expired"
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_an_api_call_after_the_idle_limit_gets_401_json(client, clock, therapist_a, patient_a):
    log_in(client, therapist_a)
    at(clock, minutes(5))
    response = client.get("/api/v1/patients/")
    assert response.status_code == 200
    assert "Alder" in response.content.decode()

    at(clock, minutes(5) + minutes(15, 1))
    response = client.get("/api/v1/patients/")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "session_expired"
    assert "Alder" not in response.content.decode()

    # The session is gone: the next call is simply unauthenticated.
    response = client.get("/api/v1/patients/")
    assert response.status_code == 401
    assert "Alder" not in response.content.decode()
    assert "_auth_user_id" not in client.session
